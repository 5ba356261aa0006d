//! Adopting datasets the catalog lacks, and repairing after killed writers.
//!
//! Another Lance client (pylance) may write a dataset into the lake folder;
//! it is adopted at the next open, named after its folder. A Lakebook writer
//! writes an intent (`.lakebook/pending/FOLDER.json`: the name, kind and
//! sources it is about to record, and the version before its commit) just
//! before each commit, and removes it once the catalog has the commit. An
//! intent found under the lake lock belongs to a writer that died: a new
//! dataset is adopted under the name the user chose, and an existing one's
//! entry catches up with the version the writer committed.

use std::path::{Path, PathBuf};

use lance::dataset::Dataset;

use super::{DatasetEntry, DatasetKind, Lake, LakeError, describe, lance_dirs, lock, usable_name};

/// What a writer was about to record when it committed a new dataset.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Intent {
    /// The dataset name chosen.
    pub name: String,
    /// Table or documents.
    pub kind: DatasetKind,
    /// The files its rows came from.
    pub sources: Vec<String>,
    /// The dataset's version before the commit (0 for a new dataset).
    #[serde(default)]
    pub base_version: u64,
    /// Whether the commit replaces the dataset's sources (an overwrite).
    #[serde(default)]
    pub replace_sources: bool,
}

fn intent_path(lake_dir: &Path, dataset_dir: &str) -> PathBuf {
    lake_dir
        .join(lock::STATE_DIR)
        .join("pending")
        .join(format!("{dataset_dir}.json"))
}

impl Lake {
    /// Writes down, before committing a new dataset in `dataset_dir`, what
    /// the catalog will record, in case the writer dies in between.
    pub(crate) fn write_intent(&self, dataset_dir: &str, intent: &Intent) -> Result<(), LakeError> {
        let path = intent_path(&self.dir, dataset_dir);
        let io = |source| LakeError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let text = serde_json::to_string(intent).map_err(|source| LakeError::BadCatalog {
            path: path.clone(),
            source,
        })?;
        std::fs::write(&path, text).map_err(io)
    }

    /// Forgets an intent once recorded (or abandoned).
    pub(crate) fn clear_intent(&self, dataset_dir: &str) {
        let _ = std::fs::remove_file(intent_path(&self.dir, dataset_dir));
    }

    fn read_intent(&self, dataset_dir: &str) -> Option<Intent> {
        let text = std::fs::read_to_string(intent_path(&self.dir, dataset_dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Adds the Lance datasets in the lake folder that the catalog lacks
    /// (written by another client, or by a writer killed before it recorded
    /// its dataset), named after their folder.
    pub(super) async fn adopt_unknown_datasets(&mut self) -> Result<(), LakeError> {
        if self.pending_intents().is_empty() && self.unknown_dataset_dirs().await?.is_empty() {
            return Ok(());
        }
        // Under the lock a Lakebook writer has either recorded its commit or
        // not made it yet: what is found now is foreign or a dead writer's.
        let held = self.lock().await?;
        self.reload_catalog(&held)?;
        self.catch_up_with_intents(&held).await?;
        let mut found = Vec::new();
        for (dir, ds) in self.unknown_dataset_dirs().await? {
            let intent = self.read_intent(&dir);
            let stem = match &intent {
                Some(i) if super::check_dataset_name(&i.name).is_ok() => i.name.clone(),
                _ => usable_name(dir.trim_end_matches(".lance")),
            };
            let stem = if stem.is_empty() {
                "dataset".to_string()
            } else {
                stem
            };
            let described = describe(&stem, &ds).await?;
            found.push((dir, stem, intent, described));
        }
        if found.is_empty() {
            return Ok(());
        }
        let dirs: Vec<String> = found.iter().map(|f| f.0.clone()).collect();
        self.update_catalog_locked(&held, |catalog| {
            for (dir, stem, intent, (schema, rows, version, committed)) in found {
                let mut name = stem.clone();
                let mut n = 2;
                while catalog.datasets.contains_key(&name) {
                    name = format!("{stem}-{n}");
                    n += 1;
                }
                let kind = match &intent {
                    Some(i) => i.kind,
                    None if ["doc_id", "passage", "text"]
                        .iter()
                        .all(|c| schema.iter().any(|s| s.name == *c)) =>
                    {
                        DatasetKind::Documents
                    }
                    None => DatasetKind::Table,
                };
                catalog.datasets.insert(
                    name,
                    DatasetEntry {
                        kind,
                        dir,
                        sources: intent.map(|i| i.sources).unwrap_or_default(),
                        failed: Vec::new(),
                        notes: Vec::new(),
                        schema,
                        rows,
                        version,
                        created: committed,
                        updated: committed,
                        embedding: None,
                        retired: None,
                        extra: serde_json::Map::new(),
                    },
                );
            }
            Ok(())
        })?;
        for dir in dirs {
            self.clear_intent(&dir);
        }
        Ok(())
    }

    /// Intents left by writers that died, as (folder, intent).
    fn pending_intents(&self) -> Vec<(String, Intent)> {
        let folder = self.dir.join(lock::STATE_DIR).join("pending");
        std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                let dir = file.strip_suffix(".json")?.to_string();
                let intent = self.read_intent(&dir)?;
                Some((dir, intent))
            })
            .collect()
    }

    /// Brings catalog entries up to the commits of writers that died before
    /// recording them; forgets intents whose commit never happened.
    async fn catch_up_with_intents(&mut self, held: &super::LakeLock) -> Result<(), LakeError> {
        for (dir, intent) in self.pending_intents() {
            let known = self
                .catalog
                .datasets
                .iter()
                .find(|(_, e)| e.dir == dir)
                .map(|(name, e)| (name.clone(), e.kind));
            let uri = self.dir.join(&dir).to_string_lossy().into_owned();
            let opened = Dataset::open(&uri).await.ok();
            match (known, opened) {
                (Some((name, kind)), Some(ds)) => {
                    if ds.version().version > intent.base_version {
                        self.record_dataset_locked(
                            held,
                            super::DatasetUpdate {
                                name: &name,
                                kind,
                                dir: &dir,
                                dataset: &ds,
                                sources: &intent.sources,
                                failed: &[],
                                notes: &[],
                                replace_sources: intent.replace_sources,
                                embedding: None,
                            },
                        )
                        .await?;
                    }
                    self.clear_intent(&dir);
                }
                // A new dataset that was committed: adopted below, by its intent.
                (None, Some(_)) => {}
                // Never committed: nothing to record (gc reclaims the folder).
                (_, None) => self.clear_intent(&dir),
            }
        }
        Ok(())
    }

    /// `*.lance` folders of the lake that no catalog entry names and that
    /// Lance opens (a folder being written, with no version yet, is skipped).
    async fn unknown_dataset_dirs(&self) -> Result<Vec<(String, Dataset)>, LakeError> {
        let mut out = Vec::new();
        for dir in lance_dirs(&self.dir)? {
            if self.catalog.datasets.values().any(|e| e.dir == dir) {
                continue;
            }
            let uri = self.dir.join(&dir).to_string_lossy().into_owned();
            if let Ok(ds) = Dataset::open(&uri).await {
                out.push((dir, ds));
            }
        }
        Ok(out)
    }
}
