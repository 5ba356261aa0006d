//! Rows compared by content. Every value is hashed in a canonical form, so
//! that values equal to a person are equal here across the types that hold
//! them, and a row's hash is the ordered combination of its values' hashes.
//!
//! The canonical forms:
//! - numbers: a whole number is the same value as an integer, a float or a
//!   decimal (`3`, `3.0`, `3.00`); `-0.0` is `0`; every NaN is one value;
//!   other floats are compared on their `f64` value rounded to 40 bits of
//!   mantissa (about 12 significant digits), so floats that differ in their
//!   last bits (a value written by another program) are equal. A `Float32`
//!   value is its `f64` widening, so it equals a `Float64` only when that
//!   holds the same rounded value;
//! - text: the exact characters (`Utf8`, `LargeUtf8` and views alike);
//! - dates and timestamps: nanoseconds since 1970 (a date is its midnight);
//! - times of day: nanoseconds since midnight; binary: the exact bytes;
//! - anything else (lists, structs, maps, durations): the text Arrow
//!   writes for it;
//! - null: one value, so a null equals a null.
//!
//! Hashes are 128 bits: among a billion distinct rows the chance that two
//! share a hash is below 10⁻²⁰.

use std::hash::{DefaultHasher, Hasher};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Float16Type, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, Time32MillisecondType, Time32SecondType,
    Time64MicrosecondType, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::profile::sketch::mix;

/// A value's or a row's 128-bit hash.
pub(crate) type Hash128 = u128;

/// The canonical form of one value (see the module doc).
#[derive(Debug, Clone, PartialEq)]
enum Canonical<'a> {
    Null,
    Whole(i128),
    Float(u64),
    NaN,
    Text(&'a [u8]),
    Bool(bool),
    Instant(i128),
    TimeOfDay(i128),
    Bytes(&'a [u8]),
    Shown(String),
}

/// Mantissa bits dropped from a float before it is compared.
const DROPPED_BITS: u32 = 12;

/// A float's canonical form: whole numbers as integers, NaN as one value,
/// others rounded to the nearest multiple of 2^12 ulps.
fn float(x: f64) -> Canonical<'static> {
    if x.is_nan() {
        return Canonical::NaN;
    }
    if x.fract() == 0.0 && x.abs() < 1.7e38 {
        return Canonical::Whole(x as i128);
    }
    let bits = x.to_bits();
    let half = 1u64 << (DROPPED_BITS - 1);
    // The sign bit stays as it is: magnitudes round alike on both sides of 0.
    let sign = bits & (1 << 63);
    let magnitude = bits & !(1 << 63);
    let rounded = (magnitude.saturating_add(half)) & !((1u64 << DROPPED_BITS) - 1);
    Canonical::Float(sign | rounded)
}

/// Hashes of a canonical value in two independent 64-bit lanes.
fn hash(value: &Canonical) -> Hash128 {
    let lane = |seed: u64| {
        let mut h = DefaultHasher::new();
        h.write_u64(seed);
        match value {
            Canonical::Null => h.write_u8(0),
            Canonical::Whole(n) => {
                h.write_u8(1);
                h.write_i128(*n);
            }
            Canonical::Float(bits) => {
                h.write_u8(2);
                h.write_u64(*bits);
            }
            Canonical::NaN => h.write_u8(3),
            Canonical::Text(bytes) => {
                h.write_u8(4);
                h.write(bytes);
                h.write_usize(bytes.len());
            }
            Canonical::Bool(b) => {
                h.write_u8(5);
                h.write_u8(u8::from(*b));
            }
            Canonical::Instant(ns) => {
                h.write_u8(6);
                h.write_i128(*ns);
            }
            Canonical::TimeOfDay(ns) => {
                h.write_u8(7);
                h.write_i128(*ns);
            }
            Canonical::Bytes(bytes) => {
                h.write_u8(8);
                h.write(bytes);
                h.write_usize(bytes.len());
            }
            Canonical::Shown(text) => {
                h.write_u8(9);
                h.write(text.as_bytes());
                h.write_usize(text.len());
            }
        }
        h.finish()
    };
    (u128::from(lane(0x5eed_0001)) << 64) | u128::from(lane(0x5eed_0002))
}

/// Nanoseconds in one unit of `unit`.
fn nanos_per(unit: &TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// The hash of each row's value of `column`, `value` giving the canonical
/// form of a non-null one.
fn hash_rows<'a>(column: &dyn Array, value: impl Fn(usize) -> Canonical<'a>) -> Vec<Hash128> {
    let nulls = column.logical_nulls();
    (0..column.len())
        .map(|row| {
            if nulls.as_ref().is_some_and(|m| m.is_null(row)) {
                hash(&Canonical::Null)
            } else {
                hash(&value(row))
            }
        })
        .collect()
}

