//! HDBSCAN* (Campello, Moulavi and Sander 2013), computed the way McInnes and
//! Healy's accelerated version does: density-based clusters of any shape, the
//! number of clusters chosen by the data, and points in no dense region left
//! as noise.
//!
//! The steps, and the conventions chosen so results can be compared with
//! scikit-learn's `sklearn.cluster.HDBSCAN` (Euclidean metric, `alpha` 1,
//! `cluster_selection_epsilon` 0, no `max_cluster_size`):
//!
//! 1. **Core distance** of a point: the distance to its `min_samples`-th
//!    nearest neighbour, *the point itself counted as the first* (the
//!    scikit-learn convention; the older `hdbscan` package does not count the
//!    point, so its `min_samples` is one less for the same result). With
//!    `min_samples` = 1 every core distance is 0 and the method is plain
//!    single linkage with runt pruning. Exact duplicates count as neighbours
//!    at distance 0. Neighbours are searched in a KD-tree (bounding boxes,
//!    at most 16 points per leaf), one point per search, on all cores.
//! 2. **Mutual reachability** `max(core(a), core(b), |a − b|)` on the
//!    complete graph, and its **minimum spanning tree**. Edges are ordered
//!    by (weight, smaller end, larger end), which makes the tree unique, so
//!    every route below gives the same tree and the result does not depend
//!    on thread timing. Exact duplicate rows are merged first (a group of
//!    identical rows is joined by edges of its core distance, the lightest
//!    any member has), so heavy duplication cannot make the search
//!    quadratic.
//!    - Usually a **Borůvka over the KD-tree** of step 1: each round finds,
//!      for every component but the largest, its lightest edge to another
//!      component. A point's 16 nearest neighbours often settle its answer
//!      outright (an edge from the list lighter than the distance to the
//!      list's end cannot be beaten) or show it cannot beat its component's
//!      best; otherwise a search skips tree nodes that hold only its own
//!      component, or whose other components' smallest core distance or
//!      box distance is already too large.
//!    - When the data spread over so many dimensions that the tree cannot
//!      prune (the neighbour searches of step 1 measured over a tenth of the
//!      data each, or Borůvka measures more than half what Prim would),
//!      **Prim on the implicit complete graph**, O(n²) distances shared
//!      between threads.
//!
//!    Distances are `f32` (scikit-learn works in `f64`), computed sixteen
//!    points at a time in the same summation order as
//!    [`squared_distance`](super::kernels::squared_distance).
//! 3. **Single-linkage tree** from the sorted tree edges (union-find).
//! 4. **Condensed tree**: walking down from the root, a split where two or
//!    more parts have at least `min_cluster_size` points gives child
//!    clusters; the points of smaller parts fall out of the cluster at
//!    `λ = 1 / distance`. As in Campello et al., all edges of one weight are
//!    removed at once, so a tie between several edges is one multi-way split
//!    (scikit-learn and `hdbscan` split ties one edge at a time in whatever
//!    order their sort left them, which can leave zero-lifetime clusters);
//!    the condensed tree is therefore the same for every minimum spanning
//!    tree. Identical rows never split (their points fall out together at
//!    `λ = ∞`).
//! 5. **Selection** by excess of mass (a cluster is kept when its stability
//!    is at least the sum of its children's) or by leaf; the root is a
//!    candidate only with `allow_single_cluster` (with leaf selection, when
//!    nothing ever splits).
//! 6. **Labels and probabilities** as scikit-learn and `hdbscan` define
//!    them: a point belongs to the selected cluster above the node it falls
//!    out of, and its probability is `λ_point / λ_max` of that cluster.
//!    When the root is the single selected cluster, only points that stay
//!    until the root itself dies are labelled (again as scikit-learn does).
//!
//! Identical rows: with `allow_single_cluster` they form one cluster whose
//! points all have probability 1; without it they are all noise, because a
//! set that never splits has no cluster below the root. Fewer rows than
//! `min_cluster_size` are all noise. Where scikit-learn raises an error
//! (one row, `min_samples` above the row count) this module clamps instead:
//! `min_samples` is capped at the row count, and `min_cluster_size` below 2
//! is taken as 2.
//!
//! One deliberate difference from scikit-learn, which only shows with exact
//! duplicates: when a cluster holds `min_samples` identical rows its largest
//! `λ` is infinite, and scikit-learn then gives every other member
//! probability 0; here the largest finite `λ` of the cluster is used instead.
//!
//! Work is spread over the available cores with `std::thread::scope`; every
//! result is the same whatever the number of threads.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;

