//! Graphs from the lake: built from edge tables, co-occurrence, nearest
//! neighbours or the lake's own schema ([`sources`]); kept as Lance datasets
//! ([`store`]); communities found over the whole graph ([`leiden`]) or around
//! seeds in milliseconds ([`seeded`]: MinHash LSH over neighbourhoods); laid
//! out for the graph view ([`layout`]).

pub mod adjacency;
pub mod communities;
pub mod export;
pub mod layout;
pub mod legibility;
pub mod leiden;
pub mod model;
pub mod output;
pub mod quality;
pub mod recipe;
pub mod seeded;
pub mod sources;
pub mod store;

pub use adjacency::Adjacency;
pub use model::{BuildReport, GraphBuilder, GraphNode, LakeGraph};
pub use output::{GraphData, GraphOutput};
pub use recipe::GraphRecipe;
pub use sources::build_graph;
pub use store::{GraphRecord, StoredGraph, graph_names, graph_parts, load_graph, save_graph};

use crate::lake::LakeError;
use crate::sql::SqlError;

/// Why a graph could not be built, stored, loaded or analysed.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The lake refused (unknown dataset, unreadable catalog, Lance error).
    #[error(transparent)]
    Lake(#[from] LakeError),
    /// A query over the lake failed (unknown column, bad SQL).
    #[error("{message}")]
    Sql {
        /// What DataFusion or the reader said.
        message: String,
    },
    /// A file or value that cannot be read as a graph (the message names the file and line).
    #[error("{message}")]
    Input {
        /// Where and what.
        message: String,
    },
    /// No graph of that name.
    #[error("no graph named '{0}' in this lake (build it with `lakebook graph {0} --edges ...`)")]
    NotFound(String),
    /// A graph name that cannot be a dataset name.
    #[error("'{0}' is not a usable graph name: use letters, digits, '_' and '-'")]
    BadName(String),
    /// A dataset that is not this graph's already has the name a graph part needs.
    #[error("dataset '{0}' already exists and is not part of a graph; choose another graph name")]
    NameTaken(String),
    /// A nearest-neighbour graph over a dataset without vectors.
    #[error("dataset '{0}' has no embeddings yet: run `lakebook embed {0}` first")]
    NotEmbedded(String),
    /// Input over a limit.
    #[error("{what}: {limit}")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit and what to do.
        limit: String,
    },
    /// A stored graph's datasets do not hold what a graph needs.
    #[error("graph '{name}' is damaged: {reason}")]
    Damaged {
        /// Graph name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing or reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A node named by the user is not in the graph.
    #[error("node '{0}' is not in the graph")]
    UnknownNode(String),
    /// Arrow could not convert or assemble a column.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// Reading a query's rows failed.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The lake's column sketches could not be read.
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    /// Stopped by the user.
    #[error("cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(GraphError::Cancelled);

impl GraphError {
    /// A SQL failure, in the SQL engine's words.
    pub(crate) fn from_sql(e: SqlError) -> Self {
        GraphError::Sql { message: e.message }
    }
}
