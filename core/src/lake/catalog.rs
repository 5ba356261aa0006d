//! The lake catalog: `lake.json`, one entry per dataset.
//!
//! The file is written atomically (temp file in the same folder, then rename),
//! and fields this version does not know are kept on rewrite.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::LakeError;

/// File name of the catalog inside a lake folder.
pub const CATALOG_FILE: &str = "lake.json";

/// Version of the catalog layout written by this build.
pub const CATALOG_FORMAT: u32 = 1;

/// What a dataset holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// Rows of a table (CSV, Parquet, JSON, Arrow, Excel sheet, or adopted).
    Table,
    /// Passages of documents (txt, md, html, pdf).
    Documents,
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DatasetKind::Table => "table",
            DatasetKind::Documents => "documents",
        })
    }
}

/// One column as the catalog records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnEntry {
    /// Column name.
    pub name: String,
    /// Arrow type, as Arrow prints it (`Int64`, `Utf8`, `Date32`, ...).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether nulls are allowed.
    pub nullable: bool,
}

/// A document that could not be read, kept so the user can see why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedSource {
    /// The file.
    pub path: String,
    /// Why it failed, in words.
    pub reason: String,
}

/// Most notes a catalog entry keeps, so the catalog stays small.
pub const MAX_NOTES: usize = 20;
/// Longest note kept, in characters.
pub const MAX_NOTE_CHARS: usize = 400;

/// One dataset of the lake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetEntry {
    /// Table or documents.
    pub kind: DatasetKind,
    /// Folder of the Lance dataset, relative to the lake folder.
    pub dir: String,
    /// Files the rows came from, in ingest order.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Documents that failed to ingest into this dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<FailedSource>,
    /// How the sources were read, where Lakebook had to guess or change
    /// something (a header guessed, a column renamed, values read as null);
    /// at most [`MAX_NOTES`], shown by `schema`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Columns of the latest version.
    #[serde(default)]
    pub schema: Vec<ColumnEntry>,
    /// Rows in the latest version.
    pub rows: u64,
    /// Latest Lance version.
    pub version: u64,
    /// When the dataset was first written.
    pub created: DateTime<Utc>,
    /// When the dataset last changed.
    pub updated: DateTime<Utc>,
    /// The embedding column, once the dataset has been embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingEntry>,
    /// Set while the dataset is retired: its rows are then read through a
    /// view over another dataset, and its own are kept in its history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<RetiredEntry>,
    /// Fields written by a newer Lakebook, kept as they were.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A retired dataset: a view over its container that was checked to yield
/// exactly its rows (see `redundancy::retire`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetiredEntry {
    /// The dataset whose rows rebuild it.
    pub container: String,
    /// The container's version the view reads (`container@version`).
    pub container_version: u64,
    /// The query that yields the rows, in the dataset's column order and types.
    pub query: String,
    /// The dataset's own version that holds its rows, kept for `restore`.
    pub data_version: u64,
    /// Rows verified equal, as a multiset, between the view and that version.
    pub rows: u64,
    /// When it was retired.
    pub retired: DateTime<Utc>,
    /// Fields written by a newer Lakebook, kept as they were.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// How a dataset was embedded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingEntry {
    /// The model that made the vectors.
    pub model: String,
    /// The vector column (`FixedSizeList<Float32, dim>`).
    pub column: String,
    /// Length of each vector.
    pub dim: usize,
    /// The columns whose text was embedded.
    pub source_columns: Vec<String>,
    /// Rows that have a vector (rows with no text have none).
    pub rows_with_vector: u64,
    /// Rows that have no vector yet (appended since the last `embed`).
    pub rows_pending: u64,
    /// When the vectors were last written.
    pub updated: DateTime<Utc>,
    /// Fields written by a newer Lakebook, kept as they were.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The whole catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Layout version ([`CATALOG_FORMAT`]).
    pub format: u32,
    /// Datasets by name.
    #[serde(default)]
    pub datasets: BTreeMap<String, DatasetEntry>,
    /// Fields written by a newer Lakebook, kept as they were.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self {
            format: CATALOG_FORMAT,
            datasets: BTreeMap::new(),
            extra: serde_json::Map::new(),
        }
    }
}

impl Catalog {
    /// Refuses to move or remove `name` while a retired dataset is rebuilt from it.
    pub fn check_not_a_container(&self, name: &str) -> Result<(), LakeError> {
        let retired = self
            .datasets
            .iter()
            .find(|(_, e)| e.retired.as_ref().is_some_and(|r| r.container == name));
        match retired {
            Some((retired, _)) => Err(LakeError::Rebuilds {
                name: name.to_string(),
                retired: retired.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Reads `lake.json` from a lake folder.
    pub fn load(lake_dir: &Path) -> Result<Self, LakeError> {
        let path = lake_dir.join(CATALOG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| LakeError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| LakeError::BadCatalog { path, source })
    }

    /// Writes `lake.json` atomically: a temp file beside it, synced, then renamed.
    pub fn save(&self, lake_dir: &Path) -> Result<(), LakeError> {
        let path = lake_dir.join(CATALOG_FILE);
        let io = |source| LakeError::Io {
            path: path.clone(),
            source,
        };
        let text = serde_json::to_string_pretty(self).map_err(|source| LakeError::BadCatalog {
            path: path.clone(),
            source,
        })?;
        crate::files::write_atomic_with(&path, |file| {
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")
        })
        .map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let text = r#"{
          "format": 1,
          "owner": "newer-lakebook",
          "datasets": {
            "t": {"kind": "table", "dir": "t.lance", "rows": 3, "version": 2,
                  "created": "2026-01-01T00:00:00Z", "updated": "2026-01-02T00:00:00Z",
                  "embedding_model": "minilm"}
          }
        }"#;
        std::fs::write(dir.path().join(CATALOG_FILE), text)?;
        let catalog = Catalog::load(dir.path())?;
        catalog.save(dir.path())?;
        let again: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(CATALOG_FILE))?)?;
        assert_eq!(again["owner"], "newer-lakebook");
        assert_eq!(again["datasets"]["t"]["embedding_model"], "minilm");
        assert_eq!(again["datasets"]["t"]["rows"], 3);
        Ok(())
    }

    #[test]
    fn a_damaged_catalog_is_a_clear_error() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(CATALOG_FILE), "{ not json")?;
        let err = Catalog::load(dir.path()).err().ok_or("expected an error")?;
        let text = err.to_string();
        assert!(text.contains("lake.json"), "{text}");
        Ok(())
    }
}
