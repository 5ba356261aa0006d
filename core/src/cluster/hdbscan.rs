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
//!    [`squared_distance`](super::matrix::squared_distance).
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

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;

use super::matrix::Matrix;

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
    /// The `cancel` callback asked to stop.
    #[error("HDBSCAN was cancelled")]
    Cancelled,
}

/// Clusters the rows of `data` (Euclidean distance). `cancel` is polled from
/// the calling thread between pieces of work; when it returns true the
/// function stops with [`HdbscanError::Cancelled`].
pub fn hdbscan(
    data: &Matrix,
    options: &HdbscanOptions,
    cancel: &dyn Fn() -> bool,
) -> Result<HdbscanResult, HdbscanError> {
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    hdbscan_with_threads(data, options, cancel, threads)
}

/// [`hdbscan`] on a given number of threads.
fn hdbscan_with_threads(
    data: &Matrix,
    options: &HdbscanOptions,
    cancel: &dyn Fn() -> bool,
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
        cancel,
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

/// The caller's cancel callback (only ever called on the calling thread) and
/// the flag that tells worker threads to stop.
struct Stop<'a> {
    cancel: &'a dyn Fn() -> bool,
    flag: AtomicBool,
}

impl Stop<'_> {
    /// Asks the callback; true once cancelled.
    fn check(&self) -> bool {
        if !self.flag.load(Ordering::Relaxed) && (self.cancel)() {
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
/// thread is one of them and polls the cancel callback between items).
fn run_jobs<I, F>(jobs: I, threads: usize, stop: &Stop<'_>, work: F) -> Result<(), HdbscanError>
where
    I: Iterator + Send,
    I::Item: Send,
    F: Fn(I::Item) + Sync,
{
    let queue = Mutex::new(jobs);
    let next = || queue.lock().ok().and_then(|mut q| q.next());
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
            let Some(job) = next() else { break };
            work(job);
        }
    });
    stop.result()
}

// ---------------------------------------------------------------------------
// Minimum spanning tree of mutual reachability

/// How the spanning tree is found (the tests force each way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
enum Search {
    /// Borůvka unless the neighbour searches show the tree prunes poorly.
    Auto,
    /// Borůvka over the KD-tree.
    Tree,
    /// Prim over all pairs.
    Brute,
}

/// A weighted edge; `w` is the *squared* mutual reachability distance.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Edge {
    w: f32,
    a: u32,
    b: u32,
}

/// The mutual-reachability minimum spanning tree of the rows (`n − 1` edges
/// between row indices).
fn spanning_tree(
    data: &Matrix,
    min_samples: usize,
    search: Search,
    threads: usize,
    stop: &Stop<'_>,
) -> Result<Vec<Edge>, HdbscanError> {
    let n = data.rows();
    let (reps, unique_of) = dedup(data);
    let m = reps.len();
    let mut multiplicity = vec![0u32; m];
    for &u in &unique_of {
        multiplicity[u as usize] += 1;
    }
    let tree = KdTree::build(&data.select(&reps));
    // Everything below works on positions in the tree's order.
    let mult: Vec<u32> = tree
        .order
        .iter()
        .map(|&u| multiplicity[u as usize])
        .collect();
    let mut position = vec![0u32; m];
    for (pos, &u) in tree.order.iter().enumerate() {
        position[u as usize] = pos as u32;
    }
    let found = core_distances(&tree, &mult, min_samples, threads, stop)?;
    let core = &found.core;
    let brute = match search {
        Search::Auto => found.searched_share > BRUTE_SHARE,
        Search::Tree => false,
        Search::Brute => true,
    };
    // Borůvka may give up after measuring half what Prim would.
    let budget = match search {
        Search::Auto => (m as u64 * m as u64) / 4,
        _ => u64::MAX,
    };
    let tree_edges = if brute {
        None
    } else {
        boruvka(&tree, core, &found.neighbours, budget, threads, stop)?
    };
    let mst = match tree_edges {
        Some(edges) => edges,
        None => prim(&tree, core, threads, stop)?,
    };

    let row_at = |pos: u32| reps[tree.order[pos as usize] as usize] as u32;
    let mut edges: Vec<Edge> = Vec::with_capacity(n.saturating_sub(1));
    edges.extend(mst.iter().map(|e| Edge {
        w: e.w,
        a: row_at(e.a),
        b: row_at(e.b),
    }));
    // A duplicate joins its group's first row at the group's core distance,
    // the lightest edge any member has.
    for (row, &u) in unique_of.iter().enumerate() {
        let rep = reps[u as usize];
        if rep != row {
            edges.push(Edge {
                w: core[position[u as usize] as usize],
                a: rep as u32,
                b: row as u32,
            });
        }
    }
    Ok(edges)
}

