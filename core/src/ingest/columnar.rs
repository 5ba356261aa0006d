//! Parquet and Arrow IPC: already typed, read batch by batch.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::reader::{FileReader, StreamReader};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::IngestError;
use super::guard::{CountingRead, FileProgress, require_content};

fn open_file(path: &Path) -> Result<File, IngestError> {
    File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reports progress by rows read out of a known total, and names the file in errors.
struct RowProgress<R> {
    inner: R,
    path: PathBuf,
    rows_total: Option<u64>,
    rows: u64,
    progress: FileProgress,
}

impl<R: Iterator<Item = Result<RecordBatch, ArrowError>>> Iterator for RowProgress<R> {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.inner.next() {
            None => {
                self.progress.finish();
                None
            }
            Some(Ok(b)) => {
                self.rows += b.num_rows() as u64;
                if let Some(total) = self.rows_total.filter(|t| *t > 0) {
                    self.progress.set_fraction(self.rows as f64 / total as f64);
                }
                Some(Ok(b))
            }
            Some(Err(e)) => Some(Err(ArrowError::ExternalError(Box::new(
                IngestError::Format {
                    path: self.path.clone(),
                    reason: format!("damaged data after {} rows: {e}", self.rows),
                },
            )))),
        }
    }
}

struct Boxed<R> {
    schema: SchemaRef,
    rows: RowProgress<R>,
}

impl<R: Iterator<Item = Result<RecordBatch, ArrowError>>> Iterator for Boxed<R> {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
    }
}

impl<R: Iterator<Item = Result<RecordBatch, ArrowError>>> RecordBatchReader for Boxed<R> {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// Opens a Parquet file; a truncated or damaged footer is a clear error.
pub(crate) fn open_parquet(
    path: &Path,
    batch_rows: usize,
    progress: FileProgress,
) -> Result<Box<dyn RecordBatchReader + Send>, IngestError> {
    require_content(path, &progress)?;
    let file = open_file(path)?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| IngestError::Format {
            path: path.to_path_buf(),
            reason: format!(
                "not a readable Parquet file ({e}); it may be truncated or not Parquet at all"
            ),
        })?;
    let rows_total = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
    let reader = builder
        .with_batch_size(batch_rows)
        .build()
        .map_err(|e| IngestError::Format {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let schema = reader.schema();
    Ok(Box::new(Boxed {
        schema,
        rows: RowProgress {
            inner: reader,
            path: path.to_path_buf(),
            rows_total,
            rows: 0,
            progress,
        },
    }))
}

/// Opens an Arrow IPC file (random-access format) or stream.
pub(crate) fn open_ipc(
    path: &Path,
    progress: FileProgress,
) -> Result<Box<dyn RecordBatchReader + Send>, IngestError> {
    require_content(path, &progress)?;
    let mut file = open_file(path)?;
    let mut magic = [0u8; 6];
    let is_file_format = file.read_exact(&mut magic).is_ok() && &magic == b"ARROW1";
    file.rewind().map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |e: ArrowError| IngestError::Format {
        path: path.to_path_buf(),
        reason: format!("not a readable Arrow IPC file ({e}); it may be truncated"),
    };
    if is_file_format {
        let reader = FileReader::try_new(BufReader::new(file), None).map_err(bad)?;
        let schema = reader.schema();
        let rows = RowProgress {
            inner: reader,
            path: path.to_path_buf(),
            rows_total: None,
            rows: 0,
            progress,
        };
        Ok(Box::new(Boxed { schema, rows }))
    } else {
        let counted = CountingRead::new(BufReader::new(file), progress.clone());
        let reader = StreamReader::try_new(counted, None).map_err(bad)?;
        let schema = reader.schema();
        let rows = RowProgress {
            inner: reader,
            path: path.to_path_buf(),
            rows_total: None,
            rows: 0,
            progress,
        };
        Ok(Box::new(Boxed { schema, rows }))
    }
}
