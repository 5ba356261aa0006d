//! The notebook file: cells in order, as TOML a person can read and diff.
//!
//! ```toml
//! format = 1
//! title = "Orders"
//! lake = "demo-lake"
//!
//! [[cells]]
//! id = "c1"
//! kind = "sql"
//! sql = """
//! SELECT city, count(*) FROM customers GROUP BY city
//! """
//!
//! [cells.read]
//! customers = 1
//! ```
//!
//! Each cell keeps its kind's parameters (`sql`, `query`, `k`, ...) beside
//! `id` and `kind`, and `read`: the dataset versions its last run read.
//! Fields this version does not know are kept on save. Writes are atomic.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Version of the notebook layout written by this build.
pub const NOTEBOOK_FORMAT: u32 = 1;

/// Errors of reading and writing notebook files.
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    /// The file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong (the OS's, Arrow's or the JSON parser's error).
        source: crate::BoxError,
    },
    /// The file is not a notebook.
    #[error("{} is not a Lakebook notebook: {reason}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line.
        reason: String,
    },
}

/// One cell of a notebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Stable id, unique in the notebook (names the cached output).
    pub id: String,
    /// Which kind of cell (`markdown`, `sql`, `search`, `ingest`, ...).
    pub kind: String,
    /// Folded in the notebook view.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub collapsed: bool,
    /// The kind's parameters and any fields from a newer Lakebook.
    #[serde(flatten)]
    pub params: toml::Table,
    /// Dataset versions the last run read (dataset name -> version).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub read: BTreeMap<String, u64>,
    /// How the window shows each of the cell's result tables (by its place
    /// among them, "0" first): how it is charted. Not a parameter: changing
    /// it never makes the output stale.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub views: BTreeMap<String, TableView>,
}

/// How a result table is shown: as a table or a chart, on which columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableView {
    /// `table`, `bar`, `line`, `histogram` or `scatter`.
    pub chart: String,
    /// The x column, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The y column, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Column widths the user set, in points, the row-number column first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widths: Vec<f32>,
}

impl Cell {
    /// A new cell with a fresh id.
    pub fn new(kind: &str, params: toml::Table, taken: &[&str]) -> Self {
        let mut n = taken.len() + 1;
        let mut id = format!("c{n}");
        while taken.contains(&id.as_str()) {
            n += 1;
            id = format!("c{n}");
        }
        Self {
            id,
            kind: kind.to_string(),
            collapsed: false,
            params,
            read: BTreeMap::new(),
            views: BTreeMap::new(),
        }
    }

    /// A text parameter, or "" when missing.
    pub fn text(&self, key: &str) -> &str {
        self.params.get(key).and_then(|v| v.as_str()).unwrap_or("")
    }

    /// An integer parameter.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.params.get(key).and_then(toml::Value::as_integer)
    }

    /// A number parameter (an integer reads as a number too).
    pub fn float(&self, key: &str) -> Option<f64> {
        let value = self.params.get(key)?;
        value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
    }

    /// A true/false parameter.
    pub fn flag(&self, key: &str) -> bool {
        self.params
            .get(key)
            .and_then(toml::Value::as_bool)
            .unwrap_or(false)
    }

    /// Sets a parameter.
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) {
        self.params.insert(key.to_string(), value.into());
    }
}

/// A notebook: a title, the lake it explores, and its cells in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notebook {
    /// Layout version ([`NOTEBOOK_FORMAT`]).
    pub format: u32,
    /// Shown in the window title.
    #[serde(default)]
    pub title: String,
    /// The lake folder, relative to the notebook file or absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lake: Option<String>,
    /// The cells, top to bottom.
    #[serde(default)]
    pub cells: Vec<Cell>,
    /// Fields written by a newer Lakebook, kept as they were.
    #[serde(flatten)]
    pub extra: toml::Table,
}

impl Default for Notebook {
    fn default() -> Self {
        Self {
            format: NOTEBOOK_FORMAT,
            title: String::new(),
            lake: None,
            cells: Vec::new(),
            extra: toml::Table::new(),
        }
    }
}

