//! Running cells: the context a cell kind gets, and the runner that front
//! ends (the window, `lakebook run`) share.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, RwLock};

use super::file::Cell;
use super::kind::Registry;
use super::output::{CellError, CellRun};
use crate::embed::{MiniLm, load_model};
use crate::graph::seeded::NeighbourhoodIndex;
use crate::job::Job;
use crate::lake::Lake;
use crate::sql::SqlCache;

/// What a cell kind gets to work with.
pub struct RunContext<'a> {
    /// The lake, freshly re-read from disk before the run.
    pub lake: &'a RwLock<Lake>,
    /// Decoded columns shared by every SQL cell of the session.
    pub sql_cache: &'a SqlCache,
    /// Relative paths in cells are resolved against this folder (the notebook's).
    pub base_dir: &'a Path,
    /// Dataset versions to read instead of the latest (a pinned re-run).
    pub pins: &'a BTreeMap<String, u64>,
    /// The neighbourhood index of the graph last searched with seeds, by
    /// graph name and build time: re-running a Communities cell with other
    /// seeds skips the index build.
    pub seeded_index: &'a KeptForSession<(String, DateTime<Utc>), NeighbourhoodIndex>,
    model: &'a Mutex<Option<Arc<MiniLm>>>,
    model_dir: Option<&'a Path>,
}

impl RunContext<'_> {
    /// A copy of the lake's handle as last read: a writer of its own, like a
    /// second process. Work on it holds no lock, so a long run never makes
    /// a save, a rename, the browser's refresh or another cell wait; the
    /// lake's own locks keep concurrent writers apart.
    pub async fn lake_copy(&self) -> Lake {
        self.lake.read().await.clone()
    }

    /// The embedding model, loaded on first use.
    pub async fn model(&self) -> Result<Arc<MiniLm>, CellError> {
        let mut slot = self.model.lock().await;
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let dir = self.model_dir.map(Path::to_path_buf);
        let loaded = tokio::task::spawn_blocking(move || load_model(dir.as_deref()))
            .await
            .map_err(|e| CellError::new(format!("loading the model failed: {e}")))?
            .map_err(CellError::new)?;
        let model = Arc::new(loaded);
        *slot = Some(model.clone());
        Ok(model)
    }

    /// A path from a cell, resolved against the notebook's folder.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = PathBuf::from(path);
        if p.is_absolute() {
            p
        } else {
            self.base_dir.join(p)
        }
    }
}

/// Runs cells against one lake; holds what runs share (lake handle, SQL cache, model).
pub struct Runner {
    lake_dir: PathBuf,
    lake: RwLock<Lake>,
    sql_cache: SqlCache,
    base_dir: PathBuf,
    model: Mutex<Option<Arc<MiniLm>>>,
    model_dir: Option<PathBuf>,
    registry: Registry,
    seeded_index: KeptForSession<(String, DateTime<Utc>), NeighbourhoodIndex>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("lake_dir", &self.lake_dir)
            .finish_non_exhaustive()
    }
}

/// One value kept for a session under a key: handed out again while the key
/// stays the same, built afresh (replacing it) when it changes. One at a
/// time, because what is kept (a graph index) can take hundreds of MB.
#[derive(Debug)]
pub struct KeptForSession<K, V> {
    slot: Mutex<Option<(K, Arc<V>)>>,
}

impl<K, V> Default for KeptForSession<K, V> {
    fn default() -> Self {
        Self {
            slot: Mutex::new(None),
        }
    }
}

impl<K: PartialEq, V> KeptForSession<K, V> {
    /// The value kept under `key`, or the one `build` makes (kept if it succeeds).
    pub async fn get_or_build<F, Fut>(&self, key: K, build: F) -> Result<Arc<V>, CellError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, CellError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((kept, value)) = slot.as_ref()
            && *kept == key
        {
            return Ok(value.clone());
        }
        // Free the old value before building the new one.
        *slot = None;
        let value = Arc::new(build().await?);
        *slot = Some((key, value.clone()));
        Ok(value)
    }
}

/// Memory for decoded columns in a notebook session.
const SQL_CACHE_BYTES: usize = 1 << 30;

impl Runner {
    /// A runner over the lake at `lake_dir` (created when missing), resolving
    /// relative paths against `base_dir`.
    pub async fn open(
        lake_dir: &Path,
        base_dir: &Path,
        model_dir: Option<&Path>,
    ) -> Result<Self, CellError> {
        let lake = Lake::open_or_init(lake_dir).await.map_err(CellError::new)?;
        Ok(Self {
            lake_dir: lake_dir.to_path_buf(),
            lake: RwLock::new(lake),
            sql_cache: SqlCache::new(SQL_CACHE_BYTES),
            base_dir: base_dir.to_path_buf(),
            model: Mutex::new(None),
            model_dir: model_dir.map(Path::to_path_buf),
            registry: Registry::builtin(),
            seeded_index: KeptForSession::default(),
        })
    }

