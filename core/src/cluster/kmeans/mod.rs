//! k-means clustering of dense vectors.
//!
//! * Seeding: greedy k-means++ (Arthur and Vassilvitskii 2007). Each new
//!   centre is the best of `2 + ln k` candidates drawn with probability
//!   proportional to the squared distance to the nearest centre so far; rows
//!   the triangle inequality shows cannot get closer are not measured.
//! * Refinement: Lloyd's iterations that skip the distances the triangle
//!   inequality rules out. Each row keeps an upper bound on the distance to
//!   its centre and lower bounds on the distances to the others: one per
//!   centre (Elkan 2003), or one for all of them when k × rows is too large
//!   (Hamerly 2010), whose unsettled rows are compared with every centre as
//!   ‖x‖² + ‖c‖² − 2 x·c. At 384 dimensions Elkan's bounds skip 80–95 % of
//!   the distances after the first iterations. Convergence follows
//!   scikit-learn: stop when the labels no longer change or when the summed
//!   squared centre shift is at most `tolerance` × the mean column variance.
//! * Large inputs: mini-batch k-means (Sculley 2010), then one full pass that
//!   labels every row.
//! * `KChoice::Auto`: every k in the range is fitted (on a sample of large
//!   inputs) and the one with the best mean silhouette wins.
//!
//! Results depend only on the data, the options and the seed: rows are split
//! into chunks of a fixed size whatever the number of threads, and partial
//! results are combined in chunk order.

use super::kernels::{dot, dot_1x2, squared_distance};
use super::matrix::Matrix;
use crate::job::{Silenced, Watch};
use crate::parallel::parallel_map;
use crate::rng::Rng;

mod lloyd;
mod mini_batch;
mod nearest;
mod seeding;
mod silhouette;
#[cfg(test)]
mod tests;

use lloyd::*;
use mini_batch::*;
use nearest::*;
use seeding::*;
use silhouette::*;

/// Inputs with at least this many rows use mini-batch k-means by default
/// ([`KMeansOptions::for_rows`]).
pub const MINI_BATCH_MIN_ROWS: usize = 200_000;

/// The mini-batch size [`KMeansOptions::for_rows`] chooses for large inputs.
pub const DEFAULT_BATCH_SIZE: usize = 4096;

/// With `KChoice::Auto`, inputs with more rows than this are scanned on a
/// sample of this many rows; only the final fit sees every row.
pub const AUTO_K_SAMPLE_ROWS: usize = 20_000;

/// Rows per unit of parallel work. Fixed, so that results do not depend on
/// the number of threads.
const CHUNK_ROWS: usize = 4096;

/// Elkan's bounds (one per row and centre) are kept while they take at most
/// this many values (256 MiB) and no more memory than the data; above, Lloyd's
/// iterations use Hamerly's (one per row).
const PER_CENTRE_BOUNDS_LIMIT: usize = 1 << 26;

/// Columns per block of the per-cluster sums (the unit of parallel work when
/// sums are updated).
const SUM_BLOCK_COLS: usize = 64;

/// Mini-batch k-means stops after this many steps without a better smoothed
/// batch inertia (scikit-learn's `max_no_improvement`).
const MINI_BATCH_PATIENCE: usize = 10;

/// Mini-batch centres that received less than this share of the heaviest
/// centre's rows are moved to random rows (scikit-learn's `reassignment_ratio`).
const REASSIGNMENT_RATIO: f64 = 0.01;

/// How many clusters to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KChoice {
    /// Exactly this many (fewer only when the data has fewer distinct rows).
    Fixed(usize),
    /// The k in `min..=max` with the best mean silhouette.
    Auto {
        /// Smallest k tried (at least 2).
        min: usize,
        /// Largest k tried.
        max: usize,
    },
}

impl Default for KChoice {
    fn default() -> Self {
        KChoice::Auto { min: 2, max: 12 }
    }
}

