//! What the window shows, written as JSON for the tests that drive the real
//! window with real input events under Xvfb (`LAKEBOOK_PROBE=FILE`). Off
//! unless that variable is set. When on, every frame rewrites the file
//! atomically: the app's state (cells, statuses, selection, messages) plus
//! the marks widgets left this frame (where a button, a cell or a graph's
//! nodes are on screen), so a test finds what to click, clicks it with a
//! real pointer, and reads what happened. A frame counter shows whether the
//! window is drawing at all.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

/// The file to write, when probing.
fn target() -> Option<&'static PathBuf> {
    static TARGET: OnceLock<Option<PathBuf>> = OnceLock::new();
    TARGET
        .get_or_init(|| std::env::var_os("LAKEBOOK_PROBE").map(PathBuf::from))
        .as_ref()
}

/// Whether this window is being probed.
pub fn enabled() -> bool {
    target().is_some()
}

/// Marks left by widgets during the current frame.
static MARKS: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());

/// Notes `value()` under `name` for this frame (nothing when not probing;
/// `value` is not even called).
pub fn mark(name: impl Into<String>, value: impl FnOnce() -> Value) {
    if enabled() {
        let mut marks = MARKS.lock().unwrap_or_else(|e| e.into_inner());
        marks.insert(name.into(), value());
    }
}

/// A rectangle as `[left, top, right, bottom]` in points.
pub fn rect(r: egui::Rect) -> Value {
    json!([r.min.x, r.min.y, r.max.x, r.max.y])
}

/// Frames drawn while probing.
static FRAMES: Mutex<u64> = Mutex::new(0);

/// Writes this frame's `state` and marks, and starts the next frame's.
pub fn end_frame(state: impl FnOnce() -> Value) {
    let Some(path) = target() else {
        return;
    };
    let marks = std::mem::take(&mut *MARKS.lock().unwrap_or_else(|e| e.into_inner()));
    let frame = {
        let mut frames = FRAMES.lock().unwrap_or_else(|e| e.into_inner());
        *frames += 1;
        *frames
    };
    let document = json!({ "frame": frame, "state": state(), "marks": marks });
    let text = document.to_string();
    // Written beside and renamed over (no sync: a probe need not survive a
    // crash, and a sync every frame would slow the window it watches). A
    // probe that cannot be written only fails the test that reads it.
    let temp = path.with_extension("partial");
    if std::fs::write(&temp, text).is_ok() {
        let _ = std::fs::rename(&temp, path);
    }
}
