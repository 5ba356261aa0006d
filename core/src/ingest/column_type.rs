//! The column types that text-like sources (CSV, spreadsheets) are inferred as.

use arrow::datatypes::{DataType, TimeUnit};

/// The Arrow type an inferred column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Bool,
    Int,
    Float,
    Date,
    Timestamp,
    Text,
}

impl ColumnType {
    /// The Arrow type; timestamps are microseconds without a time zone (UTC).
    pub(crate) fn data_type(self) -> DataType {
        match self {
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnType::Text => DataType::Utf8,
        }
    }

    /// The type in words, for error messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ColumnType::Bool => "boolean (true/false)",
            ColumnType::Int => "integer",
            ColumnType::Float => "number",
            ColumnType::Date => "date (YYYY-MM-DD)",
            ColumnType::Timestamp => "timestamp (YYYY-MM-DD HH:MM:SS)",
            ColumnType::Text => "text",
        }
    }
}
