//! The lake: a folder of Lance datasets plus the `lake.json` catalog.
//!
//! Datasets live directly in the lake folder as `<slug>.lance`, so other Lance
//! clients (pylance, lancedb) can read them, and datasets they write there are
//! adopted into the catalog when the lake is opened.

mod adopt;
pub mod catalog;
pub mod columns;
mod commit;
pub mod gc;
pub mod lock;
pub mod names;
mod rename;
mod trash;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lance::dataset::Dataset;
use lance::dataset::builder::DatasetBuilder;
use lance::session::Session;

pub use catalog::{
    Catalog, ColumnEntry, DatasetEntry, DatasetKind, EmbeddingEntry, FailedSource, RetiredEntry,
};
pub use commit::{CommitSession, PendingCommit};
pub use lock::{LakeLock, SoleStager, StagingLock};
pub use names::{BadName, check_dataset_name, usable_name};
pub use trash::trashed_datasets;

/// Errors from opening or reading a lake.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// The folder holds neither a catalog nor any Lance dataset.
    #[error(
        "{} is not a Lakebook lake (no lake.json and no .lance datasets); create one with `lakebook --lake {} init`",
        .dir.display(), .dir.display()
    )]
    NotALake {
        /// The folder.
        dir: PathBuf,
    },
    /// A file-system operation failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `lake.json` could not be parsed or written.
    #[error("the catalog {} is damaged: {source}", .path.display())]
    BadCatalog {
        /// The catalog file.
        path: PathBuf,
        /// The parser's words.
        source: serde_json::Error,
    },
    /// No dataset by that name.
    #[error("no dataset named '{name}' in the lake (datasets: {known})")]
    NoSuchDataset {
        /// The name asked for.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// A dataset exists, but not at that version.
    #[error("dataset '{name}' has no version {version}; its versions are 1 to {latest}")]
    NoSuchVersion {
        /// The dataset.
        name: String,
        /// The version asked for.
        version: u64,
        /// Its latest version.
        latest: u64,
    },
    /// A name the lake does not accept.
    #[error(transparent)]
    BadName(#[from] BadName),
    /// A catalog entry whose folder is not a plain dataset folder of the lake.
    #[error(
        "the catalog entry of dataset '{name}' names the folder '{dir}': {reason}; the entry is ignored until lake.json is repaired"
    )]
    OutsideLake {
        /// The dataset.
        name: String,
        /// The folder the entry names.
        dir: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Another writer changed the dataset while this one was writing.
    #[error(
        "dataset '{name}' {what} by another writer while this one was writing; nothing of this write was committed, run it again"
    )]
    Conflict {
        /// The dataset.
        name: String,
        /// What the other writer did (`was created`, `was removed`).
        what: &'static str,
    },
    /// A writer is adding to the dataset right now.
    #[error("a writer is adding to dataset '{name}' right now; try again when it has finished")]
    Busy {
        /// The dataset.
        name: String,
    },
    /// The dataset holds a stored graph's nodes or edges, which the graph
    /// finds by name.
    #[error("'{name}' holds part of the graph '{graph}' and keeps its name")]
    GraphPart {
        /// The dataset.
        name: String,
        /// The graph.
        graph: String,
    },
    /// The name is in use.
    #[error(
        "a dataset named '{name}' already exists; remove it first (`lakebook rm {name}`) or choose another name"
    )]
    NameTaken {
        /// The dataset.
        name: String,
    },
    /// The dataset is retired: its rows are read through a view, and it
    /// takes no writes until it is restored.
    #[error(
        "dataset '{name}' is retired (read through a view over '{container}'); `lakebook restore {name}` brings its rows back before it is written to"
    )]
    Retired {
        /// The dataset.
        name: String,
        /// The dataset its view reads.
        container: String,
    },
    /// The dataset's rows rebuild a retired dataset, so it keeps its name and
    /// its history.
    #[error(
        "'{name}' rebuilds the retired dataset '{retired}' and keeps its name; `lakebook restore {retired}` first"
    )]
    Rebuilds {
        /// The container.
        name: String,
        /// The retired dataset read through it.
        retired: String,
    },
    /// Lance failed on a dataset.
    #[error("dataset '{name}': {source}")]
    Lance {
        /// The dataset.
        name: String,
        /// What Lance said.
        source: Box<lance::Error>,
    },
}