/// The hash of every value of `column`, in row order.
pub(crate) fn value_hashes(column: &dyn Array) -> Vec<Hash128> {
    let n = column.len();
    macro_rules! whole {
        ($t:ty) => {{
            let a = column.as_primitive::<$t>();
            hash_rows(column, |r| Canonical::Whole(i128::from(a.value(r))))
        }};
    }
    macro_rules! instant {
        ($t:ty, $scale:expr) => {{
            let a = column.as_primitive::<$t>();
            let scale: i128 = $scale;
            hash_rows(column, |r| {
                Canonical::Instant(i128::from(a.value(r)) * scale)
            })
        }};
    }
    macro_rules! time_of_day {
        ($t:ty, $scale:expr) => {{
            let a = column.as_primitive::<$t>();
            let scale: i128 = $scale;
            hash_rows(column, |r| {
                Canonical::TimeOfDay(i128::from(a.value(r)) * scale)
            })
        }};
    }
    match column.data_type() {
        DataType::Null => vec![hash(&Canonical::Null); n],
        DataType::Int8 => whole!(Int8Type),
        DataType::Int16 => whole!(Int16Type),
        DataType::Int32 => whole!(Int32Type),
        DataType::Int64 => whole!(Int64Type),
        DataType::UInt8 => whole!(UInt8Type),
        DataType::UInt16 => whole!(UInt16Type),
        DataType::UInt32 => whole!(UInt32Type),
        DataType::UInt64 => whole!(UInt64Type),
        DataType::Float16 => {
            let a = column.as_primitive::<Float16Type>();
            hash_rows(column, |r| float(f64::from(a.value(r))))
        }
        DataType::Float32 => {
            let a = column.as_primitive::<Float32Type>();
            hash_rows(column, |r| float(f64::from(a.value(r))))
        }
        DataType::Float64 => {
            let a = column.as_primitive::<Float64Type>();
            hash_rows(column, |r| float(a.value(r)))
        }
        DataType::Decimal128(_, scale) => {
            let a = column.as_primitive::<Decimal128Type>();
            let scale = i32::from(*scale);
            hash_rows(column, |r| {
                let v = a.value(r);
                if scale <= 0 {
                    return Canonical::Whole(v.saturating_mul(10i128.pow(scale.unsigned_abs())));
                }
                let unit = 10i128.pow(scale.unsigned_abs());
                if v % unit == 0 {
                    Canonical::Whole(v / unit)
                } else {
                    float(v as f64 / unit as f64)
                }
            })
        }
        DataType::Utf8 => {
            let a = column.as_string::<i32>();
            hash_rows(column, |r| Canonical::Text(a.value(r).as_bytes()))
        }
        DataType::LargeUtf8 => {
            let a = column.as_string::<i64>();
            hash_rows(column, |r| Canonical::Text(a.value(r).as_bytes()))
        }
        DataType::Utf8View => {
            let a = column.as_string_view();
            hash_rows(column, |r| Canonical::Text(a.value(r).as_bytes()))
        }
        DataType::Boolean => {
            let a = column.as_boolean();
            hash_rows(column, |r| Canonical::Bool(a.value(r)))
        }
        DataType::Date32 => instant!(Date32Type, 86_400 * 1_000_000_000),
        DataType::Date64 => instant!(Date64Type, 1_000_000),
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => instant!(TimestampSecondType, nanos_per(unit)),
            TimeUnit::Millisecond => instant!(TimestampMillisecondType, nanos_per(unit)),
            TimeUnit::Microsecond => instant!(TimestampMicrosecondType, nanos_per(unit)),
            TimeUnit::Nanosecond => instant!(TimestampNanosecondType, nanos_per(unit)),
        },
        DataType::Time32(unit) => match unit {
            TimeUnit::Second => time_of_day!(Time32SecondType, nanos_per(unit)),
            _ => time_of_day!(Time32MillisecondType, nanos_per(unit)),
        },
        DataType::Time64(unit) => match unit {
            TimeUnit::Microsecond => time_of_day!(Time64MicrosecondType, nanos_per(unit)),
            _ => time_of_day!(Time64NanosecondType, nanos_per(unit)),
        },
        DataType::Binary => {
            let a = column.as_binary::<i32>();
            hash_rows(column, |r| Canonical::Bytes(a.value(r)))
        }
        DataType::LargeBinary => {
            let a = column.as_binary::<i64>();
            hash_rows(column, |r| Canonical::Bytes(a.value(r)))
        }
        DataType::FixedSizeBinary(_) => {
            let a = column.as_fixed_size_binary();
            hash_rows(column, |r| Canonical::Bytes(a.value(r)))
        }
        _ => {
            let options = FormatOptions::default();
            match ArrayFormatter::try_new(column, &options) {
                Ok(shown) => hash_rows(column, |r| Canonical::Shown(shown.value(r).to_string())),
                // Values Arrow cannot write equal nothing, not even each other.
                Err(_) => hash_rows(column, |r| Canonical::Shown(format!("{column:p} {r}"))),
            }
        }
    }
}

