//! What the window remembers between sessions: recent notebooks, the last
//! one open, the theme. Kept in Lakebook's data folder as `gui.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Notebooks listed under File ▸ Open recent.
const RECENT: usize = 10;

/// Remembered settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// The notebook open when the window last closed.
    #[serde(default)]
    pub last: Option<PathBuf>,
    /// Recently opened notebooks, newest first.
    #[serde(default)]
    pub recent: Vec<PathBuf>,
    /// Dark theme.
    #[serde(default = "yes")]
    pub dark: bool,
    /// Width of the lake panel, as the user last left it.
    #[serde(default)]
    pub lake_width: Option<f32>,
    /// Width of the inspector, as the user last left it.
    #[serde(default)]
    pub inspector_width: Option<f32>,
    /// The window's inner size when it was last open.
    #[serde(default)]
    pub window_size: Option<[f32; 2]>,
    /// Where these settings live; `None` keeps them in memory only (tests).
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            last: None,
            recent: Vec::new(),
            dark: true,
            lake_width: None,
            inspector_width: None,
            window_size: None,
            file: None,
        }
    }
}

pub use lakebook_core::files::data_dir;

impl Settings {
    /// Reads the settings from the data folder (defaults when there are none or they are unreadable).
    pub fn load() -> Self {
        let file = data_dir().join("gui.json");
        let mut settings: Settings = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        settings.file = Some(file);
        settings
    }

    /// Settings that are never written (for tests).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Writes the settings; failing to is not worth bothering the user about.
    pub fn save(&self) {
        let Some(path) = self.file.clone() else {
            return;
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(text) = serde_json::to_string_pretty(self) {
            let _ = lakebook_core::files::write_atomic(&path, text.as_bytes());
        }
    }

    /// Puts a notebook at the top of the recent list.
    pub fn remember(&mut self, path: &Path) {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT);
    }

    /// Where an untitled notebook is autosaved (nowhere for in-memory settings).
    pub fn untitled(&self) -> Option<PathBuf> {
        self.file.as_ref().map(|_| Self::untitled_path())
    }

    /// The autosave file of untitled notebooks.
    pub fn untitled_path() -> PathBuf {
        data_dir().join("autosave").join("untitled.lakebook")
    }
}