/// One version of a dataset, for `versions NAME`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VersionInfo {
    /// Lance version number.
    pub version: u64,
    /// When it was committed.
    pub timestamp: DateTime<Utc>,
    /// Rows visible at that version.
    pub rows: u64,
    /// Whether this is the latest version.
    pub latest: bool,
}

/// An open lake.
#[derive(Debug, Clone)]
pub struct Lake {
    dir: PathBuf,
    catalog: Catalog,
    /// Lance caches (opened indexes, manifests) shared by every dataset this
    /// lake opens, so repeated searches and queries do not reload them.
    session: Arc<Session>,
}

impl Lake {
    /// Creates the lake folder and an empty catalog; an existing lake is opened as is.
    pub async fn init(dir: &Path) -> Result<Self, LakeError> {
        std::fs::create_dir_all(dir).map_err(|source| LakeError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if dir.join(catalog::CATALOG_FILE).exists() {
            return Self::open(dir).await;
        }
        let mut lake = Self {
            dir: dir.to_path_buf(),
            catalog: Catalog::default(),
            session: Arc::new(Session::default()),
        };
        // Under the lock: another writer may have made the catalog meanwhile.
        lake.update_catalog(|_| Ok(())).await?;
        lake.adopt_unknown_datasets().await?;
        Ok(lake)
    }

    /// Opens an existing lake, adopting Lance datasets that the catalog lacks.
    pub async fn open(dir: &Path) -> Result<Self, LakeError> {
        let catalog = if dir.join(catalog::CATALOG_FILE).exists() {
            Catalog::load(dir)?
        } else if dir.is_dir() && !lance_dirs(dir)?.is_empty() {
            Catalog::default()
        } else {
            return Err(LakeError::NotALake {
                dir: dir.to_path_buf(),
            });
        };
        let mut lake = Self {
            dir: dir.to_path_buf(),
            catalog,
            session: Arc::new(Session::default()),
        };
        lake.adopt_unknown_datasets().await?;
        Ok(lake)
    }

    /// Opens the lake, creating it first if the folder is missing or empty.
    pub async fn open_or_init(dir: &Path) -> Result<Self, LakeError> {
        let empty = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(_) => true,
        };
        if empty {
            Self::init(dir).await
        } else {
            Self::open(dir).await
        }
    }

    /// Re-reads the catalog from disk (another process may have changed the
    /// lake) and adopts datasets that appeared; Lance caches are kept.
    pub async fn refresh(&mut self) -> Result<(), LakeError> {
        if self.dir.join(catalog::CATALOG_FILE).exists() {
            self.catalog = Catalog::load(&self.dir)?;
        }
        self.adopt_unknown_datasets().await
    }

    /// The lake folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The catalog as last read or written.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Names of all datasets, sorted.
    pub fn dataset_names(&self) -> Vec<String> {
        self.catalog.datasets.keys().cloned().collect()
    }

    /// The catalog entry of one dataset.
    pub fn entry(&self, name: &str) -> Result<&DatasetEntry, LakeError> {
        self.catalog
            .datasets
            .get(name)
            .ok_or_else(|| LakeError::NoSuchDataset {
                name: name.to_string(),
                known: self.known_names(),
            })
    }

    fn known_names(&self) -> String {
        if self.catalog.datasets.is_empty() {
            "none yet".to_string()
        } else {
            self.dataset_names().join(", ")
        }
    }

    /// Location of a dataset, as a Lance URI. The catalog's folder must be a
    /// plain `*.lance` folder of the lake, so a crafted `lake.json` cannot
    /// make Lakebook read or write anywhere else.
    pub fn dataset_uri(&self, name: &str) -> Result<String, LakeError> {
        let entry = self.entry(name)?;
        names::check_dataset_dir(&entry.dir).map_err(|reason| LakeError::OutsideLake {
            name: name.to_string(),
            dir: entry.dir.clone(),
            reason,
        })?;
        Ok(self.dir.join(&entry.dir).to_string_lossy().into_owned())
    }