use super::matrix::Matrix;
use crate::job::Watch;

mod condensed;
mod kdtree;
mod spanning;
#[cfg(test)]
mod tests;

use condensed::*;
use kdtree::*;
use spanning::*;

/// Largest number of rows [`hdbscan`] accepts.
pub const MAX_ROWS: usize = 200_000;

/// Points per [`Blocks`] block, and the most per KD-tree leaf.
const BLOCK: usize = 16;
/// Nearest neighbours kept per point to seed the Borůvka bounds.
const CANDIDATES: usize = 16;
/// Points per parallel job.
const CHUNK: usize = 256;
/// When the nearest-neighbour searches measured more than this share of the
/// data per point, the tree prunes too little (data spread over many
/// dimensions) and Prim over all pairs beats Borůvka.
const BRUTE_SHARE: f64 = 0.1;
/// Box lower bounds are shrunk by this factor so that rounding (the bound
/// and the distance are summed in different orders) can never prune a point
/// that is really within reach; pruning stays exact and deterministic.
const SLACK: f32 = 0.999;
/// Prim uses threads only when a step measures at least this many
/// coordinates (vertices × dimensions); below, the rendezvous costs more.
const PRIM_PARALLEL_WORK: usize = 200_000;
/// "No index".
const NONE: u32 = u32::MAX;

/// How clusters are picked from the condensed tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    /// Excess of mass: the most persistent clusters, large or small.
    #[default]
    Eom,
    /// The leaves of the condensed tree: many small, homogeneous clusters.
    Leaf,
}

/// Parameters of [`hdbscan`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HdbscanOptions {
    /// Smallest group of points that counts as a cluster (at least 2; 15 by
    /// default).
    pub min_cluster_size: usize,
    /// Neighbours (the point itself included, as in scikit-learn) that make
    /// a point dense; larger values are more conservative and leave more
    /// noise. `None` means `min_cluster_size`.
    pub min_samples: Option<usize>,
    /// How clusters are chosen from the condensed tree.
    pub selection: Selection,
    /// Whether the whole data set may come back as one cluster.
    pub allow_single_cluster: bool,
}

impl Default for HdbscanOptions {
    fn default() -> Self {
        HdbscanOptions {
            min_cluster_size: 15,
            min_samples: None,
            selection: Selection::Eom,
            allow_single_cluster: false,
        }
    }
}

/// What [`hdbscan`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct HdbscanResult {
    /// Cluster of each row: `-1` for noise, else `0..clusters`, numbered by
    /// decreasing size (ties in the order of the condensed tree).
    pub labels: Vec<i32>,
    /// Strength of each row's membership in its cluster, in [0, 1]: 1 for
    /// points in the cluster's densest part, 0 for noise.
    pub probabilities: Vec<f32>,
    /// Number of clusters.
    pub clusters: usize,
    /// Persistence of each cluster (by label), in [0, 1]: its stability
    /// (excess of mass) divided by its size times the largest finite `λ` in
    /// the tree, as the `hdbscan` package's `cluster_persistence_` (`λ` of
    /// exact duplicates, infinite, counts as that largest one). Near 1: a
    /// cluster that persists over all density levels; near 0: an ephemeral
    /// one.
    pub persistence: Vec<f64>,
}

impl HdbscanResult {
    /// Every row noise.
    fn noise(rows: usize) -> Self {
        HdbscanResult {
            labels: vec![-1; rows],
            probabilities: vec![0.0; rows],
            clusters: 0,
            persistence: Vec::new(),
        }
    }
}

/// Why [`hdbscan`] could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HdbscanError {
    /// The matrix has no rows.
    #[error("HDBSCAN needs at least one row")]
    Empty,
    /// Row `row` (counted from 0) holds a NaN or an infinity.
    #[error("row {row} has a missing (NaN) or infinite value; HDBSCAN needs finite numbers")]
    NonFinite {
        /// The first offending row.
        row: usize,
    },
    /// More rows than [`MAX_ROWS`].
    #[error("{rows} rows is more than HDBSCAN accepts ({limit}); sample the rows first")]
    TooLarge {
        /// Rows given.
        rows: usize,
        /// Rows accepted.
        limit: usize,
    },
    /// The caller's watch asked to stop.
    #[error("HDBSCAN was cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(HdbscanError::Cancelled);