/// Settings of [`kmeans`].
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansOptions {
    /// How many clusters (default: automatic, 2 to 12).
    pub k: KChoice,
    /// Most Lloyd iterations; with mini-batches, most passes over the data
    /// (default 300, as scikit-learn).
    pub max_iterations: usize,
    /// Convergence threshold relative to the mean column variance (default
    /// 1e-4, scikit-learn's `tol`).
    pub tolerance: f64,
    /// Seed for the seeding and sampling; equal seeds give equal results.
    pub seed: u64,
    /// Mini-batch size, or `None` for full Lloyd iterations. The default is
    /// `None`; [`KMeansOptions::for_rows`] picks mini-batches for large inputs.
    pub mini_batch: Option<usize>,
    /// Rows sampled to compute silhouettes when k is automatic (default 3000).
    pub silhouette_sample: usize,
}

impl Default for KMeansOptions {
    fn default() -> Self {
        Self {
            k: KChoice::default(),
            max_iterations: 300,
            tolerance: 1e-4,
            seed: 0,
            mini_batch: None,
            silhouette_sample: 3000,
        }
    }
}

impl KMeansOptions {
    /// The defaults for an input of `rows` rows: full Lloyd iterations below
    /// [`MINI_BATCH_MIN_ROWS`] rows, mini-batches of [`DEFAULT_BATCH_SIZE`] from there.
    pub fn for_rows(rows: usize) -> Self {
        Self {
            mini_batch: (rows >= MINI_BATCH_MIN_ROWS).then_some(DEFAULT_BATCH_SIZE),
            ..Self::default()
        }
    }
}

/// What [`kmeans`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansResult {
    /// Number of clusters (the rows of `centroids`).
    pub k: usize,
    /// Cluster of each row, below `k`.
    pub labels: Vec<u32>,
    /// The cluster centres, `k` × columns.
    pub centroids: Matrix,
    /// Sum of squared distances from each row to its centroid.
    pub inertia: f64,
    /// Lloyd iterations (or mini-batch steps) of the final fit.
    pub iterations: usize,
    /// `(k, mean silhouette)` for every k scored when k is automatic, else empty.
    pub silhouettes: Vec<(usize, f64)>,
}

/// Why [`kmeans`] could not cluster.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KMeansError {
    /// The matrix has no rows.
    #[error("there are no rows to cluster")]
    Empty,
    /// Fewer rows than the clusters asked for.
    #[error("cannot make {k} clusters from {rows} rows")]
    TooFewRows {
        /// Rows in the matrix.
        rows: usize,
        /// Clusters asked for.
        k: usize,
    },
    /// A row holds NaN or an infinity.
    #[error("row {row} holds a value that is not a finite number (NaN or infinity)")]
    NonFinite {
        /// The first such row.
        row: usize,
    },
    /// The caller's watch asked to stop.
    #[error("clustering was cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(KMeansError::Cancelled);

/// Clusters the rows of `data` with k-means.
///
/// `watch` hears of each iteration (or, with an automatic k, each k tried)
/// and is asked between them and between seeding steps; a cancel stops the
/// work with [`KMeansError::Cancelled`].
///
/// * No rows: [`KMeansError::Empty`]; a NaN or infinite value:
///   [`KMeansError::NonFinite`]; fewer rows than a fixed k (or than the
///   smallest automatic k): [`KMeansError::TooFewRows`].
/// * Fewer *distinct* rows than k is not an error: the result has one
///   cluster per distinct row (so identical rows give a single cluster), and
///   `result.k` says how many. `KChoice::Fixed(0)` is read as 1.
/// * With `KChoice::Auto`, k is the one with the best silhouette; a tie goes
///   to the smaller k.
/// * With mini-batches a centre can, rarely, end with no rows; its cluster
///   is then empty rather than removed.
pub fn kmeans(
    data: &Matrix,
    options: &KMeansOptions,
    watch: &dyn Watch,
) -> Result<KMeansResult, KMeansError> {
    let rows = data.rows();
    if rows == 0 {
        return Err(KMeansError::Empty);
    }
    if let Some(row) = first_non_finite_row(data) {
        return Err(KMeansError::NonFinite { row });
    }
    match options.k {
        KChoice::Fixed(k) => {
            let k = k.max(1);
            if rows < k {
                return Err(KMeansError::TooFewRows { rows, k });
            }
            fit(data, k, options, options.mini_batch, watch)
        }
        KChoice::Auto { min, max } => {
            let min = min.max(2);
            if rows < min {
                return Err(KMeansError::TooFewRows { rows, k: min });
            }
            auto_k(data, min, max.max(min).min(rows), options, watch)
        }
    }
}

