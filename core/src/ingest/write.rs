//! Two-phase writes: stage a dataset's new data uncommitted, then commit or discard.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatchReader;
use arrow::datatypes::SchemaRef;
use lance::Dataset;
use lance::dataset::transaction::Transaction;
use lance::dataset::{CommitBuilder, InsertBuilder, WriteMode as LanceMode, WriteParams};
use lance_file::writer::FileWriterOptions;

use super::guard::Guarded;
use super::{DatasetReport, IngestError, SourceStats, WriteMode};
use crate::lake::{DatasetKind, DatasetUpdate, FailedSource, Lake};

/// Column data Lance buffers before encoding it into pages. Lance encodes full
/// buffers on its CPU pool while the source is still being read, but what is
/// left at the end one column after another; a smaller buffer than its 8 MiB
/// default keeps that serial tail short (on a 1M-row CSV it was a third of the
/// ingest), and pages of this size still read quickly.
const ENCODE_BYTES_PER_COLUMN: u64 = 2 << 20;

/// Where one dataset's rows will go.
pub(crate) struct Target {
    name: String,
    kind: DatasetKind,
    mode: WriteMode,
    dir: String,
    path: PathBuf,
    existing: Option<Arc<Dataset>>,
    /// Columns Lakebook computes (the embedding vector): appended rows leave
    /// them out, so they read as null until `embed` fills them.
    derived: Vec<String>,
}

impl Target {
    /// Looks the dataset up; Create mode on an existing name is an error.
    pub(crate) async fn resolve(
        lake: &Lake,
        name: &str,
        kind: DatasetKind,
        mode: WriteMode,
    ) -> Result<Self, IngestError> {
        let derived = lake
            .catalog()
            .datasets
            .get(name)
            .and_then(|e| e.embedding.as_ref())
            .map(|e| vec![e.column.clone()])
            .unwrap_or_default();
        let (dir, existing) = match lake.catalog().datasets.get(name) {
            Some(entry) => {
                if mode == WriteMode::Create {
                    return Err(IngestError::Exists {
                        name: name.to_string(),
                    });
                }
                (
                    entry.dir.clone(),
                    Some(lake.open_dataset(name, None).await?),
                )
            }
            None => (lake.new_dataset_dir(name), None),
        };
        Ok(Self {
            name: name.to_string(),
            kind,
            mode,
            path: lake.dir().join(&dir),
            dir,
            existing,
            derived,
        })
    }

    /// When appending, the schema new rows must be cast to.
    pub(crate) fn existing_schema(&self) -> Option<SchemaRef> {
        match (&self.existing, self.mode) {
            (Some(ds), WriteMode::Append) => {
                let full = arrow::datatypes::Schema::from(ds.schema());
                let kept: Vec<_> = full
                    .fields()
                    .iter()
                    .filter(|f| !self.derived.contains(f.name()))
                    .cloned()
                    .collect();
                Some(Arc::new(arrow::datatypes::Schema::new(kept)))
            }
            _ => None,
        }
    }

