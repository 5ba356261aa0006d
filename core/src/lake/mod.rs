//! The lake: a folder of Lance datasets plus the `lake.json` catalog.
//!
//! Datasets live directly in the lake folder as `<slug>.lance`, so other Lance
//! clients (pylance, lancedb) can read them, and datasets they write there are
//! adopted into the catalog when the lake is opened.

pub mod catalog;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lance::dataset::Dataset;
use lance::dataset::builder::DatasetBuilder;
use lance::session::Session;

pub use catalog::{Catalog, ColumnEntry, DatasetEntry, DatasetKind, EmbeddingEntry, FailedSource};

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
    #[error("the catalog {} is damaged: {reason}", .path.display())]
    BadCatalog {
        /// The catalog file.
        path: PathBuf,
        /// The parser's words.
        reason: String,
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
        let lake = Self {
            dir: dir.to_path_buf(),
            catalog: Catalog::default(),
            session: Arc::new(Session::default()),
        };
        lake.catalog.save(dir)?;
        let mut lake = lake;
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

    /// Location of a dataset, as a Lance URI.
    pub fn dataset_uri(&self, name: &str) -> Result<String, LakeError> {
        let entry = self.entry(name)?;
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

    /// A folder name for a new dataset: the name made file-system safe, unique in the lake.
    pub fn new_dataset_dir(&self, name: &str) -> String {
        let mut slug: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if slug.trim_matches('_').is_empty() {
            slug = "dataset".to_string();
        }
        let taken = |d: &str| {
            self.catalog.datasets.values().any(|e| e.dir == d) || self.dir.join(d).exists()
        };
        let mut dir = format!("{slug}.lance");
        let mut n = 2;
        while taken(&dir) {
            dir = format!("{slug}-{n}.lance");
            n += 1;
        }
        dir
    }

    /// Records a dataset's new state in the catalog and writes the catalog atomically.
    ///
    /// `dir` is the dataset folder relative to the lake; `ds` the dataset as just committed.
    pub async fn record_dataset(&mut self, update: DatasetUpdate<'_>) -> Result<(), LakeError> {
        let (schema, rows, version, committed) = describe(update.name, update.dataset).await?;
        let mut catalog = self.catalog.clone();
        let now = Utc::now();
        let entry = catalog
            .datasets
            .entry(update.name.to_string())
            .or_insert_with(|| DatasetEntry {
                kind: update.kind,
                dir: update.dir.to_string(),
                sources: Vec::new(),
                failed: Vec::new(),
                schema: Vec::new(),
                rows: 0,
                version: 0,
                created: committed.min(now),
                updated: now,
                embedding: None,
                extra: serde_json::Map::new(),
            });
        if update.replace_sources {
            entry.sources.clear();
            entry.failed.clear();
            // The new rows have a new schema, without the old vectors.
            entry.embedding = None;
        }
        match update.embedding {
            Some(embedding) => entry.embedding = Some(embedding),
            None => {
                if let Some(e) = entry.embedding.as_mut() {
                    e.rows_pending += rows.saturating_sub(entry.rows);
                }
            }
        }
        for s in update.sources {
            if !entry.sources.contains(s) {
                entry.sources.push(s.clone());
            }
        }
        entry.failed.extend(update.failed.iter().cloned());
        entry.schema = schema;
        entry.rows = rows;
        entry.version = version;
        entry.updated = committed;
        catalog.save(&self.dir)?;
        self.catalog = catalog;
        Ok(())
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
        use lance::dataset::{WriteMode, WriteParams};
        let existing = self.entry(name).ok().map(|e| e.dir.clone());
        let dir = existing
            .clone()
            .unwrap_or_else(|| self.new_dataset_dir(name));
        let uri = self.dir.join(&dir).to_string_lossy().into_owned();
        let params = WriteParams {
            mode: if existing.is_some() {
                WriteMode::Overwrite
            } else {
                WriteMode::Create
            },
            ..Default::default()
        };
        let reader = arrow::array::RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        let dataset = Dataset::write(reader, uri.as_str(), Some(params))
            .await
            .map_err(|e| LakeError::Lance {
                name: name.to_string(),
                source: Box::new(e),
            })?;
        self.record_dataset(DatasetUpdate {
            name,
            kind: DatasetKind::Table,
            dir: &dir,
            dataset: &dataset,
            sources: &[],
            failed: &[],
            replace_sources: true,
            embedding: None,
        })
        .await
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
        let entry = self.entry(name)?.clone();
        self.record_dataset(DatasetUpdate {
            name,
            kind: entry.kind,
            dir: &entry.dir,
            dataset,
            sources: &[],
            failed: &[],
            replace_sources: false,
            embedding,
        })
        .await
    }

    async fn adopt_unknown_datasets(&mut self) -> Result<(), LakeError> {
        let known: Vec<String> = self
            .catalog
            .datasets
            .values()
            .map(|e| e.dir.clone())
            .collect();
        let mut adopted = false;
        for dir in lance_dirs(&self.dir)? {
            if known.contains(&dir) {
                continue;
            }
            let uri = self.dir.join(&dir).to_string_lossy().into_owned();
            // A folder Lance cannot open (e.g. an interrupted write with no manifest) is not a dataset.
            let Ok(ds) = Dataset::open(&uri).await else {
                continue;
            };
            let stem = dir.trim_end_matches(".lance").to_string();
            let mut name = stem.clone();
            let mut n = 2;
            while self.catalog.datasets.contains_key(&name) {
                name = format!("{stem}-{n}");
                n += 1;
            }
            let (schema, rows, version, committed) = describe(&name, &ds).await?;
            let kind = if ["doc_id", "passage", "text"]
                .iter()
                .all(|c| schema.iter().any(|s| s.name == *c))
            {
                DatasetKind::Documents
            } else {
                DatasetKind::Table
            };
            self.catalog.datasets.insert(
                name,
                DatasetEntry {
                    kind,
                    dir,
                    sources: Vec::new(),
                    failed: Vec::new(),
                    schema,
                    rows,
                    version,
                    created: committed,
                    updated: committed,
                    embedding: None,
                    extra: serde_json::Map::new(),
                },
            );
            adopted = true;
        }
        if adopted {
            self.catalog.save(&self.dir)?;
        }
        Ok(())
    }
}

/// What [`Lake::record_dataset`] writes down about a dataset after a commit.
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
    /// Whether the previous sources are replaced (overwrite) or kept (append).
    pub replace_sources: bool,
    /// The dataset's embedding as it now stands, when the commit wrote vectors.
    pub embedding: Option<EmbeddingEntry>,
}

/// Schema, row count, version and commit time of a dataset as Lance sees it.
async fn describe(
    name: &str,
    ds: &Dataset,
) -> Result<(Vec<ColumnEntry>, u64, u64, DateTime<Utc>), LakeError> {
    let lance_err = |e: lance::Error| LakeError::Lance {
        name: name.to_string(),
        source: Box::new(e),
    };
    let arrow_schema = arrow::datatypes::Schema::from(ds.schema());
    let schema = arrow_schema
        .fields()
        .iter()
        .map(|f| ColumnEntry {
            name: f.name().clone(),
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