/// Like [`value_hashes`], but floats and decimals keep every bit: two
/// values hash alike only when they are the same value of the same type
/// (`-0.0` is not `0.0`). A rebuild is checked this way before a dataset is
/// retired, so the view yields its rows exactly.
pub(crate) fn exact_value_hashes(column: &dyn Array) -> Vec<Hash128> {
    match column.data_type() {
        DataType::Float16 => {
            let a = column.as_primitive::<Float16Type>();
            hash_rows(column, |r| {
                Canonical::Float(u64::from(a.value(r).to_bits()))
            })
        }
        DataType::Float32 => {
            let a = column.as_primitive::<Float32Type>();
            hash_rows(column, |r| {
                Canonical::Float(u64::from(a.value(r).to_bits()))
            })
        }
        DataType::Float64 => {
            let a = column.as_primitive::<Float64Type>();
            hash_rows(column, |r| Canonical::Float(a.value(r).to_bits()))
        }
        DataType::Decimal128(_, _) => {
            let a = column.as_primitive::<Decimal128Type>();
            hash_rows(column, |r| Canonical::Whole(a.value(r)))
        }
        _ => value_hashes(column),
    }
}

/// The hash of a row from its values' hashes, in the order given.
pub(crate) fn row_hash(values: impl Iterator<Item = Hash128>) -> Hash128 {
    let (mut hi, mut lo) = (0x243f_6a88_85a3_08d3u64, 0x1319_8a2e_0370_7344u64);
    for v in values {
        hi = mix(hi.rotate_left(17) ^ (v >> 64) as u64);
        lo = mix(lo.rotate_left(29) ^ v as u64);
    }
    (u128::from(hi) << 64) | u128::from(lo)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, Date32Array, Float32Array, Float64Array, Int64Array, StringArray,
        TimestampSecondArray,
    };

    use super::*;

    fn hashes(a: ArrayRef) -> Vec<Hash128> {
        value_hashes(a.as_ref())
    }

    #[test]
    fn equal_values_hash_alike_across_types() {
        let ints = hashes(Arc::new(Int64Array::from(vec![Some(3), Some(0), None])));
        let floats = hashes(Arc::new(Float64Array::from(vec![
            Some(3.0),
            Some(-0.0),
            None,
        ])));
        assert_eq!(ints, floats);
        let days = hashes(Arc::new(Date32Array::from(vec![19_723])));
        let seconds = hashes(Arc::new(TimestampSecondArray::from(vec![19_723 * 86_400])));
        assert_eq!(days, seconds);
    }

    #[test]
    fn floats_equal_to_twelve_digits_hash_alike_and_others_do_not() {
        let x = 0.1f64 + 0.2;
        let last_bit = f64::from_bits(x.to_bits() + 1);
        let a = hashes(Arc::new(Float64Array::from(vec![
            x,
            f64::NAN,
            x * 1.000_001,
        ])));
        let b = hashes(Arc::new(Float64Array::from(vec![last_bit, -f64::NAN, x])));
        assert_eq!(
            (a[0] == b[0], a[1] == b[1], a[2] == b[2]),
            (true, true, false)
        );
        // A Float32 value equals the f64 that holds the same value.
        let narrow = hashes(Arc::new(Float32Array::from(vec![0.5f32, 0.1])));
        let wide = hashes(Arc::new(Float64Array::from(vec![0.5, 0.1])));
        assert_eq!((narrow[0] == wide[0], narrow[1] == wide[1]), (true, false));
    }

    #[test]
    fn text_is_exact_and_null_is_one_value() {
        let a = hashes(Arc::new(StringArray::from(vec![
            Some("a"),
            Some("a "),
            None,
            Some("3"),
        ])));
        let b = hashes(Arc::new(Int64Array::from(vec![None, Some(3)])));
        assert_ne!(a[0], a[1]);
        assert_eq!(a[2], b[0]);
        assert_ne!(a[3], b[1], "the text 3 is not the number 3");
    }

    #[test]
    fn exact_hashes_keep_every_bit_of_a_float() {
        let x = 0.1f64 + 0.2;
        let a: ArrayRef = Arc::new(Float64Array::from(vec![x, 0.0, 2.0]));
        let b: ArrayRef = Arc::new(Float64Array::from(vec![0.3, -0.0, 2.0]));
        assert_eq!(hashes(a.clone())[..2], hashes(b.clone())[..2]);
        let (ea, eb) = (exact_value_hashes(&a), exact_value_hashes(&b));
        assert_eq!(
            [ea[0] == eb[0], ea[1] == eb[1], ea[2] == eb[2]],
            [false, false, true]
        );
    }

    #[test]
    fn a_row_hash_depends_on_the_order_of_its_values() {
        let (x, y) = ((1u128 << 70) | 5, 9u128);
        assert_ne!(row_hash([x, y].into_iter()), row_hash([y, x].into_iter()));
        assert_eq!(row_hash([x, y].into_iter()), row_hash([x, y].into_iter()));
        assert_ne!(row_hash([x].into_iter()), row_hash([x, x].into_iter()));
    }
}
