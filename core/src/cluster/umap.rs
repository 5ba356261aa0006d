//! UMAP (McInnes, Healy and Melville 2018): a 2-D layout of vectors in which
//! each one stays near its nearest neighbours, for the scatter view of the
//! clusters.
//!
//! 1. **Nearest neighbours** (Euclidean; [`super::neighbours`]: every pair
//!    up to 4,096 rows, NN-descent above).
//! 2. **Fuzzy graph.** For each row, `ρ` is the distance to its nearest
//!    neighbour above zero and `σ` comes from bisection so that
//!    `Σ exp(−(d − ρ)/σ) = log₂ k` over its `k` neighbours; a neighbour's
//!    membership is `exp(−max(0, d − ρ)/σ)`. Both directions are combined
//!    by the probabilistic t-conorm `a + b − a·b`, and edges weaker than
//!    1/epochs of the strongest (never sampled) are dropped.
//! 3. **Start layout**: eigenvectors for the second and third largest
//!    eigenvalues of `D^−½ W D^−½` (the smoothest non-trivial eigenvectors
//!    of the normalised Laplacian), by subspace iteration (at most 100
//!    sparse products) on each connected component, its trivial `√degree`
//!    direction removed. Components are placed by the two principal
//!    directions of their centroids, each scaled by the square root of its
//!    share of the rows; one too small for two directions is spread at
//!    random. All is scaled to [0, 10], with a little noise.
//! 4. **Optimisation** by stochastic gradient descent on the fuzzy
//!    cross-entropy, as in the paper: layout similarity `1 / (1 + a·d^{2b})`
//!    with `a`, `b` fitted to `min_dist`; an edge is sampled every
//!    `strongest / weight` epochs, pulls its ends together and pushes its
//!    first end away from `negative_samples` random rows; gradients are
//!    clipped to ±4 and the learning rate falls linearly from 1 to 0. Each
//!    epoch runs in parallel over blocks of rows, each moving only its own
//!    points and seeing the others where they stood when the epoch began.
//!
//! Every random choice comes from the seed and a fixed unit of work, so the
//! layout is the same for a seed whatever the number of threads. Cost on two
//! cores, 100,000 × 50 rows: the neighbours take a few seconds (about 330
//! to 1,300 distances per row per round, a handful of rounds), the 200
//! epochs about as long (rows × k × epochs × (1 + `negative_samples`) 2-D
//! updates, the gradients read from a table).

use std::borrow::Cow;

use super::matrix::Matrix;
use super::neighbours::{EXACT_UNIT_ROWS, Neighbours, UNIT_ROWS, nearest_neighbours};
use crate::job::Watch;
use crate::parallel::parallel_map;
use crate::rng::Rng;

/// Most bisection steps for a row's `σ`.
const SIGMA_STEPS: usize = 64;
/// Bisection stops when the membership sum is this close to `log₂ k`.
const SIGMA_TOLERANCE: f64 = 1e-5;
/// Smallest `σ` as a fraction of the row's mean neighbour distance (keeps
/// memberships finite where neighbours share one distance).
const MIN_SIGMA_SCALE: f64 = 1e-3;
/// Most subspace iterations for the spectral start (and power iterations for
/// the directions of the component centroids).
const SPECTRAL_ITERATIONS: usize = 100;
/// Subspace iteration stops once the squared change of the unit vectors,
/// summed over components, is below this per component.
const SPECTRAL_CONVERGED: f64 = 1e-8;
/// Multiple of the identity added to `D^−½ W D^−½` so that its negative
/// eigenvalues (down to −1) never dominate the iteration.
const SPECTRAL_SHIFT: f64 = 0.5;
/// A column whose squared norm falls below this has no direction to offer.
const VANISHED: f64 = 1e-20;
/// Side of the square that the start layout fills.
const LAYOUT_EXTENT: f64 = 10.0;
/// Half-width of the uniform noise added to the start layout.
const LAYOUT_NOISE: f64 = 1e-4;
/// Points on which the similarity curve is fitted to `min_dist`.
const CURVE_POINTS: usize = 300;
/// The curve is fitted on distances from 0 to this (3 × the spread of 1).
const CURVE_RANGE: f64 = 3.0;
/// Each gradient coordinate is clipped to ± this.
const GRADIENT_CLIP: f32 = 4.0;
/// Added to the squared distance in the repulsion so it stays finite.
const REPULSION_EPSILON: f32 = 1e-3;
/// Rows up to which the default is [`SMALL_DATA_EPOCHS`].
const SMALL_DATA_ROWS: usize = 10_000;
/// Default epochs up to [`SMALL_DATA_ROWS`] rows.
const SMALL_DATA_EPOCHS: usize = 500;
/// Default epochs above [`SMALL_DATA_ROWS`] rows.
const LARGE_DATA_EPOCHS: usize = 200;
/// Bit pattern of the smallest squared distance in the gradient tables (2⁻²⁴).
const TABLE_START: u32 = (127 - 24) << 23;
/// Bit pattern of the first squared distance beyond the tables (2¹²).
const TABLE_END: u32 = (127 + 12) << 23;
/// Low bits of a squared distance's bit pattern that fall within one table
/// cell: 128 cells per doubling, where linear interpolation errs by less
/// than 1e-4 (relative).
const TABLE_CELL_BITS: u32 = 16;

