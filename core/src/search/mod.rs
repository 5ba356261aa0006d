//! Search over the lake: semantic (nearest vectors), full-text (BM25) and
//! hybrid (both, fused by reciprocal rank), for one dataset or the whole lake.

pub mod index;
mod query;

pub use index::{IndexAction, IndexOptions, IndexReport, VECTOR_INDEX_MIN_ROWS, refresh_indexes};
pub use query::{SearchHits, search_dataset, search_dataset_by_vector, search_lake};

/// How hits are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchMode {
    /// Nearest neighbours of the query's embedding (cosine similarity).
    Semantic,
    /// BM25 over the full-text index.
    Fulltext,
    /// Semantic and full-text results fused by reciprocal rank.
    #[default]
    Hybrid,
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SearchMode::Semantic => "semantic",
            SearchMode::Fulltext => "fulltext",
            SearchMode::Hybrid => "hybrid",
        })
    }
}

/// One search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// What the user typed.
    pub query: String,
    /// Semantic, full-text or hybrid.
    pub mode: SearchMode,
    /// Hits per dataset.
    pub k: usize,
    /// Only rows matching this SQL predicate (e.g. `format = 'pdf'`).
    pub filter: Option<String>,
    /// Compare the query with every vector instead of using the vector index
    /// (slower on big datasets; the reference the index is measured against).
    pub exact: bool,
}

/// Errors of searching and indexing.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The dataset has no vectors.
    #[error("'{name}' has no embeddings yet: run `lakebook embed {name}` first")]
    NotEmbedded {
        /// The dataset.
        name: String,
    },
    /// The dataset is retired: its rows are searched in its container.
    #[error(
        "'{name}' is retired (read through a view over '{container}'): search '{container}', or `lakebook restore {name}` first"
    )]
    Retired {
        /// The dataset.
        name: String,
        /// The dataset its view reads.
        container: String,
    },
    /// The dataset has no full-text index.
    #[error("'{name}' has no full-text index: run `lakebook index {name}` (embed builds one too)")]
    NoFulltextIndex {
        /// The dataset.
        name: String,
    },
    /// No dataset of the lake can answer this kind of search.
    #[error("no dataset in the lake can be searched in {mode} mode: {hint}")]
    NothingSearchable {
        /// The mode asked for.
        mode: SearchMode,
        /// What to do.
        hint: String,
    },
    /// The `--where` predicate does not parse or fit the dataset.
    #[error("the filter `{filter}` does not work on '{name}': {source}")]
    BadFilter {
        /// The dataset.
        name: String,
        /// The predicate.
        filter: String,
        /// Lance's error.
        source: lance::Error,
    },
    /// The query is empty.
    #[error("the search query is empty")]
    EmptyQuery,
    /// Semantic search needs the model, which was not given.
    #[error("semantic and hybrid search need the embedding model: {0}")]
    Model(#[from] crate::embed::EmbedError),
    /// Lance failed.
    #[error("searching '{name}': {source}")]
    Lance {
        /// The dataset.
        name: String,
        /// Lance's (or Arrow's) error.
        source: crate::BoxError,
    },
    /// The lake refused (no such dataset, ...).
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    /// Cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(SearchError::Cancelled);
