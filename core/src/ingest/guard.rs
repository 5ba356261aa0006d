//! The reader Lance pulls from: progress, cancel, error capture and schema conforming.
//!
//! Lance runs a source's `RecordBatchReader` on a background thread and wraps
//! any error it returns in its own. [`Guarded`] keeps the first precise
//! [`IngestError`] in a shared slot so the user sees it, not Lance's wrapping.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, RecordBatch, RecordBatchReader, new_null_array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

use super::{IngestError, SourceStats};
use crate::job::Job;
use crate::lake::columns;

/// Byte progress of one input file, reported into the job's total.
#[derive(Debug, Clone)]
pub(crate) struct FileProgress {
    job: Job,
    file_bytes: u64,
    reported: Arc<AtomicU64>,
}

impl FileProgress {
    pub(crate) fn new(job: Job, path: &Path) -> Self {
        let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Self {
            job,
            file_bytes,
            reported: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Size of the file in bytes.
    pub(crate) fn file_bytes(&self) -> u64 {
        self.file_bytes
    }

    /// `bytes` more of the file were read.
    pub(crate) fn add(&self, bytes: u64) {
        let before = self.reported.fetch_add(bytes, Ordering::Relaxed);
        let capped = bytes.min(self.file_bytes.saturating_sub(before));
        self.job.advance(capped);
    }

    /// A fraction of the file is done (for formats read by rows, not bytes).
    pub(crate) fn set_fraction(&self, fraction: f64) {
        let target = (self.file_bytes as f64 * fraction.clamp(0.0, 1.0)) as u64;
        let before = self.reported.load(Ordering::Relaxed);
        if target > before {
            self.add(target - before);
        }
    }

    /// The whole file is done.
    pub(crate) fn finish(&self) {
        self.set_fraction(1.0);
    }

    /// Whether the user asked to stop.
    pub(crate) fn cancelled(&self) -> bool {
        self.job.is_cancelled()
    }
}

/// An empty file is an [`IngestError::Empty`].
pub(crate) fn require_content(path: &Path, progress: &FileProgress) -> Result<(), IngestError> {
    if progress.file_bytes() == 0 {
        Err(IngestError::Empty {
            path: path.to_path_buf(),
        })
    } else {
        Ok(())
    }
}

/// The first `limit` bytes of a file; an empty file is an [`IngestError::Empty`].
pub(crate) fn read_head(
    path: &Path,
    progress: &FileProgress,
    limit: u64,
) -> Result<Vec<u8>, IngestError> {
    require_content(path, progress)?;
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(limit)
        .read_to_end(&mut head)
        .map_err(io)?;
    Ok(head)
}

/// A `Read` that reports bytes read into a [`FileProgress`].
#[derive(Debug)]
pub(crate) struct CountingRead<R> {
    inner: R,
    progress: FileProgress,
}

impl<R: Read> CountingRead<R> {
    pub(crate) fn new(inner: R, progress: FileProgress) -> Self {
        Self { inner, progress }
    }
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let read = self.progress.reported.load(Ordering::Relaxed);
            if read != self.progress.file_bytes {
                return Err(std::io::Error::other(format!(
                    "the file changed while it was being read ({} bytes when the ingest began, {read} read); nothing was written",
                    self.progress.file_bytes
                )));
            }
        }
        self.progress.add(n as u64);
        Ok(n)
    }
}

/// The error of a file whose reader panicked: the file fails, the process goes on.
pub(crate) fn reader_panicked(path: &Path) -> IngestError {
    IngestError::Format {
        path: path.to_path_buf(),
        reason: "its reader failed on this file (an internal error, not the file's fault alone); nothing of it was written".into(),
    }
}

/// Wraps an [`IngestError`] so it can travel through Arrow/Lance APIs.
pub(crate) fn to_arrow(e: IngestError) -> ArrowError {
    ArrowError::ExternalError(Box::new(e))
}

/// Shared slot for the first error a source hit.
pub(crate) type ErrorSlot = Arc<Mutex<Option<IngestError>>>;

