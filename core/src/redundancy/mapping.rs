//! Which column of B each column of A is compared with.
//!
//! Equal names first, then names equal after normalisation (case and
//! separators: `Sepal.Length` = `sepal_length`), then confident matches of
//! the schema matcher (`customers.name` ↔ `clients.client_name`). A pair of
//! columns must hold comparable types: numbers with numbers (an integer
//! column can hold what a float column holds), dates with timestamps, text
//! with text.

use serde::{Deserialize, Serialize};

use crate::matching::{Matcher, match_profiles};
use crate::profile::{ColumnProfile, DatasetProfile};

/// Lowest matcher score for a correspondence between differently named columns.
pub const MATCHER_CONFIDENCE: f64 = 0.5;

/// How a pair's columns were mapped: the weakest step any column needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedBy {
    /// Every column under the same name.
    Names,
    /// Some names equal only after normalisation (case, separators).
    NormalisedNames,
    /// Some columns matched by the schema matcher under other names.
    Matcher,
}

impl MappedBy {
    /// The name shown and written in JSON.
    pub fn label(self) -> &'static str {
        match self {
            MappedBy::Names => "names",
            MappedBy::NormalisedNames => "normalised_names",
            MappedBy::Matcher => "matcher",
        }
    }
}

/// What kind of values a column holds, for deciding which columns compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ValueKind {
    /// Integers, floats, decimals.
    Number,
    /// Dates and timestamps.
    Instant,
    /// Times of day.
    TimeOfDay,
    /// Strings.
    Text,
    /// Booleans.
    Bool,
    /// Binary.
    Bytes,
    /// A column of nulls only (`Null` type): compares with anything.
    Null,
    /// Lists, structs and the rest, compared by the text Arrow writes.
    Other,
}

/// The kind of values of an Arrow type written as `DataType`'s `Display`
/// (how profiles keep it).
pub(crate) fn value_kind(data_type: &str) -> ValueKind {
    let t = data_type;
    if t.starts_with("Int")
        || t.starts_with("UInt")
        || t.starts_with("Float")
        || t.starts_with("Decimal")
    {
        ValueKind::Number
    } else if t.starts_with("Date") || t.starts_with("Timestamp") {
        ValueKind::Instant
    } else if t.starts_with("Time") {
        ValueKind::TimeOfDay
    } else if t == "Utf8" || t == "LargeUtf8" || t == "Utf8View" {
        ValueKind::Text
    } else if t == "Boolean" {
        ValueKind::Bool
    } else if t.contains("Binary") {
        ValueKind::Bytes
    } else if t == "Null" {
        ValueKind::Null
    } else {
        ValueKind::Other
    }
}

/// Whether values of these two kinds can be equal.
pub(crate) fn comparable(a: ValueKind, b: ValueKind) -> bool {
    a == b || a == ValueKind::Null || b == ValueKind::Null
}

/// A column name with case and separators removed.
pub(crate) fn normalised(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A column mapping: for each compared column of A (index into A's profile
/// columns), the column of B it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mapping {
    /// (A's column, B's column), in A's column order.
    pub pairs: Vec<(usize, usize)>,
    /// The weakest step used.
    pub by: MappedBy,
}

/// Maps every column of `a_columns` (indices into `a`) onto a distinct column
/// of `b_columns`, or says it cannot: a column of A that has no counterpart
/// in B means B does not hold A's rows. The matcher is asked only when names
/// leave columns unmapped and `use_matcher` is set.
pub(crate) fn map_columns(
    a: &DatasetProfile,
    a_columns: &[usize],
    b: &DatasetProfile,
    b_columns: &[usize],
    use_matcher: bool,
) -> Option<Mapping> {
    if a_columns.len() > b_columns.len() {
        return None;
    }
    let kind = |c: &ColumnProfile| value_kind(&c.data_type);
    let fits = |i: usize, j: usize| comparable(kind(&a.columns[i]), kind(&b.columns[j]));
    let mut target: Vec<Option<usize>> = vec![None; a_columns.len()];
    let mut taken = vec![false; b.columns.len()];
    let mut by = MappedBy::Names;
    for step in [MappedBy::Names, MappedBy::NormalisedNames] {
        for (slot, &i) in a_columns.iter().enumerate() {
            if target[slot].is_some() {
                continue;
            }
            let name = &a.columns[i].name;
            let found = b_columns.iter().copied().find(|&j| {
                let other = &b.columns[j].name;
                let same = match step {
                    MappedBy::Names => other == name,
                    _ => normalised(other) == normalised(name),
                };
                !taken[j] && same && fits(i, j)
            });
            if let Some(j) = found {
                target[slot] = Some(j);
                taken[j] = true;
                by = by.max(step);
            }
        }
    }
    if target.iter().any(Option::is_none) {
        if !use_matcher {
            return None;
        }
        let report = match_profiles(a, b, Matcher::Combined, None).ok()?;
        let a_index = |name: &str| a_columns.iter().position(|&i| a.columns[i].name == name);
        let b_index = |name: &str| {
            b_columns
                .iter()
                .copied()
                .find(|&j| b.columns[j].name == name)
        };
        for m in &report.selected {
            let (Some(slot), Some(j)) = (a_index(&m.source), b_index(&m.target)) else {
                continue;
            };
            if target[slot].is_none()
                && !taken[j]
                && m.score >= MATCHER_CONFIDENCE
                && fits(a_columns[slot], j)
            {
                target[slot] = Some(j);
                taken[j] = true;
                by = MappedBy::Matcher;
            }
        }
    }
    let pairs = a_columns
        .iter()
        .zip(target)
        .map(|(&i, j)| j.map(|j| (i, j)))
        .collect::<Option<Vec<_>>>()?;
    Some(Mapping { pairs, by })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_arrow_type_names() {
        let kinds: Vec<ValueKind> = [
            "Int64",
            "UInt8",
            "Float64",
            "Decimal128(10, 2)",
            "Date32",
            "Timestamp(Microsecond, None)",
            "Time64(Nanosecond)",
            "Utf8View",
            "Boolean",
            "LargeBinary",
            "Null",
            "List(Int64)",
        ]
        .iter()
        .map(|t| value_kind(t))
        .collect();
        use ValueKind::*;
        assert_eq!(
            kinds,
            vec![
                Number, Number, Number, Number, Instant, Instant, TimeOfDay, Text, Bool, Bytes,
                Null, Other
            ]
        );
        assert!(comparable(Number, Number) && comparable(Null, Text) && !comparable(Text, Number));
    }

    #[test]
    fn names_normalise_over_case_and_separators() {
        assert_eq!(normalised("Sepal.Length"), "sepallength");
        assert_eq!(normalised("sepal_length"), "sepallength");
        assert_eq!(normalised("Order Date"), normalised("order-date"));
    }
}
