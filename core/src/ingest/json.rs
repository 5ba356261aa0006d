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
            Rows::Lines { reader, line, buf } => loop {
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
                return Some(match serde_json::from_slice::<Value>(text) {
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
        let values: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| IngestError::Parse {
            path: path.to_path_buf(),
            location: format!("line {}, column {}", e.line(), e.column()),
            reason: format!("invalid JSON: {e}"),
        })?;
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
    let inferred = infer_json_schema_from_iterator(sample.iter().map(Ok)).map_err(|e| {
        IngestError::Format {
            path: path.to_path_buf(),
            reason: format!("cannot work out the columns: {e}"),
        }
    })?;
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
        done: false,
    }))
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
            .map_err(|e| IngestError::Format {
                path: self.path.clone(),
                reason: e.to_string(),
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
                        .map_err(|e| IngestError::Format {
                            path: self.path.clone(),
                            reason: e.to_string(),
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
        let batch = decoder.flush().map_err(|e| IngestError::Format {
            path: self.path.clone(),
            reason: e.to_string(),
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
