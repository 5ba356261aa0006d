//! What a CSV field's text means: null tokens, numbers, booleans, dates and
//! timestamps, and the column type a run of values points to.

use chrono::{DateTime, NaiveDateTime};

use crate::ingest::column_type::ColumnType;

/// What the values seen so far in a column could all be.
#[derive(Debug, Clone, Copy)]
pub(super) struct TypeGuess {
    seen: bool,
    bool_: bool,
    int: bool,
    float: bool,
    date: bool,
    timestamp: bool,
    /// Saw a whole number too large for 64 bits.
    huge_int: bool,
}

impl Default for TypeGuess {
    fn default() -> Self {
        Self {
            seen: false,
            bool_: true,
            int: true,
            float: true,
            date: true,
            timestamp: true,
            huge_int: false,
        }
    }
}

impl TypeGuess {
    pub(super) fn observe(&mut self, raw: &[u8]) {
        let v = raw.trim_ascii();
        if is_null_token(v) {
            return;
        }
        self.seen = true;
        self.bool_ = self.bool_ && parse_bool(v).is_some();
        // Every integer is also a float and every date a timestamp, so the
        // wider type is only parsed when the narrower one fails.
        let int = parse_int(v).is_some();
        self.huge_int |= !int && whole_number_text(v);
        self.int = self.int && int;
        self.float = self.float && (self.int || parse_float(v).is_some());
        self.date = self.date && parse_date(v).is_some();
        self.timestamp = self.timestamp && (self.date || parse_timestamp(v).is_some());
    }

    /// Folds in what another part of the column allows.
    pub(super) fn merge(&mut self, other: &TypeGuess) {
        self.seen |= other.seen;
        self.bool_ &= other.bool_;
        self.int &= other.int;
        self.float &= other.float;
        self.date &= other.date;
        self.timestamp &= other.timestamp;
        self.huge_int |= other.huge_int;
    }

    /// Whether the column is read as floats because some whole numbers do
    /// not fit 64 bits (floats keep about 16 significant digits of them).
    pub(super) fn widened_integers(&self) -> bool {
        self.huge_int && self.resolve() == ColumnType::Float
    }

    pub(super) fn resolve(&self) -> ColumnType {
        match () {
            _ if !self.seen => ColumnType::Text,
            _ if self.bool_ => ColumnType::Bool,
            _ if self.int => ColumnType::Int,
            _ if self.float => ColumnType::Float,
            _ if self.date => ColumnType::Date,
            _ if self.timestamp => ColumnType::Timestamp,
            _ => ColumnType::Text,
        }
    }

    /// Whether a value fits the resolved type (used to tell a header row from data).
    pub(super) fn accepts(ty: ColumnType, raw: &[u8]) -> bool {
        let v = raw.trim_ascii();
        is_null_token(v) || parse_bits(ty, v).is_some()
    }
}

