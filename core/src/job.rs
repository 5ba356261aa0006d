//! Progress and cancellation for long work.
//!
//! Every operation that can take more than a moment takes a [`Job`]: it reports
//! units done of units total and checks [`Job::is_cancelled`] often enough to
//! stop promptly. Front ends (CLI progress bar, GUI jobs panel) poll
//! [`Job::snapshot`] and call [`Job::cancel`].

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
}
