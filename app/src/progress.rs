//! A terminal progress bar that follows a [`Job`].

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lakebook_core::Job;

/// Draws `job` on stderr until the returned guard is dropped. Nothing is drawn when stderr is not a terminal.
pub(crate) fn show(job: &Job) -> ProgressGuard {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40.cyan/blue} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let watched = job.clone();
    let drawn = bar.clone();
    let task = tokio::spawn(async move {
        loop {
            let p = watched.snapshot();
            drawn.set_length(p.total);
            drawn.set_position(p.done);
            drawn.set_message(p.message);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    ProgressGuard { bar, task }
}

/// Stops and clears the bar when dropped.
pub(crate) struct ProgressGuard {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}