/// Digits, with an optional sign: a whole number of any size.
fn whole_number_text(v: &[u8]) -> bool {
    let digits = v
        .strip_prefix(b"-")
        .or_else(|| v.strip_prefix(b"+"))
        .unwrap_or(v);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Whether a field means "no value": empty, or a word such as NA or null.
pub(super) fn is_null_token(v: &[u8]) -> bool {
    v.is_empty()
        || v.len() <= 4
            && [&b"null"[..], b"na", b"n/a", b"none", b"nil", b"nan"]
                .iter()
                .any(|t| v.eq_ignore_ascii_case(t))
}

fn parse_bool(v: &[u8]) -> Option<bool> {
    if v.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if v.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

/// Whether a number is negative, and its text without the sign.
fn split_sign(v: &[u8]) -> (bool, &[u8]) {
    match v {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, v),
    }
}

fn parse_int(v: &[u8]) -> Option<i64> {
    let (negative, digits) = split_sign(v);
    // Leading zeros ("007", zip codes) mean an identifier, not a number.
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    // Summed as a negative number so that i64::MIN fits.
    let mut n: i64 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative { Some(n) } else { n.checked_neg() }
}

fn parse_float(v: &[u8]) -> Option<f64> {
    let (negative, digits) = split_sign(v);
    // Leading zeros ("007.5") mean an identifier, as for integers.
    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
        return None;
    }
    if let Some(x) = parse_short_decimal(digits) {
        return Some(if negative { -x } else { x });
    }
    if !v.iter().any(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Powers of ten that an `f64` holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The common case of `digits[.digits]` with at most 15 digits, without the
/// general parser: the digits as an integer and the power of ten are both
/// exact in an `f64`, so their quotient is the correctly rounded value.
fn parse_short_decimal(v: &[u8]) -> Option<f64> {
    let mut mantissa: u64 = 0;
    let mut count = 0;
    let mut fraction: Option<usize> = None;
    for &b in v {
        if b.is_ascii_digit() {
            if count == 15 {
                // Longer numbers go to the general parser (and would overflow here).
                return None;
            }
            mantissa = mantissa * 10 + u64::from(b - b'0');
            count += 1;
            if let Some(f) = &mut fraction {
                *f += 1;
            }
        } else if b == b'.' && fraction.is_none() {
            fraction = Some(0);
        } else {
            return None;
        }
    }
    if count == 0 || count > 15 {
        return None;
    }
    Some(mantissa as f64 / EXACT_POWERS_OF_TEN[fraction.unwrap_or(0)])
}

/// The number in `v[range]` if it is all ASCII digits.
fn digits(v: &[u8], range: std::ops::Range<usize>) -> Option<u32> {
    v.get(range)?.iter().try_fold(0u32, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// Days since 1970-01-01 of a valid calendar date (proleptic Gregorian).
fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i32> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        2 => 28 + u32::from(leap),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn parse_date(v: &[u8]) -> Option<i32> {
    if v.len() != 10 || !(v[4] == v[7] && (v[4] == b'-' || v[4] == b'/')) {
        return None;
    }
    days_from_civil(digits(v, 0..4)? as i32, digits(v, 5..7)?, digits(v, 8..10)?)
}

/// `YYYY-MM-DD[ T]HH:MM[:SS[.fraction]][Z]` without allocation; `None` for other shapes.
fn parse_plain_timestamp(v: &[u8]) -> Option<i64> {
    if v.len() < 16
        || v[4] != b'-'
        || v[7] != b'-'
        || !matches!(v[10], b' ' | b'T')
        || v[13] != b':'
    {
        return None;
    }
    let days = days_from_civil(digits(v, 0..4)? as i32, digits(v, 5..7)?, digits(v, 8..10)?)?;
    let (hour, minute) = (digits(v, 11..13)?, digits(v, 14..16)?);
    let mut rest = &v[16..];
    let mut second = 0;
    let mut micros = 0i64;
    if let [b':', ..] = rest {
        second = digits(rest, 1..3)?;
        rest = &rest[3..];
        if let [b'.', frac @ ..] = rest {
            let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            let mut value = i64::from(digits(frac, 0..n.min(6))?);
            for _ in n..6 {
                value *= 10;
            }
            micros = value;
            rest = &frac[n..];
        }
    }
    if !(rest.is_empty() || rest == b"Z") || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let secs = i64::from(days) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(secs * 1_000_000 + micros)
}

/// Microseconds since the epoch; values with an offset are converted to UTC.
fn parse_timestamp(v: &[u8]) -> Option<i64> {
    if v.len() < 10 || !v[0].is_ascii_digit() {
        return None;
    }
    if let Some(days) = parse_date(v) {
        return Some(i64::from(days) * 86_400_000_000);
    }
    if let Some(t) = parse_plain_timestamp(v) {
        return Some(t);
    }
    let s = std::str::from_utf8(v).ok()?;
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_micros());
        }
    }
    None
}

/// A value of a non-text column as the bits its column builder takes back
/// (`bool`, `i64`, `f64`, days as `i32`, microseconds as `i64`); `None` if
/// it is not a valid value of that type.
pub(super) fn parse_bits(ty: ColumnType, v: &[u8]) -> Option<u64> {
    match ty {
        ColumnType::Bool => parse_bool(v).map(u64::from),
        ColumnType::Int => parse_int(v).map(|n| n as u64),
        ColumnType::Float => parse_float(v).map(f64::to_bits),
        ColumnType::Date => parse_date(v).map(|d| i64::from(d) as u64),
        ColumnType::Timestamp => parse_timestamp(v).map(|t| t as u64),
        ColumnType::Text => Some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_twenty_digits_and_more_parse_without_overflow() {
        assert_eq!(
            parse_float(b"12345678901234567890"),
            Some(1.2345678901234567e19)
        );
        assert_eq!(
            parse_float(b"123456789012345678901234.5"),
            Some(1.2345678901234568e23)
        );
        assert_eq!(parse_int(b"12345678901234567890"), None, "beyond i64");
        assert_eq!(parse_float(b"123456789012345.5"), Some(123456789012345.5));
    }

    #[test]
    fn values_parse_like_a_person_reads_them() {
        assert_eq!(parse_int(b"-42"), Some(-42));
        assert_eq!(parse_int(b"007"), None, "leading zeros are identifiers");
        assert_eq!(parse_int(b"+7"), Some(7));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None, "too big for i64");
        assert_eq!(parse_int(b"1e3"), None);
        assert_eq!(parse_int(b"-"), None);
        assert_eq!(parse_float(b"3.5e2"), Some(350.0));
        assert_eq!(parse_float(b"inf"), None, "words are not numbers");
        for text in [
            "60.91",
            "-0.5",
            "+.25",
            "7.",
            "0.1",
            "123456789012345",
            "1.000000000000001",
        ] {
            assert_eq!(parse_float(text.as_bytes()), text.parse().ok(), "{text}");
        }
        assert_eq!(parse_float(b"-0").map(f64::is_sign_negative), Some(true));
        assert_eq!(parse_float(b"007.5"), None);
        assert_eq!(parse_float(b"."), None);
        assert_eq!(parse_float(b"1.2.3"), None);
        assert_eq!(parse_date(b"1970-01-02"), Some(1));
        assert_eq!(parse_date(b"2024-02-30"), None);
        assert_eq!(parse_timestamp(b"1970-01-01 00:00:01"), Some(1_000_000));
        assert_eq!(parse_timestamp(b"1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_timestamp(b"2024-02-29 23:59:59.25"),
            Some(1_709_251_199_250_000)
        );
        assert_eq!(parse_timestamp(b"1969-12-31T23:59Z"), Some(-60_000_000));
        assert_eq!(parse_timestamp(b"2023-02-29 10:00:00"), None);
        assert_eq!(parse_date(b"2000-03-01"), Some(11_017));
        assert_eq!(parse_date(b"1900-02-29"), None);
        assert!(is_null_token(b"N/A") && is_null_token(b"") && !is_null_token(b"0"));
    }

    #[test]
    fn short_decimals_round_as_the_standard_parser_does() {
        let mut rng = crate::rng::Rng::new(3);
        for _ in 0..100_000 {
            let whole = rng.below(10_000_000);
            let places = rng.below(9);
            let fraction = rng.next_u64() % 10u64.pow(places as u32).max(1);
            let text = if places == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{fraction:0places$}")
            };
            let exact: f64 = text.parse().expect("a decimal");
            assert_eq!(parse_float(text.as_bytes()), Some(exact), "{text}");
        }
    }

    #[test]
    fn guesses_prefer_the_narrowest_type() {
        let mut g = TypeGuess::default();
        for v in [&b"1"[..], b"2", b"", b"NA"] {
            g.observe(v);
        }
        assert_eq!(g.resolve(), ColumnType::Int);
        g.observe(b"2.5");
        assert_eq!(g.resolve(), ColumnType::Float);
        g.observe(b"n/a");
        g.observe(b"abc");
        assert_eq!(g.resolve(), ColumnType::Text);
        let mut d = TypeGuess::default();
        d.observe(b"2024-01-01");
        d.observe(b"2024-01-01 10:00");
        assert_eq!(d.resolve(), ColumnType::Timestamp);
    }
}
