//! The desktop notebook (eframe): lake browser, cells, inspector and jobs.
//!
//! The window never blocks: cells run on the tokio runtime that `main` owns,
//! through the same [`Runner`] as `lakebook run`, and results come back over a
//! bounded channel drained once per frame. UI code only queues [`Command`]s;
//! the app applies them in one place.

mod app;
mod camera;
mod cells;
mod cluster_view;
mod dialogs;
mod frame_bench;
mod graph_view;
mod inspector;
mod match_view;
mod probe;
mod settings;
mod table_view;
mod toasts;
mod work;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use lakebook_core::notebook::{Notebook, Runner};

pub use app::{CellStatus, Command, LakebookApp};
pub use camera::Camera;
pub use frame_bench::{bench_frames, bench_graph_frames};

/// When the program started, for the start-up time `LAKEBOOK_FIRST_FRAME_EXIT=1` reports.
pub static LAUNCHED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
pub use settings::{Settings, data_dir};
pub use table_view::{ChartKind, chart_caveat};

/// The notebook to show and the lake it runs on, resolved the way the window does it.
pub struct Session {
    /// The notebook.
    pub notebook: Notebook,
    /// Its file, if it has one.
    pub path: Option<PathBuf>,
    /// The runner over the notebook's lake.
    pub runner: Arc<Runner>,
}

/// Opens `path` (or the last notebook, or a new one) over its lake (or `lake_dir`).
pub async fn open_session(lake_dir: &Path, path: Option<PathBuf>) -> Result<Session> {
    let path = path.or_else(|| Settings::load().last.filter(|p| p.exists()));
    let (mut notebook, path) = match path {
        Some(p) => (
            Notebook::load(&p).with_context(|| format!("opening {}", p.display()))?,
            Some(p),
        ),
        None => (Notebook::default(), None),
    };
    let untitled = Settings::untitled_path();
    let is_autosave = path.as_deref() == Some(untitled.as_path());
    let lake = path
        .as_deref()
        .and_then(|p| notebook.lake_dir(p))
        .unwrap_or_else(|| lake_dir.to_path_buf());
    if notebook.lake.is_none() && !is_autosave {
        notebook.lake = Some(std::path::absolute(&lake)?.to_string_lossy().into_owned());
    }
    if notebook.cells.is_empty() {
        let params = lakebook_core::notebook::Registry::builtin()
            .get("sql")
            .map(|k| k.default_params())
            .unwrap_or_default();
        notebook.push("sql", params);
    }
    let base = path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let runner = Runner::open(&lake, &base, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = if is_autosave { None } else { path };
    Ok(Session {
        notebook,
        path,
        runner: Arc::new(runner),
    })
}

/// Runs the window until it is closed. Call on the main thread, outside the runtime.
pub fn run_window(rt: &tokio::runtime::Runtime, session: Session) -> Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size(Settings::load().window_size.unwrap_or([1360.0, 860.0]))
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true)
            .with_title("Lakebook"),
        ..Default::default()
    };
    let handle = rt.handle().clone();
    eframe::run_native(
        "Lakebook",
        options,
        Box::new(move |cc| {
            Ok(Box::new(LakebookApp::new(
                &cc.egui_ctx,
                handle,
                session.runner,
                session.notebook,
                session.path,
                Settings::load(),
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window could not open: {e}"))
}