/// The reader handed to Lance.
pub(crate) struct Guarded {
    inner: Box<dyn RecordBatchReader + Send>,
    label: PathBuf,
    job: Job,
    stats: Arc<SourceStats>,
    /// The source's schema under names Lance accepts.
    storable: SchemaRef,
    /// When appending: the dataset's schema, which every batch is cast to.
    target: Option<SchemaRef>,
    slot: ErrorSlot,
}

impl Guarded {
    /// Wraps `inner`, read from `label`; with `target`, checks now that its columns fit the dataset.
    /// Column names Lance refuses are mapped here (see [`crate::lake::columns`]).
    pub(crate) fn new(
        inner: Box<dyn RecordBatchReader + Send>,
        label: &Path,
        job: Job,
        stats: Arc<SourceStats>,
        target: Option<SchemaRef>,
    ) -> Result<Self, IngestError> {
        let (storable, warnings) = columns::storable_schema(&inner.schema());
        for w in warnings {
            stats.warn(format!("{}: {w}", label.display()));
        }
        if let Some(target) = &target {
            for f in storable.fields() {
                let name = columns::user_name(f);
                if columns::stored_name(target, name).is_none() {
                    let known: Vec<&str> = target
                        .fields()
                        .iter()
                        .map(|f| columns::user_name(f))
                        .collect();
                    return Err(IngestError::Format {
                        path: label.to_path_buf(),
                        reason: format!(
                            "column '{name}' is not in the dataset being appended to (its columns: {}); use --mode overwrite to replace the schema",
                            known.join(", ")
                        ),
                    });
                }
            }
        }
        Ok(Self {
            inner,
            label: label.to_path_buf(),
            job,
            stats,
            storable,
            target,
            slot: Arc::new(Mutex::new(None)),
        })
    }

    /// The slot where the first error will be kept.
    pub(crate) fn error_slot(&self) -> ErrorSlot {
        self.slot.clone()
    }

    fn fail(&self, e: IngestError) -> ArrowError {
        let text = e.to_string();
        if let Ok(mut slot) = self.slot.lock()
            && slot.is_none()
        {
            *slot = Some(e);
        }
        ArrowError::ExternalError(text.into())
    }

