//! JSON tables: newline-delimited objects (NDJSON / JSON Lines) or one top-level array.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::reader::{ReaderBuilder, infer_json_schema_from_iterator};
use serde_json::Value;

use super::guard::{CountingRead, FileProgress, read_head, to_arrow};
use super::{IngestError, IngestOptions, OnError, SourceStats};

/// Rows scanned for schema inference in files larger than [`FULL_INFERENCE_BYTES`].
const INFERENCE_ROWS: usize = 20_000;
const FULL_INFERENCE_BYTES: u64 = 32 << 20;
/// A top-level array is parsed whole; beyond this size NDJSON is the way.
const MAX_ARRAY_BYTES: u64 = 1 << 30;

enum Rows {
    Lines {
        reader: Box<dyn BufRead + Send>,
        line: usize,
        buf: Vec<u8>,
        /// `NaN` and `Infinity` tokens read as null so far.
        non_finite: u64,
    },
    Array {
        values: std::vec::IntoIter<Value>,
        index: usize,
    },
}

impl Rows {
    /// The next object with its location, skipping blank lines.
    fn next_row(&mut self, path: &Path) -> Option<Result<(String, Value), IngestError>> {
        match self {
            Rows::Lines {
                reader,
                line,
                buf,
                non_finite,
            } => loop {
                buf.clear();
                match reader.read_until(b'\n', buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(source) => {
                        return Some(Err(IngestError::Io {
                            path: path.to_path_buf(),
                            source,
                        }));
                    }
                }
                *line += 1;
                let text = buf.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                let location = format!("line {line}");
                return Some(match parse_lenient(text, non_finite) {
                    Ok(v) if v.is_object() => Ok((location, v)),
                    Ok(_) => Err(IngestError::Parse {
                        path: path.to_path_buf(),
                        location,
                        reason: "expected a JSON object (one row per line)".into(),
                    }),
                    Err(e) => Err(IngestError::Parse {
                        path: path.to_path_buf(),
                        location: format!("{location}, column {}", e.column()),
                        reason: format!("invalid JSON: {e}"),
                    }),
                });
            },
            Rows::Array { values, index } => {
                let v = values.next()?;
                *index += 1;
                let location = format!("array element {index}");
                Some(if v.is_object() {
                    Ok((location, v))
                } else {
                    Err(IngestError::Parse {
                        path: path.to_path_buf(),
                        location,
                        reason: "expected a JSON object".into(),
                    })
                })
            }
        }
    }
}

struct JsonReader {
    path: PathBuf,
    rows: Rows,
    schema: SchemaRef,
    batch_rows: usize,
    on_error: OnError,
    progress: FileProgress,
    stats: Arc<SourceStats>,
    array_len: usize,
    /// Keys read as JSON text (their values have different shapes).
    as_text: Vec<String>,
    done: bool,
}