/// Random streams of the phases, mixed with the seed and the unit of work
/// (the neighbour search has 1 to 3).
const STREAM_SPECTRAL: u64 = 4;
const STREAM_START_LAYOUT: u64 = 5;
const STREAM_OPTIMISE: u64 = 6;

/// Settings of [`umap`].
#[derive(Debug, Clone, PartialEq)]
pub struct UmapOptions {
    /// Nearest neighbours per row in the graph that is laid out (15); at
    /// least 2, and fewer when there are fewer other rows. More keeps more
    /// of the global structure, fewer more local detail.
    pub neighbours: usize,
    /// Smallest distance between laid-out points that the layout aims for
    /// (0.1; taken within [0, 1]): smaller packs clusters tighter.
    pub min_dist: f32,
    /// Epochs of optimisation; `None` for 500 up to 10,000 rows and 200
    /// above. `Some(0)` gives the start layout.
    pub epochs: Option<usize>,
    /// Random rows pushed away per sampled edge (5).
    pub negative_samples: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for UmapOptions {
    fn default() -> Self {
        Self {
            neighbours: 15,
            min_dist: 0.1,
            epochs: None,
            negative_samples: 5,
            seed: 0,
        }
    }
}

/// Why [`umap`] stopped without a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UmapError {
    /// The caller's watch asked to stop.
    #[error("the UMAP projection was cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(UmapError::Cancelled);

/// 2-D coordinates for the rows of `data`, in row order; the same for the
/// same data and options. `watch` hears of the NN-descent rounds and the
/// epochs, and is asked from the calling thread between pieces of work
/// (NN-descent waves and the epochs; the exact search of up to 4,096 rows
/// and the start layout are not interrupted); a cancel stops the work with
/// [`UmapError::Cancelled`].
///
/// No rows give no points and one row `[0, 0]`. Values that are not finite
/// are read as 0. Identical rows are allowed (they end up close together).
/// Coordinates are finite; the optimisation starts them in [0, 10].
pub fn umap(
    data: &Matrix,
    options: &UmapOptions,
    watch: &dyn Watch,
) -> Result<Vec<[f32; 2]>, UmapError> {
    let rows = data.rows();
    if rows <= 1 {
        return Ok(vec![[0.0, 0.0]; rows]);
    }
    let data = finite_values(data);
    let k = options.neighbours.max(2).min(rows - 1);
    let epochs = options.epochs.unwrap_or(if rows <= SMALL_DATA_ROWS {
        SMALL_DATA_EPOCHS
    } else {
        LARGE_DATA_EPOCHS
    });
    let neighbours = nearest_neighbours(&data, k, options.seed, watch, &|_, _| {})?;
    let graph = fuzzy_graph(&neighbours, epochs);
    let mut layout = initial_layout(&data, &graph, options.seed);
    let (a, b) = curve_parameters(options.min_dist);
    let schedule = Schedule {
        epochs,
        a,
        b,
        negative_samples: options.negative_samples,
        seed: options.seed,
    };
    optimise_layout(&mut layout, &graph, &schedule, watch)?;
    Ok(layout)
}

/// Trustworthiness (Venna and Kaski 2001) of the layout `low` of the rows of
/// `high` for `k` neighbours: 1 when every row's `k` nearest points in the
/// layout are among its `k` nearest rows, lower as the layout brings in rows
/// that are far away in the data. `k` is capped below half the rows; with no
/// usable `k` the answer is 1. Exact (ties broken by row number): every pair
/// is measured and each row's distances sorted, rows² log rows on all cores.
pub fn trustworthiness(high: &Matrix, low: &[[f32; 2]], k: usize) -> f64 {
    let n = high.rows().min(low.len());
    let k = k.min(n.saturating_sub(1) / 2);
    if k == 0 {
        return 1.0;
    }
    let by_distance = |p: &(f64, usize), q: &(f64, usize)| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1));
    let starts: Vec<usize> = (0..n).step_by(EXACT_UNIT_ROWS).collect();
    let penalties = parallel_map(starts, |start| {
        let (mut penalty, mut rank) = (0, vec![0; n]);
        let mut order: Vec<(f64, usize)> = Vec::with_capacity(n);
        for i in start..(start + EXACT_UNIT_ROWS).min(n) {
            let others = (0..n).filter(|&j| j != i);
            order.clear();
            order.extend(others.clone().map(|j| {
                let pairs = high.row(i).iter().zip(high.row(j));
                (
                    pairs
                        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
                        .sum(),
                    j,
                )
            }));
            order.sort_unstable_by(by_distance);
            for (place, &(_, j)) in order.iter().enumerate() {
                rank[j] = place + 1;
            }
            order.clear();
            order.extend(others.map(|j| {
                let [dx, dy] = [0, 1].map(|a| f64::from(low[i][a]) - f64::from(low[j][a]));
                (dx * dx + dy * dy, j)
            }));
            order.select_nth_unstable_by(k - 1, by_distance);
            penalty += order[..k]
                .iter()
                .map(|&(_, j)| rank[j].saturating_sub(k))
                .sum::<usize>();
        }
        penalty
    });
    let total = penalties.into_iter().sum::<usize>() as f64;
    let (n, k) = (n as f64, k as f64);
    1.0 - 2.0 * total / (n * k * (2.0 * n - 3.0 * k - 1.0))
}