/// Groups identical rows: the first row of each group (groups numbered in
/// order of first appearance) and the group of every row. `-0.0` equals `0.0`.
fn dedup(data: &Matrix) -> (Vec<usize>, Vec<u32>) {
    let n = data.rows();
    let compare = |a: usize, b: usize| {
        let (x, y) = (data.row(a), data.row(b));
        x.iter()
            .zip(y)
            .map(|(p, q)| (p + 0.0).total_cmp(&(q + 0.0)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| compare(a, b).then(a.cmp(&b)));
    // Each row's group leader: the smallest index among equal rows.
    let mut leader = vec![0usize; n];
    let mut start = 0;
    for i in 1..=n {
        if i == n || compare(order[start], order[i]).is_ne() {
            for &row in &order[start..i] {
                leader[row] = order[start];
            }
            start = i;
        }
    }
    let mut reps = Vec::new();
    let mut unique_of = vec![0u32; n];
    for row in 0..n {
        if leader[row] == row {
            unique_of[row] = reps.len() as u32;
            reps.push(row);
        } else {
            unique_of[row] = unique_of[leader[row]];
        }
    }
    (reps, unique_of)
}

/// Points stored [`BLOCK`] at a time, dimension by dimension inside each
/// block, so that the distances from one point to a whole block are computed
/// together (the loops vectorise across the block). The sums are formed in
/// exactly the order of [`squared_distance`](super::matrix::squared_distance),
/// so both give the same bits.
struct Blocks {
    dim: usize,
    data: Vec<f32>,
}

impl Blocks {
    /// Room for `slots` points (rounded up to whole blocks), all zero.
    fn new(dim: usize, slots: usize) -> Self {
        Blocks {
            dim,
            data: vec![0.0; slots.div_ceil(BLOCK) * BLOCK * dim],
        }
    }

    fn set(&mut self, slot: usize, x: &[f32]) {
        let (block, lane) = (slot / BLOCK, slot % BLOCK);
        let cols = &mut self.data[block * BLOCK * self.dim..(block + 1) * BLOCK * self.dim];
        for (col, &v) in cols.chunks_exact_mut(BLOCK).zip(x) {
            col[lane] = v;
        }
    }

    fn get(&self, slot: usize, out: &mut Vec<f32>) {
        let (block, lane) = (slot / BLOCK, slot % BLOCK);
        let cols = &self.data[block * BLOCK * self.dim..(block + 1) * BLOCK * self.dim];
        out.clear();
        out.extend(cols.chunks_exact(BLOCK).map(|col| col[lane]));
    }

    /// Squared distances from `x` to the points of block `block`.
    fn distances(&self, block: usize, x: &[f32]) -> [f32; BLOCK] {
        let cols = &self.data[block * BLOCK * self.dim..(block + 1) * BLOCK * self.dim];
        if self.dim < 16 {
            // At most one term per lane of `squared_distance`: its sum is then
            // the plain sum in dimension order.
            let mut sum = [0f32; BLOCK];
            for (col, &v) in cols.chunks_exact(BLOCK).zip(x) {
                for (s, &c) in sum.iter_mut().zip(col) {
                    let t = v - c;
                    *s += t * t;
                }
            }
            return sum;
        }
        let whole = self.dim / 8 * 8;
        let mut lanes = [[0f32; BLOCK]; 8];
        for (j, (col, &v)) in cols.chunks_exact(BLOCK).zip(x).take(whole).enumerate() {
            for (acc, &c) in lanes[j % 8].iter_mut().zip(col) {
                let t = v - c;
                *acc += t * t;
            }
        }
        let mut sum = [0f32; BLOCK];
        for lane in &lanes {
            for (s, &a) in sum.iter_mut().zip(lane) {
                *s += a;
            }
        }
        for (col, &v) in cols.chunks_exact(BLOCK).zip(x).skip(whole) {
            for (s, &c) in sum.iter_mut().zip(col) {
                let t = v - c;
                *s += t * t;
            }
        }
        sum
    }
}

/// A node of the KD-tree: points `start..end` of the tree order, children
/// `left` and `right` (`NONE` for a leaf), and for a leaf its block of
/// [`KdTree::blocks`].
#[derive(Debug, Clone, Copy)]
struct KdNode {
    start: u32,
    end: u32,
    left: u32,
    right: u32,
    block: u32,
}

/// A KD-tree with a bounding box per node. Children come after their parent
/// in `nodes`, so walking `nodes` backwards visits children first.
struct KdTree {
    dim: usize,
    /// Point coordinates in tree order.
    points: Vec<f32>,
    /// The same, one block per leaf (leaf `node.block`).
    blocks: Blocks,
    /// Original index (in the matrix given to `build`) of each tree position.
    order: Vec<u32>,
    nodes: Vec<KdNode>,
    lo: Vec<f32>,
    hi: Vec<f32>,
}

impl KdTree {
    fn build(rows: &Matrix) -> Self {
        let (m, dim) = (rows.rows(), rows.cols());
        let mut order: Vec<u32> = (0..m as u32).collect();
        let mut nodes = vec![KdNode {
            start: 0,
            end: m as u32,
            left: NONE,
            right: NONE,
            block: NONE,
        }];
        let (mut lo, mut hi) = (vec![0f32; dim], vec![0f32; dim]);
        let mut stack = vec![0usize];
        while let Some(id) = stack.pop() {
            let KdNode { start, end, .. } = nodes[id];
            let (s, e) = (start as usize, end as usize);
            let (l, h) = (
                &mut lo[id * dim..(id + 1) * dim],
                &mut hi[id * dim..(id + 1) * dim],
            );
            l.fill(f32::INFINITY);
            h.fill(f32::NEG_INFINITY);
            for &p in &order[s..e] {
                for ((a, b), &v) in l.iter_mut().zip(h.iter_mut()).zip(rows.row(p as usize)) {
                    *a = a.min(v);
                    *b = b.max(v);
                }
            }
            if e - s <= BLOCK {
                continue;
            }
            // The widest dimension (the first when all are flat).
            let (split, _) = l.iter().zip(h.iter()).map(|(a, b)| b - a).enumerate().fold(
                (0, 0f32),
                |best, (j, s)| if s > best.1 { (j, s) } else { best },
            );
            let mid = s + (e - s) / 2;
            order[s..e].select_nth_unstable_by(mid - s, |&a, &b| {
                let (x, y) = (rows.row(a as usize)[split], rows.row(b as usize)[split]);
                x.total_cmp(&y).then(a.cmp(&b))
            });
            let first_child = nodes.len();
            for (a, b) in [(s, mid), (mid, e)] {
                nodes.push(KdNode {
                    start: a as u32,
                    end: b as u32,
                    left: NONE,
                    right: NONE,
                    block: NONE,
                });
                lo.extend(std::iter::repeat_n(0.0, dim));
                hi.extend(std::iter::repeat_n(0.0, dim));
            }
            nodes[id].left = first_child as u32;
            nodes[id].right = first_child as u32 + 1;
            stack.push(first_child);
            stack.push(first_child + 1);
        }
        let mut points = Vec::with_capacity(m * dim);
        for &p in &order {
            points.extend_from_slice(rows.row(p as usize));
        }
        let leaves = nodes.iter().filter(|nd| nd.left == NONE).count();
        let mut blocks = Blocks::new(dim, leaves * BLOCK);
        for (block, nd) in nodes.iter_mut().filter(|nd| nd.left == NONE).enumerate() {
            nd.block = block as u32;
            for (i, pos) in (nd.start as usize..nd.end as usize).enumerate() {
                blocks.set(block * BLOCK + i, &points[pos * dim..(pos + 1) * dim]);
            }
        }
        KdTree {
            dim,
            points,
            blocks,
            order,
            nodes,
            lo,
            hi,
        }
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    fn point(&self, pos: usize) -> &[f32] {
        &self.points[pos * self.dim..(pos + 1) * self.dim]
    }

    /// Squared distance from `x` to the box of `node`, shrunk by [`SLACK`].
    fn box_distance(&self, x: &[f32], node: usize) -> f32 {
        let range = node * self.dim..(node + 1) * self.dim;
        let mut sum = 0f32;
        for ((&v, &l), &h) in x.iter().zip(&self.lo[range.clone()]).zip(&self.hi[range]) {
            // (Comparisons rather than `max`, which spends time on NaNs.)
            let (below, above) = (l - v, v - h);
            let t = if below > above { below } else { above };
            let t = if t > 0.0 { t } else { 0.0 };
            sum += t * t;
        }
        sum * SLACK
    }

    /// The `want` nearest other points of `p`, nearest first, as
    /// (squared distance, position); returns how many points were measured.
    fn nearest(
        &self,
        p: usize,
        want: usize,
        out: &mut Vec<(f32, u32)>,
        stack: &mut Vec<(u32, f32)>,
    ) -> usize {
        out.clear();
        if want == 0 {
            return 0;
        }
        let x = self.point(p);
        let mut measured = 0;
        stack.clear();
        stack.push((0, 0.0));
        while let Some((node, bound)) = stack.pop() {
            if out.len() == want && out.last().is_some_and(|w| bound >= w.0) {
                continue;
            }
            let nd = self.nodes[node as usize];
            if nd.left == NONE {
                measured += (nd.end - nd.start) as usize;
                let distances = self.blocks.distances(nd.block as usize, x);
                for (q, &d) in (nd.start as usize..nd.end as usize).zip(&distances) {
                    if q != p {
                        keep_nearest(out, want, d, q);
                    }
                }
            } else {
                let (dl, dr) = (
                    self.box_distance(x, nd.left as usize),
                    self.box_distance(x, nd.right as usize),
                );
                if dl <= dr {
                    stack.push((nd.right, dr));
                    stack.push((nd.left, dl));
                } else {
                    stack.push((nd.left, dl));
                    stack.push((nd.right, dr));
                }
            }
        }
        measured
    }
}

/// Inserts `(d, q)` into `out` (sorted, at most `want` long) if it is among
/// the nearest so far.
fn keep_nearest(out: &mut Vec<(f32, u32)>, want: usize, d: f32, q: usize) {
    if out.len() == want && out.last().is_some_and(|w| d >= w.0) {
        return;
    }
    let at = out.partition_point(|c| c.0 <= d);
    out.insert(at, (d, q as u32));
    out.truncate(want);
}

/// Squared core distance of every tree position (`mult` rows share each
/// position) and its nearest other positions, from KD-tree searches.
fn core_distances(
    tree: &KdTree,
    mult: &[u32],
    min_samples: usize,
    threads: usize,
    stop: &Stop<'_>,
) -> Result<Neighbourhoods, HdbscanError> {
    let m = tree.len();
    let want = wanted(min_samples, m);
    let mut core = vec![0f32; m];
    let mut neighbours = vec![(NONE, f32::INFINITY); m * CANDIDATES];
    let measured = AtomicU64::new(0);
    let jobs = core
        .chunks_mut(CHUNK)
        .zip(neighbours.chunks_mut(CHUNK * CANDIDATES))
        .enumerate();
    run_jobs(jobs, threads, stop, |(chunk, (core, neighbours))| {
        let (mut found, mut stack) = (Vec::with_capacity(want + 1), Vec::new());
        for (i, (slot, keep)) in core
            .iter_mut()
            .zip(neighbours.chunks_mut(CANDIDATES))
            .enumerate()
        {
            let p = chunk * CHUNK + i;
            let count = tree.nearest(p, want, &mut found, &mut stack);
            measured.fetch_add(count as u64, Ordering::Relaxed);
            let mut count = mult[p] as usize;
            let mut radius = 0.0;
            for &(d, q) in &found {
                if count >= min_samples {
                    break;
                }
                count += mult[q as usize] as usize;
                radius = d;
            }
            *slot = radius;
            for (k, &(d, q)) in keep.iter_mut().zip(&found) {
                *k = (q, d);
            }
        }
    })?;
    Ok(Neighbourhoods {
        core,
        neighbours,
        searched_share: measured.into_inner() as f64 / (m as f64 * m as f64),
    })
}

/// What [`core_distances`] finds.
struct Neighbourhoods {
    /// Squared core distance of each tree position.
    core: Vec<f32>,
    /// Up to [`CANDIDATES`] nearest other positions of each, as (position,
    /// squared distance), `NONE` padded.
    neighbours: Vec<(u32, f32)>,
    /// Points measured per search, as a share of all points: near 1 when
    /// the tree cannot prune (data spread over many dimensions).
    searched_share: f64,
}

/// Distinct neighbours searched per point: at most `min_samples − 1` are
/// needed for the core distance (each counts at least once), and at least
/// [`CANDIDATES`] to seed the Borůvka bounds.
fn wanted(min_samples: usize, m: usize) -> usize {
    (min_samples - 1).max(CANDIDATES).min(m - 1)
}

/// A candidate edge as a sortable key: (weight bits, smaller end, larger
/// end). Non-negative `f32`s order like their bit patterns.
type Key = (u32, u32, u32);

const NO_EDGE: Key = (u32::MAX, NONE, NONE);

fn key(w: f32, a: usize, b: usize) -> Key {
    let (a, b) = (a as u32, b as u32);
    (w.to_bits(), a.min(b), a.max(b))
}

/// Minimum spanning tree of the mutual reachability graph over the tree
/// positions (Borůvka; edges between positions, squared weights). `None`
/// when the searches measured more than `budget` points in all: the tree
/// prunes too little for these data, and [`prim`] will do better.
fn boruvka(
    tree: &KdTree,
    core: &[f32],
    neighbours: &[(u32, f32)],
    budget: u64,
    threads: usize,
    stop: &Stop<'_>,
) -> Result<Option<Vec<Edge>>, HdbscanError> {
    let m = tree.len();
    let mut edges = Vec::with_capacity(m.saturating_sub(1));
    if m <= 1 {
        return Ok(Some(edges));
    }
    let spent = AtomicU64::new(0);
    let nodes = tree.nodes.len();
    let mut sets = UnionFind::new(m);
    let mut comp: Vec<u32> = (0..m as u32).collect();
    let mut summary = vec![NodeCores::default(); nodes];
    let unbounded = f32::INFINITY.to_bits();
    let bound: Vec<AtomicU32> = (0..m).map(|_| AtomicU32::new(unbounded)).collect();
    let mut best = vec![NO_EDGE; m];
    let mut comp_best = vec![NO_EDGE; m];
    let mut components = m;
    while components > 1 {
        if stop.check() {
            return Err(HdbscanError::Cancelled);
        }
        for id in (0..nodes).rev() {
            let nd = tree.nodes[id];
            summary[id] = if nd.left == NONE {
                NodeCores::of(
                    &core[nd.start as usize..nd.end as usize],
                    &comp[nd.start as usize..nd.end as usize],
                )
            } else {
                summary[nd.left as usize].merge(summary[nd.right as usize])
            };
        }
        // Seed each component's bound with its known neighbour edges.
        for b in &bound {
            b.store(unbounded, Ordering::Relaxed);
        }
        for (p, list) in neighbours.chunks(CANDIDATES).enumerate() {
            let cp = comp[p];
            for &(q, d) in list {
                if q == NONE {
                    break;
                }
                if comp[q as usize] != cp {
                    let w = core[p].max(core[q as usize]).max(d);
                    bound[cp as usize].fetch_min(w.to_bits(), Ordering::Relaxed);
                }
            }
        }
        // Any set of components may take their lightest edges (cut
        // property), so the largest one sits the round out: it is where
        // most searches would be, and the others still have to join
        // something, often it.
        let largest = (0..m)
            .filter(|&p| comp[p] as usize == p)
            .max_by_key(|&p| (sets.size[p], std::cmp::Reverse(p)))
            .unwrap_or(0) as u32;
        let context = Reach {
            tree,
            core,
            neighbours,
            comp: &comp,
            summary: &summary,
            bound: &bound,
        };
        run_jobs(
            best.chunks_mut(CHUNK).enumerate(),
            threads,
            stop,
            |(chunk, out)| {
                if spent.load(Ordering::Relaxed) > budget {
                    return;
                }
                let (mut stack, mut measured) = (Vec::new(), 0);
                for (i, slot) in out.iter_mut().enumerate() {
                    let p = chunk * CHUNK + i;
                    *slot = if comp[p] == largest {
                        NO_EDGE
                    } else {
                        context.lightest_edge(p, &mut stack, &mut measured)
                    };
                }
                spent.fetch_add(measured, Ordering::Relaxed);
            },
        )?;
        if spent.load(Ordering::Relaxed) > budget {
            return Ok(None);
        }
        comp_best.fill(NO_EDGE);
        for (p, &k) in best.iter().enumerate() {
            let c = comp[p] as usize;
            comp_best[c] = comp_best[c].min(k);
        }
        let before = components;
        for &(w, a, b) in &comp_best {
            if a != NONE && sets.union(a as usize, b as usize) {
                edges.push(Edge {
                    w: f32::from_bits(w),
                    a,
                    b,
                });
                components -= 1;
            }
        }
        // Every component finds an edge while there are two or more; this
        // only guards against looping forever should that ever fail.
        debug_assert!(components < before, "a Borůvka round added no edge");
        if components == before {
            break;
        }
        for (p, c) in comp.iter_mut().enumerate() {
            *c = sets.find(p) as u32;
        }
    }
    Ok(Some(edges))
}

/// Minimum spanning tree of the mutual reachability graph by Prim's method
/// on the complete graph, O(m²) distances: for data the KD-tree cannot
/// prune. Each thread keeps a share of the vertices outside the tree (with
/// their own copy of the coordinates) and posts its lightest link; after one
/// rendezvous per step every thread reads all posts and picks the same
/// winner. Same edge order as [`boruvka`], so the same tree.
fn prim(
    tree: &KdTree,
    core: &[f32],
    threads: usize,
    stop: &Stop<'_>,
) -> Result<Vec<Edge>, HdbscanError> {
    // A rendezvous per vertex costs microseconds: only worth it when each
    // step measures enough.
    let threads = if tree.len() * tree.dim.max(1) < PRIM_PARALLEL_WORK {
        1
    } else {
        threads
    };
    prim_on(tree, core, threads, stop)
}

/// [`prim`] on exactly `threads` threads.
fn prim_on(
    tree: &KdTree,
    core: &[f32],
    threads: usize,
    stop: &Stop<'_>,
) -> Result<Vec<Edge>, HdbscanError> {
    let m = tree.len();
    if m <= 1 {
        return Ok(Vec::new());
    }
    let threads = threads.clamp(1, m);
    let barrier = Barrier::new(threads);
    // Posts of step s go to board s % 2: a thread can only write the next
    // step's board after everyone has passed the rendezvous that follows
    // reading this one.
    let boards: [Vec<Mutex<Post>>; 2] =
        std::array::from_fn(|_| (0..threads).map(|_| Mutex::new(Post::default())).collect());
    let run = |t: usize, mut cancelled: Option<&mut dyn FnMut() -> bool>| {
        let mut share = PrimShare::new(tree, core, t, threads);
        let mut edges = Vec::with_capacity(if t == 0 { m - 1 } else { 0 });
        let mut added = 0usize;
        for step in 0..m - 1 {
            let (lightest, vertex) = share.add(tree, core, added);
            let stop_now = step % 64 == 63 && cancelled.as_mut().is_some_and(|c| c());
            if let Ok(mut post) = boards[step % 2][t].lock() {
                *post = Post {
                    lightest,
                    vertex,
                    stop: stop_now,
                };
            }
            barrier.wait();
            let mut winner = Post::default();
            for post in &boards[step % 2] {
                let post = post.lock().map(|p| *p).unwrap_or_default();
                winner.stop |= post.stop;
                if (post.lightest, post.vertex) < (winner.lightest, winner.vertex) {
                    (winner.lightest, winner.vertex) = (post.lightest, post.vertex);
                }
            }
            if winner.stop || winner.vertex == NONE {
                break;
            }
            if t == 0 {
                let (w, a, b) = winner.lightest;
                edges.push(Edge {
                    w: f32::from_bits(w),
                    a,
                    b,
                });
            }
            added = winner.vertex as usize;
        }
        edges
    };
    let edges = thread::scope(|scope| {
        for t in 1..threads {
            let run = &run;
            scope.spawn(move || run(t, None));
        }
        let mut check = || stop.check();
        run(0, Some(&mut check))
    });
    stop.result()?;
    Ok(edges)
}

/// What a Prim thread posts each step.
#[derive(Debug, Clone, Copy)]
struct Post {
    /// Its lightest link to the tree.
    lightest: Key,
    /// That link's vertex outside the tree.
    vertex: u32,
    /// The caller asked to stop.
    stop: bool,
}

impl Default for Post {
    fn default() -> Self {
        Post {
            lightest: NO_EDGE,
            vertex: NONE,
            stop: false,
        }
    }
}

/// One thread's vertices outside Prim's tree: every `threads`-th position
/// starting at `first`, with coordinates (in [`Blocks`]), core distances and
/// lightest known link to the tree.
struct PrimShare {
    threads: usize,
    first: usize,
    ids: Vec<u32>,
    points: Blocks,
    core: Vec<f32>,
    best: Vec<Key>,
    /// Where position `threads * i + first` now sits in `ids`.
    slot: Vec<u32>,
    scratch: Vec<f32>,
}

impl PrimShare {
    fn new(tree: &KdTree, core: &[f32], first: usize, threads: usize) -> Self {
        let ids: Vec<u32> = (first..tree.len())
            .step_by(threads)
            .map(|p| p as u32)
            .collect();
        let mut points = Blocks::new(tree.dim, ids.len());
        for (i, &p) in ids.iter().enumerate() {
            points.set(i, tree.point(p as usize));
        }
        PrimShare {
            threads,
            first,
            core: ids.iter().map(|&p| core[p as usize]).collect(),
            best: vec![NO_EDGE; ids.len()],
            slot: (0..ids.len() as u32).collect(),
            ids,
            points,
            scratch: Vec::new(),
        }
    }

    /// Takes position `v` into the tree: drops it from this share if it is
    /// here, updates every link with it, and returns the lightest link and
    /// its vertex outside the tree.
    fn add(&mut self, tree: &KdTree, core: &[f32], v: usize) -> (Key, u32) {
        if v % self.threads == self.first {
            // Swap the last vertex into v's place.
            let i = self.slot[v / self.threads] as usize;
            let last = self.ids.len() - 1;
            self.points.get(last, &mut self.scratch);
            self.points.set(i, &self.scratch);
            self.ids.swap_remove(i);
            self.core.swap_remove(i);
            self.best.swap_remove(i);
            if let Some(&moved) = self.ids.get(i) {
                self.slot[moved as usize / self.threads] = i as u32;
            }
        }
        let (x, cv) = (tree.point(v), core[v]);
        let mut lightest = (NO_EDGE, NONE);
        let blocks = self.ids.len().div_ceil(BLOCK);
        for block in 0..blocks {
            let distances = self.points.distances(block, x);
            let range = block * BLOCK..((block + 1) * BLOCK).min(self.ids.len());
            for (i, &d) in range.zip(&distances) {
                let best = &mut self.best[i];
                let w = self.core[i].max(cv).max(d);
                if w.to_bits() <= best.0 {
                    let k = key(w, self.ids[i] as usize, v);
                    if k < *best {
                        *best = k;
                    }
                }
                if *best < lightest.0 {
                    lightest = (*best, self.ids[i]);
                }
            }
        }
        lightest
    }
}

/// The smallest core distance in a KD-tree node, whose component has it,
/// and the smallest among the node's points of other components (infinite
/// when there are none): enough to bound from below the edges from any
/// component into the node.
#[derive(Debug, Clone, Copy)]
struct NodeCores {
    core: f32,
    comp: u32,
    other: f32,
}

impl Default for NodeCores {
    fn default() -> Self {
        NodeCores {
            core: f32::INFINITY,
            comp: NONE,
            other: f32::INFINITY,
        }
    }
}

impl NodeCores {
    fn of(core: &[f32], comp: &[u32]) -> Self {
        let mut s = NodeCores::default();
        for (&c, &k) in core.iter().zip(comp) {
            s = s.merge(NodeCores {
                core: c,
                comp: k,
                other: f32::INFINITY,
            });
        }
        s
    }

    fn merge(self, b: NodeCores) -> NodeCores {
        let (first, second) = if (b.core, b.comp) < (self.core, self.comp) {
            (b, self)
        } else {
            (self, b)
        };
        // The least core of `second` outside `first`'s component.
        let beyond = if second.comp == first.comp {
            second.other
        } else {
            second.core
        };
        NodeCores {
            core: first.core,
            comp: first.comp,
            other: first.other.min(beyond),
        }
    }

    /// The smallest core distance among the node's points outside `comp`.
    fn foreign(&self, comp: u32) -> f32 {
        if self.comp == comp {
            self.other
        } else {
            self.core
        }
    }
}

/// What a Borůvka round's searches share.
struct Reach<'a> {
    tree: &'a KdTree,
    core: &'a [f32],
    neighbours: &'a [(u32, f32)],
    comp: &'a [u32],
    summary: &'a [NodeCores],
    bound: &'a [AtomicU32],
}

impl Reach<'_> {
    /// The lightest edge from `p` to another component, or [`NO_EDGE`] when
    /// none can beat its component's best. Every edge as light as the
    /// component's lightest is examined (pruning is strict), so the result
    /// per component does not depend on thread timing.
    /// Adds the points it measures to `measured`.
    fn lightest_edge(&self, p: usize, stack: &mut Vec<(u32, f32)>, measured: &mut u64) -> Key {
        let cp = self.comp[p];
        let bound = &self.bound[cp as usize];
        let core_p = self.core[p];
        // The nearest neighbours first: every point missing from the list is
        // at least as far as its last entry, so an edge from the list that
        // is lighter than that (and than the core distance) is the answer.
        let list = &self.neighbours[p * CANDIDATES..(p + 1) * CANDIDATES];
        let mut best = NO_EDGE;
        for &(q, d) in list.iter().take_while(|e| e.0 != NONE) {
            if self.comp[q as usize] != cp {
                let w = core_p.max(self.core[q as usize]).max(d);
                best = best.min(key(w, p, q as usize));
            }
        }
        let floor = match list.last() {
            Some(&(q, d)) if q != NONE => core_p.max(d),
            _ => f32::INFINITY, // the list holds every other point
        };
        if best.0 < floor.to_bits() {
            bound.fetch_min(best.0, Ordering::Relaxed);
            return best;
        }
        if floor.to_bits() > bound.load(Ordering::Relaxed) {
            return best; // nothing from here can beat the component's best
        }
        let tree = self.tree;
        let x = tree.point(p);
        // `best.0` is all ones (a NaN) until an edge is found; the bound is
        // always a number (infinity at worst).
        let limit = |best: &Key| f32::from_bits(best.0.min(bound.load(Ordering::Relaxed)));
        stack.clear();
        if self.summary[0].foreign(cp).is_finite() {
            stack.push((0, core_p));
        }
        while let Some((node, lower)) = stack.pop() {
            let mut lim = limit(&best);
            if lower > lim {
                continue;
            }
            let nd = tree.nodes[node as usize];
            if nd.left == NONE {
                *measured += u64::from(nd.end - nd.start);
                let distances = tree.blocks.distances(nd.block as usize, x);
                for (q, &d) in (nd.start as usize..nd.end as usize).zip(&distances) {
                    if self.comp[q] == cp {
                        continue;
                    }
                    let base = core_p.max(self.core[q]);
                    if base > lim {
                        continue;
                    }
                    let w = base.max(d);
                    if w > lim {
                        continue;
                    }
                    let k = key(w, p, q);
                    if k < best {
                        best = k;
                        bound.fetch_min(k.0, Ordering::Relaxed);
                        lim = limit(&best);
                    }
                }
            } else {
                let mut push = [(0u32, f32::INFINITY); 2];
                for (slot, child) in push.iter_mut().zip([nd.left, nd.right]) {
                    let c = child as usize;
                    let foreign = self.summary[c].foreign(cp);
                    // (An infinite bound: the node is all this component.)
                    if foreign <= lim {
                        let lower = core_p.max(foreign).max(tree.box_distance(x, c));
                        if lower <= lim {
                            *slot = (child, lower);
                        }
                    }
                }
                // Nearer child last so it is searched first.
                if push[0].1 < push[1].1 {
                    push.swap(0, 1);
                }
                stack.extend(push.iter().filter(|s| s.1.is_finite()));
            }
        }
        best
    }
}

/// Union-find with path halving and union by size.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let grand = self.parent[self.parent[x] as usize];
            self.parent[x] = grand;
            x = grand as usize;
        }
        x
    }

    /// Joins the sets of `a` and `b`; false when they were already one.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a as u32;
        self.size[a] += self.size[b];
        true
    }
}