/// Opens a JSON or NDJSON file as a stream of batches.
pub(crate) fn open(
    path: &Path,
    options: &IngestOptions,
    progress: FileProgress,
    stats: Arc<SourceStats>,
) -> Result<Box<dyn RecordBatchReader + Send>, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let head = read_head(path, &progress, 4096)?;
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(&head);
    let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let array = match first {
        Some(b'[') => true,
        Some(b'{') => false,
        None => {
            return Err(IngestError::Empty {
                path: path.to_path_buf(),
            });
        }
        Some(_) => {
            return Err(IngestError::Format {
                path: path.to_path_buf(),
                reason: "not JSON: a JSON table starts with '[' (an array of objects) or '{' (one object per line)".into(),
            });
        }
    };
    let limit = if progress.file_bytes() <= FULL_INFERENCE_BYTES {
        usize::MAX
    } else {
        INFERENCE_ROWS
    };
    let (rows, sample, array_len) = if array {
        if progress.file_bytes() > MAX_ARRAY_BYTES {
            return Err(IngestError::Format {
                path: path.to_path_buf(),
                reason: "a single JSON array over 1 GiB is too large to read at once; convert it to NDJSON (one object per line)".into(),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let bytes = bytes
            .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
            .unwrap_or(&bytes);
        let mut non_finite = 0;
        let values: Value =
            parse_lenient(bytes, &mut non_finite).map_err(|e| IngestError::Parse {
                path: path.to_path_buf(),
                location: format!("line {}, column {}", e.line(), e.column()),
                reason: format!("invalid JSON: {e}"),
            })?;
        let Value::Array(values) = values else {
            return Err(IngestError::Format {
                path: path.to_path_buf(),
                reason: "expected one JSON array of objects".into(),
            });
        };
        if non_finite > 0 {
            stats.warn(non_finite_note(path, non_finite));
        }
        progress.set_fraction(0.5);
        let sample: Vec<Value> = values
            .iter()
            .filter(|v| v.is_object())
            .take(limit)
            .cloned()
            .collect();
        let len = values.len();
        (
            Rows::Array {
                values: values.into_iter(),
                index: 0,
            },
            sample,
            len,
        )
    } else {
        let mut sample_rows = Rows::Lines {
            reader: Box::new(BufReader::new(File::open(path).map_err(io)?)),
            line: 0,
            buf: Vec::new(),
            non_finite: 0,
        };
        let mut sample = Vec::new();
        while sample.len() < limit {
            match sample_rows.next_row(path) {
                None => break,
                Some(Ok((_, v))) => sample.push(v),
                Some(Err(e)) if options.on_error == OnError::Skip => {
                    let _ = e;
                }
                Some(Err(e)) => return Err(e),
            }
        }
        let reader = BufReader::with_capacity(
            1 << 16,
            CountingRead::new(File::open(path).map_err(io)?, progress.clone()),
        );
        (
            Rows::Lines {
                reader: Box::new(reader),
                line: 0,
                buf: Vec::new(),
                non_finite: 0,
            },
            sample,
            0,
        )
    };
    if sample.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    let (inferred, as_text) = infer_columns(&sample);
    for key in &as_text {
        stats.warn(format!(
            "{}: column '{key}' holds values of different shapes (e.g. a list in one row and an object in another); read as JSON text",
            path.display()
        ));
    }
    for key in big_integer_keys(&sample) {
        stats.warn(super::guard::widened_integers_note(path, &key));
    }
    let schema = Arc::new(Schema::new(
        inferred
            .fields()
            .iter()
            .map(|f| null_to_text(f))
            .collect::<Vec<_>>(),
    ));
    Ok(Box::new(JsonReader {
        path: path.to_path_buf(),
        rows,
        schema,
        batch_rows: options.batch_rows,
        on_error: options.on_error,
        progress,
        stats,
        array_len,
        as_text,
        done: false,
    }))
}

/// Parses JSON as pandas and other tools write it: `NaN`, `Infinity` and
/// `-Infinity` (not JSON) are read as null and counted in `non_finite`.
fn parse_lenient(text: &[u8], non_finite: &mut u64) -> Result<Value, serde_json::Error> {
    match serde_json::from_slice::<Value>(text) {
        Ok(v) => Ok(v),
        Err(e) => {
            let (fixed, replaced) = non_finite_as_null(text);
            if replaced == 0 {
                return Err(e);
            }
            let v = serde_json::from_slice::<Value>(&fixed).map_err(|_| e)?;
            *non_finite += replaced;
            Ok(v)
        }
    }
}

/// `text` with every `NaN`, `Infinity`, `+Infinity` and `-Infinity` outside
/// strings replaced by `null`, and how many there were.
fn non_finite_as_null(text: &[u8]) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(text.len());
    let mut replaced = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < text.len() {
                out.push(text[i + 1]);
                i += 2;
                continue;
            }
            in_string = b != b'"';
            i += 1;
            continue;
        }
        let rest = &text[i..];
        let token = [&b"-Infinity"[..], b"+Infinity", b"Infinity", b"NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(t) = token {
            out.extend_from_slice(b"null");
            replaced += 1;
            i += t.len();
            continue;
        }
        in_string = b == b'"';
        out.push(b);
        i += 1;
    }
    (out, replaced)
}