/// `data` itself, or a copy with non-finite values replaced by 0.
fn finite_values(data: &Matrix) -> Cow<'_, Matrix> {
    if data.as_slice().iter().all(|v| v.is_finite()) {
        return Cow::Borrowed(data);
    }
    let values = data
        .as_slice()
        .iter()
        .map(|&v| if v.is_finite() { v } else { 0.0 });
    let (rows, cols) = (data.rows(), data.cols());
    Cow::Owned(
        Matrix::new(rows, cols, values.collect()).unwrap_or_else(|| Matrix::zeros(rows, cols)),
    )
}

/// The fuzzy graph: symmetric, every edge stored from both ends, each row's
/// edges by increasing target.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Graph {
    /// Row `i`'s edges are at `starts[i]..starts[i + 1]`.
    starts: Vec<usize>,
    /// The other end of each edge.
    targets: Vec<u32>,
    /// Membership strength of each edge, in (0, 1]; the strongest is 1.
    weights: Vec<f32>,
}

impl Graph {
    /// Row `i`'s edges: other ends and weights.
    fn edges(&self, i: usize) -> (&[u32], &[f32]) {
        let range = self.starts[i]..self.starts[i + 1];
        (&self.targets[range.clone()], &self.weights[range])
    }
}

/// The memberships of the neighbours (Euclidean distances) combined by
/// `a + b − a·b`, without edges too weak to be sampled in `epochs`. Every
/// row's nearest neighbour has membership 1, so the strongest edge is 1.
pub(super) fn fuzzy_graph(neighbours: &Neighbours, epochs: usize) -> Graph {
    let k = neighbours.k;
    let n = neighbours.indices.len() / k;
    let starts: Vec<usize> = (0..n).step_by(UNIT_ROWS).collect();
    let memberships: Vec<f32> = parallel_map(starts, |start| {
        let distances = &neighbours.distances[start * k..(start + UNIT_ROWS).min(n) * k];
        distances
            .chunks_exact(k)
            .flat_map(smooth_memberships)
            .collect::<Vec<_>>()
    })
    .concat();
    // Every directed edge goes into the rows of both its ends.
    let mut row_starts = vec![0; n + 1];
    for &j in &neighbours.indices {
        row_starts[j as usize + 1] += 1;
    }
    for i in 0..n {
        row_starts[i + 1] += row_starts[i] + k;
    }
    let mut next = row_starts.clone();
    let mut entries = vec![(0u32, 0f32); row_starts[n]];
    for (slot, (&j, &weight)) in neighbours.indices.iter().zip(&memberships).enumerate() {
        for (row, other) in [(slot / k, j), (j as usize, (slot / k) as u32)] {
            entries[next[row]] = (other, weight);
            next[row] += 1;
        }
    }
    let weakest = 1.0 / epochs.max(1) as f32;
    let mut graph = Graph {
        starts: vec![0],
        targets: Vec::new(),
        weights: Vec::new(),
    };
    for i in 0..n {
        let row = &mut entries[row_starts[i]..row_starts[i + 1]];
        row.sort_unstable_by_key(|&(j, _)| j);
        // Both directions of an edge meet here (at most one of each).
        let mut place = 0;
        while place < row.len() {
            let (j, a) = row[place];
            let matched = row.get(place + 1).is_some_and(|next| next.0 == j);
            let b = if matched { row[place + 1].1 } else { 0.0 };
            place += 1 + usize::from(matched);
            let weight = a + b - a * b;
            if weight >= weakest {
                graph.targets.push(j);
                graph.weights.push(weight);
            }
        }
        graph.starts.push(graph.targets.len());
    }
    graph
}

/// A row's memberships from its neighbours' distances (nearest first):
/// `exp(−max(0, d − ρ)/σ)`, with `σ` making their sum `log₂ k`.
fn smooth_memberships(distances: &[f32]) -> Vec<f32> {
    let target = (distances.len() as f64).log2();
    let rho = f64::from(distances.iter().copied().find(|&d| d > 0.0).unwrap_or(0.0));
    let excess: Vec<f64> = distances
        .iter()
        .map(|&d| (f64::from(d) - rho).max(0.0))
        .collect();
    let total = |sigma: f64| -> f64 { excess.iter().map(|&e| (-e / sigma).exp()).sum() };
    let (mut low, mut high, mut sigma) = (0.0, f64::INFINITY, 1.0);
    for _ in 0..SIGMA_STEPS {
        let sum = total(sigma);
        if (sum - target).abs() < SIGMA_TOLERANCE {
            break;
        }
        if sum > target {
            high = sigma;
        } else {
            low = sigma;
        }
        sigma = if high.is_finite() {
            (low + high) / 2.0
        } else {
            sigma * 2.0
        };
    }
    let mean = distances.iter().map(|&d| f64::from(d)).sum::<f64>() / distances.len() as f64;
    let sigma = sigma.max(MIN_SIGMA_SCALE * mean);
    // Where every distance is 0, so are σ and the excesses: memberships 1.
    excess
        .iter()
        .map(|&e| {
            if e > 0.0 {
                (-e / sigma).exp() as f32
            } else {
                1.0
            }
        })
        .collect()
}