// ---------------------------------------------------------------------------
// Single linkage, condensed tree, selection

/// Merge `i` of the single-linkage tree creates node `n + i` from `left` and
/// `right` (nodes below `n` are rows) at `distance`; `size` rows below it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Merge {
    left: u32,
    right: u32,
    distance: f64,
    size: u32,
}

/// The single-linkage tree of a spanning tree's edges, lightest first (ties
/// by row indices, so the tree is always the same).
fn single_linkage(n: usize, mut edges: Vec<Edge>) -> Vec<Merge> {
    edges.sort_unstable_by_key(|e| key(e.w, e.a as usize, e.b as usize));
    let mut sets = UnionFind::new(n);
    let mut node_of: Vec<u32> = (0..n as u32).collect();
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    for e in edges {
        let (a, b) = (sets.find(e.a as usize), sets.find(e.b as usize));
        if a == b {
            continue;
        }
        let (left, right) = (node_of[a], node_of[b]);
        sets.union(a, b);
        let root = sets.find(a);
        node_of[root] = (n + merges.len()) as u32;
        merges.push(Merge {
            left,
            right,
            distance: f64::from(e.w).sqrt(),
            size: sets.size[root],
        });
    }
    merges
}

/// The condensed tree. Cluster 0 is the root; a child cluster always has a
/// larger number than its parent. Every row falls out of exactly one
/// cluster, at some `λ = 1 / distance`.
#[derive(Debug, Clone, PartialEq)]
struct Condensed {
    /// Parent of each cluster (`NONE` for the root).
    parent: Vec<u32>,
    /// `λ` at which each cluster appears (0 for the root).
    birth: Vec<f64>,
    /// Rows in each cluster when it appears.
    size: Vec<u32>,
    /// Cluster each row falls out of.
    point_cluster: Vec<u32>,
    /// `λ` at which each row falls out.
    point_lambda: Vec<f64>,
}

