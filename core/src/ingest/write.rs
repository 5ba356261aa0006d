//! Two-phase writes: stage a dataset's new data uncommitted, then commit or discard.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatchReader;
use arrow::datatypes::SchemaRef;
use lance::Dataset;
use lance::dataset::transaction::Transaction;
use lance::dataset::{InsertBuilder, WriteMode as LanceMode, WriteParams};
use lance_file::writer::FileWriterOptions;

use super::guard::Guarded;
use super::{DatasetReport, IngestError, SourceStats, WriteMode};
use crate::lake::{
    CommitSession, DatasetKind, FailedSource, Lake, LakeError, PendingCommit, StagingLock,
};

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
    /// The lake folder.
    lake_dir: PathBuf,
    existing: Option<Existing>,
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
        let existing = match lake.catalog().datasets.get(name) {
            Some(entry) => {
                if mode == WriteMode::Create {
                    return Err(IngestError::Exists {
                        name: name.to_string(),
                    });
                }
                let dataset = lake.open_dataset(name, None).await?;
                let staging = StagingLock::join(lake.dir(), &entry.dir).await?;
                Some(Existing {
                    dir: entry.dir.clone(),
                    dataset,
                    staging,
                })
            }
            None => {
                // Names are checked when a dataset is made; older ones keep working.
                crate::lake::check_dataset_name(name).map_err(LakeError::from)?;
                None
            }
        };
        Ok(Self {
            name: name.to_string(),
            kind,
            mode,
            lake_dir: lake.dir().to_path_buf(),
            existing,
            derived,
        })
    }

    /// When appending, the schema new rows must be cast to.
    pub(crate) fn existing_schema(&self) -> Option<SchemaRef> {
        match (&self.existing, self.mode) {
            (Some(existing), WriteMode::Append) => {
                let full = arrow::datatypes::Schema::from(existing.dataset.schema());
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

    /// Writes the reader's rows as data files, uncommitted. A new dataset
    /// gets its folder reserved here, so only this write ever owns it.
    pub(crate) async fn stage(
        self,
        lake: &Lake,
        reader: Guarded,
        stats: Arc<SourceStats>,
        sources: Vec<String>,
        failed: Arc<Mutex<Vec<FailedSource>>>,
    ) -> Result<Staged, IngestError> {
        let (dir, files_before, reservation) = match &self.existing {
            Some(existing) => (
                existing.dir.clone(),
                data_files(&self.lake_dir.join(&existing.dir)),
                None,
            ),
            None => {
                let dir = lake.reserve_dataset_dir(&self.name)?;
                // `gc` leaves a folder alone while someone stages into it.
                let held = StagingLock::join(lake.dir(), &dir).await?;
                (dir, None, Some(held))
            }
        };
        let path = self.lake_dir.join(&dir);
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
        let uri = path.to_string_lossy().into_owned();
        let builder = match &self.existing {
            Some(existing) => InsertBuilder::new(existing.dataset.clone()),
            None => InsertBuilder::new(uri.as_str()),
        };
        let source: Box<dyn RecordBatchReader + Send> = Box::new(reader);
        let result = builder
            .with_params(&params)
            .execute_uncommitted_stream(source)
            .await;
        let staged = Staged {
            target: self,
            dir,
            path,
            files_before,
            _reservation: reservation,
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
                    staged.discard().await;
                    return Err(IngestError::NoDocuments { failed });
                }
                Ok(Staged {
                    transaction: Some(tx),
                    ..staged
                })
            }
            (_, Some(e)) => {
                staged.discard().await;
                Err(e)
            }
            (Err(e), None) => {
                let name = staged.target.name.clone();
                staged.discard().await;
                Err(IngestError::Write {
                    name,
                    source: e.into(),
                })
            }
        }
    }
}

/// An existing dataset being written to, and this writer's shared hold on
/// its staging lock.
struct Existing {
    dir: String,
    dataset: Arc<Dataset>,
    staging: StagingLock,
}

/// A dataset's data written but not yet visible.
pub(crate) struct Staged {
    target: Target,
    /// The dataset's folder, relative to the lake.
    dir: String,
    path: PathBuf,
    /// Data files before this write, for an existing dataset.
    files_before: Option<HashSet<PathBuf>>,
    /// This writer's hold on a new dataset's folder until it commits.
    _reservation: Option<StagingLock>,
    transaction: Option<Transaction>,
    stats: Arc<SourceStats>,
    sources: Vec<String>,
    failed: Vec<FailedSource>,
}