/// Mean silhouette (Euclidean) of `labels` over a sample of at most `sample`
/// rows of `data`, drawn deterministically from `seed`.
///
/// The silhouette of a row is `(b − a) / max(a, b)`, with `a` its mean
/// distance to the other sampled rows of its cluster and `b` the smallest
/// mean distance to the sampled rows of another cluster; a row alone in its
/// cluster scores 0. Returns 0 when the sample holds fewer than two clusters.
/// `labels` holds one label per row (extra rows or labels are ignored).
pub fn silhouette(data: &Matrix, labels: &[u32], sample: usize, seed: u64) -> f64 {
    let rows = data.rows().min(labels.len());
    let sampled = sample_indices(rows, sample, seed);
    silhouette_scores(data, &sampled, &[labels])
        .first()
        .copied()
        .unwrap_or(0.0)
}

// ---------------------------------------------------------------------------
// Fitting

/// One fit with a known k: Lloyd, or mini-batches when asked and useful.
fn fit(
    data: &Matrix,
    k: usize,
    options: &KMeansOptions,
    mini_batch: Option<usize>,
    watch: &dyn Watch,
) -> Result<KMeansResult, KMeansError> {
    let norms = row_norms(data);
    match mini_batch {
        Some(batch) if batch > 0 && batch < data.rows() => {
            mini_batch_kmeans(data, &norms, k, batch, options, watch)
        }
        _ => {
            let mut rng = Rng::new(options.seed);
            let per_centre = use_per_centre_bounds(data.rows(), k, data.cols());
            let seeding = seed_centres(data, &norms, k, per_centre, &mut rng, watch)?;
            lloyd(data, &norms, seeding, options, watch, None)
        }
    }
}

/// Fits every k in `min..=max` (on a sample of large inputs), keeps the one
/// with the best silhouette and, when a sample was used, refits it on all rows.
fn auto_k(
    data: &Matrix,
    min: usize,
    max: usize,
    options: &KMeansOptions,
    watch: &dyn Watch,
) -> Result<KMeansResult, KMeansError> {
    let sampled = data.rows() > AUTO_K_SAMPLE_ROWS;
    let sample_matrix;
    let scanned = if sampled {
        sample_matrix = data.select(&sample_indices(
            data.rows(),
            AUTO_K_SAMPLE_ROWS,
            options.seed ^ 0x5a5a_5a5a,
        ));
        &sample_matrix
    } else {
        data
    };
    let mut fits: Vec<KMeansResult> = Vec::new();
    for k in min..=max {
        watch.check()?;
        watch.progress(
            "k-means: choosing k",
            (k - min) as u64,
            (max - min + 1) as u64,
        );
        // The scan is small: full Lloyd iterations whatever `mini_batch` says.
        let result = fit(scanned, k, options, None, &Silenced(watch))?;
        let fewer = result.k < k;
        fits.push(result);
        if fewer {
            break; // the data has no more distinct rows: larger k give the same
        }
    }
    let silhouette_rows = sample_indices(scanned.rows(), options.silhouette_sample, options.seed);
    let scored: Vec<usize> = (0..fits.len()).filter(|&i| fits[i].k >= 2).collect();
    let labelings: Vec<&[u32]> = scored.iter().map(|&i| fits[i].labels.as_slice()).collect();
    let scores = silhouette_scores(scanned, &silhouette_rows, &labelings);
    let silhouettes: Vec<(usize, f64)> = scored
        .iter()
        .zip(&scores)
        .map(|(&i, &score)| (fits[i].k, score))
        .collect();
    let mut best = fits.len() - 1;
    let mut best_score = f64::NEG_INFINITY;
    for (&i, &score) in scored.iter().zip(&scores) {
        if score > best_score {
            best = i;
            best_score = score;
        }
    }
    let mut chosen = if sampled {
        fit(data, fits[best].k, options, options.mini_batch, watch)?
    } else {
        fits.swap_remove(best)
    };
    chosen.silhouettes = silhouettes;
    Ok(chosen)
}

