//! Documents into passages: one row per passage with its document, title and offsets.

pub mod extract;
pub mod passages;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow::array::{Int32Builder, Int64Builder, RecordBatch, RecordBatchReader, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use encoding_rs::Encoding;

pub use passages::{Passage, PassageOptions};

use super::guard::FileProgress;
use super::{DocFormat, IngestError};
use crate::job::Job;
use crate::lake::FailedSource;

/// Passages per Arrow batch.
const BATCH_PASSAGES: usize = 1024;

/// The schema of a documents dataset.
pub fn passage_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("passage", DataType::Int32, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("char_start", DataType::Int64, false),
        Field::new("char_end", DataType::Int64, false),
    ]))
}

/// A stable id for a document: a hash of its path and content.
fn doc_id(path: &str, bytes_len: u64, text: &str) -> String {
    // FNV-1a, 64 bit: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path
        .bytes()
        .chain(bytes_len.to_le_bytes())
        .chain(text.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn format_name(f: DocFormat) -> &'static str {
    match f {
        DocFormat::Text => "txt",
        DocFormat::Markdown => "md",
        DocFormat::Html => "html",
        DocFormat::Pdf => "pdf",
    }
}

/// Reads documents one by one and yields batches of passages.
///
/// A document that cannot be read is recorded in `failed` and skipped.
pub(crate) struct PassageReader {
    docs: std::vec::IntoIter<(PathBuf, DocFormat)>,
    options: PassageOptions,
    encoding: Option<&'static Encoding>,
    job: Job,
    failed: Arc<Mutex<Vec<FailedSource>>>,
    schema: SchemaRef,
}

impl PassageReader {
    pub(crate) fn new(
        docs: Vec<(PathBuf, DocFormat)>,
        options: PassageOptions,
        encoding: Option<&'static Encoding>,
        job: Job,
        failed: Arc<Mutex<Vec<FailedSource>>>,
    ) -> Self {
        Self {
            docs: docs.into_iter(),
            options,
            encoding,
            job,
            failed,
            schema: passage_schema(),
        }
    }
}

impl Iterator for PassageReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut cols = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            Int32Builder::new(),
            StringBuilder::new(),
            Int64Builder::new(),
            Int64Builder::new(),
        );
        let mut rows = 0;
        while rows < BATCH_PASSAGES {
            if self.job.is_cancelled() {
                return Some(Err(ArrowError::ExternalError(Box::new(
                    IngestError::Cancelled,
                ))));
            }
            let Some((path, format)) = self.docs.next() else {
                break;
            };
            let progress = FileProgress::new(self.job.clone(), &path);
            let shown = path.display().to_string();
            self.job.set_message(format!("reading {shown}"));
            match extract::extract(&path, format, self.encoding) {
                Ok(doc) => {
                    let id = doc_id(&shown, progress.file_bytes(), &doc.text);
                    for (n, p) in passages::split(&doc.text, &self.options)
                        .into_iter()
                        .enumerate()
                    {
                        cols.0.append_value(&id);
                        cols.1.append_value(&shown);
                        cols.2.append_value(&doc.title);
                        cols.3.append_value(format_name(format));
                        cols.4.append_value(i32::try_from(n).unwrap_or(i32::MAX));
                        cols.5.append_value(&p.text);
                        cols.6.append_value(p.char_start as i64);
                        cols.7.append_value(p.char_end as i64);
                        rows += 1;
                    }
                }
                Err(reason) => {
                    if let Ok(mut f) = self.failed.lock() {
                        f.push(FailedSource {
                            path: shown,
                            reason,
                        });
                    }
                }
            }
            progress.finish();
        }
        if rows == 0 {
            return None;
        }
        let columns: Vec<arrow::array::ArrayRef> = vec![
            Arc::new(cols.0.finish()),
            Arc::new(cols.1.finish()),
            Arc::new(cols.2.finish()),
            Arc::new(cols.3.finish()),
            Arc::new(cols.4.finish()),
            Arc::new(cols.5.finish()),
            Arc::new(cols.6.finish()),
            Arc::new(cols.7.finish()),
        ];
        Some(RecordBatch::try_new(self.schema.clone(), columns))
    }
}

impl RecordBatchReader for PassageReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
