//! Query results and listings as text: an aligned table, CSV or JSON.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// An aligned text table, for people.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Renders batches in the given format. An empty result still shows its columns.
pub fn render_batches(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    format: OutputFormat,
) -> Result<String, ArrowError> {
    match format {
        OutputFormat::Table => Ok(arrow::util::pretty::pretty_format_batches_with_schema(
            schema.clone(),
            batches,
        )?
        .to_string()),
        OutputFormat::Csv => {
            let mut buf = Vec::new();
            {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut buf);
                if batches.is_empty() {
                    w.write(&RecordBatch::new_empty(schema.clone()))?;
                }
                for b in batches {
                    w.write(b)?;
                }
            }
            String::from_utf8(buf).map_err(|e| ArrowError::ExternalError(Box::new(e)))
        }
        OutputFormat::Json => {
            let mut buf = Vec::new();
            {
                let mut w = arrow::json::ArrayWriter::new(&mut buf);
                for b in batches {
                    w.write(b)?;
                }
                w.finish()?;
            }
            let text =
                String::from_utf8(buf).map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
            Ok(if text.is_empty() {
                "[]".to_string()
            } else {
                text
            })
        }
    }
}

/// One row as (column, value) pairs for a tooltip or a one-line summary:
/// a passage's title and text when it has them, else its first six columns;
/// whitespace collapsed, values cut at `width` characters.
pub fn row_summary(batch: &RecordBatch, row: usize, width: usize) -> Vec<(String, String)> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    if row >= batch.num_rows() {
        return Vec::new();
    }
    let schema = batch.schema();
    let wordy: Vec<usize> = ["title", "text"]
        .iter()
        .filter_map(|n| schema.index_of(n).ok())
        .collect();
    let shown: Vec<usize> = if wordy.len() == 2 {
        wordy
    } else {
        (0..schema.fields().len()).take(6).collect()
    };
    let options = FormatOptions::default();
    shown
        .into_iter()
        .filter_map(|i| {
            let formatter = ArrayFormatter::try_new(batch.column(i).as_ref(), &options).ok()?;
            let value = formatter.value(row).to_string();
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            Some((
                schema.field(i).name().clone(),
                value.chars().take(width).collect(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn every_format_shows_the_values() -> Result<(), ArrowError> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("a,b"), None])),
            ],
        )?;
        let table = render_batches(&schema, std::slice::from_ref(&batch), OutputFormat::Table)?;
        assert!(table.contains("| id | name |"), "{table}");
        let csv = render_batches(&schema, std::slice::from_ref(&batch), OutputFormat::Csv)?;
        assert_eq!(csv, "id,name\n1,\"a,b\"\n2,\n");
        let json = render_batches(&schema, &[batch], OutputFormat::Json)?;
        assert_eq!(json, r#"[{"id":1,"name":"a,b"},{"id":2}]"#);
        assert_eq!(render_batches(&schema, &[], OutputFormat::Json)?, "[]");
        assert_eq!(
            render_batches(&schema, &[], OutputFormat::Csv)?,
            "id,name\n"
        );
        Ok(())
    }
}
