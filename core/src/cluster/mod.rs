//! Subpopulation clustering: the rows of a table or the passages of a
//! document collection, by their embeddings or their columns, grouped with
//! k-means (k chosen by silhouette unless given) or HDBSCAN (density, with
//! noise), projected to 2-D for the scatter view, and each group described in
//! words ([`describe`]).

pub mod describe;
pub mod features;
pub mod hdbscan;
pub mod kernels;
pub mod kmeans;
pub mod matrix;
pub mod neighbours;
pub mod pca;
pub mod slice;
pub mod umap;

use std::time::Instant;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

pub use describe::{Dimension, Subpopulation};
pub use features::FeatureSource;
pub use kmeans::KChoice;

use crate::job::{Cancelled, Job, Watch};
use crate::lake::{DatasetKind, Lake, LakeError};
use crate::sql::{SqlEngine, quote_ident};
use hdbscan::{HdbscanOptions, hdbscan};
use kmeans::{KMeansOptions, kmeans};
use matrix::Matrix;
use pca::fit_pca;

/// Rows clustered at most (the first rows beyond that). k-means switches to
/// mini-batches from [`kmeans::MINI_BATCH_MIN_ROWS`] rows.
pub const DEFAULT_MAX_ROWS: usize = 1_000_000;
/// Dimensions HDBSCAN works in (PCA first when there are more).
const HDBSCAN_DIMS: usize = 16;
/// Dimensions UMAP's neighbour search works in (PCA first when there are more).
const UMAP_DIMS: usize = 50;
/// Most rows laid out by UMAP; larger inputs are projected by PCA.
pub const UMAP_MAX_ROWS: usize = 100_000;

/// Which algorithm groups the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// k-means (k-means++ start; mini-batch on large data).
    #[default]
    Kmeans,
    /// HDBSCAN: clusters of any shape, and noise.
    Hdbscan,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Kmeans => "k-means",
            Self::Hdbscan => "HDBSCAN",
        })
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "kmeans" | "k-means" => Ok(Self::Kmeans),
            "hdbscan" => Ok(Self::Hdbscan),
            other => Err(format!("'{other}' is not a method: use kmeans or hdbscan")),
        }
    }
}

/// How rows are placed in 2-D for the scatter view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Projection {
    /// UMAP: neighbours stay neighbours, groups separate (slower).
    #[default]
    Umap,
    /// PCA: the two directions of most variance (fast, linear).
    Pca,
}

impl std::str::FromStr for Projection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "umap" | "" => Ok(Self::Umap),
            "pca" => Ok(Self::Pca),
            other => Err(format!("'{other}' is not a projection: use umap or pca")),
        }
    }
}

impl std::fmt::Display for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Umap => "UMAP",
            Self::Pca => "PCA",
        })
    }
}

/// What to cluster and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterRequest {
    /// The dataset.
    pub dataset: String,
    /// Embeddings, columns or both; `None`: embeddings when the dataset has them.
    pub by: Option<FeatureSource>,
    /// The algorithm.
    pub method: Method,
    /// k for k-means (automatic by default).
    pub k: KChoice,
    /// Smallest cluster for HDBSCAN.
    pub min_cluster_size: usize,
    /// Random seed.
    pub seed: u64,
    /// Rows clustered at most.
    pub max_rows: usize,
    /// How the scatter view places the rows.
    pub projection: Projection,
}

impl ClusterRequest {
    /// Defaults for `dataset`: automatic k-means over embeddings if any, else columns.
    pub fn new(dataset: &str) -> Self {
        Self {
            dataset: dataset.to_string(),
            by: None,
            method: Method::Kmeans,
            k: KChoice::Auto { min: 2, max: 12 },
            min_cluster_size: 15,
            seed: 42,
            max_rows: DEFAULT_MAX_ROWS,
            projection: Projection::Umap,
        }
    }
}

/// The groups found in a dataset, described.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterReport {
    /// The dataset and the version read.
    pub dataset: String,
    /// Version read.
    pub version: u64,
    /// What the rows were represented by.
    pub by: FeatureSource,
    /// The algorithm.
    pub method: Method,
    /// Clusters found (noise not counted).
    pub clusters: usize,
    /// Rows clustered.
    pub rows: usize,
    /// Cluster of each clustered row (-1: noise).
    pub labels: Vec<i32>,
    /// 2-D position of each clustered row, for the scatter view.
    pub projection: Vec<[f32; 2]>,
    /// How `projection` was made.
    #[serde(default)]
    pub projected_by: Projection,
    /// The clusters, largest first (noise last).
    pub subpopulations: Vec<Subpopulation>,
    /// The clusters grouped by the columns that describe them.
    pub dimensions: Vec<Dimension>,
    /// (k, silhouette) tried when k was chosen automatically.
    pub silhouettes: Vec<(usize, f64)>,
    /// Columns used as features.
    pub features: Vec<String>,
    /// Things the user should know (columns left out, rows without vectors, sampling).
    pub notes: Vec<String>,
    /// Seconds spent clustering (not reading).
    pub seconds: f64,
    /// The clustered rows (without vectors), for showing members.
    #[serde(skip)]
    pub rows_shown: Option<RecordBatch>,
}

