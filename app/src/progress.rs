//! A terminal progress bar that follows a [`Job`].

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lakebook_core::Job;

/// Draws `job` on stderr until the returned guard is dropped. Nothing is drawn when stderr is not a terminal.
pub(crate) fn show(job: &Job) -> ProgressGuard {
    let bar = ProgressBar::new(0);
    bar.set_style(style_for("bytes"));
    let watched = job.clone();
    let drawn = bar.clone();
    let task = tokio::spawn(async move {
        let mut unit = "bytes";
        loop {
            let p = watched.snapshot();
            if p.unit != unit && !p.unit.is_empty() {
                unit = p.unit;
                drawn.set_style(style_for(unit));
            }
            drawn.set_length(p.total);
            drawn.set_position(p.done);
            drawn.set_message(p.message);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    ProgressGuard { bar, task }
}

/// Bytes are shown as sizes and speeds; other units (rows, files) as counts.
fn style_for(unit: &str) -> ProgressStyle {
    let template = if unit == "bytes" {
        "{spinner} [{elapsed_precise}] {bar:40.cyan/blue} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {wide_msg}".to_string()
    } else {
        format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:40.cyan/blue}} {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, {{eta}}) {{wide_msg}}"
        )
    };
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar())
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
