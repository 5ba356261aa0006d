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
    let reader =
        builder
            .with_batch_size(batch_rows)
            .build()
            .map_err(|e| IngestError::Unreadable {
                path: path.to_path_buf(),
                source: e.into(),
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
    let damaged = |what: &str| IngestError::Format {
        path: path.to_path_buf(),
        reason: format!("not a readable Arrow IPC file ({what}); it may be truncated or damaged"),
    };
    let checked = if is_file_format {
        check_ipc_file(&mut file, progress.file_bytes())
    } else {
        check_ipc_stream(&mut file, progress.file_bytes())
    };
    checked.map_err(|what| damaged(&what))?;
    file.rewind().map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
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

/// Arrow's IPC readers allocate what a file's own lengths say before reading
/// them, so a damaged length asks for exabytes and aborts the process. The
/// footer's blocks are held to the file's size first.
fn check_ipc_file(file: &mut File, len: u64) -> Result<(), String> {
    use std::io::SeekFrom;
    if len < 16 {
        return Err("too short".into());
    }
    let mut tail = [0u8; 10];
    file.seek(SeekFrom::End(-10))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| e.to_string())?;
    let footer_len =
        arrow::ipc::reader::read_footer_length(tail).map_err(|e| e.to_string())? as u64;
    if footer_len + 10 > len {
        return Err("its footer is longer than the file".into());
    }
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::Start(len - 10 - footer_len))
        .and_then(|_| file.read_exact(&mut footer))
        .map_err(|e| e.to_string())?;
    let footer = arrow::ipc::root_as_footer(&footer).map_err(|e| e.to_string())?;
    let blocks = footer
        .recordBatches()
        .into_iter()
        .flatten()
        .chain(footer.dictionaries().into_iter().flatten());
    for block in blocks {
        let end = u64::try_from(block.offset())
            .ok()
            .zip(u64::try_from(block.metaDataLength()).ok())
            .zip(u64::try_from(block.bodyLength()).ok())
            .and_then(|((o, m), b)| o.checked_add(m)?.checked_add(b));
        if end.is_none_or(|end| end > len) {
            return Err("a block reaches past the end of the file".into());
        }
    }
    Ok(())
}

/// The same for the stream format: every message's metadata and body must
/// lie inside the file.
fn check_ipc_stream(file: &mut File, len: u64) -> Result<(), String> {
    use std::io::SeekFrom;
    let mut pos = 0u64;
    let mut word = [0u8; 4];
    while pos + 4 <= len {
        file.seek(SeekFrom::Start(pos))
            .and_then(|_| file.read_exact(&mut word))
            .map_err(|e| e.to_string())?;
        let mut header = 4;
        if word == [0xFF; 4] {
            if pos + 8 > len {
                break;
            }
            file.read_exact(&mut word).map_err(|e| e.to_string())?;
            header = 8;
        }
        let meta_len = i32::from_le_bytes(word);
        if meta_len == 0 {
            break; // end of stream
        }
        let meta_len = u64::try_from(meta_len).map_err(|_| "a negative message length")?;
        if pos + header + meta_len > len {
            return Err("a message reaches past the end of the file".into());
        }
        let mut meta = vec![0u8; meta_len as usize];
        file.read_exact(&mut meta).map_err(|e| e.to_string())?;
        let message = arrow::ipc::root_as_message(&meta).map_err(|e| e.to_string())?;
        let body = u64::try_from(message.bodyLength()).map_err(|_| "a negative body length")?;
        match (pos + header + meta_len).checked_add(body) {
            Some(end) if end <= len => pos = end,
            _ => return Err("a message body reaches past the end of the file".into()),
        }
    }
    Ok(())
}