/// Why a dataset could not be clustered.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The lake refused.
    #[error(transparent)]
    Lake(#[from] LakeError),
    /// Reading the rows failed.
    #[error("{0}")]
    Read(String),
    /// Arrow could not assemble the rows.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// The rows cannot become vectors.
    #[error(transparent)]
    Features(#[from] features::FeatureError),
    /// Embeddings were asked for and the dataset has none.
    #[error(
        "dataset '{0}' has no embeddings: run `lakebook embed {0}` first, or cluster --by columns"
    )]
    NotEmbedded(String),
    /// k-means refused the data.
    #[error(transparent)]
    Kmeans(#[from] kmeans::KMeansError),
    /// HDBSCAN refused the data.
    #[error(transparent)]
    Hdbscan(#[from] hdbscan::HdbscanError),
    /// UMAP stopped.
    #[error(transparent)]
    Umap(#[from] umap::UmapError),
    /// A slice would overwrite a dataset.
    #[error("dataset '{0}' already exists: choose another name for the slice")]
    NameTaken(String),
    /// No such cluster.
    #[error("there is no cluster {0}")]
    NoSuchCluster(i32),
    /// Stopped by the user.
    #[error("cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(ClusterError::Cancelled);

/// Reads up to `max_rows` rows of the dataset, clusters them and describes the clusters.
pub async fn cluster_dataset(
    lake: &Lake,
    request: &ClusterRequest,
    job: &Job,
) -> Result<ClusterReport, ClusterError> {
    let entry = lake.entry(&request.dataset)?.clone();
    let embedding = entry.embedding.clone();
    let by = match (request.by, &embedding) {
        (Some(by), _) => by,
        (None, Some(_)) => FeatureSource::Embedding,
        (None, None) => FeatureSource::Columns,
    };
    if by != FeatureSource::Columns && embedding.is_none() {
        return Err(ClusterError::NotEmbedded(request.dataset.clone()));
    }
    job.set_message(format!("reading {}", request.dataset));
    let engine = SqlEngine::new(lake);
    // HDBSCAN holds every pairwise structure in memory: it gets fewer rows.
    let max_rows = match request.method {
        Method::Kmeans => request.max_rows,
        Method::Hdbscan => request.max_rows.min(hdbscan::MAX_ROWS),
    };
    let sql = format!(
        "SELECT * FROM {} LIMIT {max_rows}",
        quote_ident(&request.dataset),
    );
    let result = engine
        .query(&sql)
        .await
        .map_err(|e| ClusterError::Read(e.message))?;
    let batch = concat_batches(&result.schema, &result.batches).map_err(ClusterError::Arrow)?;
    let mut notes = Vec::new();
    if entry.rows as usize > max_rows {
        notes.push(format!(
            "the first {max_rows} of {} rows were clustered",
            entry.rows
        ));
    }
    let vector_column = embedding.as_ref().map(|e| e.column.clone());
    let request = request.clone();
    let job = job.clone();
    let version = entry.version;
    let kind = entry.kind;
    tokio::task::spawn_blocking(move || {
        cluster_batch(
            batch,
            vector_column,
            by,
            kind,
            &request,
            version,
            notes,
            &job,
        )
    })
    .await
    .map_err(|e| ClusterError::Read(format!("clustering stopped: {e}")))?
}

/// The clustering itself, on rows in memory.
#[allow(clippy::too_many_arguments)]
fn cluster_batch(
    batch: RecordBatch,
    vector_column: Option<String>,
    by: FeatureSource,
    kind: DatasetKind,
    request: &ClusterRequest,
    version: u64,
    mut notes: Vec<String>,
    job: &Job,
) -> Result<ClusterReport, ClusterError> {
    let started = Instant::now();
    // Rows as vectors; rows without a vector are left out.
    let without_vectors = strip_vectors(&batch, vector_column.as_deref());
    let (features, kept) = match (by, vector_column.as_deref()) {
        (FeatureSource::Columns, _) | (_, None) => {
            let f = features::column_features(&without_vectors)?;
            (f, (0..batch.num_rows()).collect::<Vec<_>>())
        }
        (FeatureSource::Embedding, Some(column)) => features::embedding_features(&batch, column)?,
        (FeatureSource::Both, Some(column)) => {
            let (e, kept) = features::embedding_features(&batch, column)?;
            let indices = UInt32Array::from_iter_values(kept.iter().map(|r| *r as u32));
            let rows =
                take_record_batch(&without_vectors, &indices).map_err(ClusterError::Arrow)?;
            let c = features::column_features(&rows)?;
            (features::combine(&e, &c), kept)
        }
    };
    if kept.len() < batch.num_rows() {
        notes.push(format!(
            "{} rows without a vector were left out",
            batch.num_rows() - kept.len()
        ));
    }
    for s in &features.skipped {
        notes.push(format!("not used: {s}"));
    }
    let indices = UInt32Array::from_iter_values(kept.iter().map(|r| *r as u32));
    let shown = take_record_batch(&without_vectors, &indices).map_err(ClusterError::Arrow)?;
    let matrix = &features.matrix;
    job.set_message("clustering".to_string());
    let (labels, clusters, silhouettes) = match request.method {
        Method::Kmeans => {
            let options = KMeansOptions {
                k: request.k,
                seed: request.seed,
                ..KMeansOptions::for_rows(matrix.rows())
            };
            let result = kmeans(matrix, &options, job)?;
            let labels: Vec<i32> = result.labels.iter().map(|l| *l as i32).collect();
            (labels, result.k, result.silhouettes)
        }
        Method::Hdbscan => {
            let reduced = reduce(matrix, HDBSCAN_DIMS, request.seed, job)?;
            let options = HdbscanOptions {
                min_cluster_size: request.min_cluster_size.max(2),
                ..HdbscanOptions::default()
            };
            let result = hdbscan(&reduced, &options, job)?;
            let noise = result.labels.iter().filter(|l| **l < 0).count();
            if noise > 0 {
                notes.push(format!("{noise} rows are noise (in no cluster)"));
            }
            (result.labels, result.clusters, Vec::new())
        }
    };
    if job.is_cancelled() {
        return Err(ClusterError::Cancelled);
    }
    let labels = by_size(&labels);
    job.set_message("placing the rows in 2-D".to_string());
    let projected_by = if request.projection == Projection::Umap && matrix.rows() > UMAP_MAX_ROWS {
        notes.push(format!(
            "the scatter view uses PCA: UMAP lays out at most {UMAP_MAX_ROWS} rows"
        ));
        Projection::Pca
    } else {
        request.projection
    };
    let layout = umap::UmapOptions {
        seed: request.seed,
        ..umap::UmapOptions::default()
    };
    let projection = project_2d(matrix, projected_by, &layout, job)?;
    let texts = row_texts(&shown, kind);
    // Passages are described by their document, not by offsets.
    let describing = match kind {
        DatasetKind::Documents => project_named(&shown, &["title", "format"]),
        DatasetKind::Table => shown.clone(),
    };
    let subpopulations = describe::describe(&describing, &labels, matrix, &texts);
    let dimensions = describe::structure(&subpopulations);
    Ok(ClusterReport {
        dataset: request.dataset.clone(),
        version,
        by,
        method: request.method,
        clusters,
        rows: labels.len(),
        labels,
        projection,
        projected_by,
        subpopulations,
        dimensions,
        silhouettes,
        features: features.columns.clone(),
        notes,
        seconds: started.elapsed().as_secs_f64(),
        rows_shown: Some(shown),
    })
}

/// Labels renumbered so that cluster 0 is the largest (noise stays -1).
fn by_size(labels: &[i32]) -> Vec<i32> {
    let mut sizes: std::collections::HashMap<i32, usize> = std::collections::HashMap::new();
    for l in labels.iter().filter(|l| **l >= 0) {
        *sizes.entry(*l).or_default() += 1;
    }
    let mut order: Vec<(i32, usize)> = sizes.into_iter().collect();
    order.sort_by_key(|(l, n)| (std::cmp::Reverse(*n), *l));
    let new: std::collections::HashMap<i32, i32> = order
        .iter()
        .enumerate()
        .map(|(i, (l, _))| (*l, i as i32))
        .collect();
    labels
        .iter()
        .map(|l| new.get(l).copied().unwrap_or(-1))
        .collect()
}

/// The batch without its vector column (shown rows and column features).
fn strip_vectors(batch: &RecordBatch, vector_column: Option<&str>) -> RecordBatch {
    let keep: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            Some(f.name().as_str()) != vector_column
                && !matches!(f.data_type(), DataType::FixedSizeList(..))
        })
        .map(|(i, _)| i)
        .collect();
    batch.project(&keep).unwrap_or_else(|_| batch.clone())
}

/// The columns of `batch` with these names (those it has).
fn project_named(batch: &RecordBatch, names: &[&str]) -> RecordBatch {
    let schema = batch.schema();
    let keep: Vec<usize> = names
        .iter()
        .filter_map(|n| schema.index_of(n).ok())
        .collect();
    batch.project(&keep).unwrap_or_else(|_| batch.clone())
}

/// `matrix` in at most `dims` dimensions (PCA), unchanged when already small.
fn reduce(matrix: &Matrix, dims: usize, seed: u64, watch: &dyn Watch) -> Result<Matrix, Cancelled> {
    if matrix.cols() <= dims {
        return Ok(matrix.clone());
    }
    Ok(fit_pca(matrix, dims, seed, watch)?.project(matrix))
}

/// Each row's 2-D position for the scatter view: UMAP (with `layout`'s
/// settings, after a PCA to 50 dimensions when there are more) or PCA.
/// `watch` hears of the PCA and UMAP steps and can stop them.
pub fn project_2d(
    matrix: &Matrix,
    how: Projection,
    layout: &umap::UmapOptions,
    watch: &dyn Watch,
) -> Result<Vec<[f32; 2]>, ClusterError> {
    let seed = layout.seed;
    if matrix.rows() == 0 {
        return Ok(Vec::new());
    }
    if how == Projection::Umap {
        return Ok(umap::umap(
            &reduce(matrix, UMAP_DIMS, seed, watch)?,
            layout,
            watch,
        )?);
    }
    let projected = if matrix.cols() >= 2 {
        fit_pca(matrix, 2, seed, watch)?.project(matrix)
    } else {
        matrix.clone()
    };
    Ok((0..projected.rows())
        .map(|r| {
            let row = projected.row(r);
            [
                row.first().copied().unwrap_or(0.0),
                row.get(1).copied().unwrap_or(0.0),
            ]
        })
        .collect())
}

/// The text of each row for term labels: a passage's text, or a table's
/// wordy columns (text with many distinct values) joined.
fn row_texts(batch: &RecordBatch, kind: DatasetKind) -> Vec<String> {
    use arrow::array::{Array, AsArray};
    let wanted: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| match kind {
            DatasetKind::Documents => f.name() == "text" || f.name() == "title",
            DatasetKind::Table => matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ),
        })
        .map(|(i, _)| i)
        .collect();
    let columns: Vec<_> = wanted
        .iter()
        .filter_map(|i| arrow::compute::cast(batch.column(*i), &DataType::Utf8).ok())
        .filter(|c| {
            // Tables: only columns that read like prose (many distinct values
            // of several words each), not names, codes or e-mail addresses.
            kind == DatasetKind::Documents || {
                let s = c.as_string::<i32>();
                let mut values: Vec<&str> = (0..s.len())
                    .filter(|i| s.is_valid(*i))
                    .map(|i| s.value(i))
                    .collect();
                let words: usize = values.iter().map(|v| v.split_whitespace().count()).sum();
                let prose = words >= 3 * values.len().max(1);
                values.sort_unstable();
                values.dedup();
                prose && values.len() > features::MAX_CATEGORIES
            }
        })
        .collect();
    if columns.is_empty() {
        return Vec::new();
    }
    (0..batch.num_rows())
        .map(|r| {
            columns
                .iter()
                .filter_map(|c| {
                    let s = c.as_string::<i32>();
                    s.is_valid(r).then(|| s.value(r))
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The rows of one subpopulation as a new dataset `name` of the lake.
pub async fn save_slice(
    lake: &mut Lake,
    report: &ClusterReport,
    cluster: i32,
    name: &str,
) -> Result<usize, ClusterError> {
    if lake.entry(name).is_ok() {
        return Err(ClusterError::NameTaken(name.to_string()));
    }
    if !report.labels.contains(&cluster) {
        return Err(ClusterError::NoSuchCluster(cluster));
    }
    let rows = report
        .rows_shown
        .as_ref()
        .ok_or_else(|| ClusterError::Read("run the clustering again to save its slices".into()))?;
    let indices = UInt32Array::from_iter_values(
        report
            .labels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == cluster)
            .map(|(r, _)| r as u32),
    );
    let slice = take_record_batch(rows, &indices).map_err(ClusterError::Arrow)?;
    let count = slice.num_rows();
    lake.write_table(name, slice.schema(), vec![slice]).await?;
    Ok(count)
}