fn condense(n: usize, merges: &[Merge], min_cluster_size: usize) -> Condensed {
    let mut tree = Condensed {
        parent: vec![NONE],
        birth: vec![0.0],
        size: vec![n as u32],
        point_cluster: vec![0; n],
        point_lambda: vec![0.0; n],
    };
    let size_of = |node: u32| {
        let node = node as usize;
        if node < n {
            1
        } else {
            merges[node - n].size as usize
        }
    };
    let mut cluster_of = vec![NONE; merges.len()];
    if let Some(last) = cluster_of.last_mut() {
        *last = 0;
    }
    let (mut parts, mut stack) = (Vec::new(), Vec::new());
    for i in (0..merges.len()).rev() {
        let c = cluster_of[i];
        if c == NONE {
            continue;
        }
        let distance = merges[i].distance;
        let lambda = if distance > 0.0 {
            1.0 / distance
        } else {
            f64::INFINITY
        };
        // All edges of one weight go at once (Campello et al.): the parts
        // are the subtrees hanging below the run of merges at `distance`,
        // however ties happened to be ordered.
        parts.clear();
        stack.clear();
        stack.extend([merges[i].left, merges[i].right]);
        while let Some(node) = stack.pop() {
            let at = node as usize;
            if at >= n && merges[at - n].distance == distance {
                stack.extend([merges[at - n].left, merges[at - n].right]);
            } else {
                parts.push(node);
            }
        }
        parts.sort_unstable();
        let big = parts
            .iter()
            .filter(|&&part| size_of(part) >= min_cluster_size)
            .count();
        for &part in &parts {
            if size_of(part) >= min_cluster_size {
                // A part that is a row is below min_cluster_size (at least 2).
                let at = part as usize - n;
                if big == 1 {
                    cluster_of[at] = c;
                } else {
                    cluster_of[at] = tree.parent.len() as u32;
                    tree.parent.push(c);
                    tree.birth.push(lambda);
                    tree.size.push(size_of(part) as u32);
                }
                continue;
            }
            // Every row below a small part leaves cluster `c` here.
            stack.push(part);
            while let Some(node) = stack.pop() {
                let node = node as usize;
                if node < n {
                    tree.point_cluster[node] = c;
                    tree.point_lambda[node] = lambda;
                } else {
                    stack.push(merges[node - n].left);
                    stack.push(merges[node - n].right);
                }
            }
        }
    }
    tree
}