impl Notebook {
    /// Parses a notebook from its text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, NotebookError> {
        let notebook: Notebook = toml::from_str(text).map_err(|e| NotebookError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string().trim().to_string(),
        })?;
        let mut seen = std::collections::HashSet::new();
        for (n, cell) in notebook.cells.iter().enumerate() {
            // Ids name the cached output files: one that could be a path never passes.
            if let Err(reason) = crate::lake::names::check_cell_id(&cell.id) {
                return Err(NotebookError::Parse {
                    path: path.to_path_buf(),
                    reason: format!("cell {}: {reason}", n + 1),
                });
            }
            if !seen.insert(cell.id.as_str()) {
                return Err(NotebookError::Parse {
                    path: path.to_path_buf(),
                    reason: format!("two cells have the id '{}'", cell.id),
                });
            }
        }
        Ok(notebook)
    }

    /// Reads a notebook file.
    pub fn load(path: &Path) -> Result<Self, NotebookError> {
        let text = std::fs::read_to_string(path).map_err(|e| NotebookError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        Self::parse(&text, path)
    }

    /// The notebook as TOML text.
    pub fn to_text(&self) -> Result<String, NotebookError> {
        toml::to_string_pretty(self).map_err(|e| NotebookError::Parse {
            path: PathBuf::from(&self.title),
            reason: e.to_string(),
        })
    }

    /// Writes the notebook atomically (temp file beside it, then rename).
    pub fn save(&self, path: &Path) -> Result<(), NotebookError> {
        let io = |e: std::io::Error| NotebookError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        };
        let text = self.to_text()?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".notebook.")
            .tempfile_in(&dir)
            .map_err(io)?;
        tmp.write_all(text.as_bytes()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// The lake folder this notebook names, resolved against the notebook's folder.
    pub fn lake_dir(&self, notebook_path: &Path) -> Option<PathBuf> {
        let lake = PathBuf::from(self.lake.as_ref()?);
        Some(if lake.is_absolute() {
            lake
        } else {
            notebook_path
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(lake)
        })
    }

    /// Ids of every cell, for making new unique ones.
    pub fn ids(&self) -> Vec<&str> {
        self.cells.iter().map(|c| c.id.as_str()).collect()
    }

    /// Appends a new cell of `kind` and returns its index.
    pub fn push(&mut self, kind: &str, params: toml::Table) -> usize {
        let cell = Cell::new(kind, params, &self.ids());
        self.cells.push(cell);
        self.cells.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notebook_round_trips_with_unknown_fields_kept() -> Result<(), Box<dyn std::error::Error>> {
        let text = r##"
format = 1
title = "Orders"
lake = "demo-lake"
theme = "from-a-newer-version"

[[cells]]
id = "c1"
kind = "sql"
sql = """
SELECT 1
"""
chart = { kind = "bar", x = "city" }

[cells.read]
orders = 3

[cells.views.0]
chart = "bar"
x = "Sepal.Length"
y = "total"
widths = [40.0, 120.0]

[[cells]]
id = "c2"
kind = "markdown"
text = "# Hi"
collapsed = true
"##;
        let path = Path::new("t.lakebook");
        let nb = Notebook::parse(text, path)?;
        assert_eq!(nb.cells.len(), 2);
        assert_eq!(nb.cells[0].text("sql").trim(), "SELECT 1");
        assert_eq!(nb.cells[0].read.get("orders"), Some(&3));
        assert!(nb.cells[1].collapsed);
        let view = TableView {
            chart: "bar".into(),
            x: Some("Sepal.Length".into()),
            y: Some("total".into()),
            widths: vec![40.0, 120.0],
        };
        assert_eq!(nb.cells[0].views.get("0"), Some(&view));
        assert!(nb.cells[0].params.get("views").is_none());
        assert!(nb.cells[1].views.is_empty());
        let again = Notebook::parse(&nb.to_text()?, path)?;
        assert_eq!(again, nb);
        let saved = nb.to_text()?;
        assert!(
            saved.contains("theme = \"from-a-newer-version\""),
            "{saved}"
        );
        assert!(saved.contains("chart"), "{saved}");
        Ok(())
    }

    #[test]
    fn broken_files_name_the_line() {
        let err = Notebook::parse("format = 1\n[[cells]]\nid = \n", Path::new("x.lakebook"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("x.lakebook") && err.contains("line 3"),
            "{err}"
        );
        let err = Notebook::parse(
            "format = 1\n[[cells]]\nid = \"a\"\nkind = \"sql\"\n[[cells]]\nid = \"a\"\nkind = \"sql\"\n",
            Path::new("x.lakebook"),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("two cells have the id 'a'"), "{err}");
    }
}
