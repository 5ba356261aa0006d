//! Locks that let several programs write one lake at once.
//!
//! Every Lakebook writer (the window, the CLI, a notebook run) changes the
//! catalog only while it holds the lake lock, an exclusive OS file lock on
//! `.lakebook/lake.lock`: it re-reads `lake.json`, applies its change and
//! writes it back, so no writer's change is lost to another's stale copy.
//! The lock is held for milliseconds (a catalog write, a Lance commit), never
//! while data is read or encoded. The OS drops it when a process dies, so a
//! killed writer never leaves the lake locked.
//!
//! A writer that stages data into an existing dataset also holds a shared
//! staging lock on that dataset, so that a writer cleaning up after a failure
//! can tell whether files it did not commit may belong to someone else.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::LakeError;

/// Folder of Lakebook's own state inside a lake.
pub const STATE_DIR: &str = ".lakebook";

fn open_lock_file(path: &Path) -> Result<File, LakeError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| LakeError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|source| LakeError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Takes a lock on a blocking thread, so waiting never stalls the async runtime.
async fn lock_blocking(path: PathBuf, shared: bool) -> Result<File, LakeError> {
    let file = open_lock_file(&path)?;
    let waited = tokio::task::spawn_blocking(move || {
        let locked = if shared {
            file.lock_shared()
        } else {
            file.lock()
        };
        locked.map(|()| file)
    })
    .await;
    match waited {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(source)) => Err(LakeError::Io { path, source }),
        Err(join) => Err(LakeError::Io {
            path,
            source: std::io::Error::other(join.to_string()),
        }),
    }
}

/// The lake lock, held until dropped. Not re-entrant: a holder must not ask
/// for it again (the second request would wait for the first forever).
#[derive(Debug)]
pub struct LakeLock {
    _file: File,
}

impl LakeLock {
    /// Waits for the lake lock of `lake_dir`.
    pub async fn acquire(lake_dir: &Path) -> Result<Self, LakeError> {
        let path = lake_dir.join(STATE_DIR).join("lake.lock");
        Ok(Self {
            _file: lock_blocking(path, false).await?,
        })
    }
}

/// A shared hold on one dataset's staging lock: "I may have written files
/// into this dataset that no version references yet".
#[derive(Debug)]
pub struct StagingLock {
    file: File,
}

fn staging_lock_path(lake_dir: &Path, dataset_dir: &str) -> PathBuf {
    lake_dir
        .join(STATE_DIR)
        .join("staging")
        .join(format!("{dataset_dir}.lock"))
}

impl StagingLock {
    /// Joins the writers staging into `dataset_dir` (shared).
    pub async fn join(lake_dir: &Path, dataset_dir: &str) -> Result<Self, LakeError> {
        let path = staging_lock_path(lake_dir, dataset_dir);
        Ok(Self {
            file: lock_blocking(path, true).await?,
        })
    }

    /// Leaves, and says whether no other writer is staging into the dataset
    /// now. When it answers `Some`, the returned lock keeps others out until
    /// it is dropped: files no version references are nobody's work.
    pub fn leave_if_alone(self) -> Option<SoleStager> {
        // Unlocking and re-locking the same open file turns the shared lock
        // into an exclusive one only if no one else holds it.
        self.file.unlock().ok()?;
        match self.file.try_lock() {
            Ok(()) => Some(SoleStager { _file: self.file }),
            Err(_) => None,
        }
    }

    /// Takes the exclusive hold directly (for clean-up with no staging of
    /// one's own), when no one is staging now.
    pub fn try_alone(lake_dir: &Path, dataset_dir: &str) -> Result<Option<SoleStager>, LakeError> {
        let file = open_lock_file(&staging_lock_path(lake_dir, dataset_dir))?;
        Ok(file.try_lock().ok().map(|()| SoleStager { _file: file }))
    }
}

/// Proof that no other Lakebook writer is staging into a dataset.
#[derive(Debug)]
pub struct SoleStager {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_lake_lock_excludes_a_second_holder_until_dropped()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let first = LakeLock::acquire(dir.path()).await?;
        let path = dir.path().to_path_buf();
        let second = tokio::spawn(async move { LakeLock::acquire(&path).await });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the second holder must wait");
        drop(first);
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), second).await;
        assert!(
            matches!(got, Ok(Ok(Ok(_)))),
            "the second gets it once the first is gone"
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stager_is_alone_only_when_no_one_else_stages()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let a = StagingLock::join(dir.path(), "t.lance").await?;
        let b = StagingLock::join(dir.path(), "t.lance").await?;
        assert!(a.leave_if_alone().is_none(), "b is still staging");
        let sole = b.leave_if_alone();
        assert!(sole.is_some(), "a has left");
        assert!(StagingLock::try_alone(dir.path(), "t.lance")?.is_none());
        drop(sole);
        assert!(StagingLock::try_alone(dir.path(), "t.lance")?.is_some());
        Ok(())
    }
}
