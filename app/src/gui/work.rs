//! Engine work off the UI thread: tasks on the tokio runtime owned by `main`,
//! results back over a bounded channel that the app drains once per frame.

use std::sync::mpsc::TryRecvError;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc::{Receiver, Sender};

use lakebook_core::Job;
use lakebook_core::lake::DatasetEntry;
use lakebook_core::notebook::{CellError, CellRun};

use lakebook_core::profile::ColumnProfile;

use super::dialogs::Chosen;

/// What a background task hands back to the UI.
#[derive(Debug)]
pub enum WorkResult {
    /// A cell finished (or failed).
    CellDone {
        /// The cell's id.
        id: String,
        /// Its run or error.
        result: Result<CellRun, CellError>,
    },
    /// The next page of a cell's table result.
    Page {
        /// The cell's id.
        id: String,
        /// Every row loaded so far, the new page included, and whether the
        /// result has no more; or why the page could not be read.
        result: Result<(arrow::array::RecordBatch, bool), String>,
    },
    /// The lake's datasets as the catalog now lists them, and which of
    /// them hold stored graphs (dataset -> graph).
    Lake(Result<LakeListing, String>),
    /// The first rows of a dataset, for the inspector.
    Preview {
        /// Dataset.
        dataset: String,
        /// The rows, or why they could not be read.
        result: Result<arrow::array::RecordBatch, String>,
    },
    /// A column profile for the inspector.
    Profile {
        /// Dataset.
        dataset: String,
        /// Column.
        column: String,
        /// The profile, or why it failed.
        result: Result<ColumnProfile, String>,
    },
    /// The versions of a dataset, for the inspector.
    Versions {
        /// Dataset.
        dataset: String,
        /// Its versions, oldest first, or why they could not be read.
        result: Result<Vec<lakebook_core::lake::VersionInfo>, String>,
    },
    /// How a file dialog for a purpose ended.
    Picked(PickPurpose, Chosen),
    /// A job of the jobs panel ended (a save, an embed, a dataset change).
    Finished {
        /// The job's title.
        title: String,
        /// What to tell the person, or why it failed.
        result: Result<String, String>,
        /// The lake's datasets changed: read the catalog again.
        lake_changed: bool,
    },
}

/// The lake's datasets, and the graph each graph part belongs to.
pub type LakeListing = (
    Vec<(String, DatasetEntry)>,
    std::collections::BTreeMap<String, String>,
);

/// Why a file dialog was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickPurpose {
    /// Files (or folders) for an ingest cell.
    IngestInto {
        /// The cell's id.
        cell: String,
        /// Folders rather than files.
        folder: bool,
    },
    /// Where to export a graph cell's view.
    ExportGraph {
        /// The cell's id.
        cell: String,
        /// SVG rather than PNG.
        svg: bool,
    },
    /// Where to save a result table (the app holds the result).
    SaveResult {
        /// The format asked for.
        format: lakebook_core::result_file::ResultFormat,
    },
    /// A notebook to open.
    OpenNotebook,
    /// Where to save the notebook.
    SaveNotebookAs,
}

/// A long operation shown in the jobs panel.
#[derive(Debug, Clone)]
pub struct JobEntry {
    /// What it is, in words.
    pub title: String,
    /// Progress and cancel.
    pub job: Job,
    /// When it started.
    pub started: Instant,
    /// The cell it runs for, if any.
    pub cell: Option<String>,
}

/// The sending half, cloned into every task.
#[derive(Clone)]
pub struct Outbox {
    tx: Sender<WorkResult>,
    ctx: egui::Context,
}

impl Outbox {
    /// Sends a result and wakes the UI. A full channel (bounded) makes the
    /// task wait without holding a thread; a closed one (the window has
    /// gone) drops the result.
    pub async fn send(&self, result: WorkResult) {
        self.ctx.request_repaint();
        if self.tx.send(result).await.is_ok() {
            self.ctx.request_repaint();
        }
    }
}

/// A channel for results: the outbox for tasks, the receiver for the app.
pub fn channel(ctx: &egui::Context) -> (Outbox, Receiver<WorkResult>) {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    (
        Outbox {
            tx,
            ctx: ctx.clone(),
        },
        rx,
    )
}

/// Starts a view's heavy work (a graph level, an index, an export) on the
/// runtime's blocking threads, as a job in the jobs panel. Cheap to clone.
#[derive(Clone)]
pub struct Spawner {
    rt: tokio::runtime::Handle,
    ctx: egui::Context,
    /// Jobs started since the app last looked; it lists them in its panel.
    started: Arc<Mutex<Vec<JobEntry>>>,
}

impl Spawner {
    /// A spawner on `rt` that wakes the window `ctx` when work ends.
    pub fn new(rt: tokio::runtime::Handle, ctx: egui::Context) -> Self {
        Self {
            rt,
            ctx,
            started: Arc::default(),
        }
    }

    /// Runs `work` with a fresh job titled `title`; its result comes back
    /// through the returned [`Background`]. The job ends (and leaves the jobs
    /// panel) when `work` returns.
    pub fn spawn<T: Send + 'static>(
        &self,
        title: impl Into<String>,
        work: impl FnOnce(&Job) -> T + Send + 'static,
    ) -> Background<T> {
        let job = Job::new();
        if let Ok(mut started) = self.started.lock() {
            started.push(JobEntry {
                title: title.into(),
                job: job.clone(),
                started: Instant::now(),
                cell: None,
            });
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (worker, ctx) = (job.clone(), self.ctx.clone());
        self.rt.spawn_blocking(move || {
            let result = work(&worker);
            worker.finish();
            let _ = tx.send(result);
            ctx.request_repaint();
        });
        Background { rx, job }
    }

    /// The jobs started since the last call.
    pub fn take_started(&self) -> Vec<JobEntry> {
        self.started
            .lock()
            .map(|mut started| std::mem::take(&mut *started))
            .unwrap_or_default()
    }
}

/// Work running in the background and, once it ends, its result.
pub struct Background<T> {
    rx: std::sync::mpsc::Receiver<T>,
    job: Job,
}

/// What [`Background::poll`] found.
pub enum Polled<T> {
    /// Still running.
    Running,
    /// Finished with this result.
    Done(T),
    /// The work panicked or was dropped without a result.
    Lost,
}

impl<T> Background<T> {
    /// The result, once the work has ended.
    pub fn poll(&self) -> Polled<T> {
        match self.rx.try_recv() {
            Ok(result) => Polled::Done(result),
            Err(TryRecvError::Empty) => Polled::Running,
            Err(TryRecvError::Disconnected) => Polled::Lost,
        }
    }
}

/// Work nobody waits for any more (its view was replaced or closed) is
/// asked to stop.
impl<T> Drop for Background<T> {
    fn drop(&mut self) {
        self.job.cancel();
    }
}