impl Staged {
    /// The dataset this write goes to.
    pub(crate) fn name(&self) -> &str {
        &self.target.name
    }

    /// Commits the new version and records it in the catalog, as one step
    /// among concurrent writers ([`Lake::commit_staged`]); a name another
    /// writer created meanwhile, or a dataset removed meanwhile, discards
    /// this write instead.
    pub(crate) async fn commit(
        mut self,
        session: &mut CommitSession<'_>,
    ) -> Result<DatasetReport, IngestError> {
        let Some(tx) = self.transaction.take() else {
            return Err(IngestError::Write {
                name: self.target.name.clone(),
                source: "nothing was staged".into(),
            });
        };
        let warnings = self
            .stats
            .warnings
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default();
        let committed = session
            .commit(PendingCommit {
                name: &self.target.name,
                kind: self.target.kind,
                dir: &self.dir,
                existing: self.target.existing.as_ref().map(|e| e.dataset.clone()),
                transaction: tx.clone(),
                sources: &self.sources,
                failed: &self.failed,
                notes: &warnings,
                replace_sources: self.target.mode == WriteMode::Overwrite,
            })
            .await;
        let ds = match committed {
            Ok(ds) => ds,
            Err(e) => {
                let name = self.target.name.clone();
                let create = self.target.mode == WriteMode::Create;
                self.transaction = Some(tx);
                self.discard().await;
                return Err(match e {
                    LakeError::Conflict {
                        what: "was created",
                        ..
                    } if create => IngestError::Exists { name },
                    LakeError::Lance { source, .. } => IngestError::Write {
                        name,
                        source: source.into(),
                    },
                    other => other.into(),
                });
            }
        };
        let recorded_rows = session
            .catalog()
            .datasets
            .get(&self.target.name)
            .map_or(0, |e| e.rows);
        Ok(DatasetReport {
            name: self.target.name.clone(),
            kind: self.target.kind,
            version: ds.version().version,
            rows_added: self.stats.rows.load(Ordering::Relaxed),
            rows_total: ds
                .count_rows(None)
                .await
                .map_or(recorded_rows, |n| n as u64),
            rows_skipped: self.stats.skipped.load(Ordering::Relaxed),
            sources: self.sources.clone(),
            failed: self.failed.clone(),
            warnings,
        })
    }

    /// Removes what this write added and nothing else; the dataset is as it was.
    ///
    /// A new dataset's folder was reserved by this write, so it goes whole.
    /// In an existing dataset the files the staged transaction lists go; when
    /// the write failed before it had a transaction, new files that no
    /// version references go, but only when no other Lakebook writer is
    /// staging into the dataset (they could be its files). Otherwise they
    /// stay, unreferenced and invisible, for `lakebook gc`. (A foreign
    /// client staging into the same dataset at that very moment is not
    /// seen; Lakebook's own writers all are.)
    pub(crate) async fn discard(self) {
        let Some(existing) = self.target.existing else {
            let _ = std::fs::remove_dir_all(&self.path);
            return;
        };
        if let Some(tx) = &self.transaction {
            for file in transaction_files(tx) {
                let _ = std::fs::remove_file(self.path.join("data").join(file));
            }
            return;
        }
        let Some(_alone) = existing.staging.leave_if_alone() else {
            return;
        };
        let (Some(before), Some(after)) = (&self.files_before, data_files(&self.path)) else {
            return;
        };
        let Ok(referenced) =
            crate::lake::gc::referenced_by_any_version(&self.path.to_string_lossy()).await
        else {
            return;
        };
        for f in after.difference(before) {
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_some_and(|n| !referenced.contains(&n)) {
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

/// Data files (relative to the dataset's `data/`) a transaction adds.
fn transaction_files(tx: &Transaction) -> Vec<String> {
    use lance::dataset::transaction::Operation;
    let fragments = match &tx.operation {
        Operation::Append { fragments } | Operation::Overwrite { fragments, .. } => fragments,
        _ => return Vec::new(),
    };
    fragments
        .iter()
        .flat_map(|f| f.files.iter().map(|d| d.path.clone()))
        .filter(|p| !p.contains('/') && !p.contains(".."))
        .collect()
}

/// The data files of a dataset folder; `None` when the folder does not exist.
pub(crate) fn data_files(dataset_dir: &Path) -> Option<HashSet<PathBuf>> {
    if !dataset_dir.exists() {
        return None;
    }
    let data = dataset_dir.join("data");
    let files = std::fs::read_dir(&data)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    Some(files)
}