    /// Opens a dataset at its latest version, or at `version`.
    pub async fn open_dataset(
        &self,
        name: &str,
        version: Option<u64>,
    ) -> Result<Arc<Dataset>, LakeError> {
        let uri = self.dataset_uri(name)?;
        let lance_err = |e: lance::Error| LakeError::Lance {
            name: name.to_string(),
            source: Box::new(e),
        };
        let latest = DatasetBuilder::from_uri(&uri)
            .with_session(self.session.clone())
            .load()
            .await
            .map_err(lance_err)?;
        let Some(version) = version else {
            return Ok(Arc::new(latest));
        };
        let latest_version = latest.version().version;
        if version == 0 || version > latest_version {
            return Err(LakeError::NoSuchVersion {
                name: name.to_string(),
                version,
                latest: latest_version,
            });
        }
        let ds = DatasetBuilder::from_uri(&uri)
            .with_session(self.session.clone())
            .with_version(version)
            .load()
            .await
            .map_err(lance_err)?;
        Ok(Arc::new(ds))
    }

    /// Every version of a dataset, oldest first, with its row count.
    pub async fn versions(&self, name: &str) -> Result<Vec<VersionInfo>, LakeError> {
        let ds = self.open_dataset(name, None).await?;
        let lance_err = |e: lance::Error| LakeError::Lance {
            name: name.to_string(),
            source: Box::new(e),
        };
        let latest = ds.version().version;
        let mut out = Vec::new();
        for v in ds.versions().await.map_err(lance_err)? {
            let at = ds.checkout_version(v.version).await.map_err(lance_err)?;
            let rows = at.count_rows(None).await.map_err(lance_err)? as u64;
            out.push(VersionInfo {
                version: v.version,
                timestamp: v.timestamp,
                rows,
                latest: v.version == latest,
            });
        }
        Ok(out)
    }

    /// Reserves the folder of a new dataset: the name made file-system safe,
    /// created here and now with create-exclusive semantics, so no other
    /// writer (in this process or another) can be handed the same folder.
    /// The caller owns it: it removes it if its write fails, and only then.
    pub fn reserve_dataset_dir(&self, name: &str) -> Result<String, LakeError> {
        check_dataset_name(name)?;
        let slug = names::dataset_dir_slug(name);
        let mut n = 1;
        loop {
            let dir = if n == 1 {
                format!("{slug}.lance")
            } else {
                format!("{slug}-{n}.lance")
            };
            n += 1;
            if self.catalog.datasets.values().any(|e| e.dir == dir) {
                continue;
            }
            let path = self.dir.join(&dir);
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    // An intent a dead writer left for an earlier folder of this name is stale.
                    self.clear_intent(&dir);
                    return Ok(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(LakeError::Io { path, source }),
            }
        }
    }

    /// Waits for the lake lock (see [`lock`]); the catalog is then re-read
    /// with [`Lake::reload_catalog`] before it is changed.
    pub async fn lock(&self) -> Result<LakeLock, LakeError> {
        LakeLock::acquire(&self.dir).await
    }

    /// Re-reads `lake.json` (an empty catalog when there is none yet).
    pub fn reload_catalog(&mut self, _held: &LakeLock) -> Result<(), LakeError> {
        self.catalog = if self.dir.join(catalog::CATALOG_FILE).exists() {
            Catalog::load(&self.dir)?
        } else {
            Catalog::default()
        };
        Ok(())
    }

    /// Changes the catalog as one step among concurrent writers: under the
    /// lake lock it re-reads `lake.json`, applies `change` and writes the
    /// result atomically. Nothing is written when `change` fails.
    pub async fn update_catalog<T>(
        &mut self,
        change: impl FnOnce(&mut Catalog) -> Result<T, LakeError>,
    ) -> Result<T, LakeError> {
        let held = self.lock().await?;
        self.update_catalog_locked(&held, change)
    }

    /// [`Lake::update_catalog`] for a caller that already holds the lock.
    pub fn update_catalog_locked<T>(
        &mut self,
        held: &LakeLock,
        change: impl FnOnce(&mut Catalog) -> Result<T, LakeError>,
    ) -> Result<T, LakeError> {
        self.reload_catalog(held)?;
        let mut catalog = self.catalog.clone();
        let out = change(&mut catalog)?;
        catalog.save(&self.dir)?;
        self.catalog = catalog;
        Ok(out)
    }

    /// Records a dataset's new state in the catalog, for a caller that holds
    /// the lake lock. Versions only move forward: a writer that committed an
    /// older version than the one recorded adds its sources but leaves the
    /// recorded schema, rows and version alone.
    pub async fn record_dataset_locked(
        &mut self,
        held: &LakeLock,
        update: DatasetUpdate<'_>,
    ) -> Result<(), LakeError> {
        let described = describe(update.name, update.dataset).await?;
        self.update_catalog_locked(held, |catalog| apply_update(catalog, &update, described))
    }

