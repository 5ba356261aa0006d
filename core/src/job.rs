//! Progress and cancellation for long work.
//!
//! Every operation that can take more than a moment takes a [`Job`]: it reports
//! units done of units total and checks [`Job::is_cancelled`] often enough to
//! stop promptly. Front ends (CLI progress bar, GUI jobs panel) poll
//! [`Job::snapshot`] and call [`Job::cancel`].
//!
//! Computations that do not know about jobs (k-means, HDBSCAN, UMAP, PCA)
//! take a [`Watch`]: a `Job`, or in tests a plain `Fn() -> bool`. Every
//! module's error converts from the one [`Cancelled`] error, so `?` carries a
//! cancel up to the caller, which reports it as cancelled, not as failed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a progress display needs to draw one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Units finished so far.
    pub done: u64,
    /// Units in all; 0 while unknown.
    pub total: u64,
    /// What the unit is ("bytes", "rows", ...).
    pub unit: &'static str,
    /// What the job is doing now, in words.
    pub message: String,
}

#[derive(Debug, Default)]
struct JobState {
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
    finished: AtomicBool,
    unit: Mutex<&'static str>,
    message: Mutex<String>,
}

/// A cheap, cloneable handle shared by the worker and whoever watches it.
#[derive(Debug, Clone, Default)]
pub struct Job(Arc<JobState>);

impl Job {
    /// A fresh job with nothing done and nothing known about the total.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the total amount of work and the name of its unit.
    pub fn set_total(&self, total: u64, unit: &'static str) {
        self.0.total.store(total, Ordering::Relaxed);
        if let Ok(mut u) = self.0.unit.lock() {
            *u = unit;
        }
    }

    /// Adds to the total (work discovered while running).
    pub fn add_total(&self, more: u64) {
        self.0.total.fetch_add(more, Ordering::Relaxed);
    }

    /// Sets how many units are done (for work that counts itself).
    pub fn set_done(&self, done: u64) {
        self.0.done.store(done, Ordering::Relaxed);
    }

    /// Starts a new stage: its message, nothing done of `total` units.
    pub fn begin_stage(&self, message: impl Into<String>, total: u64, unit: &'static str) {
        self.set_message(message);
        self.set_done(0);
        self.set_total(total, unit);
    }

    /// Records `units` more of work done.
    pub fn advance(&self, units: u64) {
        self.0.done.fetch_add(units, Ordering::Relaxed);
    }

    /// Says what the job is doing now.
    pub fn set_message(&self, message: impl Into<String>) {
        if let Ok(mut m) = self.0.message.lock() {
            *m = message.into();
        }
    }

    /// Asks the work to stop; it stops at its next check.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
    }

    /// Resolves once cancel is asked for (checks every 50 ms).
    pub async fn cancelled(&self) {
        while !self.is_cancelled() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Marks the work as over (done, failed or stopped), so that whoever
    /// lists running jobs can drop it.
    pub fn finish(&self) {
        self.0.finished.store(true, Ordering::SeqCst);
    }

    /// Whether [`Job::finish`] was called.
    pub fn is_finished(&self) -> bool {
        self.0.finished.load(Ordering::SeqCst)
    }

    /// `work`'s output, or [`Cancelled`] as soon as the job is cancelled
    /// (`work` is dropped then, which stops a query or a stream).
    pub async fn or_cancelled<T>(&self, work: impl Future<Output = T>) -> Result<T, Cancelled> {
        tokio::select! {
            output = work => Ok(output),
            () = self.cancelled() => Err(Cancelled),
        }
    }

    /// Whether [`Job::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// The current state, for drawing.
    pub fn snapshot(&self) -> Progress {
        Progress {
            done: self.0.done.load(Ordering::Relaxed),
            total: self.0.total.load(Ordering::Relaxed),
            unit: self.0.unit.lock().map(|u| *u).unwrap_or(""),
            message: self.0.message.lock().map(|m| m.clone()).unwrap_or_default(),
        }
    }
}

/// The one error for work stopped on request; every module's error type
/// converts from it (see [`cancelled_converts_to`](crate::cancelled_converts_to)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// What a long computation asks (stop?) and tells (how far?) while it runs.
pub trait Watch {
    /// Whether the work should stop now.
    fn is_cancelled(&self) -> bool;

    /// Reports `done` of `total` steps of the current stage, named in words.
    fn progress(&self, _stage: &str, _done: u64, _total: u64) {}

    /// `Err(Cancelled)` once the work should stop, for `?`.
    fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

impl Watch for Job {
    fn is_cancelled(&self) -> bool {
        Job::is_cancelled(self)
    }

    fn progress(&self, stage: &str, done: u64, total: u64) {
        let same_stage = self.0.message.lock().is_ok_and(|m| *m == stage);
        if !same_stage {
            self.set_message(stage);
        }
        self.set_total(total, "steps");
        self.set_done(done);
    }
}

/// A plain predicate watches too: it says when to stop and ignores progress.
impl<F: Fn() -> bool> Watch for F {
    fn is_cancelled(&self) -> bool {
        self()
    }
}

/// Never cancelled, reports nowhere: for work nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unwatched;

impl Watch for Unwatched {
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// Passes cancels through and keeps progress to itself: for a step inside a
/// stage that reports its own progress.
#[derive(Clone, Copy)]
pub struct Silenced<'a>(pub &'a dyn Watch);

impl Watch for Silenced<'_> {
    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// `impl From<Cancelled> for E` giving `E`'s own unit variant, for each
/// module error that has one: `cancelled_converts_to!(KMeansError::Cancelled)`.
#[macro_export]
macro_rules! cancelled_converts_to {
    ($($error:ident :: $variant:ident),+ $(,)?) => {
        $(impl From<$crate::job::Cancelled> for $error {
            fn from(_: $crate::job::Cancelled) -> Self {
                $error::$variant
            }
        })+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_and_cancel_are_shared_between_clones() {
        let job = Job::new();
        let watcher = job.clone();
        job.set_total(100, "bytes");
        job.advance(30);
        job.advance(12);
        job.set_message("reading a.csv");
        let p = watcher.snapshot();
        assert_eq!((p.done, p.total, p.unit), (42, 100, "bytes"));
        assert_eq!(p.message, "reading a.csv");
        assert!(!job.is_cancelled());
        watcher.cancel();
        assert!(job.is_cancelled());
    }

    #[test]
    fn a_job_and_a_predicate_both_watch() {
        let job = Job::new();
        job.progress("clustering", 3, 10);
        let p = job.snapshot();
        assert_eq!((p.done, p.total, p.message.as_str()), (3, 10, "clustering"));
        assert_eq!(Watch::check(&job), Ok(()));
        job.cancel();
        assert_eq!(Watch::check(&job), Err(Cancelled));
        assert_eq!(Watch::check(&|| true), Err(Cancelled));
        assert_eq!(Unwatched.check(), Ok(()));
    }

    #[test]
    fn work_gives_way_to_a_cancel() -> Result<(), std::io::Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let job = Job::new();
        assert_eq!(runtime.block_on(job.or_cancelled(async { 7 })), Ok(7));
        job.cancel();
        let never = std::future::pending::<u32>();
        assert_eq!(runtime.block_on(job.or_cancelled(never)), Err(Cancelled));
        Ok(())
    }
}