fn non_finite_note(path: &Path, n: u64) -> String {
    format!(
        "{}: {n} NaN or Infinity value{} (not JSON, but pandas writes them) read as null",
        path.display(),
        if n == 1 { "" } else { "s" }
    )
}

/// The columns of the sampled rows. A key whose values cannot share one
/// Arrow type (a list in one row, an object in the next) becomes a text
/// column of JSON; those keys are returned too.
fn infer_columns(sample: &[Value]) -> (Schema, Vec<String>) {
    if let Ok(schema) = infer_json_schema_from_iterator(sample.iter().map(Ok)) {
        return (schema, Vec::new());
    }
    let mut keys: Vec<&String> = Vec::new();
    for row in sample {
        if let Value::Object(o) = row {
            for k in o.keys() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    let mut fields = Vec::with_capacity(keys.len());
    let mut as_text = Vec::new();
    for key in keys {
        let single = sample.iter().filter_map(|row| {
            row.get(key.as_str()).map(|v| {
                let mut o = serde_json::Map::new();
                o.insert(key.clone(), v.clone());
                Ok(Value::Object(o))
            })
        });
        match infer_json_schema_from_iterator(single) {
            Ok(s) if s.fields().len() == 1 => fields.push(s.field(0).clone()),
            _ => {
                fields.push(Field::new(key.as_str(), DataType::Utf8, true));
                as_text.push(key.clone());
            }
        }
    }
    (Schema::new(fields), as_text)
}

/// Top-level keys, in first-seen order, with a whole number that does not
/// fit a signed 64-bit integer in some sampled row. Arrow infers such
/// columns as floats.
fn big_integer_keys(sample: &[Value]) -> Vec<String> {
    const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let beyond_i64 = |n: &serde_json::Number| {
        n.as_i64().is_none()
            && (n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() >= I64_LIMIT))
    };
    let mut keys: Vec<String> = Vec::new();
    for row in sample {
        let Value::Object(o) = row else { continue };
        for (k, v) in o {
            if let Value::Number(n) = v
                && beyond_i64(n)
                && !keys.contains(k)
            {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// Columns that were null in every sampled row are read as text.
fn null_to_text(f: &Field) -> Field {
    let dt = match f.data_type() {
        DataType::Null => DataType::Utf8,
        DataType::Struct(fields) => DataType::Struct(Fields::from(
            fields.iter().map(|c| null_to_text(c)).collect::<Vec<_>>(),
        )),
        DataType::List(item) => DataType::List(Arc::new(null_to_text(item))),
        other => other.clone(),
    };
    Field::new(f.name(), dt, true)
}

impl JsonReader {
    fn decoder(&self) -> Result<arrow::json::reader::Decoder, IngestError> {
        ReaderBuilder::new(self.schema.clone())
            .with_batch_size(self.batch_rows.max(1))
            .with_coerce_primitive(true)
            .build_decoder()
            .map_err(|e| IngestError::Unreadable {
                path: self.path.clone(),
                source: e.into(),
            })
    }

    fn bad_row(&self, e: IngestError) -> Result<(), IngestError> {
        if self.on_error == OnError::Skip {
            let n = self.stats.skipped.fetch_add(1, Ordering::Relaxed);
            if n < 5 {
                self.stats.warn(format!("skipped: {e}"));
            }
            Ok(())
        } else {
            Err(e)
        }
    }

    fn read_batch(&mut self) -> Result<Option<RecordBatch>, IngestError> {
        if self.done {
            return Ok(None);
        }
        let mut rows: Vec<(String, Value)> = Vec::with_capacity(self.batch_rows);
        while rows.len() < self.batch_rows {
            if rows.len().is_multiple_of(1024) && self.progress.cancelled() {
                return Err(IngestError::Cancelled);
            }
            match self.rows.next_row(&self.path) {
                None => {
                    self.done = true;
                    break;
                }
                Some(Ok(row)) => rows.push(row),
                Some(Err(e)) => self.bad_row(e)?,
            }
        }
        if let Rows::Array { index, .. } = &self.rows
            && self.array_len > 0
        {
            self.progress
                .set_fraction(0.5 + 0.5 * (*index as f64 / self.array_len as f64));
        }
        if self.done {
            self.progress.finish();
            if let Rows::Lines { non_finite, .. } = &self.rows
                && *non_finite > 0
            {
                self.stats.warn(non_finite_note(&self.path, *non_finite));
            }
        }
        for key in &self.as_text {
            for (_, row) in rows.iter_mut() {
                if let Some(v) = row.get_mut(key.as_str())
                    && !v.is_null()
                    && !v.is_string()
                {
                    *v = Value::String(v.to_string());
                }
            }
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let mut decoder = self.decoder()?;
        let values: Vec<&Value> = rows.iter().map(|(_, v)| v).collect();
        if decoder.serialize(&values).is_err() {
            // Find the row that does not fit, row by row, to name it.
            decoder = self.decoder()?;
            for (location, value) in &rows {
                let mut probe = self.decoder()?;
                match probe
                    .serialize(std::slice::from_ref(value))
                    .and_then(|()| probe.flush())
                {
                    Ok(_) => decoder
                        .serialize(std::slice::from_ref(value))
                        .map_err(|e| IngestError::Unreadable {
                            path: self.path.clone(),
                            source: e.into(),
                        })?,
                    Err(e) => self.bad_row(IngestError::Parse {
                        path: self.path.clone(),
                        location: location.clone(),
                        reason: format!(
                            "value does not fit the columns inferred from the first rows: {e}"
                        ),
                    })?,
                }
            }
        }
        let batch = decoder.flush().map_err(|e| IngestError::Unreadable {
            path: self.path.clone(),
            source: e.into(),
        })?;
        Ok(batch)
    }
}

impl Iterator for JsonReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.read_batch() {
                Ok(Some(b)) if b.num_rows() == 0 => continue,
                other => return other.map_err(to_arrow).transpose(),
            }
        }
    }
}

impl RecordBatchReader for JsonReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_infinity_outside_strings_become_null() {
        let (fixed, n) = non_finite_as_null(
            br#"{"a": NaN, "b": -Infinity, "c": "NaN \" Infinity", "d": [Infinity]}"#,
        );
        assert_eq!(
            String::from_utf8_lossy(&fixed),
            r#"{"a": null, "b": null, "c": "NaN \" Infinity", "d": [null]}"#
        );
        assert_eq!(n, 3);
        let mut count = 0;
        assert!(parse_lenient(b"{\"a\": nope}", &mut count).is_err());
        assert_eq!(count, 0);
    }

    #[test]
    fn whole_numbers_beyond_i64_are_named() {
        let sample: Vec<Value> = [
            r#"{"small": 1, "u": 18446744073709551615, "big": 1.5}"#,
            r#"{"small": -9223372036854775808, "huge": 123456789012345678901234567890, "big": 2e3}"#,
        ]
        .iter()
        .map(|t| serde_json::from_str(t).expect("valid JSON"))
        .collect();
        assert_eq!(big_integer_keys(&sample), ["u", "huge"]);
    }

    #[test]
    fn keys_of_different_shapes_become_text_columns() {
        let sample: Vec<Value> = vec![
            serde_json::json!({"id": 1, "b": [1, 2]}),
            serde_json::json!({"id": 2, "b": {"x": 1}}),
        ];
        let (schema, as_text) = infer_columns(&sample);
        assert_eq!(as_text, ["b"]);
        assert_eq!(schema.field(0).name(), "id");
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
        assert_eq!(schema.field(1).data_type(), &DataType::Utf8);
    }
}
