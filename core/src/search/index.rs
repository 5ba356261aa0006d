//! The indexes search uses: a vector index on the embedding column once there
//! are enough vectors to need one, and a full-text (BM25) index per text column.
//!
//! Lance itself is the record of which indexes exist, so datasets indexed by
//! another Lance client are searched the same way.

use std::sync::Arc;

use lance::Dataset;
use lance::index::DatasetIndexExt;
use lance::index::vector::VectorIndexParams;
use lance_index::IndexCriteria;
use lance_index::IndexType;
use lance_index::optimize::OptimizeOptions;
use lance_index::scalar::InvertedIndexParams;
use lance_index::vector::hnsw::builder::HnswBuildParams;
use lance_index::vector::ivf::IvfBuildParams;
use lance_index::vector::sq::builder::SQBuildParams;
use lance_linalg::distance::DistanceType;

use super::SearchError;
use crate::embed::text::is_text_type;
use crate::job::Job;
use crate::lake::{DatasetKind, Lake};

/// Below this many vectors a flat scan answers in a few milliseconds, so no
/// vector index is built.
pub const VECTOR_INDEX_MIN_ROWS: u64 = 5_000;

/// How indexes are kept.
#[derive(Debug, Clone, Copy)]
pub struct IndexOptions {
    /// Build a vector index only from this many vectors on.
    pub min_vector_rows: u64,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            min_vector_rows: VECTOR_INDEX_MIN_ROWS,
        }
    }
}

/// What happened to one index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexAction {
    /// Built from scratch.
    Built,
    /// Rows added since it was built were folded in.
    Updated,
    /// Already covered every row.
    Unchanged,
    /// Not built: too few vectors for an index to pay off (flat search is used).
    Skipped {
        /// Vectors the dataset has.
        vectors: u64,
    },
}

impl std::fmt::Display for IndexAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexAction::Built => f.write_str("built"),
            IndexAction::Updated => f.write_str("updated"),
            IndexAction::Unchanged => f.write_str("up to date"),
            IndexAction::Skipped { vectors } => {
                write!(f, "not needed for {vectors} vectors (exact search)")
            }
        }
    }
}

/// The indexes of one dataset after [`refresh_indexes`].
#[derive(Debug, Clone)]
pub struct IndexReport {
    /// The vector index, when the dataset is embedded.
    pub vector: Option<(String, IndexAction)>,
    /// Full-text indexes by column.
    pub fulltext: Vec<(String, IndexAction)>,
    /// Dataset version afterwards.
    pub version: u64,
}

/// The text columns that get a full-text index: the embedded text columns, or
/// (not embedded) a documents dataset's `text` and `title`, or a table's text columns.
pub fn fulltext_columns(lake: &Lake, name: &str, ds: &Dataset) -> Result<Vec<String>, SearchError> {
    let entry = lake.entry(name)?;
    let schema = arrow::datatypes::Schema::from(ds.schema());
    let is_text = |c: &str| {
        schema
            .field_with_name(c)
            .is_ok_and(|f| is_text_type(f.data_type()))
    };
    let columns: Vec<String> = match (&entry.embedding, entry.kind) {
        (Some(e), _) => e.source_columns.clone(),
        (None, DatasetKind::Documents) => vec!["text".to_string(), "title".to_string()],
        (None, DatasetKind::Table) => schema.fields().iter().map(|f| f.name().clone()).collect(),
    };
    Ok(columns.into_iter().filter(|c| is_text(c)).collect())
}

