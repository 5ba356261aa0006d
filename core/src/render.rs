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

/// Writes a result as CSV or JSON batch by batch as it arrives, so a result
/// of any size streams out in the memory of one batch.
pub struct StreamingWriter<W: std::io::Write> {
    format: StreamFormat<W>,
    rows: usize,
}

impl<W: std::io::Write> std::fmt::Debug for StreamingWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingWriter")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

enum StreamFormat<W: std::io::Write> {
    Csv(arrow::csv::Writer<W>),
    Json(arrow::json::ArrayWriter<W>),
}

impl<W: std::io::Write> StreamingWriter<W> {
    /// A writer of `format` (CSV or JSON; a table needs every row's width
    /// first and is rendered with [`render_batches`]).
    pub fn new(out: W, format: OutputFormat) -> Option<Self> {
        let format = match format {
            OutputFormat::Table => return None,
            OutputFormat::Csv => StreamFormat::Csv(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(out),
            ),
            OutputFormat::Json => StreamFormat::Json(arrow::json::ArrayWriter::new(out)),
        };
        Some(Self { format, rows: 0 })
    }

    /// Writes one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows += batch.num_rows();
        match &mut self.format {
            StreamFormat::Csv(w) => w.write(batch),
            StreamFormat::Json(w) => w.write(batch),
        }
    }

    /// Ends the output and returns the rows written; an empty result is
    /// still a CSV header or `[]`.
    pub fn finish(self, schema: &SchemaRef) -> Result<usize, ArrowError> {
        let rows = self.rows;
        let io = |e: std::io::Error| ArrowError::ExternalError(Box::new(e));
        match self.format {
            StreamFormat::Csv(mut w) => {
                if rows == 0 {
                    w.write(&RecordBatch::new_empty(schema.clone()))?;
                }
            }
            StreamFormat::Json(mut w) => {
                // `finish` writes `[]` for an empty result itself.
                w.finish()?;
                w.into_inner().write_all(b"\n").map_err(io)?;
            }
        }
        Ok(rows)
    }
}

/// Lists longer than this are shown by their first values in tables.
const LIST_SHOWN: usize = 3;

/// Text longer than this many characters is cut in tables (laying out a
/// table costs the square of its widest value).
const TEXT_SHOWN: usize = 400;

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
            let data_type = if is_list(f.data_type()) || f.data_type() == &DataType::LargeUtf8 {
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
            if matches!(column.data_type(), DataType::Utf8 | DataType::LargeUtf8) {
                return shorten_text(column);
            }
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

/// A text column with values over [`TEXT_SHOWN`] characters cut, saying
/// how long they were; the column as it was when none is that long.
fn shorten_text(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let as_utf8 = arrow::compute::cast(column, &DataType::Utf8)?;
    let strings = as_utf8.as_string::<i32>();
    let long = |v: &str| v.len() > TEXT_SHOWN && v.chars().nth(TEXT_SHOWN).is_some();
    if !strings.iter().flatten().any(long) {
        return Ok(as_utf8);
    }
    let cut: StringArray = strings
        .iter()
        .map(|v| {
            v.map(|v| {
                if long(v) {
                    let shown: String = v.chars().take(TEXT_SHOWN).collect();
                    format!("{shown}… ({} characters)", v.chars().count())
                } else {
                    v.to_string()
                }
            })
        })
        .collect();
    Ok(Arc::new(cut))
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
    fn tables_cut_long_text_and_csv_and_json_stream_it_whole() -> Result<(), ArrowError> {
        let long = "x".repeat(1_000_000);
        let batch = RecordBatch::try_from_iter(vec![(
            "t",
            Arc::new(StringArray::from(vec![long.as_str(), "short"])) as ArrayRef,
        )])?;
        let started = std::time::Instant::now();
        let table = render_batches(
            &batch.schema(),
            std::slice::from_ref(&batch),
            OutputFormat::Table,
        )?;
        assert!(
            started.elapsed().as_secs() < 5,
            "a 1 MB value renders at once"
        );
        let expected_cell = format!("{}… (1000000 characters)", "x".repeat(TEXT_SHOWN));
        assert!(
            table.lines().any(|l| l == format!("| {expected_cell} |")),
            "{}",
            &table[..200]
        );
        let mut out: Vec<u8> = Vec::new();
        let mut w = StreamingWriter::new(&mut out, OutputFormat::Json)
            .ok_or_else(|| ArrowError::ComputeError("json streams".into()))?;
        w.write(&batch)?;
        w.write(&batch.slice(1, 1))?;
        assert_eq!(w.finish(&batch.schema())?, 3);
        let rows: Vec<serde_json::Value> =
            serde_json::from_slice(&out).map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["t"].as_str().map(str::len), Some(1_000_000));
        let mut empty: Vec<u8> = Vec::new();
        let w = StreamingWriter::new(&mut empty, OutputFormat::Json)
            .ok_or_else(|| ArrowError::ComputeError("json streams".into()))?;
        w.finish(&batch.schema())?;
        assert_eq!(empty, b"[]\n");
        let mut csv: Vec<u8> = Vec::new();
        let w = StreamingWriter::new(&mut csv, OutputFormat::Csv)
            .ok_or_else(|| ArrowError::ComputeError("csv streams".into()))?;
        w.finish(&batch.schema())?;
        assert_eq!(csv, b"t\n");
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