/// Clusters the rows of `data` (Euclidean distance). `watch` is told the
/// progress of the core distances and of the spanning tree, and asked from
/// the calling thread between pieces of work; a cancel stops the function
/// with [`HdbscanError::Cancelled`].
pub fn hdbscan(
    data: &Matrix,
    options: &HdbscanOptions,
    watch: &dyn Watch,
) -> Result<HdbscanResult, HdbscanError> {
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    hdbscan_with_threads(data, options, watch, threads)
}

/// [`hdbscan`] on a given number of threads.
fn hdbscan_with_threads(
    data: &Matrix,
    options: &HdbscanOptions,
    watch: &dyn Watch,
    threads: usize,
) -> Result<HdbscanResult, HdbscanError> {
    let n = data.rows();
    if n == 0 {
        return Err(HdbscanError::Empty);
    }
    if n > MAX_ROWS {
        return Err(HdbscanError::TooLarge {
            rows: n,
            limit: MAX_ROWS,
        });
    }
    if let Some(row) = (0..n).find(|&i| data.row(i).iter().any(|v| !v.is_finite())) {
        return Err(HdbscanError::NonFinite { row });
    }
    let min_cluster_size = options.min_cluster_size.max(2);
    let min_samples = options.min_samples.unwrap_or(min_cluster_size).clamp(1, n);
    if n < min_cluster_size {
        return Ok(HdbscanResult::noise(n));
    }
    let stop = Stop {
        watch,
        flag: AtomicBool::new(false),
    };
    let edges = spanning_tree(data, min_samples, Search::Auto, threads.max(1), &stop)?;
    let merges = single_linkage(n, edges);
    let tree = condense(n, &merges, min_cluster_size);
    Ok(extract(
        &tree,
        options.selection,
        options.allow_single_cluster,
    ))
}

// ---------------------------------------------------------------------------
// Cancellation and parallel jobs

/// The caller's watch (only ever called on the calling thread) and the flag
/// that tells worker threads to stop.
struct Stop<'a> {
    watch: &'a dyn Watch,
    flag: AtomicBool,
}

impl Stop<'_> {
    /// Tells the watch how far the current stage is.
    fn progress(&self, stage: &str, done: usize, total: usize) {
        self.watch.progress(stage, done as u64, total as u64);
    }

    /// Asks the watch; true once cancelled.
    fn check(&self) -> bool {
        if !self.flag.load(Ordering::Relaxed) && self.watch.is_cancelled() {
            self.flag.store(true, Ordering::Relaxed);
        }
        self.flag.load(Ordering::Relaxed)
    }

    fn result(&self) -> Result<(), HdbscanError> {
        if self.flag.load(Ordering::Relaxed) {
            Err(HdbscanError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Runs `work` on every item of `jobs` on `threads` threads (the calling
/// thread is one of them and polls the watch between items, and tells it
/// how many items were taken when a stage is named).
fn run_jobs<I, F>(
    jobs: I,
    threads: usize,
    stop: &Stop<'_>,
    stage: Option<&str>,
    work: F,
) -> Result<(), HdbscanError>
where
    I: Iterator + Send,
    I::Item: Send,
    F: Fn(I::Item) + Sync,
{
    let total = jobs.size_hint().0;
    let taken = AtomicUsize::new(0);
    let queue = Mutex::new(jobs);
    let next = || {
        let item = queue.lock().ok().and_then(|mut q| q.next());
        taken.fetch_add(usize::from(item.is_some()), Ordering::Relaxed);
        item
    };
    let flag = &stop.flag;
    thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|| {
                while !flag.load(Ordering::Relaxed) {
                    let Some(job) = next() else { break };
                    work(job);
                }
            });
        }
        while !stop.check() {
            if let Some(stage) = stage {
                stop.progress(stage, taken.load(Ordering::Relaxed), total);
            }
            let Some(job) = next() else { break };
            work(job);
        }
    });
    stop.result()
}
