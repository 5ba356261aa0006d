//! What a cell run produces: its output (made of parts every front end
//! shows), the run around it, and the error when it fails.

use std::collections::BTreeMap;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::pager::ResultPager;
use crate::search::SearchHits;

/// A cell run that failed, in words; `span` marks the failing part of the
/// cell's main text (e.g. the SQL) when it is known.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CellError {
    /// What went wrong and what to do.
    pub message: String,
    /// Byte range of the failing part of the cell's text.
    pub span: Option<std::ops::Range<usize>>,
    /// The run was stopped by the user rather than failing: front ends show
    /// it as Cancelled, not as an error.
    pub cancelled: bool,
}

impl CellError {
    /// An error with no known location.
    pub fn new(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            span: None,
            cancelled: false,
        }
    }

    /// A run the user stopped.
    pub fn cancelled() -> Self {
        Self {
            message: "cancelled".to_string(),
            span: None,
            cancelled: true,
        }
    }
}

impl From<crate::job::Cancelled> for CellError {
    fn from(_: crate::job::Cancelled) -> Self {
        CellError::cancelled()
    }
}

/// What a cell shows after it ran.
#[derive(Debug, Clone)]
pub enum CellOutput {
    /// Markdown source to render.
    Markdown(String),
    /// A result table.
    Table {
        /// Columns.
        schema: SchemaRef,
        /// Rows (the first page when the result is larger).
        batches: Vec<RecordBatch>,
        /// Whether `batches` hold every row of the result.
        complete: bool,
    },
    /// Search hits, grouped by dataset.
    Search(Vec<SearchHits>),
    /// A plain report (e.g. what an ingest wrote).
    Text(String),
    /// Column correspondences of two tables, or the tables related to one.
    Match(Box<crate::matching::MatchOutput>),
    /// A graph, its communities, and a community around seeds.
    Graph(Box<crate::graph::GraphOutput>),
    /// Subpopulations of a dataset.
    Cluster(Box<crate::cluster::ClusterReport>),
    /// Several parts shown one after another (e.g. a heading, a table and a
    /// note): how a kind shows more than one thing.
    Parts(Vec<CellOutput>),
}

impl CellOutput {
    /// Rows of the tables and search hits in the output (0 for others).
    pub fn rows(&self) -> usize {
        match self {
            CellOutput::Table { batches, .. } => batches.iter().map(RecordBatch::num_rows).sum(),
            CellOutput::Search(groups) => groups.iter().map(|g| g.rows.num_rows()).sum(),
            CellOutput::Parts(parts) => parts.iter().map(CellOutput::rows).sum(),
            _ => 0,
        }
    }

    /// The parts to show, in order: the output itself, or the parts of
    /// [`CellOutput::Parts`] (nested ones flattened). Never a `Parts`.
    pub fn parts(&self) -> Vec<&CellOutput> {
        match self {
            CellOutput::Parts(parts) => parts.iter().flat_map(CellOutput::parts).collect(),
            one => vec![one],
        }
    }
}

/// A finished run of one cell.
#[derive(Debug, Clone)]
pub struct CellRun {
    /// What to show.
    pub output: CellOutput,
    /// Dataset versions read (recorded in the notebook for reproducible re-runs).
    pub read: BTreeMap<String, u64>,
    /// Datasets the cell changed (front ends refresh their lake view).
    pub changed: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// The rest of a table result that did not fit its first page, to be
    /// fetched on demand (never cached).
    pub more: Option<ResultPager>,
}