/// Builds the indexes a dataset is missing and folds new rows into those it has.
pub async fn refresh_indexes(
    lake: &mut Lake,
    name: &str,
    options: IndexOptions,
    job: &Job,
) -> Result<IndexReport, SearchError> {
    let lance_err = |e: lance::Error| SearchError::Lance {
        name: name.to_string(),
        source: e.into(),
    };
    let mut ds = (*lake.open_dataset(name, None).await?).clone();
    let embedding = lake.entry(name)?.embedding.clone();
    let fulltext = fulltext_columns(lake, name, &ds)?;
    job.set_total(fulltext.len() as u64 + 1, "indexes");

    let mut report = IndexReport {
        vector: None,
        fulltext: Vec::new(),
        version: ds.version().version,
    };
    if let Some(e) = &embedding
        && ds.schema().field(&e.column).is_some()
    {
        job.set_message(format!("vector index of {name}"));
        let vectors = ds
            .count_rows(Some(format!(
                "{} IS NOT NULL",
                crate::embed::quote(&e.column)
            )))
            .await
            .map_err(lance_err)? as u64;
        let index_name = format!("{}_idx", e.column);
        let action = if has_index(&ds, &index_name).await? {
            fold_in(&mut ds, &index_name).await.map_err(lance_err)?
        } else if vectors < options.min_vector_rows {
            IndexAction::Skipped { vectors }
        } else {
            let params = VectorIndexParams::with_ivf_hnsw_sq_params(
                DistanceType::Cosine,
                IvfBuildParams::default(),
                HnswBuildParams::default(),
                SQBuildParams::default(),
            );
            ds.create_index(
                &[e.column.as_str()],
                params.index_type(),
                Some(index_name.clone()),
                &params,
                true,
            )
            .await
            .map_err(lance_err)?;
            IndexAction::Built
        };
        report.vector = Some((index_name, action));
    }
    job.advance(1);
    if job.is_cancelled() {
        return Err(SearchError::Cancelled);
    }

    for column in fulltext {
        job.set_message(format!("full-text index of {name}.{column}"));
        let index_name = format!("{column}_fts");
        let action = if has_index(&ds, &index_name).await? {
            fold_in(&mut ds, &index_name).await.map_err(lance_err)?
        } else {
            let params = InvertedIndexParams::default();
            ds.create_index(
                &[column.as_str()],
                IndexType::Inverted,
                Some(index_name),
                &params,
                true,
            )
            .await
            .map_err(lance_err)?;
            IndexAction::Built
        };
        report.fulltext.push((column, action));
        job.advance(1);
        if job.is_cancelled() {
            return Err(SearchError::Cancelled);
        }
    }
    report.version = ds.version().version;
    if report.version != lake.entry(name)?.version {
        lake.record_new_version(name, &ds, None).await?;
    }
    Ok(report)
}

async fn has_index(ds: &Dataset, index_name: &str) -> Result<bool, SearchError> {
    let found = ds
        .describe_indices(Some(IndexCriteria::default().with_name(index_name)))
        .await
        .map_err(|e| SearchError::Lance {
            name: ds.uri().to_string(),
            source: e.into(),
        })?;
    Ok(!found.is_empty())
}

/// Folds rows the index does not cover yet into it.
async fn fold_in(ds: &mut Dataset, index_name: &str) -> lance::Result<IndexAction> {
    let stats: serde_json::Value =
        serde_json::from_str(&ds.index_statistics(index_name).await?).unwrap_or_default();
    let unindexed = stats["num_unindexed_rows"].as_u64().unwrap_or(0);
    if unindexed == 0 {
        return Ok(IndexAction::Unchanged);
    }
    ds.optimize_indices(&OptimizeOptions::new().index_names(vec![index_name.to_string()]))
        .await?;
    Ok(IndexAction::Updated)
}

/// Names of the full-text indexed columns of a dataset.
pub(crate) async fn fulltext_indexed_columns(ds: &Arc<Dataset>) -> lance::Result<Vec<String>> {
    let found = ds
        .describe_indices(Some(IndexCriteria::default().supports_fts()))
        .await?;
    let mut columns = Vec::new();
    for index in found {
        for id in index.field_ids() {
            if let Some(f) = ds.schema().field_by_id(*id as i32) {
                columns.push(f.name.clone());
            }
        }
    }
    Ok(columns)
}

/// Whether the vector column has an index.
pub(crate) async fn has_vector_index(ds: &Arc<Dataset>, column: &str) -> lance::Result<bool> {
    let found = ds
        .describe_indices(Some(IndexCriteria::default().for_column(column)))
        .await?;
    Ok(!found.is_empty())
}