    /// Writes `batches` as the whole content of table `name`: a new dataset,
    /// or a new version of it (the old versions stay readable); then records
    /// it in the catalog.
    pub async fn write_table(
        &mut self,
        name: &str,
        schema: arrow::datatypes::SchemaRef,
        batches: Vec<arrow::array::RecordBatch>,
    ) -> Result<(), LakeError> {
        use lance::dataset::{InsertBuilder, WriteMode, WriteParams};
        let existing = match self.entry(name) {
            Ok(_) => Some(self.open_dataset(name, None).await?),
            Err(_) => {
                check_dataset_name(name)?;
                None
            }
        };
        let dir = match &existing {
            Some(_) => self.entry(name)?.dir.clone(),
            None => self.reserve_dataset_dir(name)?,
        };
        let reserved = existing.is_none();
        let _staging = StagingLock::join(&self.dir, &dir).await?;
        let path = self.dir.join(&dir);
        let uri = path.to_string_lossy().into_owned();
        let params = WriteParams {
            mode: if existing.is_some() {
                WriteMode::Overwrite
            } else {
                WriteMode::Create
            },
            ..Default::default()
        };
        // Names Lance refuses (`Sepal.Length` from a SQL result) are stored under others.
        let (schema, _) = columns::storable_schema(&schema);
        let batches = batches.into_iter().map({
            let schema = schema.clone();
            move |b| arrow::array::RecordBatch::try_new(schema.clone(), b.columns().to_vec())
        });
        let reader: Box<dyn arrow::array::RecordBatchReader + Send> =
            Box::new(arrow::array::RecordBatchIterator::new(batches, schema));
        let builder = match &existing {
            Some(ds) => InsertBuilder::new(ds.clone()),
            None => InsertBuilder::new(uri.as_str()),
        };
        let staged = builder
            .with_params(&params)
            .execute_uncommitted_stream(reader)
            .await
            .map_err(|e| LakeError::Lance {
                name: name.to_string(),
                source: Box::new(e),
            });
        let committed = match staged {
            Ok(transaction) => self
                .commit_staged(PendingCommit {
                    name,
                    kind: DatasetKind::Table,
                    dir: &dir,
                    existing,
                    transaction,
                    sources: &[],
                    failed: &[],
                    notes: &[],
                    replace_sources: true,
                })
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        if committed.is_err() && reserved {
            // The folder was reserved by this call and never committed: nobody else has it.
            let _ = std::fs::remove_dir_all(&path);
        }
        committed
    }

    /// Records a new version of an existing dataset that Lakebook itself
    /// committed without new source files (vectors, indexes); `embedding`,
    /// when given, replaces the recorded embedding.
    pub async fn record_new_version(
        &mut self,
        name: &str,
        dataset: &Dataset,
        embedding: Option<EmbeddingEntry>,
    ) -> Result<(), LakeError> {
        let dir = self.entry(name)?.dir.clone();
        let held = self.lock().await?;
        self.reload_catalog(&held)?;
        let Some(entry) = self.catalog.datasets.get(name).filter(|e| e.dir == dir) else {
            return Err(LakeError::Conflict {
                name: name.to_string(),
                what: "was removed or replaced",
            });
        };
        if let Some(retired) = &entry.retired {
            return Err(LakeError::Retired {
                name: name.to_string(),
                container: retired.container.clone(),
            });
        }
        let kind = entry.kind;
        self.record_dataset_locked(
            &held,
            DatasetUpdate {
                name,
                kind,
                dir: &dir,
                dataset,
                sources: &[],
                failed: &[],
                notes: &[],
                replace_sources: false,
                embedding,
            },
        )
        .await
    }
}

/// What [`Lake::record_dataset_locked`] writes down about a dataset after a commit.
#[derive(Debug)]
pub struct DatasetUpdate<'a> {
    /// Dataset name.
    pub name: &'a str,
    /// Table or documents (used when the entry is new).
    pub kind: DatasetKind,
    /// Folder relative to the lake (used when the entry is new).
    pub dir: &'a str,
    /// The dataset as committed.
    pub dataset: &'a Dataset,
    /// Files the new rows came from.
    pub sources: &'a [String],
    /// Documents that failed.
    pub failed: &'a [FailedSource],
    /// How the new rows' sources were read (see [`DatasetEntry::notes`]).
    pub notes: &'a [String],
    /// Whether the previous sources are replaced (overwrite) or kept (append).
    pub replace_sources: bool,
    /// The dataset's embedding as it now stands, when the commit wrote vectors.
    pub embedding: Option<EmbeddingEntry>,
}

