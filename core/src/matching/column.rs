//! Facts about one profiled column that several matchers and the lake-wide
//! index share: the broad class of its values and how distinct they are. A
//! leaf module, so the matchers depend on it and not on each other.

use crate::profile::ColumnProfile;

/// The broad kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueClass {
    /// Integers and decimals.
    Number,
    /// Dates and times.
    Temporal,
    /// True / false.
    Boolean,
    /// Anything else shown as text.
    Text,
}

/// The value class of an Arrow type name as stored in a profile.
pub fn value_class(data_type: &str) -> ValueClass {
    let t = data_type.to_ascii_lowercase();
    if t.starts_with("int")
        || t.starts_with("uint")
        || t.starts_with("float")
        || t.starts_with("decimal")
    {
        ValueClass::Number
    } else if t.starts_with("date") || t.starts_with("timestamp") || t.starts_with("time") {
        ValueClass::Temporal
    } else if t == "boolean" {
        ValueClass::Boolean
    } else {
        ValueClass::Text
    }
}

/// Share of distinct values among non-null ones.
pub fn uniqueness(c: &ColumnProfile) -> f64 {
    let present = c.rows.saturating_sub(c.nulls);
    if present == 0 {
        0.0
    } else {
        (c.distinct as f64 / present as f64).min(1.0)
    }
}
