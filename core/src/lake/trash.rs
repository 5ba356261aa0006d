//! Removing datasets into the lake's trash, and bringing them back.
//!
//! `rm` never deletes: the catalog entry goes and the folder moves whole to
//! `.lakebook/trash/FOLDER.TIME`, beside a JSON record of the entry, until
//! `gc` empties the trash.

use std::path::Path;

use chrono::Utc;

use super::{DatasetEntry, Lake, LakeError, StagingLock, lock, names};

impl Lake {
    /// Removes a dataset from the lake: its catalog entry goes and its folder
    /// moves to `.lakebook/trash/`, whole, where [`Lake::restore_dataset`]
    /// can bring it back until `gc` empties the trash. Returns the folder in
    /// the trash, relative to the lake.
    pub async fn remove_dataset(&mut self, name: &str) -> Result<String, LakeError> {
        let held = self.lock().await?;
        self.reload_catalog(&held)?;
        // The same check every open goes through: the folder stays inside the lake.
        self.dataset_uri(name)?;
        let entry = self.entry(name)?.clone();
        self.catalog.check_not_a_container(name)?;
        // A writer still staging into it would write into a moved folder.
        let Some(_alone) = StagingLock::try_alone(&self.dir, &entry.dir)? else {
            return Err(LakeError::Busy {
                name: name.to_string(),
            });
        };
        let trash = self.dir.join(lock::STATE_DIR).join("trash");
        std::fs::create_dir_all(&trash).map_err(|source| LakeError::Io {
            path: trash.clone(),
            source,
        })?;
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let trashed = format!("{}.{stamp}", entry.dir);
        let record = serde_json::json!({ "name": name, "entry": entry });
        let record_path = trash.join(format!("{trashed}.json"));
        std::fs::write(&record_path, record.to_string()).map_err(|source| LakeError::Io {
            path: record_path.clone(),
            source,
        })?;
        // The entry goes first: a kill before the move leaves the folder in
        // place, and the next open adopts it again; nothing is lost.
        self.update_catalog_locked(&held, |catalog| {
            catalog.datasets.remove(name);
            Ok(())
        })?;
        let from = self.dir.join(&entry.dir);
        if from.exists() {
            let to = trash.join(&trashed);
            std::fs::rename(&from, &to).map_err(|source| LakeError::Io { path: from, source })?;
        }
        Ok(format!("{}/trash/{trashed}", lock::STATE_DIR))
    }

    /// Brings the most recently removed dataset called `name` back from the
    /// trash, under its old name and folder.
    pub async fn restore_dataset(&mut self, name: &str) -> Result<(), LakeError> {
        let held = self.lock().await?;
        self.reload_catalog(&held)?;
        if self.catalog.datasets.contains_key(name) {
            return Err(LakeError::NameTaken {
                name: name.to_string(),
            });
        }
        let trash = self.dir.join(lock::STATE_DIR).join("trash");
        let mut found: Option<(String, DatasetEntry)> = None;
        for (trashed_name, trashed, entry) in trashed_datasets(&trash) {
            if trashed_name == name {
                found = Some((trashed, entry));
            }
        }
        let Some((trashed, entry)) = found else {
            return Err(LakeError::NoSuchDataset {
                name: name.to_string(),
                known: "none by that name in the trash".into(),
            });
        };
        let to = self.dir.join(&entry.dir);
        // Create-exclusive first: the folder is then this restore's, and no
        // writer can be handed it before the dataset moves in.
        let taken =
            names::check_dataset_dir(&entry.dir).is_err() || std::fs::create_dir(&to).is_err();
        if taken {
            return Err(LakeError::Io {
                path: to,
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the dataset's old folder is taken; move it aside first",
                ),
            });
        }
        let from = trash.join(&trashed);
        std::fs::rename(&from, &to).map_err(|source| LakeError::Io { path: from, source })?;
        let _ = std::fs::remove_file(trash.join(format!("{trashed}.json")));
        self.update_catalog_locked(&held, |catalog| {
            catalog.datasets.insert(name.to_string(), entry);
            Ok(())
        })
    }
}

/// What the trash holds: (dataset name, trashed folder, its catalog entry),
/// newest last by folder name (the folder names end in their removal time).
pub fn trashed_datasets(trash: &Path) -> Vec<(String, String, DatasetEntry)> {
    let mut out: Vec<(String, String, DatasetEntry)> = std::fs::read_dir(trash)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let trashed = file.strip_suffix(".json")?.to_string();
            let text = std::fs::read_to_string(e.path()).ok()?;
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            let name = value.get("name")?.as_str()?.to_string();
            let entry: DatasetEntry = serde_json::from_value(value.get("entry")?.clone()).ok()?;
            Some((name, trashed, entry))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}