/// Schema, row count, version and commit time of a dataset, as [`describe`] finds them.
type Described = (Vec<ColumnEntry>, u64, u64, DateTime<Utc>);

/// Writes a dataset's new state into a catalog (see [`Lake::record_dataset_locked`]).
fn apply_update(
    catalog: &mut Catalog,
    update: &DatasetUpdate<'_>,
    (schema, rows, version, committed): Described,
) -> Result<(), LakeError> {
    // A reader that opened the lake between this writer's Lance commit and
    // this record may have adopted the folder under its stem.
    catalog
        .datasets
        .retain(|other, e| other == update.name || e.dir != update.dir || !e.sources.is_empty());
    let now = Utc::now();
    let entry = catalog
        .datasets
        .entry(update.name.to_string())
        .or_insert_with(|| DatasetEntry {
            kind: update.kind,
            dir: update.dir.to_string(),
            sources: Vec::new(),
            failed: Vec::new(),
            notes: Vec::new(),
            schema: Vec::new(),
            rows: 0,
            version: 0,
            created: committed.min(now),
            updated: now,
            embedding: None,
            retired: None,
            extra: serde_json::Map::new(),
        });
    if entry.dir != update.dir {
        return Err(LakeError::Conflict {
            name: update.name.to_string(),
            what: "was created",
        });
    }
    let newest = version >= entry.version;
    if update.replace_sources && newest {
        entry.sources.clear();
        entry.failed.clear();
        entry.notes.clear();
        // The new rows have a new schema, without the old vectors.
        entry.embedding = None;
    }
    match &update.embedding {
        Some(embedding) => entry.embedding = Some(embedding.clone()),
        None if newest => {
            if let Some(e) = entry.embedding.as_mut() {
                e.rows_pending += rows.saturating_sub(entry.rows);
            }
        }
        None => {}
    }
    for s in update.sources {
        if !entry.sources.contains(s) {
            entry.sources.push(s.clone());
        }
    }
    entry.failed.extend(update.failed.iter().cloned());
    for note in update.notes {
        let note: String = note.chars().take(catalog::MAX_NOTE_CHARS).collect();
        if entry.notes.len() < catalog::MAX_NOTES && !entry.notes.contains(&note) {
            entry.notes.push(note);
        }
    }
    if newest {
        entry.schema = schema;
        entry.rows = rows;
        entry.version = version;
        entry.updated = committed;
    }
    Ok(())
}

/// Schema, row count, version and commit time of a dataset as Lance sees it.
async fn describe(name: &str, ds: &Dataset) -> Result<Described, LakeError> {
    let lance_err = |e: lance::Error| LakeError::Lance {
        name: name.to_string(),
        source: Box::new(e),
    };
    let arrow_schema = arrow::datatypes::Schema::from(ds.schema());
    let schema = arrow_schema
        .fields()
        .iter()
        .map(|f| ColumnEntry {
            name: columns::user_name(f).to_string(),
            data_type: f.data_type().to_string(),
            nullable: f.is_nullable(),
        })
        .collect();
    let rows = ds.count_rows(None).await.map_err(lance_err)? as u64;
    let version = ds.version();
    Ok((schema, rows, version.version, version.timestamp))
}

/// Sub-folders of the lake whose name ends in `.lance`, sorted.
fn lance_dirs(dir: &Path) -> Result<Vec<String>, LakeError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LakeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".lance") && !n.starts_with('.'))
        .collect();
    out.sort();
    Ok(out)
}

/// A table `n` of 0..rows, written as each next version of `name`, for tests.
#[cfg(test)]
pub(crate) async fn write_counting_versions(
    lake: &mut Lake,
    name: &str,
    versions: &[i64],
) -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    for &rows in versions {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from_iter_values(0..rows))],
        )?;
        lake.write_table(name, schema.clone(), vec![batch]).await?;
    }
    Ok(())
}