/// The first row holding NaN or an infinity.
fn first_non_finite_row(data: &Matrix) -> Option<usize> {
    let cols = data.cols();
    if cols == 0 {
        return None;
    }
    let chunks: Vec<(usize, &[f32])> = data
        .as_slice()
        .chunks(CHUNK_ROWS * cols)
        .enumerate()
        .map(|(index, values)| (index * CHUNK_ROWS, values))
        .collect();
    parallel_map(chunks, |(start, values)| {
        values
            .chunks_exact(cols)
            .position(|row| !row.iter().all(|v| v.is_finite()))
            .map(|offset| start + offset)
    })
    .into_iter()
    .flatten()
    .next()
}

/// ‖x‖² of every row.
fn row_norms(data: &Matrix) -> Vec<f32> {
    let mut norms = vec![0f32; data.rows()];
    let chunks: Vec<(usize, &mut [f32])> = norms
        .chunks_mut(CHUNK_ROWS)
        .enumerate()
        .map(|(index, chunk)| (index * CHUNK_ROWS, chunk))
        .collect();
    parallel_map(chunks, |(start, chunk)| {
        for (offset, norm) in chunk.iter_mut().enumerate() {
            let row = data.row(start + offset);
            *norm = dot(row, row);
        }
    });
    norms
}

/// Mean over the columns of their (population) variance. One pass: each
/// chunk sums, in f32, the values' offsets from the first row and their
/// squares; chunks are combined in f64. (Precise enough for a threshold.)
fn mean_variance(data: &Matrix) -> f64 {
    let (rows, cols) = (data.rows(), data.cols());
    if rows == 0 || cols == 0 {
        return 0.0;
    }
    let origin = data.row(0);
    let starts: Vec<usize> = (0..rows).step_by(CHUNK_ROWS).collect();
    let partial = parallel_map(starts, |start| {
        let mut sums = vec![0f32; cols];
        let mut squares = vec![0f32; cols];
        for i in start..(start + CHUNK_ROWS).min(rows) {
            let values = sums
                .iter_mut()
                .zip(squares.iter_mut())
                .zip(data.row(i))
                .zip(origin);
            for (((sum, square), &v), &o) in values {
                let offset = v - o;
                *sum += offset;
                *square += offset * offset;
            }
        }
        (sums, squares)
    });
    let mut sums = vec![0f64; cols];
    let mut squares = vec![0f64; cols];
    for (chunk_sums, chunk_squares) in partial {
        for (total, &s) in sums.iter_mut().zip(&chunk_sums) {
            *total += f64::from(s);
        }
        for (total, &s) in squares.iter_mut().zip(&chunk_squares) {
            *total += f64::from(s);
        }
    }
    let n = rows as f64;
    let variance: f64 = sums
        .iter()
        .zip(&squares)
        .map(|(&sum, &square)| (square / n - (sum / n).powi(2)).max(0.0))
        .sum();
    variance / cols as f64
}

/// `count` distinct indices below `rows`, uniformly at random from `seed`,
/// in increasing order (all of them when `count >= rows`). Selection
/// sampling: one pass, no memory beyond the result.
pub(super) fn sample_indices(rows: usize, count: usize, seed: u64) -> Vec<usize> {
    if count >= rows {
        return (0..rows).collect();
    }
    let mut rng = Rng::new(seed);
    let mut picked = Vec::with_capacity(count);
    for i in 0..rows {
        if picked.len() == count {
            break;
        }
        if rng.below(rows - i) < count - picked.len() {
            picked.push(i);
        }
    }
    picked
}