/// `a` and `b` of the layout similarity `1 / (1 + a·d^{2b})`, fitted by
/// least squares to 1 below `min_dist` and `exp(−(d − min_dist))` above, on
/// distances from 0 to 3, by pattern search (relative steps of both
/// parameters, halved when none improves). For `min_dist` 0.1: a ≈ 1.577,
/// b ≈ 0.895, as umap-learn fits them.
pub(super) fn curve_parameters(min_dist: f32) -> (f32, f32) {
    let min_dist = if min_dist.is_finite() {
        f64::from(min_dist).clamp(0.0, 1.0)
    } else {
        0.1
    };
    let cost = |[a, b]: [f64; 2]| -> f64 {
        (0..CURVE_POINTS)
            .map(|p| {
                let x = CURVE_RANGE * p as f64 / (CURVE_POINTS - 1) as f64;
                let target = if x < min_dist {
                    1.0
                } else {
                    (min_dist - x).exp()
                };
                (1.0 / (1.0 + a * x.powf(2.0 * b)) - target).powi(2)
            })
            .sum()
    };
    let (mut best, mut step) = ([1.0, 1.0], 0.5);
    let mut lowest = cost(best);
    while step > 1e-10 {
        let mut improved = false;
        for da in [-1.0, 0.0, 1.0] {
            for db in [-1.0, 0.0, 1.0] {
                let trial = [best[0] * (1.0 + da * step), best[1] * (1.0 + db * step)];
                let value = cost(trial);
                if value < lowest {
                    (best, lowest, improved) = (trial, value, true);
                }
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
    (best[0] as f32, best[1] as f32)
}

/// The start layout (see the module notes), in [0, 10].
pub(super) fn initial_layout(data: &Matrix, graph: &Graph, seed: u64) -> Vec<[f32; 2]> {
    let n = graph.starts.len() - 1;
    let (component, sizes) = components(graph);
    let count = sizes.len();
    let (vectors, usable) = spectral_vectors(graph, &component, count, seed);
    let mut rng = Rng::stream(seed, STREAM_START_LAYOUT, 0);
    let centres = if count > 1 {
        component_centres(data, &component, &sizes, &mut rng)
    } else {
        vec![[0.0; 2]]
    };
    let mut bounds = vec![[[f64::INFINITY, f64::NEG_INFINITY]; 2]; count];
    for (vector, &c) in vectors.iter().zip(&component) {
        for (bound, &v) in bounds[c].iter_mut().zip(vector) {
            *bound = [bound[0].min(v), bound[1].max(v)];
        }
    }
    let mut placed = Vec::with_capacity(n);
    for (vector, &c) in vectors.iter().zip(&component) {
        let radius = 0.5 * (sizes[c] as f64 / n as f64).sqrt();
        let spectral = usable[c]
            && bounds[c]
                .iter()
                .all(|[l, h]| h - l > 0.0 && (h - l).is_finite());
        placed.push([0, 1].map(|axis| {
            let [least, most] = bounds[c][axis];
            let unit = if spectral {
                2.0 * (vector[axis] - least) / (most - least) - 1.0
            } else {
                rng.range(-1.0, 1.0)
            };
            centres[c][axis] + radius * unit
        }));
    }
    let mut layout = vec![[0f32; 2]; n];
    for axis in 0..2 {
        let least = placed.iter().map(|p| p[axis]).fold(f64::INFINITY, f64::min);
        let most = placed
            .iter()
            .map(|p| p[axis])
            .fold(f64::NEG_INFINITY, f64::max);
        for (out, point) in layout.iter_mut().zip(&placed) {
            let scaled = if most > least {
                (point[axis] - least) / (most - least)
            } else {
                0.5
            };
            out[axis] = (LAYOUT_EXTENT * scaled + rng.range(-LAYOUT_NOISE, LAYOUT_NOISE)) as f32;
        }
    }
    layout
}

/// The connected component of every row (numbered in order of their first
/// rows) and the size of each.
fn components(graph: &Graph) -> (Vec<usize>, Vec<usize>) {
    let n = graph.starts.len() - 1;
    let mut parent: Vec<usize> = (0..n).collect();
    let root = |parent: &mut [usize], mut x: usize| {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    };
    for i in 0..n {
        for &j in graph.edges(i).0 {
            let (a, b) = (root(&mut parent, i), root(&mut parent, j as usize));
            parent[a.max(b)] = a.min(b);
        }
    }
    let (mut label, mut sizes, mut component) = (vec![usize::MAX; n], Vec::new(), vec![0; n]);
    for (i, slot) in component.iter_mut().enumerate() {
        let r = root(&mut parent, i);
        if label[r] == usize::MAX {
            label[r] = sizes.len();
            sizes.push(0);
        }
        *slot = label[r];
        sizes[label[r]] += 1;
    }
    (component, sizes)
}

/// Per component, two unit vectors approximating the eigenvectors of
/// `D^−½ W D^−½` for its second and third largest eigenvalues, and whether
/// the component has both.
fn spectral_vectors(
    graph: &Graph,
    component: &[usize],
    count: usize,
    seed: u64,
) -> (Vec<[f64; 2]>, Vec<bool>) {
    let n = component.len();
    let root_degree: Vec<f64> = (0..n)
        .map(|i| {
            graph
                .edges(i)
                .1
                .iter()
                .map(|&w| f64::from(w))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut rng = Rng::stream(seed, STREAM_SPECTRAL, 0);
    let mut vectors: Vec<[f64; 2]> = (0..n)
        .map(|_| [rng.range(-1.0, 1.0), rng.range(-1.0, 1.0)])
        .collect();
    let mut usable = orthonormalise(&mut vectors, &root_degree, component, count);
    let starts: Vec<usize> = (0..n).step_by(UNIT_ROWS).collect();
    for _ in 0..SPECTRAL_ITERATIONS {
        let scaled: Vec<[f64; 2]> = vectors
            .iter()
            .zip(&root_degree)
            .map(|(v, &s)| v.map(|x| x / s))
            .collect();
        let mut next = parallel_map(starts.clone(), |start| {
            let rows = start..(start + UNIT_ROWS).min(n);
            let product = rows.map(|i| {
                let (targets, weights) = graph.edges(i);
                let mut sum = [0.0; 2];
                for (&j, &w) in targets.iter().zip(weights) {
                    sum = [0, 1].map(|a| sum[a] + f64::from(w) * scaled[j as usize][a]);
                }
                [0, 1].map(|a| SPECTRAL_SHIFT * vectors[i][a] + sum[a] / root_degree[i])
            });
            product.collect::<Vec<_>>()
        })
        .concat();
        usable = orthonormalise(&mut next, &root_degree, component, count);
        let change: f64 = next
            .iter()
            .zip(&vectors)
            .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
            .sum();
        vectors = next;
        if change < SPECTRAL_CONVERGED * count as f64 {
            break;
        }
    }
    (vectors, usable)
}

/// Within each component: removes the trivial direction `root_degree` from
/// both columns, makes the second orthogonal to the first and scales both to
/// unit length. A component where a column vanishes gets zeros and `false`.
fn orthonormalise(
    vectors: &mut [[f64; 2]],
    root_degree: &[f64],
    component: &[usize],
    count: usize,
) -> Vec<bool> {
    let per_component = |vectors: &[[f64; 2]], value: &dyn Fn(usize, &[f64; 2]) -> f64| {
        let mut sums = vec![0f64; count];
        for (i, (v, &c)) in vectors.iter().zip(component).enumerate() {
            sums[c] += value(i, v);
        }
        sums
    };
    let trivial = per_component(vectors, &|i, _| root_degree[i] * root_degree[i]);
    for axis in 0..2 {
        let along = per_component(vectors, &|i, v| v[axis] * root_degree[i]);
        for (i, (v, &c)) in vectors.iter_mut().zip(component).enumerate() {
            v[axis] -= along[c] / trivial[c] * root_degree[i];
        }
    }
    let mut usable = vec![true; count];
    for axis in 0..2 {
        if axis == 1 {
            let overlap = per_component(vectors, &|_, v| v[0] * v[1]);
            vectors
                .iter_mut()
                .zip(component)
                .for_each(|(v, &c)| v[1] -= overlap[c] * v[0]);
        }
        let mut norm = per_component(vectors, &|_, v| v[axis] * v[axis]);
        for (keep, norm) in usable.iter_mut().zip(&mut norm) {
            *keep &= *norm >= VANISHED;
            *norm = if *keep { norm.sqrt().recip() } else { 0.0 };
        }
        vectors
            .iter_mut()
            .zip(component)
            .for_each(|(v, &c)| v[axis] *= norm[c]);
    }
    usable
}

/// Where each component goes, within [−1, 1]²: its centroid along the two
/// principal directions of the centroids (weighted by size, by power
/// iteration); at random when the centroids coincide.
fn component_centres(
    data: &Matrix,
    component: &[usize],
    sizes: &[usize],
    rng: &mut Rng,
) -> Vec<[f64; 2]> {
    let (count, cols) = (sizes.len(), data.cols());
    let mut centroids = vec![vec![0f64; cols]; count];
    for (i, &c) in component.iter().enumerate() {
        for (sum, &v) in centroids[c].iter_mut().zip(data.row(i)) {
            *sum += f64::from(v) / sizes[c] as f64;
        }
    }
    let mut mean = vec![0f64; cols];
    for (centroid, &size) in centroids.iter().zip(sizes) {
        for (m, &v) in mean.iter_mut().zip(centroid) {
            *m += v * size as f64 / component.len() as f64;
        }
    }
    for centroid in &mut centroids {
        centroid.iter_mut().zip(&mean).for_each(|(v, &m)| *v -= m);
    }
    let dot = |p: &[f64], q: &[f64]| -> f64 { p.iter().zip(q).map(|(x, y)| x * y).sum() };
    let mut directions: [Vec<f64>; 2] =
        [0, 1].map(|_| (0..cols).map(|_| rng.range(-1.0, 1.0)).collect());
    for _ in 0..SPECTRAL_ITERATIONS {
        let mut next = [vec![0f64; cols], vec![0f64; cols]];
        for (centroid, &size) in centroids.iter().zip(sizes) {
            for (image, direction) in next.iter_mut().zip(&directions) {
                let along = dot(centroid, direction) * size as f64;
                image
                    .iter_mut()
                    .zip(centroid)
                    .for_each(|(value, &x)| *value += along * x);
            }
        }
        let [first, second] = &mut next;
        let overlap = dot(first, second) / dot(first, first).max(f64::MIN_POSITIVE);
        second
            .iter_mut()
            .zip(first.iter())
            .for_each(|(value, &x)| *value -= overlap * x);
        for direction in &mut next {
            let norm = dot(direction, direction).sqrt();
            let scale = if norm > 0.0 { norm.recip() } else { 0.0 };
            direction.iter_mut().for_each(|value| *value *= scale);
        }
        directions = next;
    }
    let centres: Vec<[f64; 2]> = centroids
        .iter()
        .map(|c| [dot(c, &directions[0]), dot(c, &directions[1])])
        .collect();
    let largest = centres.iter().flatten().fold(0f64, |m, v| m.max(v.abs()));
    let scale = |v: f64, rng: &mut Rng| {
        if largest > 0.0 {
            v / largest
        } else {
            rng.range(-1.0, 1.0)
        }
    };
    centres
        .iter()
        .map(|&[x, y]| [scale(x, rng), scale(y, rng)])
        .collect()
}

/// Settings of [`optimise_layout`].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Schedule {
    /// Epochs; an edge is sampled about `epochs × weight` times.
    pub(super) epochs: usize,
    /// `a` of the layout similarity `1 / (1 + a·d^{2b})`.
    pub(super) a: f32,
    /// `b` of the layout similarity.
    pub(super) b: f32,
    /// Random rows pushed away per sampled edge.
    pub(super) negative_samples: usize,
    /// Seed of the negative samples.
    pub(super) seed: u64,
}

/// The gradient coefficients of the layout similarity as functions of the
/// squared distance, tabulated (in the optimisation, `powf` and the division
/// took more time than everything else together).
struct Gradients {
    a: f32,
    b: f32,
    /// [`Gradients::exact_attraction`] at the start of every cell.
    attraction: Vec<f32>,
    /// [`Gradients::exact_repulsion`] at the start of every cell.
    repulsion: Vec<f32>,
}

impl Gradients {
    fn new(a: f32, b: f32) -> Self {
        let mut gradients = Self {
            a,
            b,
            attraction: Vec::new(),
            repulsion: Vec::new(),
        };
        let cells = (TABLE_END - TABLE_START) >> TABLE_CELL_BITS;
        let at = |cell: u32| f32::from_bits(TABLE_START + (cell << TABLE_CELL_BITS));
        gradients.attraction = (0..=cells)
            .map(|c| gradients.exact_attraction(at(c)))
            .collect();
        gradients.repulsion = (0..=cells)
            .map(|c| gradients.exact_repulsion(at(c)))
            .collect();
        gradients
    }

    /// `−2ab·d^{2(b−1)} / (1 + a·d^{2b})` at `d² = squared`: times the
    /// difference of two linked points, the gradient that pulls them.
    fn exact_attraction(&self, squared: f32) -> f32 {
        let power = squared.powf(self.b - 1.0);
        -2.0 * self.a * self.b * power / (1.0 + self.a * power * squared)
    }

    /// `2b / ((ε + d²)(1 + a·d^{2b}))`: times the difference, the gradient
    /// that pushes a point from a negative sample.
    fn exact_repulsion(&self, squared: f32) -> f32 {
        2.0 * self.b / ((REPULSION_EPSILON + squared) * (1.0 + self.a * squared.powf(self.b)))
    }

    fn attraction(&self, squared: f32) -> f32 {
        Self::lookup(&self.attraction, squared).unwrap_or_else(|| self.exact_attraction(squared))
    }

    fn repulsion(&self, squared: f32) -> f32 {
        Self::lookup(&self.repulsion, squared).unwrap_or_else(|| self.exact_repulsion(squared))
    }

    /// Linear interpolation in `table` (within a cell a float's bit pattern
    /// grows linearly with its value); `None` outside the table.
    fn lookup(table: &[f32], squared: f32) -> Option<f32> {
        let offset = squared.to_bits().wrapping_sub(TABLE_START);
        if offset >= TABLE_END - TABLE_START {
            return None;
        }
        let cell = (offset >> TABLE_CELL_BITS) as usize;
        let fraction =
            (offset & ((1 << TABLE_CELL_BITS) - 1)) as f32 / (1 << TABLE_CELL_BITS) as f32;
        Some(table[cell] + (table[cell + 1] - table[cell]) * fraction)
    }
}

/// Moves the points of `layout` by stochastic gradient descent on the fuzzy
/// cross-entropy between `graph` and the layout.
///
/// Each epoch runs in parallel over blocks of [`UNIT_ROWS`] rows, each with
/// its own random stream. A block moves only its own points: it sees them
/// where they are now and every other point where it was when the epoch
/// began, so the result does not depend on the number of threads. An edge
/// moves only its first end, by twice the clipped attraction: the graph
/// holds every edge from both ends with the same weight, sampled in the same
/// epochs, so each end gets the two pulls it would get if both copies moved
/// both ends.
pub(super) fn optimise_layout(
    layout: &mut [[f32; 2]],
    graph: &Graph,
    schedule: &Schedule,
    watch: &dyn Watch,
) -> Result<(), UmapError> {
    let n = layout.len();
    let strongest = graph.weights.iter().copied().fold(0f32, f32::max);
    let period: Vec<f32> = graph.weights.iter().map(|&w| strongest / w).collect();
    let mut due = period.clone();
    let gradients = Gradients::new(schedule.a, schedule.b);
    let clip = |g: f32| g.clamp(-GRADIENT_CLIP, GRADIENT_CLIP);
    let blocks = n.div_ceil(UNIT_ROWS);
    let mut before = layout.to_vec();
    for epoch in 0..schedule.epochs {
        watch.check()?;
        watch.progress("UMAP: layout epochs", epoch as u64, schedule.epochs as u64);
        let rate = 1.0 - epoch as f32 / schedule.epochs as f32;
        let now = (epoch + 1) as f32;
        before.copy_from_slice(layout);
        let (mut units, mut rest) = (Vec::with_capacity(blocks), &mut due[..]);
        for (block, points) in layout.chunks_mut(UNIT_ROWS).enumerate() {
            let first = block * UNIT_ROWS;
            let edges = graph.starts[first + points.len()] - graph.starts[first];
            let (own, later) = std::mem::take(&mut rest).split_at_mut(edges);
            rest = later;
            units.push((block, points, own));
        }
        let before = &before;
        parallel_map(units, |(block, points, due)| {
            let first = block * UNIT_ROWS;
            let mut rng = Rng::stream(schedule.seed, STREAM_OPTIMISE, epoch * blocks + block);
            let offset = graph.starts[first];
            let at = |points: &[[f32; 2]], j: usize| {
                if j / UNIT_ROWS == block {
                    points[j - first]
                } else {
                    before[j]
                }
            };
            for local in 0..points.len() {
                let i = first + local;
                let edges = graph.starts[i]..graph.starts[i + 1];
                let row = graph.targets[edges.clone()]
                    .iter()
                    .zip(&period[edges.clone()]);
                let own = &mut due[edges.start - offset..edges.end - offset];
                for ((&tail, &period), due) in row.zip(own) {
                    if *due > now {
                        continue;
                    }
                    *due += period;
                    let (here, there) = (points[local], at(points, tail as usize));
                    let [dx, dy] = [here[0] - there[0], here[1] - there[1]];
                    let squared = dx * dx + dy * dy;
                    let mut step = [0f32; 2];
                    if squared > 0.0 {
                        let coefficient = gradients.attraction(squared);
                        step = [2.0 * clip(coefficient * dx), 2.0 * clip(coefficient * dy)];
                    }
                    // The pushes are measured from where the point stood
                    // before this edge, so they need not wait for one another.
                    for _ in 0..schedule.negative_samples {
                        let other = rng.below(n);
                        let there = at(points, other);
                        let [dx, dy] = [here[0] - there[0], here[1] - there[1]];
                        let squared = dx * dx + dy * dy;
                        if other != i && squared > 0.0 {
                            let coefficient = gradients.repulsion(squared);
                            step[0] += clip(coefficient * dx);
                            step[1] += clip(coefficient * dy);
                        }
                    }
                    points[local][0] += rate * step[0];
                    points[local][1] += rate * step[1];
                }
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    /// `per_blob` points around each of `blobs` random centres (coordinates
    /// spread `separation`) in `cols` dimensions, with labels. The noise
    /// along dimension `j` has deviation `(j + 1)^−decay`: 0 for round
    /// blobs, 0.5 for variance falling off as in PCA output.
    fn blobs(
        blobs: usize,
        per_blob: usize,
        cols: usize,
        [separation, decay]: [f64; 2],
        seed: u64,
    ) -> (Matrix, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let centres: Vec<Vec<f64>> = (0..blobs)
            .map(|_| (0..cols).map(|_| separation * rng.normal()).collect())
            .collect();
        let (mut values, mut labels) = (Vec::new(), Vec::new());
        for p in 0..blobs * per_blob {
            labels.push(p % blobs);
            for (j, &centre) in centres[p % blobs].iter().enumerate() {
                let deviation = ((j + 1) as f64).powf(-decay);
                values.push((centre + deviation * rng.normal()) as f32);
            }
        }
        let data = Matrix::new(blobs * per_blob, cols, values).expect("shape");
        (data, labels)
    }

    /// Leave-one-out 1-nearest-neighbour accuracy of `labels` in `layout`.
    fn nearest_label_accuracy(layout: &[[f32; 2]], labels: &[usize]) -> f64 {
        let hits = (0..layout.len())
            .filter(|&i| {
                let nearest = (0..layout.len()).filter(|&j| j != i).min_by(|&p, &q| {
                    let d = |j: usize| {
                        (layout[i][0] - layout[j][0]).powi(2)
                            + (layout[i][1] - layout[j][1]).powi(2)
                    };
                    d(p).total_cmp(&d(q))
                });
                nearest.is_some_and(|j| labels[j] == labels[i])
            })
            .count();
        hits as f64 / layout.len() as f64
    }

    fn all_finite(layout: &[[f32; 2]]) -> bool {
        layout.iter().flatten().all(|v| v.is_finite())
    }

    #[test]
    fn separates_gaussian_blobs() {
        for (count, seed) in [(3, 1), (5, 2)] {
            // Round 20-D blobs cannot keep their inner neighbourhoods in 2-D
            // (trustworthiness about 0.91); these are flatter, like the
            // PCA output that the projection is given (about 0.96).
            let (data, labels) = blobs(count, 300, 20, [4.0, 0.5], seed);
            let layout = umap(
                &data,
                &UmapOptions {
                    seed,
                    ..UmapOptions::default()
                },
                &never,
            )
            .expect("not cancelled");
            assert_eq!(layout.len(), data.rows());
            assert!(all_finite(&layout));
            let accuracy = nearest_label_accuracy(&layout, &labels);
            let trust = trustworthiness(&data, &layout, 10);
            assert!(accuracy >= 0.95, "{count} blobs: 1-NN accuracy {accuracy}");
            assert!(trust >= 0.9, "{count} blobs: trustworthiness {trust}");
        }
    }

    #[test]
    fn same_seed_same_layout() {
        let (data, _) = blobs(4, 150, 10, [4.0, 0.0], 11);
        let options = UmapOptions {
            epochs: Some(60),
            seed: 5,
            ..UmapOptions::default()
        };
        let first = umap(&data, &options, &never).expect("not cancelled");
        assert_eq!(first, umap(&data, &options, &never).expect("not cancelled"));
        let other = UmapOptions { seed: 6, ..options };
        assert_ne!(first, umap(&data, &other, &never).expect("not cancelled"));
    }

    #[test]
    fn tabulated_gradients_match_exact_ones() {
        let (a, b) = curve_parameters(0.1);
        let gradients = Gradients::new(a, b);
        let mut rng = Rng::new(4);
        for _ in 0..100_000 {
            let squared = 10f64.powf(rng.range(-9.0, 5.0)) as f32;
            let pairs = [
                (
                    gradients.attraction(squared),
                    gradients.exact_attraction(squared),
                ),
                (
                    gradients.repulsion(squared),
                    gradients.exact_repulsion(squared),
                ),
            ];
            for (table, exact) in pairs {
                assert!(
                    ((table - exact) / exact).abs() < 1e-4,
                    "{squared}: {table} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn curve_for_default_min_dist() {
        let (a, b) = curve_parameters(0.1);
        assert!(
            (a - 1.577).abs() < 0.01 && (b - 0.895).abs() < 0.005,
            "a {a}, b {b}"
        );
        let (a, b) = curve_parameters(0.5);
        assert!(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0);
    }

    #[test]
    fn small_and_degenerate_inputs() {
        let run = |rows: usize, cols: usize, values: Vec<f32>| {
            let data = Matrix::new(rows, cols, values).expect("shape");
            let layout = umap(&data, &UmapOptions::default(), &never).expect("not cancelled");
            assert_eq!(layout.len(), rows);
            assert!(all_finite(&layout), "{rows} rows: {layout:?}");
            layout
        };
        assert!(run(0, 3, vec![]).is_empty());
        assert_eq!(run(1, 3, vec![1.0, 2.0, 3.0]), vec![[0.0, 0.0]]);
        let two = run(2, 2, vec![0.0, 0.0, 1.0, 1.0]);
        assert_ne!(two[0], two[1]);
        run(3, 2, vec![0.0, 0.0, 1.0, 0.0, 5.0, 5.0]);
        run(8, 3, (0..24).map(|v| (v % 7) as f32).collect());
        run(50, 4, vec![2.5; 200]);
        // Identical rows beyond the exact search, with a short optimisation.
        let same = Matrix::new(4200, 2, vec![2.5; 8400]).expect("shape");
        let options = UmapOptions {
            epochs: Some(20),
            ..UmapOptions::default()
        };
        assert!(all_finite(
            &umap(&same, &options, &never).expect("not cancelled")
        ));
        run(40, 0, vec![]);
        // Two groups of duplicates, and values that are not finite.
        let mut values: Vec<f32> = (0..120).map(|v| if v < 60 { 1.0 } else { -3.0 }).collect();
        values[7] = f32::NAN;
        values[8] = f32::INFINITY;
        run(40, 3, values);
    }

    #[test]
    fn cancellation_stops_the_work() {
        let (data, _) = blobs(2, 100, 5, [4.0, 0.0], 3);
        let stop = || true;
        assert_eq!(
            umap(&data, &UmapOptions::default(), &stop),
            Err(UmapError::Cancelled)
        );
        let calls = std::cell::Cell::new(0);
        let later = || {
            calls.set(calls.get() + 1);
            calls.get() > 10
        };
        assert_eq!(
            umap(&data, &UmapOptions::default(), &later),
            Err(UmapError::Cancelled)
        );
        let (large, _) = blobs(2, 2100, 5, [4.0, 0.0], 3);
        assert_eq!(
            umap(&large, &UmapOptions::default(), &stop),
            Err(UmapError::Cancelled)
        );
    }

    #[test]
    fn trustworthiness_of_perfect_and_random_layouts() {
        let mut rng = Rng::new(9);
        let values: Vec<f32> = (0..600).map(|_| rng.range(-5.0, 5.0) as f32).collect();
        let data = Matrix::new(300, 2, values).expect("shape");
        let same: Vec<[f32; 2]> = (0..300).map(|i| [data.row(i)[0], data.row(i)[1]]).collect();
        assert_eq!(trustworthiness(&data, &same, 10), 1.0);
        let shuffled: Vec<[f32; 2]> = (0..300).map(|i| same[(i * 7 + 3) % 300]).collect();
        assert!(trustworthiness(&data, &shuffled, 10) < 0.7);
        assert_eq!(trustworthiness(&data, &same[..1], 10), 1.0);
    }
}
