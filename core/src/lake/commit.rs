//! Committing staged writes as steps among concurrent writers.
//!
//! Data is staged (written as uncommitted files) without any lock. Commits
//! then happen in a [`CommitSession`], which holds the lake lock: the catalog
//! is read once, and for each write the name is checked to still belong to
//! it, an intent is written (so a kill between the Lance commit and the
//! catalog record is repaired at the next open), and Lance commits. The
//! catalog is written once when the session ends, so an ingest of thousands
//! of files writes it a few times, not once per file. A session that has held
//! the lock for [`HOLD_AT_MOST`] writes the catalog and lets other writers in
//! before its next commit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lance::dataset::transaction::Transaction;
use lance::dataset::{CommitBuilder, Dataset};

use super::adopt::Intent;
use super::{
    Catalog, DatasetKind, DatasetUpdate, FailedSource, Lake, LakeError, LakeLock, apply_update,
    describe,
};

/// How long a session keeps other writers waiting before it lets them in.
const HOLD_AT_MOST: Duration = Duration::from_secs(2);

/// A staged write, ready to commit.
#[derive(Debug)]
pub struct PendingCommit<'a> {
    /// Dataset name.
    pub name: &'a str,
    /// Table or documents.
    pub kind: DatasetKind,
    /// The dataset's folder, relative to the lake.
    pub dir: &'a str,
    /// The dataset written to, when it existed before this write (the
    /// folder was reserved by this write otherwise).
    pub existing: Option<Arc<Dataset>>,
    /// The staged transaction.
    pub transaction: Transaction,
    /// Files the rows came from.
    pub sources: &'a [String],
    /// Documents that failed.
    pub failed: &'a [FailedSource],
    /// How the sources were read (see [`crate::lake::DatasetEntry::notes`]).
    pub notes: &'a [String],
    /// Whether the dataset's sources are replaced (overwrite) or added to.
    pub replace_sources: bool,
}

/// Commits made under the lake lock, recorded in the catalog at the end.
#[derive(Debug)]
pub struct CommitSession<'l> {
    lake: &'l mut Lake,
    held: Option<LakeLock>,
    since: Instant,
    catalog: Catalog,
    /// Folders whose intents go once the catalog has their commits.
    recorded: Vec<String>,
}

impl Lake {
    /// Starts committing: waits for the lake lock and reads the catalog.
    pub async fn begin_commits(&mut self) -> Result<CommitSession<'_>, LakeError> {
        let held = self.lock().await?;
        self.reload_catalog(&held)?;
        let catalog = self.catalog.clone();
        Ok(CommitSession {
            lake: self,
            held: Some(held),
            since: Instant::now(),
            catalog,
            recorded: Vec::new(),
        })
    }

    /// Commits one staged write and records it (a session of one commit).
    pub async fn commit_staged(
        &mut self,
        pending: PendingCommit<'_>,
    ) -> Result<Dataset, LakeError> {
        let mut session = self.begin_commits().await?;
        let committed = session.commit(pending).await;
        session.finish()?;
        committed
    }
}

impl CommitSession<'_> {
    /// Commits a staged write. Fails with [`LakeError::Conflict`] when
    /// another writer created the name, or removed or replaced the dataset,
    /// meanwhile; nothing is committed then, and the staged files are the
    /// caller's to discard.
    pub async fn commit(&mut self, pending: PendingCommit<'_>) -> Result<Dataset, LakeError> {
        if self.since.elapsed() > HOLD_AT_MOST {
            self.flush()?;
            self.held = None;
            let held = self.lake.lock().await?;
            self.lake.reload_catalog(&held)?;
            self.catalog = self.lake.catalog.clone();
            self.held = Some(held);
            self.since = Instant::now();
        }
        let name = pending.name;
        let clash = match (&pending.existing, self.catalog.datasets.get(name)) {
            (None, Some(_)) => Some("was created"),
            (Some(_), now) if now.is_none_or(|e| e.dir != pending.dir) => {
                Some("was removed or replaced")
            }
            _ => None,
        };
        if let Some(what) = clash {
            return Err(LakeError::Conflict {
                name: name.to_string(),
                what,
            });
        }
        if let Some(retired) = self
            .catalog
            .datasets
            .get(name)
            .and_then(|e| e.retired.as_ref())
        {
            return Err(LakeError::Retired {
                name: name.to_string(),
                container: retired.container.clone(),
            });
        }
        let lance_err = |e: lance::Error| LakeError::Lance {
            name: name.to_string(),
            source: Box::new(e),
        };
        let uri = self
            .lake
            .dir
            .join(pending.dir)
            .to_string_lossy()
            .into_owned();
        // The version before this commit: a later one at the next open means
        // the commit happened (commits are made under this lock).
        let base_version = match &pending.existing {
            Some(_) => {
                Dataset::open(&uri)
                    .await
                    .map_err(lance_err)?
                    .version()
                    .version
            }
            None => 0,
        };
        self.lake.write_intent(
            pending.dir,
            &Intent {
                name: name.to_string(),
                kind: pending.kind,
                sources: pending.sources.to_vec(),
                base_version,
                replace_sources: pending.replace_sources,
            },
        )?;
        let builder = match &pending.existing {
            Some(ds) => CommitBuilder::new(ds.clone()),
            None => CommitBuilder::new(uri.as_str()),
        };
        let ds = match builder.execute(pending.transaction).await {
            Ok(ds) => ds,
            Err(e) => {
                self.lake.clear_intent(pending.dir);
                return Err(lance_err(e));
            }
        };
        // From here the commit is made: the intent stays until the catalog
        // has it (if describing fails, the next open records it instead).
        let described = describe(name, &ds).await?;
        let update = DatasetUpdate {
            name,
            kind: pending.kind,
            dir: pending.dir,
            dataset: &ds,
            sources: pending.sources,
            failed: pending.failed,
            notes: pending.notes,
            replace_sources: pending.replace_sources,
            embedding: None,
        };
        apply_update(&mut self.catalog, &update, described)?;
        self.recorded.push(pending.dir.to_string());
        Ok(ds)
    }

    /// The catalog as this session will write it.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Writes the catalog with the commits so far and forgets their intents.
    fn flush(&mut self) -> Result<(), LakeError> {
        if self.recorded.is_empty() {
            return Ok(());
        }
        self.catalog.save(&self.lake.dir)?;
        self.lake.catalog = self.catalog.clone();
        for dir in self.recorded.drain(..) {
            self.lake.clear_intent(&dir);
        }
        Ok(())
    }

    /// Ends the session: the catalog records every commit made in it.
    pub fn finish(mut self) -> Result<(), LakeError> {
        self.flush()
    }
}

impl Drop for CommitSession<'_> {
    /// A session ended by an error still records its commits; if even that
    /// fails, their intents make the next open record them.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
