//! `lakebook gc`: reclaims what killed or failed writers and `rm` left behind.
//!
//! Three kinds of leftovers, none of them visible in any dataset version:
//! - removed datasets in `.lakebook/trash/` (kept so `restore` can bring them back);
//! - dataset folders that were reserved but never committed (a writer killed
//!   while staging a new dataset);
//! - data files inside a dataset that no version references (a writer killed
//!   while staging an append or overwrite).
//!
//! A folder or file is only touched when no Lakebook writer is staging into
//! that dataset (its staging lock is free) and it is older than `min_age`,
//! which protects other clients (pylance) in the middle of a write.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lance::dataset::Dataset;

use super::{Lake, LakeError, StagingLock, lock::STATE_DIR};

/// What `gc` may remove.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Leave anything modified more recently than this.
    pub min_age: Duration,
    /// Empty the trash of removed datasets too.
    pub empty_trash: bool,
}

impl Default for GcOptions {
    fn default() -> Self {
        Self {
            min_age: Duration::from_secs(60),
            empty_trash: true,
        }
    }
}

/// What `gc` removed, and what it left alone and why.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GcReport {
    /// Removed datasets deleted from the trash.
    pub trash: Vec<String>,
    /// Folders of datasets that were never committed.
    pub abandoned: Vec<String>,
    /// Unreferenced data files deleted, as `folder/data/file`.
    pub orphan_files: Vec<String>,
    /// Bytes freed in all.
    pub bytes_freed: u64,
    /// What was left alone, with the reason.
    pub left: Vec<String>,
}

/// Reclaims leftovers of killed writers and removed datasets (see the module doc).
pub async fn collect_garbage(lake: &Lake, options: &GcOptions) -> Result<GcReport, LakeError> {
    let mut report = GcReport::default();
    // Restores, removals and commits wait while the trash and the folders
    // outside the catalog are cleared.
    let held = lake.lock().await?;
    if options.empty_trash {
        empty_trash(lake.dir(), &mut report);
    }
    forget_intents_without_folders(lake.dir());
    let known: HashSet<&str> = lake
        .catalog()
        .datasets
        .values()
        .map(|e| e.dir.as_str())
        .collect();
    for dir in super::lance_dirs(lake.dir())? {
        if known.contains(dir.as_str()) {
            continue;
        }
        let path = lake.dir().join(&dir);
        if has_versions(&path) {
            report.left.push(format!(
                "{dir}: has versions but is in no catalog entry and Lance cannot open it; left as it is"
            ));
            continue;
        }
        let Some(_alone) = StagingLock::try_alone(lake.dir(), &dir)? else {
            report
                .left
                .push(format!("{dir}: a writer is staging into it"));
            continue;
        };
        if !older_than(&path, options.min_age) {
            report.left.push(format!(
                "{dir}: changed in the last {}s",
                options.min_age.as_secs()
            ));
            continue;
        }
        let bytes = size_of(&path);
        if std::fs::remove_dir_all(&path).is_ok() {
            report.bytes_freed += bytes;
            report.abandoned.push(dir);
        }
    }
    drop(held);
    for name in lake.dataset_names() {
        let Ok(entry) = lake.entry(&name) else {
            continue;
        };
        let dir = entry.dir.clone();
        let Ok(uri) = lake.dataset_uri(&name) else {
            continue;
        };
        let Some(_alone) = StagingLock::try_alone(lake.dir(), &dir)? else {
            report
                .left
                .push(format!("{name}: a writer is staging into it"));
            continue;
        };
        let Ok(referenced) = referenced_by_any_version(&uri).await else {
            report
                .left
                .push(format!("{name}: its versions could not be read"));
            continue;
        };
        let data = lake.dir().join(&dir).join("data");
        for file in std::fs::read_dir(&data).into_iter().flatten().flatten() {
            let file_name = file.file_name().to_string_lossy().into_owned();
            let path = file.path();
            if referenced.contains(&file_name) || !path.is_file() {
                continue;
            }
            if !older_than(&path, options.min_age) {
                continue;
            }
            let bytes = size_of(&path);
            if std::fs::remove_file(&path).is_ok() {
                report.bytes_freed += bytes;
                report.orphan_files.push(format!("{dir}/data/{file_name}"));
            }
        }
    }
    Ok(report)
}

fn empty_trash(lake_dir: &Path, report: &mut GcReport) {
    let trash = lake_dir.join(STATE_DIR).join("trash");
    for item in std::fs::read_dir(&trash).into_iter().flatten().flatten() {
        let path = item.path();
        let bytes = size_of(&path);
        let is_dataset = path.is_dir();
        let removed = if is_dataset {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if removed.is_ok() {
            report.bytes_freed += bytes;
            if is_dataset {
                report
                    .trash
                    .push(item.file_name().to_string_lossy().into_owned());
            }
        }
    }
}

/// Removes intents whose dataset folder is gone (reclaimed, or never made).
fn forget_intents_without_folders(lake_dir: &Path) {
    let pending = lake_dir.join(STATE_DIR).join("pending");
    for item in std::fs::read_dir(pending).into_iter().flatten().flatten() {
        let file = item.file_name().to_string_lossy().into_owned();
        if let Some(dir) = file.strip_suffix(".json")
            && !lake_dir.join(dir).exists()
        {
            let _ = std::fs::remove_file(item.path());
        }
    }
}

/// Whether a folder holds at least one committed Lance version.
fn has_versions(dataset_dir: &Path) -> bool {
    std::fs::read_dir(dataset_dir.join("_versions"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".manifest"))
}

/// Data file names (under `data/`) that some version of the dataset uses.
pub(crate) async fn referenced_by_any_version(uri: &str) -> Result<HashSet<String>, lance::Error> {
    let latest = Dataset::open(uri).await?;
    let mut out = HashSet::new();
    for version in latest.versions().await? {
        let ds = latest.checkout_version(version.version).await?;
        for fragment in ds.fragments().iter() {
            out.extend(fragment.files.iter().map(|f| f.path.clone()));
        }
    }
    Ok(out)
}

/// Whether the path (and, for a folder, everything in it) is older than `age`.
fn older_than(path: &Path, age: Duration) -> bool {
    let cutoff = SystemTime::now().checked_sub(age);
    let Some(cutoff) = cutoff else {
        return false;
    };
    newest_change(path).is_some_and(|t| t <= cutoff)
}

fn newest_change(path: &Path) -> Option<SystemTime> {
    let mut newest = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let mut stack: Vec<PathBuf> = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if let Ok(t) = meta.modified() {
                newest = newest.max(t);
            }
            if meta.is_dir() {
                stack.push(e.path());
            }
        }
    }
    Some(newest)
}

/// Bytes under a path.
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| size_of(&e.path()))
        .sum()
}
