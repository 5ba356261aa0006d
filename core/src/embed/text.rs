//! What text a row is embedded as: the passage of a document, or `col: value; ...` of a table row.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Schema};
use arrow::record_batch::RecordBatch;
use arrow::util::display::FormatOptions;

use crate::lake::catalog::DatasetKind;

/// Texts longer than this many bytes are cut before tokenising: 256 tokens never
/// need more, and a 1 MB cell should not cost a megabyte of tokenising.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Whether a column holds text.
pub fn is_text_type(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The columns embedded when the user names none: a documents dataset's
/// passage `text`; a table's text columns (all columns when it has none).
pub fn default_source_columns(kind: DatasetKind, schema: &Schema, skip: &str) -> Vec<String> {
    if kind == DatasetKind::Documents && schema.field_with_name("text").is_ok() {
        return vec!["text".to_string()];
    }
    let usable = |t: &DataType| !matches!(t, DataType::FixedSizeList(..) | DataType::Binary);
    let text: Vec<String> = schema
        .fields()
        .iter()
        .filter(|f| f.name() != skip && is_text_type(f.data_type()))
        .map(|f| f.name().clone())
        .collect();
    if !text.is_empty() {
        return text;
    }
    schema
        .fields()
        .iter()
        .filter(|f| f.name() != skip && usable(f.data_type()))
        .map(|f| f.name().clone())
        .collect()
}

/// The text of every row of `batch` built from `columns`: one column's value as
/// it is, several as `col: value; col: value` (nulls and blanks left out).
/// `None` for rows with nothing to embed (null, empty or whitespace only).
pub fn render_rows(batch: &RecordBatch, columns: &[String]) -> Result<Vec<Option<String>>, String> {
    let options = CastOptions {
        safe: true,
        format_options: FormatOptions::default(),
    };
    let mut cells: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for name in columns {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| format!("column '{name}' is not in the dataset"))?;
        let as_text = if matches!(column.data_type(), DataType::Utf8) {
            column.clone()
        } else {
            cast_with_options(column, &DataType::Utf8, &options)
                .map_err(|e| format!("column '{name}' cannot be shown as text: {e}"))?
        };
        cells.push(as_text);
    }
    let single = columns.len() == 1;
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut text = String::new();
        for (name, cells) in columns.iter().zip(&cells) {
            let cells = cells.as_string::<i32>();
            if cells.is_null(row) {
                continue;
            }
            let value = cells.value(row).trim();
            if value.is_empty() {
                continue;
            }
            if single {
                text.push_str(value);
            } else {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(name);
                text.push_str(": ");
                text.push_str(value);
            }
        }
        out.push(if text.is_empty() {
            None
        } else {
            Some(cut(text))
        });
    }
    Ok(out)
}

/// `text` cut to at most [`MAX_TEXT_BYTES`], at a character boundary.
fn cut(mut text: String) -> String {
    if text.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn rows_render_as_column_value_pairs() -> Result<(), Box<dyn std::error::Error>> {
        let batch = RecordBatch::try_from_iter([
            (
                "name",
                Arc::new(StringArray::from(vec![Some("Ana"), None, Some("  ")])) as ArrayRef,
            ),
            (
                "age",
                Arc::new(Int64Array::from(vec![Some(41), Some(7), None])) as ArrayRef,
            ),
        ])?;
        let rows = render_rows(&batch, &["name".into(), "age".into()])?;
        assert_eq!(rows[0].as_deref(), Some("name: Ana; age: 41"));
        assert_eq!(rows[1].as_deref(), Some("age: 7"));
        assert_eq!(rows[2], None);
        let one = render_rows(&batch, &["name".into()])?;
        assert_eq!(one[0].as_deref(), Some("Ana"));
        assert_eq!(one[1], None);
        Ok(())
    }

    #[test]
    fn huge_texts_are_cut_at_a_char_boundary() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        // Two bytes a character: exactly the characters that fit.
        assert_eq!(cut(text), "é".repeat(MAX_TEXT_BYTES / 2));
        let odd = format!("a{}", "é".repeat(MAX_TEXT_BYTES));
        assert_eq!(cut(odd), format!("a{}", "é".repeat(MAX_TEXT_BYTES / 2 - 1)));
    }
}