    /// The cell kinds this runner knows.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Adds kinds (a plugin's, a test's) before the runner is shared.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The lake folder.
    pub fn lake_dir(&self) -> &Path {
        &self.lake_dir
    }

    /// The lake as last read.
    pub fn lake(&self) -> &RwLock<Lake> {
        &self.lake
    }

    /// A copy of the lake's handle as last read, to work on without holding
    /// the shared one (see [`RunContext::lake_copy`]).
    pub async fn lake_copy(&self) -> Lake {
        self.lake.read().await.clone()
    }

    /// Embeds the rows of dataset `name` that have no vector yet, with the
    /// session's model (loaded once), then brings its search indexes up to
    /// date, with progress and cancel through `job`; says what it did.
    pub async fn embed(&self, name: &str, job: &Job) -> Result<String, CellError> {
        let model = self.context(&BTreeMap::new()).model().await?;
        let mut lake = self.lake_copy().await;
        lake.refresh().await.map_err(CellError::new)?;
        let request = crate::embed::EmbedRequest {
            name: name.to_string(),
            columns: None,
            rebuild: false,
        };
        let report = crate::embed::embed_dataset(&mut lake, model, &request, job)
            .await
            .map_err(CellError::new)?;
        crate::search::refresh_indexes(&mut lake, name, Default::default(), job)
            .await
            .map_err(CellError::new)?;
        Ok(if report.embedded == 0 {
            format!(
                "{name}: all {} rows already have vectors ({})",
                report.already,
                report.source_columns.join(", ")
            )
        } else {
            format!(
                "embedded {} rows of {name} ({}) in {:.1} s: it can be searched",
                report.embedded,
                report.source_columns.join(", "),
                report.seconds
            )
        })
    }

    fn context<'a>(&'a self, pins: &'a BTreeMap<String, u64>) -> RunContext<'a> {
        RunContext {
            lake: &self.lake,
            sql_cache: &self.sql_cache,
            base_dir: &self.base_dir,
            pins,
            seeded_index: &self.seeded_index,
            model: &self.model,
            model_dir: self.model_dir.as_deref(),
        }
    }

    /// Runs one cell. `pins` fixes dataset versions (empty: read the latest).
    pub async fn run(
        &self,
        cell: &Cell,
        pins: &BTreeMap<String, u64>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let kind = self.registry.get(&cell.kind).ok_or_else(|| {
            CellError::new(format!(
                "this Lakebook has no '{}' cell kind (it knows: {})",
                cell.kind,
                self.registry.names().join(", ")
            ))
        })?;
        {
            let mut lake = self.lake.write().await;
            lake.refresh().await.map_err(CellError::new)?;
        }
        let ctx = self.context(pins);
        let started = Instant::now();
        // Whatever a kind reports after the user cancelled is a cancel.
        let mut run = kind.run(cell, &ctx, job).await.map_err(|e| {
            if job.is_cancelled() {
                CellError::cancelled()
            } else {
                e
            }
        })?;
        run.elapsed = started.elapsed();
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_kept_value_is_built_once_per_key() -> Result<(), CellError> {
        let kept: KeptForSession<&str, usize> = KeptForSession::default();
        let builds = AtomicUsize::new(0);
        let build = |value: usize| {
            let builds = &builds;
            move || async move {
                builds.fetch_add(1, Ordering::Relaxed);
                Ok(value)
            }
        };
        let first = kept.get_or_build("a", build(1)).await?;
        let again = kept.get_or_build("a", build(2)).await?;
        assert!(Arc::ptr_eq(&first, &again), "the same key reuses the value");
        assert_eq!(builds.load(Ordering::Relaxed), 1);
        assert_eq!(
            *kept.get_or_build("b", build(3)).await?,
            3,
            "a new key rebuilds"
        );
        assert_eq!(
            *kept.get_or_build("a", build(4)).await?,
            4,
            "only one is kept"
        );
        let failed = kept
            .get_or_build("c", || async { Err(CellError::new("cancelled")) })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            *kept.get_or_build("c", build(5)).await?,
            5,
            "a failure keeps nothing"
        );
        assert_eq!(builds.load(Ordering::Relaxed), 4);
        Ok(())
    }
}