/// `to − from`, 0 when both are infinite.
fn gap(to: f64, from: f64) -> f64 {
    if to == from { 0.0 } else { to - from }
}

/// Stability (excess of mass) of each cluster, the largest `λ` among its
/// direct children (rows and clusters), and the largest finite such `λ`.
fn stabilities(tree: &Condensed) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let k = tree.parent.len();
    let (mut stability, mut death, mut finite_death) =
        (vec![0.0; k], vec![0.0f64; k], vec![0.0f64; k]);
    let rows = tree
        .point_cluster
        .iter()
        .zip(&tree.point_lambda)
        .map(|(&c, &l)| (c, l, 1));
    let clusters = (1..k).map(|c| (tree.parent[c], tree.birth[c], tree.size[c]));
    for (c, lambda, size) in rows.chain(clusters) {
        let c = c as usize;
        stability[c] += gap(lambda, tree.birth[c]) * f64::from(size);
        death[c] = death[c].max(lambda);
        if lambda.is_finite() {
            finite_death[c] = finite_death[c].max(lambda);
        }
    }
    (stability, death, finite_death)
}

/// Labels, probabilities and persistence from the condensed tree.
fn extract(tree: &Condensed, selection: Selection, allow_single_cluster: bool) -> HdbscanResult {
    let k = tree.parent.len();
    let n = tree.point_cluster.len();
    let (stability, death, finite_death) = stabilities(tree);
    let mut has_children = vec![false; k];
    for c in 1..k {
        has_children[tree.parent[c] as usize] = true;
    }
    // Which clusters choose themselves (bottom-up; children have larger ids).
    let mut chosen = vec![false; k];
    match selection {
        Selection::Eom => {
            let mut best = stability.clone();
            let mut below = vec![0.0f64; k];
            for c in (0..k).rev() {
                if c > 0 || allow_single_cluster {
                    if below[c] > best[c] {
                        best[c] = below[c];
                    } else {
                        chosen[c] = true;
                    }
                }
                if c > 0 {
                    below[tree.parent[c] as usize] += best[c];
                }
            }
        }
        Selection::Leaf => {
            if k == 1 {
                chosen[0] = allow_single_cluster;
            } else {
                for c in 0..k {
                    chosen[c] = !has_children[c];
                }
            }
        }
    }
    // A chosen cluster wins over everything below it (top-down).
    let mut selected_above = vec![NONE; k];
    for c in 0..k {
        let inherited = if c == 0 {
            NONE
        } else {
            selected_above[tree.parent[c] as usize]
        };
        selected_above[c] = if inherited == NONE && chosen[c] {
            c as u32
        } else {
            inherited
        };
    }
    let mut owner = vec![NONE; n];
    let mut count = vec![0usize; k];
    for p in 0..n {
        let s = selected_above[tree.point_cluster[p] as usize];
        // A lone root cluster keeps only the rows that last until it dies.
        if s != NONE && (s != 0 || tree.point_lambda[p] >= death[0]) {
            owner[p] = s;
            count[s as usize] += 1;
        }
    }
    let mut order: Vec<usize> = (0..k).filter(|&c| count[c] > 0).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(count[c]), c));
    let mut label_of = vec![-1i32; k];
    for (label, &c) in order.iter().enumerate() {
        label_of[c] = label as i32;
    }

    let mut labels = vec![-1i32; n];
    let mut probabilities = vec![0f32; n];
    for p in 0..n {
        if owner[p] == NONE {
            continue;
        }
        let s = owner[p] as usize;
        labels[p] = label_of[s];
        let lambda = tree.point_lambda[p];
        let top = if death[s].is_finite() {
            death[s]
        } else {
            finite_death[s]
        };
        probabilities[p] = if lambda.is_infinite() || top <= 0.0 {
            1.0
        } else {
            (lambda.min(top) / top) as f32
        };
    }

    // Persistence: stability with λ capped at the largest finite λ, over
    // size × that λ.
    let cap = tree
        .point_lambda
        .iter()
        .chain(&tree.birth)
        .filter(|l| l.is_finite())
        .fold(0f64, |a, &b| a.max(b));
    let mut capped = vec![0f64; k];
    if cap > 0.0 {
        let rows = tree
            .point_cluster
            .iter()
            .zip(&tree.point_lambda)
            .map(|(&c, &l)| (c, l, 1));
        let clusters = (1..k).map(|c| (tree.parent[c], tree.birth[c], tree.size[c]));
        for (c, lambda, size) in rows.chain(clusters) {
            let c = c as usize;
            capped[c] += (lambda.min(cap) - tree.birth[c].min(cap)) * f64::from(size);
        }
    }
    let persistence = order
        .iter()
        .map(|&c| {
            if cap > 0.0 {
                (capped[c] / (count[c] as f64 * cap)).clamp(0.0, 1.0)
            } else {
                1.0
            }
        })
        .collect();
    HdbscanResult {
        labels,
        probabilities,
        clusters: order.len(),
        persistence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::matrix::squared_distance;
    use crate::rng::Rng;
    use std::collections::HashMap;

    fn never() -> bool {
        false
    }

    fn options(min_cluster_size: usize) -> HdbscanOptions {
        HdbscanOptions {
            min_cluster_size,
            ..HdbscanOptions::default()
        }
    }

    fn run(data: &Matrix, options: &HdbscanOptions) -> HdbscanResult {
        hdbscan(data, options, &never).expect("hdbscan")
    }

    fn matrix(cols: usize, values: Vec<f32>) -> Matrix {
        Matrix::new(values.len() / cols.max(1), cols, values).expect("shape")
    }

    fn normal(rng: &mut Rng) -> f64 {
        let (u, v) = (rng.unit().max(1e-12), rng.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Gaussian blobs (`per` points each, standard deviation `sd`) and then
    /// `noise` uniform points in [-20, 20]^dim; the truth label of noise is -1.
    fn blobs(
        centres: &[Vec<f64>],
        per: usize,
        sd: f64,
        noise: usize,
        seed: u64,
    ) -> (Matrix, Vec<i32>) {
        let dim = centres[0].len();
        let mut rng = Rng::new(seed);
        let (mut values, mut truth) = (Vec::new(), Vec::new());
        for (label, centre) in centres.iter().enumerate() {
            for _ in 0..per {
                values.extend(centre.iter().map(|c| (c + sd * normal(&mut rng)) as f32));
                truth.push(label as i32);
            }
        }
        for _ in 0..noise {
            values.extend((0..dim).map(|_| rng.range(-20.0, 20.0) as f32));
            truth.push(-1);
        }
        (matrix(dim, values), truth)
    }

    /// Two concentric rings of radius 1 and 4 with a little jitter.
    fn rings(per: usize, seed: u64) -> (Matrix, Vec<i32>) {
        let mut rng = Rng::new(seed);
        let (mut values, mut truth) = (Vec::new(), Vec::new());
        for (label, radius) in [1.0, 4.0].into_iter().enumerate() {
            for _ in 0..per {
                let angle = rng.range(0.0, std::f64::consts::TAU);
                let r = radius + 0.08 * normal(&mut rng);
                values.extend([(r * angle.cos()) as f32, (r * angle.sin()) as f32]);
                truth.push(label as i32);
            }
        }
        (matrix(2, values), truth)
    }

    /// Adjusted Rand index of two labelings (noise is a label like any other).
    fn ari(a: &[i32], b: &[i32]) -> f64 {
        let choose = |x: usize| (x * x.saturating_sub(1)) as f64 / 2.0;
        let mut table: HashMap<(i32, i32), usize> = HashMap::new();
        let (mut rows, mut cols) = (HashMap::new(), HashMap::new());
        for (&x, &y) in a.iter().zip(b) {
            *table.entry((x, y)).or_default() += 1;
            *rows.entry(x).or_insert(0usize) += 1;
            *cols.entry(y).or_insert(0usize) += 1;
        }
        let index: f64 = table.values().map(|&v| choose(v)).sum();
        let (sa, sb): (f64, f64) = (
            rows.values().map(|&v| choose(v)).sum(),
            cols.values().map(|&v| choose(v)).sum(),
        );
        let expected = sa * sb / choose(a.len());
        let max = (sa + sb) / 2.0;
        if max == expected {
            1.0
        } else {
            (index - expected) / (max - expected)
        }
    }

    /// Plain Lloyd k-means seeded with evenly spaced rows: the
    /// convex-cluster method that fails on rings and moons.
    fn kmeans(data: &Matrix, k: usize) -> Vec<i32> {
        let mut centres: Vec<Vec<f32>> = (0..k)
            .map(|i| data.row(i * data.rows() / k).to_vec())
            .collect();
        let mut labels = vec![0i32; data.rows()];
        for _ in 0..100 {
            for (i, label) in labels.iter_mut().enumerate() {
                let nearest = (0..k)
                    .min_by(|&a, &b| {
                        squared_distance(data.row(i), &centres[a])
                            .total_cmp(&squared_distance(data.row(i), &centres[b]))
                    })
                    .unwrap_or(0);
                *label = nearest as i32;
            }
            for (c, centre) in centres.iter_mut().enumerate() {
                let members: Vec<usize> = (0..data.rows())
                    .filter(|&i| labels[i] == c as i32)
                    .collect();
                if members.is_empty() {
                    continue;
                }
                for (j, value) in centre.iter_mut().enumerate() {
                    *value =
                        members.iter().map(|&i| data.row(i)[j]).sum::<f32>() / members.len() as f32;
                }
            }
        }
        labels
    }

    /// Exact O(n²) Prim on the same mutual reachability and edge order.
    fn brute_mst(tree: &KdTree, core: &[f32]) -> Vec<Key> {
        let m = tree.len();
        let mut in_tree = vec![false; m];
        let mut best = vec![NO_EDGE; m];
        let mut edges = Vec::new();
        let mut v = 0;
        for _ in 1..m {
            in_tree[v] = true;
            for u in (0..m).filter(|&u| !in_tree[u]) {
                let w = core[u]
                    .max(core[v])
                    .max(squared_distance(tree.point(u), tree.point(v)));
                best[u] = best[u].min(key(w, u, v));
            }
            let next = (0..m)
                .filter(|&u| !in_tree[u])
                .min_by_key(|&u| best[u])
                .unwrap_or(0);
            edges.push(best[next]);
            v = next;
        }
        edges.sort_unstable();
        edges
    }

    #[test]
    fn three_blobs_with_noise() {
        let centres = [vec![-4.0, -4.0], vec![0.0, 4.0], vec![5.0, -2.0]];
        let (data, truth) = blobs(&centres, 200, 0.6, 60, 7);
        let result = run(&data, &options(15));
        assert_eq!(result.clusters, 3);
        // Each blob maps onto its own cluster, almost entirely.
        let mut seen = Vec::new();
        for blob in 0..3 {
            let members: Vec<i32> = (0..data.rows())
                .filter(|&i| truth[i] == blob)
                .map(|i| result.labels[i])
                .collect();
            let main = members[0];
            let agree = members.iter().filter(|&&l| l == main).count();
            assert!(
                main >= 0 && agree >= 190 && !seen.contains(&main),
                "blob {blob}: {agree} of 200 in cluster {main}"
            );
            seen.push(main);
        }
        // Uniform noise: mostly -1, and whatever a cluster took in is a weak member.
        let noise: Vec<usize> = (0..data.rows()).filter(|&i| truth[i] == -1).collect();
        let unlabelled = noise.iter().filter(|&&i| result.labels[i] == -1).count();
        assert!(
            unlabelled * 4 >= noise.len() * 3,
            "{unlabelled} of {} noise points are noise",
            noise.len()
        );
        assert!(noise.iter().all(|&i| result.probabilities[i] < 0.5));
        assert!(ari(&result.labels, &truth) > 0.9);
        // Clusters are numbered by decreasing size, and persistence is per cluster.
        let sizes: Vec<usize> = (0..3)
            .map(|c| result.labels.iter().filter(|&&l| l == c).count())
            .collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        assert_eq!(result.persistence.len(), 3);
        assert!(result.persistence.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn rings_defeat_kmeans_but_not_hdbscan() {
        let (data, truth) = rings(400, 3);
        let result = run(&data, &options(15));
        assert_eq!(result.clusters, 2);
        assert!(
            ari(&result.labels, &truth) > 0.98,
            "ARI {}",
            ari(&result.labels, &truth)
        );
        assert!(ari(&kmeans(&data, 2), &truth) < 0.2);
    }

    #[test]
    fn moons() {
        let mut rng = Rng::new(11);
        let (mut values, mut truth) = (Vec::new(), Vec::new());
        for i in 0..600 {
            let t = rng.range(0.0, std::f64::consts::PI);
            let (x, y) = if i % 2 == 0 {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            };
            values.push((x + 0.05 * normal(&mut rng)) as f32);
            values.push((y + 0.05 * normal(&mut rng)) as f32);
            truth.push(i % 2);
        }
        let data = matrix(2, values);
        let result = run(&data, &options(15));
        assert_eq!(result.clusters, 2);
        assert!(ari(&result.labels, &truth) > 0.95);
        assert!(ari(&kmeans(&data, 2), &truth) < 0.6);
    }

    #[test]
    fn too_few_rows_is_all_noise() {
        let (data, _) = blobs(&[vec![0.0, 0.0]], 10, 0.1, 0, 1);
        let result = run(&data, &options(11));
        assert_eq!(result, HdbscanResult::noise(10));
        let one = matrix(3, vec![1.0, 2.0, 3.0]);
        assert_eq!(run(&one, &options(2)), HdbscanResult::noise(1));
        // min_samples above the row count is capped, not an error.
        let opts = HdbscanOptions {
            min_samples: Some(1000),
            ..options(5)
        };
        assert_eq!(run(&data, &opts).labels.len(), 10);
    }

    #[test]
    fn deterministic_whatever_the_threads() {
        let centres = [vec![0.0; 5], vec![6.0; 5], vec![-6.0, 6.0, 0.0, 3.0, -2.0]];
        let (mut data, _) = blobs(&centres, 700, 1.0, 300, 5);
        // Some exact duplicates and ties as well.
        for i in 0..50 {
            let copy = data.row(i).to_vec();
            data.row_mut(1000 + i).copy_from_slice(&copy);
        }
        let opts = options(10);
        let first = hdbscan_with_threads(&data, &opts, &never, 1).expect("one thread");
        for threads in [2, 3, 8] {
            assert_eq!(
                hdbscan_with_threads(&data, &opts, &never, threads).expect("threads"),
                first
            );
        }
        assert_eq!(run(&data, &opts), first);
    }

    #[test]
    fn spanning_tree_matches_brute_force() {
        let centres = [vec![0.0, 0.0, 0.0], vec![3.0, 1.0, 0.0]];
        let (mut data, _) = blobs(&centres, 300, 1.0, 100, 9);
        // A lattice corner (many equal distances) and duplicates.
        for i in 0..64 {
            data.row_mut(i)
                .copy_from_slice(&[(i % 4) as f32, (i / 4 % 4) as f32, (i / 16) as f32]);
        }
        for i in 64..80 {
            let copy = data.row(i + 100).to_vec();
            data.row_mut(i).copy_from_slice(&copy);
        }
        let (reps, _) = dedup(&data);
        let unique = data.select(&reps);
        let tree = KdTree::build(&unique);
        let stop = Stop {
            cancel: &never,
            flag: AtomicBool::new(false),
        };
        let mult = vec![1; tree.len()];
        let keys = |edges: Vec<Edge>| {
            let mut keys: Vec<Key> = edges
                .iter()
                .map(|e| key(e.w, e.a as usize, e.b as usize))
                .collect();
            keys.sort_unstable();
            keys
        };
        for min_samples in [1, 2, 5, 20] {
            let found = core_distances(&tree, &mult, min_samples, 2, &stop).expect("core");
            let (core, neighbours) = (found.core, found.neighbours);
            // Core distance: the min_samples-th smallest distance, self included.
            for (p, &c) in core.iter().enumerate() {
                let mut all: Vec<f32> = (0..tree.len())
                    .map(|q| squared_distance(tree.point(p), tree.point(q)))
                    .collect();
                all.sort_by(f32::total_cmp);
                assert_eq!(c, all[min_samples - 1]);
            }
            let expected = brute_mst(&tree, &core);
            let found = boruvka(&tree, &core, &neighbours, u64::MAX, 2, &stop).expect("mst");
            let found = keys(found.expect("within budget"));
            assert_eq!(found, expected, "Borůvka, min_samples {min_samples}");
            for threads in [1, 3] {
                let found = keys(prim_on(&tree, &core, threads, &stop).expect("mst"));
                assert_eq!(found, expected, "Prim, min_samples {min_samples}");
            }
        }
        // Both searches give the same tree over the rows (duplicates included).
        assert_eq!(
            keys(spanning_tree(&data, 5, Search::Tree, 2, &stop).expect("tree")),
            keys(spanning_tree(&data, 5, Search::Brute, 2, &stop).expect("tree"))
        );
        // The full tree has n − 1 edges joining every row.
        let edges = spanning_tree(&data, 5, Search::Auto, 2, &stop).expect("tree");
        assert_eq!(edges.len(), data.rows() - 1);
        assert_eq!(
            single_linkage(data.rows(), edges).last().map(|m| m.size),
            Some(data.rows() as u32)
        );
    }

    #[test]
    fn block_distances_are_bitwise_squared_distance() {
        let mut rng = Rng::new(21);
        for dim in [0, 1, 3, 7, 8, 9, 10, 16, 17, 23, 50] {
            let mut blocks = Blocks::new(dim, 2 * BLOCK);
            let points: Vec<Vec<f32>> = (0..2 * BLOCK)
                .map(|_| (0..dim).map(|_| (normal(&mut rng) * 3.0) as f32).collect())
                .collect();
            for (slot, x) in points.iter().enumerate() {
                blocks.set(slot, x);
            }
            let query: Vec<f32> = (0..dim).map(|_| rng.range(-5.0, 5.0) as f32).collect();
            for block in 0..2 {
                let found = blocks.distances(block, &query);
                for (lane, &d) in found.iter().enumerate() {
                    let exact = squared_distance(&query, &points[block * BLOCK + lane]);
                    assert_eq!(d.to_bits(), exact.to_bits(), "dim {dim}");
                }
            }
            let mut back = Vec::new();
            blocks.get(BLOCK + 3, &mut back);
            assert_eq!(back, points[BLOCK + 3]);
        }
    }

    #[test]
    fn core_distance_counts_the_point_itself() {
        // Points 0, 1, 3, 7 and a duplicate of 7 on a line.
        let data = matrix(1, vec![0.0, 1.0, 3.0, 7.0, 7.0]);
        let (reps, unique_of) = dedup(&data);
        assert_eq!(
            (reps.clone(), unique_of),
            (vec![0, 1, 2, 3], vec![0, 1, 2, 3, 3])
        );
        let tree = KdTree::build(&data.select(&reps));
        let mult: Vec<u32> = tree
            .order
            .iter()
            .map(|&u| if u == 3 { 2 } else { 1 })
            .collect();
        let stop = Stop {
            cancel: &never,
            flag: AtomicBool::new(false),
        };
        let by_value = |min_samples| {
            let core = core_distances(&tree, &mult, min_samples, 1, &stop)
                .expect("core")
                .core;
            let mut pairs: Vec<(f32, f32)> = tree
                .order
                .iter()
                .map(|&u| data.row(reps[u as usize])[0])
                .zip(core)
                .collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            pairs
                .into_iter()
                .map(|(_, c)| c.sqrt())
                .collect::<Vec<f32>>()
        };
        assert_eq!(by_value(1), vec![0.0, 0.0, 0.0, 0.0]);
        assert_eq!(by_value(2), vec![1.0, 1.0, 2.0, 0.0]); // 7 has its twin
        assert_eq!(by_value(3), vec![3.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            hdbscan(&Matrix::zeros(0, 3), &options(5), &never),
            Err(HdbscanError::Empty)
        );
        let mut data = Matrix::zeros(6, 2);
        data.row_mut(3)[1] = f32::NAN;
        data.row_mut(5)[0] = f32::INFINITY;
        let err = hdbscan(&data, &options(2), &never).expect_err("NaN");
        assert_eq!(err, HdbscanError::NonFinite { row: 3 });
        assert!(err.to_string().contains("row 3"));
        let huge = Matrix::new(MAX_ROWS + 1, 0, Vec::new()).expect("shape");
        assert_eq!(
            hdbscan(&huge, &options(5), &never),
            Err(HdbscanError::TooLarge {
                rows: MAX_ROWS + 1,
                limit: MAX_ROWS
            })
        );
        let (blob, _) = blobs(&[vec![0.0, 0.0]], 100, 1.0, 0, 2);
        assert_eq!(
            hdbscan(&blob, &options(5), &|| true),
            Err(HdbscanError::Cancelled)
        );
    }

    #[test]
    fn cancelling_midway_stops_every_path() {
        let (data, _) = blobs(&[vec![0.0; 8], vec![5.0; 8]], 3000, 1.0, 0, 6);
        for search in [Search::Tree, Search::Brute] {
            for calls in [1, 3, 40] {
                let asked = std::cell::Cell::new(0);
                let cancel = || {
                    asked.set(asked.get() + 1);
                    asked.get() > calls
                };
                let stop = Stop {
                    cancel: &cancel,
                    flag: AtomicBool::new(false),
                };
                let result = spanning_tree(&data, 10, search, 2, &stop);
                assert_eq!(result, Err(HdbscanError::Cancelled), "{search:?} {calls}");
            }
        }
    }

    #[test]
    fn min_samples_and_signed_zeros() {
        let (mut data, truth) = blobs(&[vec![0.0, 0.0], vec![8.0, 0.0]], 150, 0.5, 0, 13);
        // -0.0 and 0.0 are the same point.
        data.row_mut(0).copy_from_slice(&[0.0, -0.0]);
        data.row_mut(1).copy_from_slice(&[-0.0, 0.0]);
        assert_eq!(dedup(&data).1[1], 0);
        for min_samples in [1, 2, 40, 100] {
            let opts = HdbscanOptions {
                min_samples: Some(min_samples),
                ..options(20)
            };
            let result = run(&data, &opts);
            assert_eq!(result.clusters, 2, "min_samples {min_samples}");
            assert!(
                ari(&result.labels, &truth) > 0.9,
                "min_samples {min_samples}"
            );
        }
        // Larger min_samples never makes fewer points noise here.
        let noise = |min_samples| {
            let opts = HdbscanOptions {
                min_samples: Some(min_samples),
                ..options(20)
            };
            run(&data, &opts).labels.iter().filter(|&&l| l < 0).count()
        };
        assert!(noise(2) <= noise(40));
    }

    #[test]
    fn identical_rows() {
        let data = matrix(3, [1.5f32, -2.0, 0.0].repeat(40));
        let result = run(&data, &options(5));
        assert_eq!(result, HdbscanResult::noise(40));
        let single = HdbscanOptions {
            allow_single_cluster: true,
            ..options(5)
        };
        let result = run(&data, &single);
        assert_eq!(result.clusters, 1);
        assert!(result.labels.iter().all(|&l| l == 0));
        assert!(result.probabilities.iter().all(|&p| p == 1.0));
        assert_eq!(result.persistence, vec![1.0]);
        // No columns at all: every row is the same point.
        assert_eq!(run(&Matrix::zeros(20, 0), &single).clusters, 1);
    }

    #[test]
    fn duplicated_dense_core_keeps_useful_probabilities() {
        let (mut data, _) = blobs(&[vec![0.0, 0.0], vec![30.0, 0.0]], 100, 1.0, 0, 4);
        for i in 0..30 {
            data.row_mut(i).copy_from_slice(&[0.25, -0.5]);
        }
        let result = run(&data, &options(10));
        assert_eq!(result.clusters, 2);
        let first = result.labels[0];
        assert!((0..30).all(|i| result.labels[i] == first && result.probabilities[i] == 1.0));
        let others: Vec<f32> = (30..100).map(|i| result.probabilities[i]).collect();
        assert!(others.iter().any(|&p| p > 0.0 && p < 1.0));
    }

    #[test]
    fn probabilities_are_in_range_and_one_at_the_core() {
        let centres = [vec![0.0, 0.0, 0.0], vec![20.0, 0.0, 0.0]];
        let (data, _) = blobs(&centres, 300, 1.0, 40, 8);
        let result = run(&data, &options(15));
        assert_eq!(result.clusters, 2);
        for (&l, &p) in result.labels.iter().zip(&result.probabilities) {
            assert!((0.0..=1.0).contains(&p));
            assert_eq!(l == -1, p == 0.0, "label {l} probability {p}");
        }
        // Every cluster has members of probability 1, and its dense middle
        // (the tenth of its points nearest the centre) is near 1 while its
        // rim (the farthest tenth) is well below.
        for centre in &centres {
            let c: Vec<f32> = centre.iter().map(|&v| v as f32).collect();
            let label = result.labels[(0..data.rows())
                .min_by(|&a, &b| {
                    squared_distance(data.row(a), &c).total_cmp(&squared_distance(data.row(b), &c))
                })
                .unwrap_or(0)];
            let mut members: Vec<usize> = (0..data.rows())
                .filter(|&i| result.labels[i] == label)
                .collect();
            assert!(label >= 0 && members.len() >= 250);
            assert!(members.iter().any(|&i| result.probabilities[i] == 1.0));
            members.sort_by(|&a, &b| {
                squared_distance(data.row(a), &c).total_cmp(&squared_distance(data.row(b), &c))
            });
            let tenth = members.len() / 10;
            let mean = |part: &[usize]| {
                part.iter().map(|&i| result.probabilities[i]).sum::<f32>() / part.len() as f32
            };
            let (middle, rim) = (
                mean(&members[..tenth]),
                mean(&members[members.len() - tenth..]),
            );
            assert!(
                middle > 0.85 && rim < middle - 0.2,
                "middle {middle}, rim {rim}"
            );
        }
        // And most of a dense blob is well above 0.
        let strong = result.probabilities.iter().filter(|&&p| p > 0.5).count();
        assert!(strong > 400, "{strong}");
    }

    #[test]
    fn condensed_tree_of_two_pairs() {
        // A=(0,0) B=(0,1) and C=(10,0) D=(10,2); min_cluster_size 2 and the
        // default min_samples 2, so each core distance is the distance to the
        // other member of its pair.
        let data = matrix(2, vec![0.0, 0.0, 0.0, 1.0, 10.0, 0.0, 10.0, 2.0]);
        let stop = Stop {
            cancel: &never,
            flag: AtomicBool::new(false),
        };
        let edges = spanning_tree(&data, 2, Search::Auto, 1, &stop).expect("tree");
        let merges = single_linkage(4, edges);
        let distances: Vec<f64> = merges.iter().map(|m| m.distance).collect();
        assert_eq!(distances, vec![1.0, 2.0, 10.0]);
        let tree = condense(4, &merges, 2);
        assert_eq!(tree.parent, vec![NONE, 0, 0]);
        assert_eq!(tree.birth, vec![0.0, 0.1, 0.1]);
        assert_eq!(tree.size, vec![4, 2, 2]);
        let (ab, cd) = (tree.point_cluster[0], tree.point_cluster[2]);
        assert_eq!(tree.point_cluster, vec![ab, ab, cd, cd]);
        assert_ne!(ab, cd);
        assert_eq!(tree.point_lambda, vec![1.0, 1.0, 0.5, 0.5]);
        let (stability, death, _) = stabilities(&tree);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(stability[0], 0.4)); // two pairs born at λ 0.1
        assert!(close(stability[ab as usize], 1.8)); // 2 × (1 − 0.1)
        assert!(close(stability[cd as usize], 0.8)); // 2 × (0.5 − 0.1)
        assert_eq!((death[ab as usize], death[cd as usize]), (1.0, 0.5));
        let result = extract(&tree, Selection::Eom, false);
        assert_eq!(result.clusters, 2);
        assert_eq!(result.labels[0], result.labels[1]);
        assert_eq!(result.labels[2], result.labels[3]);
        assert_ne!(result.labels[0], result.labels[2]);
        assert_eq!(result.probabilities, vec![1.0; 4]);
        // Persistence: stability / (size × largest λ = 1), by label.
        let mut persistence = result.persistence.clone();
        persistence.sort_by(f64::total_cmp);
        assert!(
            close(persistence[0], 0.4) && close(persistence[1], 0.9),
            "{persistence:?}"
        );
        // With a single cluster allowed the root still loses (0.4 < 2.6).
        assert_eq!(extract(&tree, Selection::Eom, true).clusters, 2);
        // The whole thing end to end.
        assert_eq!(run(&data, &options(2)).clusters, 2);
    }

    #[test]
    fn ties_split_at_once() {
        // Three triples on a line, 1 apart (exact in binary): the root splits
        // into all three at λ = 1, with no zero-lifetime cluster for two of
        // them, whatever order the tied edges come in.
        let data = matrix(1, vec![0.0, 0.25, 0.5, 1.5, 1.75, 2.0, 3.0, 3.25, 3.5]);
        let stop = Stop {
            cancel: &never,
            flag: AtomicBool::new(false),
        };
        let edges = spanning_tree(&data, 1, Search::Auto, 1, &stop).expect("tree");
        let tree = condense(9, &single_linkage(9, edges), 3);
        assert_eq!(tree.parent, vec![NONE, 0, 0, 0]);
        assert_eq!(tree.birth, vec![0.0, 1.0, 1.0, 1.0]);
        assert_eq!(tree.size, vec![9, 3, 3, 3]);
        assert!(tree.point_lambda.iter().all(|&l| l == 4.0));
        // The two ways a one-edge-at-a-time tree can order the tied merges,
        // (A ∪ B) ∪ C and A ∪ (B ∪ C), condense the same way.
        let merge = |left, right, distance, size| Merge {
            left,
            right,
            distance,
            size,
        };
        let triples = [
            merge(0, 1, 0.25, 2),
            merge(9, 2, 0.25, 3),
            merge(3, 4, 0.25, 2),
            merge(11, 5, 0.25, 3),
            merge(6, 7, 0.25, 2),
            merge(13, 8, 0.25, 3),
        ];
        for last in [
            [merge(10, 12, 1.0, 6), merge(15, 14, 1.0, 9)],
            [merge(12, 14, 1.0, 6), merge(10, 15, 1.0, 9)],
        ] {
            let merges: Vec<Merge> = triples.iter().chain(&last).copied().collect();
            let other = condense(9, &merges, 3);
            assert_eq!(other.parent, tree.parent);
            assert_eq!(other.birth, tree.birth);
            assert_eq!(other.point_lambda, tree.point_lambda);
            assert_eq!(other.point_cluster, vec![1, 1, 1, 2, 2, 2, 3, 3, 3]);
        }
        let result = extract(&tree, Selection::Eom, false);
        assert_eq!(result.clusters, 3);
        assert_eq!(result.probabilities, vec![1.0; 9]);
        let (stability, _, _) = stabilities(&tree);
        assert_eq!(stability, vec![9.0, 9.0, 9.0, 9.0]);
    }

    #[test]
    fn leaf_selection_splits_finer_than_eom() {
        // Two far groups, each of two sub-blobs 4 standard deviations apart.
        // Excess of mass keeps the groups (scikit-learn agrees: 2 clusters,
        // no noise); leaf selection takes the four sub-blobs (scikit-learn:
        // 4 clusters, ARI 0.99 with these labels).
        let centres = [
            vec![0.0, 0.0],
            vec![2.0, 0.0],
            vec![40.0, 0.0],
            vec![42.0, 0.0],
        ];
        let (data, truth) = blobs(&centres, 150, 0.5, 0, 12);
        let groups: Vec<i32> = truth.iter().map(|&t| t / 2).collect();
        let eom = run(&data, &options(20));
        assert_eq!(eom.clusters, 2);
        assert_eq!(ari(&eom.labels, &groups), 1.0);
        let leaf = run(
            &data,
            &HdbscanOptions {
                selection: Selection::Leaf,
                ..options(20)
            },
        );
        assert_eq!(leaf.clusters, 4);
        // Each leaf cluster lies within one sub-blob (the tails overlap a
        // little) and takes at least half of it.
        for c in 0..4 {
            let members: Vec<i32> = (0..data.rows())
                .filter(|&i| leaf.labels[i] == c)
                .map(|i| truth[i])
                .collect();
            let main = (0..4)
                .map(|t| members.iter().filter(|&&m| m == t).count())
                .max()
                .unwrap_or(0);
            assert!(members.len() >= 75, "{}", members.len());
            assert!(
                main * 100 >= members.len() * 97,
                "{main} of {}",
                members.len()
            );
        }
    }

    #[test]
    fn single_cluster_when_allowed() {
        let (data, _) = blobs(&[vec![0.0, 0.0]], 500, 1.0, 0, 0);
        // Without it the root is never a cluster: a blob that never splits
        // into two big parts (this one) is all noise, one that does gives two
        // or more clusters.
        assert_eq!(run(&data, &options(15)).clusters, 0);
        let single = HdbscanOptions {
            allow_single_cluster: true,
            ..options(15)
        };
        let result = run(&data, &single);
        assert_eq!(result.clusters, 1);
        // As in scikit-learn, only the rows that last until the root itself
        // splits are members: the densest middle of the blob.
        let members: Vec<usize> = (0..500).filter(|&i| result.labels[i] == 0).collect();
        assert!(members.len() >= 15, "{}", members.len());
        let radius = |rows: &[usize]| {
            rows.iter()
                .map(|&i| squared_distance(data.row(i), &[0.0, 0.0]).sqrt())
                .sum::<f32>()
                / rows.len() as f32
        };
        let all: Vec<usize> = (0..500).collect();
        assert!(radius(&members) < radius(&all) / 2.0);
        assert!(result.labels.iter().all(|&l| l == 0 || l == -1));
    }
}