    fn conform(&self, batch: RecordBatch, target: &SchemaRef) -> Result<RecordBatch, IngestError> {
        let options = CastOptions {
            safe: false,
            ..Default::default()
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
        let source = batch.schema();
        for field in target.fields() {
            let name = columns::user_name(field);
            let found = source
                .fields()
                .iter()
                .position(|f| columns::user_name(f) == name)
                .map(|i| batch.column(i));
            let column = match found {
                Some(c) if c.data_type() == field.data_type() => c.clone(),
                Some(c) => {
                    let cast = cast_with_options(c, field.data_type(), &options).map_err(|e| {
                        IngestError::Format {
                            path: self.label.clone(),
                            reason: format!(
                                "column '{name}' is {} here but {} in the dataset: {e}",
                                c.data_type(),
                                field.data_type()
                            ),
                        }
                    })?;
                    self.refuse_loss(c, &cast, name)?;
                    cast
                }
                None if field.is_nullable() => new_null_array(field.data_type(), batch.num_rows()),
                None => {
                    return Err(IngestError::Format {
                        path: self.label.clone(),
                        reason: format!("column '{name}' is missing and the dataset requires it"),
                    });
                }
            };
            columns.push(column);
        }
        RecordBatch::try_new(target.clone(), columns).map_err(|e| IngestError::Unreadable {
            path: self.label.clone(),
            source: e.into(),
        })
    }
}

impl Guarded {
    /// Refuses a cast that changed a value (`7.9` into an integer column
    /// becomes `7`; a timestamp into a date column loses its time): casting
    /// back must give every value again. Text is exempt (parsing "1.50" as a
    /// number is not a loss, and what does not parse already failed), and so
    /// is a change of float precision.
    fn refuse_loss(&self, from: &ArrayRef, to: &ArrayRef, column: &str) -> Result<(), IngestError> {
        use arrow::datatypes::DataType;
        let exempt = matches!(
            from.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        ) || (from.data_type().is_floating() && to.data_type().is_floating());
        if exempt {
            return Ok(());
        }
        let Ok(back) = arrow::compute::cast(to, from.data_type()) else {
            return Ok(());
        };
        let Ok(changed) = arrow::compute::kernels::cmp::distinct(from, &back) else {
            return Ok(());
        };
        let Some(row) = changed.iter().position(|d| d == Some(true)) else {
            return Ok(());
        };
        let shown = |a: &ArrayRef| {
            arrow::util::display::array_value_to_string(a, row).unwrap_or_else(|_| "?".into())
        };
        let before = self.stats.rows.load(Ordering::Relaxed);
        Err(IngestError::Parse {
            path: self.label.clone(),
            location: format!("data row {}, column '{column}'", before + row as u64 + 1),
            reason: format!(
                "{} would become {} in the dataset's {} column, losing data; append it to a dataset with a wider column type (--mode overwrite replaces the schema)",
                shown(from),
                shown(to),
                to.data_type()
            ),
        })
    }
}

impl Iterator for Guarded {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.job.is_cancelled() {
            return Some(Err(self.fail(IngestError::Cancelled)));
        }
        // A reader that panics (a third-party parser meeting a file it did not
        // expect) fails this file, never the process or the window.
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.inner.next()));
        let next = match next {
            Ok(next) => next,
            Err(_) => return Some(Err(self.fail(reader_panicked(&self.label)))),
        };
        let batch = match next? {
            Ok(b) => b,
            Err(ArrowError::ExternalError(inner)) => {
                let e = match inner.downcast::<IngestError>() {
                    Ok(e) => *e,
                    Err(other) => IngestError::Format {
                        path: self.label.clone(),
                        reason: other.to_string(),
                    },
                };
                return Some(Err(self.fail(e)));
            }
            Err(e) => {
                let e = IngestError::Unreadable {
                    path: self.label.clone(),
                    source: e.into(),
                };
                return Some(Err(self.fail(e)));
            }
        };
        let batch = match RecordBatch::try_new(self.storable.clone(), batch.columns().to_vec()) {
            Ok(b) => b,
            Err(e) => {
                let e = IngestError::Unreadable {
                    path: self.label.clone(),
                    source: e.into(),
                };
                return Some(Err(self.fail(e)));
            }
        };
        let batch = match &self.target {
            Some(t) => match self.conform(batch, t) {
                Ok(b) => b,
                Err(e) => return Some(Err(self.fail(e))),
            },
            None => batch,
        };
        self.stats
            .rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Some(Ok(batch))
    }
}

impl RecordBatchReader for Guarded {
    fn schema(&self) -> SchemaRef {
        match &self.target {
            Some(t) => t.clone(),
            None => self.storable.clone(),
        }
    }
}

/// The note for a column of whole numbers too large for 64 bits, which every
/// reader widens to floating point.
pub(crate) fn widened_integers_note(path: &Path, column: &str) -> String {
    format!(
        "{}: column '{column}' holds whole numbers beyond the 64-bit range; read as floating point, which keeps about 16 significant digits",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_shrinks_while_read_is_an_error() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b\n1,2\n3,4\n")?;
        let job = Job::new();
        let progress = FileProgress::new(job.clone(), &path);
        std::fs::write(&path, "a,b\n1,2\n")?;
        let mut text = String::new();
        let err = CountingRead::new(std::fs::File::open(&path)?, progress)
            .read_to_string(&mut text)
            .err()
            .ok_or("expected an error")?;
        assert!(
            err.to_string().contains("changed while it was being read"),
            "{err}"
        );

        let job = Job::new();
        let progress = FileProgress::new(job.clone(), &path);
        let mut text = String::new();
        CountingRead::new(std::fs::File::open(&path)?, progress).read_to_string(&mut text)?;
        assert_eq!(text, "a,b\n1,2\n");
        assert_eq!(job.snapshot().done, 8);
        Ok(())
    }
}