    /// Writes the reader's rows as data files, uncommitted.
    pub(crate) async fn stage(
        self,
        reader: Guarded,
        stats: Arc<SourceStats>,
        sources: Vec<String>,
        failed: Arc<Mutex<Vec<FailedSource>>>,
    ) -> Result<Staged, IngestError> {
        let files_before = data_files(&self.path);
        let slot = reader.error_slot();
        let params = WriteParams {
            mode: match (&self.existing, self.mode) {
                (Some(_), WriteMode::Overwrite) => LanceMode::Overwrite,
                (Some(_), _) => LanceMode::Append,
                (None, _) => LanceMode::Create,
            },
            file_writer_options: Some(FileWriterOptions {
                data_cache_bytes: Some(
                    ENCODE_BYTES_PER_COLUMN * reader.schema().fields().len().max(1) as u64,
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        let uri = self.path.to_string_lossy().into_owned();
        let builder = match &self.existing {
            Some(ds) => InsertBuilder::new(ds.clone()),
            None => InsertBuilder::new(uri.as_str()),
        };
        let source: Box<dyn RecordBatchReader + Send> = Box::new(reader);
        let result = builder
            .with_params(&params)
            .execute_uncommitted_stream(source)
            .await;
        let staged = Staged {
            target: self,
            files_before,
            transaction: None,
            stats,
            sources,
            failed: failed.lock().map(|f| f.clone()).unwrap_or_default(),
        };
        let ours = slot.lock().ok().and_then(|mut s| s.take());
        match (result, ours) {
            (Ok(tx), None) => {
                if staged.target.kind == DatasetKind::Documents
                    && staged.stats.rows.load(Ordering::Relaxed) == 0
                {
                    let failed = staged.failed.clone();
                    staged.discard();
                    return Err(IngestError::NoDocuments { failed });
                }
                Ok(Staged {
                    transaction: Some(tx),
                    ..staged
                })
            }
            (_, Some(e)) => {
                staged.discard();
                Err(e)
            }
            (Err(e), None) => {
                let name = staged.target.name.clone();
                staged.discard();
                Err(IngestError::Write {
                    name,
                    reason: e.to_string(),
                })
            }
        }
    }
}

/// A dataset's data written but not yet visible.
pub(crate) struct Staged {
    target: Target,
    files_before: Option<HashSet<PathBuf>>,
    transaction: Option<Transaction>,
    stats: Arc<SourceStats>,
    sources: Vec<String>,
    failed: Vec<FailedSource>,
}

impl Staged {
    /// Commits the new version and records it in the catalog.
    pub(crate) async fn commit(mut self, lake: &mut Lake) -> Result<DatasetReport, IngestError> {
        let Some(tx) = self.transaction.take() else {
            return Err(IngestError::Write {
                name: self.target.name.clone(),
                reason: "nothing was staged".into(),
            });
        };
        let uri = self.target.path.to_string_lossy().into_owned();
        let builder = match &self.target.existing {
            Some(ds) => CommitBuilder::new(ds.clone()),
            None => CommitBuilder::new(uri.as_str()),
        };
        let ds = match builder.execute(tx).await {
            Ok(ds) => ds,
            Err(e) => {
                let name = self.target.name.clone();
                self.discard();
                return Err(IngestError::Write {
                    name,
                    reason: e.to_string(),
                });
            }
        };
        lake.record_dataset(DatasetUpdate {
            name: &self.target.name,
            kind: self.target.kind,
            dir: &self.target.dir,
            dataset: &ds,
            sources: &self.sources,
            failed: &self.failed,
            replace_sources: self.target.mode == WriteMode::Overwrite,
            embedding: None,
        })
        .await?;
        let entry = lake.entry(&self.target.name)?;
        let warnings = self
            .stats
            .warnings
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default();
        Ok(DatasetReport {
            name: self.target.name.clone(),
            kind: self.target.kind,
            version: entry.version,
            rows_added: self.stats.rows.load(Ordering::Relaxed),
            rows_total: entry.rows,
            rows_skipped: self.stats.skipped.load(Ordering::Relaxed),
            sources: self.sources.clone(),
            failed: self.failed.clone(),
            warnings,
        })
    }

    /// Removes the data files this write added; the dataset is as it was.
    pub(crate) fn discard(self) {
        match &self.files_before {
            None => {
                let _ = std::fs::remove_dir_all(&self.target.path);
            }
            Some(before) => {
                if let Some(after) = data_files(&self.target.path) {
                    for f in after.difference(before) {
                        let _ = std::fs::remove_file(f);
                    }
                }
            }
        }
    }
}

/// The data files of an existing dataset folder; `None` when the folder does not exist.
fn data_files(dataset_dir: &Path) -> Option<HashSet<PathBuf>> {
    if !dataset_dir.exists() {
        return None;
    }
    let data = dataset_dir.join("data");
    let files = std::fs::read_dir(&data)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    Some(files)
}
