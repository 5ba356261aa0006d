//! Query results and listings as text: an aligned table, CSV or JSON.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
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
        OutputFormat::Table => {
            // Long lists (embeddings) would make every row hundreds of
            // columns wide: the table shows their start and their length.
            let schema = shortened_schema(schema);
            let batches = batches
                .iter()
                .map(|b| shorten_lists(&schema, b))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(
                arrow::util::pretty::pretty_format_batches_with_schema(schema, &batches)?
                    .to_string(),
            )
        }
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

/// Lists longer than this are shown by their first values in tables.
const LIST_SHOWN: usize = 3;

/// Whether a column holds lists (shown shortened in tables).
fn is_list(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
    )
}

/// `schema` with its list columns as text.
fn shortened_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            // Every column nullable: the table only shows what is there.
            let data_type = if is_list(f.data_type()) {
                DataType::Utf8
            } else {
                f.data_type().clone()
            };
            Field::new(f.name(), data_type, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// `batch` with each list longer than [`LIST_SHOWN`] values written as
/// "[0.1, 0.2, 0.3, … 384 values]" (shorter ones in full).
fn shorten_lists(schema: &SchemaRef, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default();
    let columns = batch
        .columns()
        .iter()
        .map(|column| -> Result<ArrayRef, ArrowError> {
            if !is_list(column.data_type()) {
                return Ok(column.clone());
            }
            let text: StringArray = (0..column.len())
                .map(|row| -> Result<Option<String>, ArrowError> {
                    if column.is_null(row) {
                        return Ok(None);
                    }
                    let values = match column.data_type() {
                        DataType::List(_) => column.as_list::<i32>().value(row),
                        DataType::LargeList(_) => column.as_list::<i64>().value(row),
                        _ => column.as_fixed_size_list().value(row),
                    };
                    let formatter = ArrayFormatter::try_new(values.as_ref(), &options)?;
                    let shown: Vec<String> = (0..values.len().min(LIST_SHOWN))
                        .map(|i| formatter.value(i).to_string())
                        .collect();
                    Ok(Some(if values.len() > LIST_SHOWN {
                        format!("[{}, … {} values]", shown.join(", "), values.len())
                    } else {
                        format!("[{}]", shown.join(", "))
                    }))
                })
                .collect::<Result<_, _>>()?;
            Ok(Arc::new(text))
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
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

    #[test]
    fn tables_show_the_start_of_long_lists_and_json_all_of_them() -> Result<(), ArrowError> {
        use arrow::array::{FixedSizeListArray, Float32Array, ListArray};
        use arrow::datatypes::Int32Type;
        let vector = FixedSizeListArray::new(
            Arc::new(Field::new_list_field(DataType::Float32, true)),
            384,
            Arc::new(Float32Array::from(
                (0..768).map(|i| i as f32 / 4.0).collect::<Vec<_>>(),
            )),
            None,
        );
        let tags = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
        ]);
        let batch = RecordBatch::try_from_iter([
            ("embedding", Arc::new(vector) as ArrayRef),
            ("tags", Arc::new(tags) as ArrayRef),
        ])?;
        let schema = batch.schema();
        let table = render_batches(&schema, std::slice::from_ref(&batch), OutputFormat::Table)?;
        assert!(table.contains("[0.0, 0.25, 0.5, … 384 values]"), "{table}");
        assert!(
            table.contains("[96.0, 96.25, 96.5, … 384 values]"),
            "{table}"
        );
        assert!(table.contains("[1, 2]"), "{table}");
        assert!(table.lines().all(|l| l.chars().count() < 80), "{table}");
        let json = render_batches(&schema, &[batch], OutputFormat::Json)?;
        assert!(json.contains("191.75"), "JSON keeps every value");
        Ok(())
    }
}
