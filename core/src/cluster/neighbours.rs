//! The `k` nearest neighbours of every row of a matrix (Euclidean, a row
//! not counting itself), for the cluster scatter's UMAP and for
//! nearest-neighbour graphs of the lake.
//!
//! Up to 4,096 rows every pair is measured. Above that, NN-descent (Dong,
//! Charikar and Li 2011) starts from the leaves of 8 random-projection
//! trees: rounds of local joins, in which every row's sampled candidates (at
//! most 2k new and 2k old, reverse neighbours included) are measured against
//! each other, until a round improves fewer than 0.1% of the list entries.
//! Joins run in parallel in fixed units of rows and their improvements go in
//! per block of rows in unit order, so the result is the same for a seed
//! whatever the number of threads.

use super::kernels::{dot, squared_distance};
use super::matrix::Matrix;
use crate::job::{Cancelled, Watch};
use crate::parallel::parallel_map;
use crate::rng::Rng;

/// Rows up to which neighbours are found by measuring every pair.
const EXACT_ROWS: usize = 4096;
/// Rows per unit of parallel work in exact searches (UMAP's too).
pub(super) const EXACT_UNIT_ROWS: usize = 256;
/// Rows per unit of parallel work elsewhere, here and in UMAP (fixed, so
/// that results do not depend on the number of threads).
pub(super) const UNIT_ROWS: usize = 1024;
/// Random-projection trees whose leaves start NN-descent.
const PROJECTION_TREES: usize = 8;
/// Most rows in a tree leaf (at least k + 1).
const LEAF_SIZE: usize = 30;
/// Tree leaves per unit of parallel work.
const LEAVES_PER_UNIT: usize = 64;
/// Units joined before their proposals go into the lists (bounds the memory
/// that pending proposals hold).
const WAVE_UNITS: usize = 16;
/// Most NN-descent rounds.
const DESCENT_ROUNDS: usize = 16;
/// NN-descent stops once a round improves fewer than this fraction of the
/// rows × k list entries.
const DESCENT_CONVERGED: f64 = 0.001;

/// Random streams of the phases, mixed with the seed and the unit of work
/// (UMAP's own phases come after these).
const STREAM_TREES: u64 = 1;
const STREAM_RANDOM_NEIGHBOURS: u64 = 2;
const STREAM_DESCENT: u64 = 3;

/// The `k` nearest other rows of every row, nearest first (ties by index).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Neighbours {
    /// Neighbours per row.
    pub(crate) k: usize,
    /// Row `i`'s neighbours at `indices[i * k..(i + 1) * k]`; `u32::MAX` in
    /// a place not filled yet.
    pub(crate) indices: Vec<u32>,
    /// Their distances: squared during the search, Euclidean in the result
    /// of [`nearest_neighbours`].
    pub(crate) distances: Vec<f32>,
    /// Whether each entry came in after NN-descent last sampled it.
    fresh: Vec<bool>,
}

/// Neighbour lists of consecutive rows, to change.
struct ListsMut<'a> {
    indices: &'a mut [u32],
    distances: &'a mut [f32],
    fresh: &'a mut [bool],
}

impl Neighbours {
    /// `rows` lists of `k` empty places (infinitely far).
    fn empty(rows: usize, k: usize) -> Self {
        Self {
            k,
            indices: vec![u32::MAX; rows * k],
            distances: vec![f32::INFINITY; rows * k],
            fresh: vec![false; rows * k],
        }
    }

    /// The lists in numbered blocks of `rows` rows, to change in parallel.
    fn blocks(&mut self, rows: usize) -> Vec<(usize, ListsMut<'_>)> {
        let size = rows * self.k;
        let parts = self
            .indices
            .chunks_mut(size)
            .zip(self.distances.chunks_mut(size));
        parts
            .zip(self.fresh.chunks_mut(size))
            .map(|((indices, distances), fresh)| ListsMut {
                indices,
                distances,
                fresh,
            })
            .enumerate()
            .collect()
    }
}

impl ListsMut<'_> {
    /// Puts `candidate` at `distance` into the list of local row `row`
    /// (kept ordered by [`before`]) unless it is there already or would come
    /// last; true when it went in (marked fresh).
    fn insert(&mut self, row: usize, k: usize, candidate: u32, distance: f32) -> bool {
        let (start, last) = (row * k, row * k + k - 1);
        let entry = (distance, candidate);
        if !before(entry, (self.distances[last], self.indices[last]))
            || self.indices[start..=last].contains(&candidate)
        {
            return false;
        }
        let mut place = last;
        while place > start && before(entry, (self.distances[place - 1], self.indices[place - 1])) {
            self.indices[place] = self.indices[place - 1];
            self.distances[place] = self.distances[place - 1];
            self.fresh[place] = self.fresh[place - 1];
            place -= 1;
        }
        (
            self.indices[place],
            self.distances[place],
            self.fresh[place],
        ) = (candidate, distance, true);
        true
    }
}

/// Whether `(distance, index)` `a` comes before `b`: nearer first, ties by
/// index.
fn before(a: (f32, u32), b: (f32, u32)) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
}

/// The `k` nearest neighbours of every row (1 ≤ `k` < rows; every value
/// finite, which callers make sure of), Euclidean:
/// exact up to [`EXACT_ROWS`] rows (not interrupted), by NN-descent above
/// (`watch` is asked between waves of joins and told each round; `round_done` is told
/// after each round which round it was and the share of list entries it
/// improved: the search stops once that falls under 0.1%).
pub(crate) fn nearest_neighbours(
    data: &Matrix,
    k: usize,
    seed: u64,
    watch: &dyn Watch,
    round_done: &dyn Fn(usize, f64),
) -> Result<Neighbours, Cancelled> {
    let mut found = if data.rows() <= EXACT_ROWS {
        exact_neighbours(data, k)
    } else {
        descent_neighbours(data, k, seed, watch, round_done)?
    };
    found.distances.iter_mut().for_each(|d| *d = d.sqrt());
    Ok(found)
}

/// Exact `k` nearest neighbours (squared distances): every pair measured.
fn exact_neighbours(data: &Matrix, k: usize) -> Neighbours {
    let n = data.rows();
    let mut lists = Neighbours::empty(n, k);
    parallel_map(lists.blocks(EXACT_UNIT_ROWS), |(block, mut lists)| {
        for row in 0..lists.indices.len() / k {
            let i = block * EXACT_UNIT_ROWS + row;
            for j in (0..n).filter(|&j| j != i) {
                lists.insert(row, k, j as u32, squared_distance(data.row(i), data.row(j)));
            }
        }
    });
    lists
}

/// Approximate `k` nearest neighbours (squared distances) by NN-descent
/// from the leaves of random-projection trees; needs more than `k + 1` rows.
fn descent_neighbours(
    data: &Matrix,
    k: usize,
    seed: u64,
    watch: &dyn Watch,
    round_done: &dyn Fn(usize, f64),
) -> Result<Neighbours, Cancelled> {
    let n = data.rows();
    let mut lists = Neighbours::empty(n, k);
    let trees = parallel_map((0..PROJECTION_TREES).collect(), |tree| {
        projection_tree(
            data,
            LEAF_SIZE.max(k + 1),
            &mut Rng::stream(seed, STREAM_TREES, tree),
        )
    });
    let leaves: Vec<&[u32]> = trees
        .iter()
        .flat_map(|(order, leaves)| leaves.iter().map(|&(start, end)| &order[start..end]))
        .collect();
    let leaf_units = leaves.len().div_ceil(LEAVES_PER_UNIT);
    join_in_waves(&mut lists, leaf_units, watch, |current, unit| {
        let mut proposals = vec![Vec::new(); n.div_ceil(UNIT_ROWS)];
        for leaf in leaves
            .iter()
            .skip(unit * LEAVES_PER_UNIT)
            .take(LEAVES_PER_UNIT)
        {
            for (place, &p) in leaf.iter().enumerate() {
                for &q in &leaf[place + 1..] {
                    propose(data, current, p, q, &mut proposals);
                }
            }
        }
        proposals
    })?;
    // Rows whose leaves were small get random neighbours for the rest.
    parallel_map(lists.blocks(UNIT_ROWS), |(block, mut lists)| {
        let mut rng = Rng::stream(seed, STREAM_RANDOM_NEIGHBOURS, block);
        for row in 0..lists.indices.len() / k {
            let i = block * UNIT_ROWS + row;
            while lists.indices[(row + 1) * k - 1] == u32::MAX {
                let j = rng.below(n);
                if j != i {
                    lists.insert(row, k, j as u32, squared_distance(data.row(i), data.row(j)));
                }
            }
        }
    });
    let mut rng = Rng::stream(seed, STREAM_DESCENT, 0);
    for round in 1..=DESCENT_ROUNDS {
        watch.progress(
            "nearest neighbours",
            round as u64 - 1,
            DESCENT_ROUNDS as u64,
        );
        let (new, old) = sample_candidates(&mut lists, &mut rng);
        let units = n.div_ceil(UNIT_ROWS);
        let improved = join_in_waves(&mut lists, units, watch, |current, unit| {
            local_join(data, current, &new, &old, unit)
        })?;
        let share = improved as f64 / (n * k) as f64;
        round_done(round, share);
        if share < DESCENT_CONVERGED {
            break;
        }
    }
    Ok(lists)
}

/// A proposed list entry: (row, candidate neighbour, squared distance).
type Update = (u32, u32, f32);

/// Runs `proposals_of` on units `0..units`, [`WAVE_UNITS`] at a time in
/// parallel, and after each wave puts the proposals into the lists (in
/// parallel by block, in unit order). Returns how many went in.
fn join_in_waves(
    lists: &mut Neighbours,
    units: usize,
    watch: &dyn Watch,
    proposals_of: impl Fn(&Neighbours, usize) -> Vec<Vec<Update>> + Sync,
) -> Result<usize, Cancelled> {
    let (k, mut improved) = (lists.k, 0);
    for wave_start in (0..units).step_by(WAVE_UNITS) {
        watch.check()?;
        let current = &*lists;
        let wave = (wave_start..(wave_start + WAVE_UNITS).min(units)).collect();
        let proposals = parallel_map(wave, |unit| proposals_of(current, unit));
        let counts = parallel_map(lists.blocks(UNIT_ROWS), |(block, mut lists)| {
            let mut count = 0;
            for &(target, other, distance) in proposals.iter().flat_map(|unit| &unit[block]) {
                let row = target as usize - block * UNIT_ROWS;
                count += usize::from(lists.insert(row, k, other, distance));
            }
            count
        });
        improved += counts.into_iter().sum::<usize>();
    }
    Ok(improved)
}

/// Measures rows `p` and `q` and proposes each to the other's list where it
/// is nearer than the last entry (proposals grouped by block of rows).
fn propose(data: &Matrix, lists: &Neighbours, p: u32, q: u32, proposals: &mut [Vec<Update>]) {
    let farthest = |row: u32| lists.distances[(row as usize + 1) * lists.k - 1];
    let distance = squared_distance(data.row(p as usize), data.row(q as usize));
    for (to, other) in [(p, q), (q, p)] {
        if distance < farthest(to) {
            proposals[to as usize / UNIT_ROWS].push((to, other, distance));
        }
    }
}

/// The rows in leaf order of one random-projection tree, and the leaves as
/// ranges of that order. A node splits its rows by the hyperplane halfway
/// between two of them picked at random (rows on it go to a random side; a
/// split leaving one side empty is made in the middle) until at most
/// `leaf_size` remain.
fn projection_tree(
    data: &Matrix,
    leaf_size: usize,
    rng: &mut Rng,
) -> (Vec<u32>, Vec<(usize, usize)>) {
    let n = data.rows();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let (mut leaves, mut pending) = (Vec::new(), vec![(0, n)]);
    let mut normal = vec![0f32; data.cols()];
    while let Some((start, end)) = pending.pop() {
        if end - start <= leaf_size {
            leaves.push((start, end));
            continue;
        }
        let node = &mut order[start..end];
        let first = rng.below(node.len());
        let second = (first + 1 + rng.below(node.len() - 1)) % node.len();
        let (p, q) = (
            data.row(node[first] as usize),
            data.row(node[second] as usize),
        );
        let mut offset = 0.0;
        for ((w, &x), &y) in normal.iter_mut().zip(p).zip(q) {
            *w = x - y;
            offset += (x - y) * (x + y) / 2.0;
        }
        let mut split = 0;
        for place in 0..node.len() {
            let margin = dot(&normal, data.row(node[place] as usize)) - offset;
            if margin < 0.0 || (margin == 0.0 && rng.chance(0.5)) {
                node.swap(split, place);
                split += 1;
            }
        }
        if split == 0 || split == node.len() {
            split = node.len() / 2;
        }
        pending.extend([(start, start + split), (start + split, end)]);
    }
    (order, leaves)
}

/// Candidates of every row for one NN-descent round: at most `capacity`,
/// those offered with the smallest random priorities.
struct Candidates {
    capacity: usize,
    indices: Vec<u32>,
    priorities: Vec<u64>,
    counts: Vec<usize>,
}

impl Candidates {
    fn new(rows: usize, capacity: usize) -> Self {
        let (indices, priorities) = (vec![0; rows * capacity], vec![0; rows * capacity]);
        Self {
            capacity,
            indices,
            priorities,
            counts: vec![0; rows],
        }
    }

    /// Row `i`'s candidates.
    fn row(&self, i: usize) -> &[u32] {
        &self.indices[i * self.capacity..][..self.counts[i]]
    }

    /// Offers `candidate` to row `i`: it goes in if there is room, or
    /// displaces the entry of largest priority if that is above `priority`.
    fn offer(&mut self, i: usize, candidate: u32, priority: u64) {
        let (start, count) = (i * self.capacity, self.counts[i]);
        if self.row(i).contains(&candidate) {
            return;
        }
        let place = if count < self.capacity {
            self.counts[i] += 1;
            start + count
        } else {
            let priorities = self.priorities[start..start + count].iter().enumerate();
            match priorities.max_by_key(|&(_, p)| *p) {
                Some((worst, &highest)) if priority < highest => start + worst,
                _ => return,
            }
        };
        (self.indices[place], self.priorities[place]) = (candidate, priority);
    }
}

/// New and old candidates of every row for one NN-descent round, sampled
/// from its list and the lists it is in (at most 2k of each); marks the new
/// entries that were taken as no longer fresh.
fn sample_candidates(lists: &mut Neighbours, rng: &mut Rng) -> (Candidates, Candidates) {
    let k = lists.k;
    let n = lists.indices.len() / k;
    let (mut new, mut old) = (Candidates::new(n, 2 * k), Candidates::new(n, 2 * k));
    for slot in 0..n * k {
        let (i, j) = (slot / k, lists.indices[slot]);
        if j != u32::MAX {
            let priority = rng.next_u64();
            let candidates = if lists.fresh[slot] {
                &mut new
            } else {
                &mut old
            };
            candidates.offer(i, j, priority);
            candidates.offer(j as usize, i as u32, priority);
        }
    }
    for (slot, fresh) in lists.fresh.iter_mut().enumerate() {
        if *fresh && new.row(slot / k).contains(&lists.indices[slot]) {
            *fresh = false;
        }
    }
    (new, old)
}

/// The local joins of the rows of `unit`: every pair of a row's new
/// candidates, and every new–old pair, is measured and proposed.
fn local_join(
    data: &Matrix,
    lists: &Neighbours,
    new: &Candidates,
    old: &Candidates,
    unit: usize,
) -> Vec<Vec<Update>> {
    let n = data.rows();
    let mut proposals = vec![Vec::new(); n.div_ceil(UNIT_ROWS)];
    for v in unit * UNIT_ROWS..((unit + 1) * UNIT_ROWS).min(n) {
        let (fresh, stale) = (new.row(v), old.row(v));
        for (place, &p) in fresh.iter().enumerate() {
            for &q in fresh[place + 1..].iter().chain(stale).filter(|&&q| q != p) {
                propose(data, lists, p, q, &mut proposals);
            }
        }
    }
    proposals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    /// `per_blob` rows around each of `blobs` random centres in `cols`
    /// dimensions.
    fn blobs(blobs: usize, per_blob: usize, cols: usize, seed: u64) -> Matrix {
        let mut rng = Rng::new(seed);
        let centres: Vec<f32> = (0..blobs * cols)
            .map(|_| (rng.normal() * 10.0) as f32)
            .collect();
        let mut values = Vec::with_capacity(blobs * per_blob * cols);
        for row in 0..blobs * per_blob {
            let centre = &centres[(row % blobs) * cols..][..cols];
            values.extend(centre.iter().map(|c| c + rng.normal() as f32));
        }
        Matrix::new(blobs * per_blob, cols, values).expect("rows × cols values")
    }

    #[test]
    fn nn_descent_recall_and_determinism() {
        let data = blobs(25, 200, 20, 7);
        let exact = exact_neighbours(&data, 15);
        let approximate =
            descent_neighbours(&data, 15, 3, &never, &|_, _| {}).expect("not cancelled");
        let mut found = 0;
        for i in 0..data.rows() {
            let truth = &exact.indices[i * 15..(i + 1) * 15];
            found += approximate.indices[i * 15..(i + 1) * 15]
                .iter()
                .filter(|j| truth.contains(j))
                .count();
        }
        let recall = found as f64 / (data.rows() * 15) as f64;
        assert!(recall >= 0.9, "recall {recall}");
        let again = descent_neighbours(&data, 15, 3, &never, &|_, _| {}).expect("not cancelled");
        assert_eq!(again, approximate);
    }

    #[test]
    fn cancelling_stops_the_descent() {
        let data = blobs(5, 1_000, 4, 1);
        assert_eq!(
            nearest_neighbours(&data, 5, 1, &|| true, &|_, _| {}),
            Err(Cancelled),
            "above the exact limit the search asks between waves"
        );
        let small = blobs(2, 10, 3, 1);
        let exact =
            nearest_neighbours(&small, 3, 1, &|| true, &|_, _| {}).expect("exact searches finish");
        assert!(exact.indices.iter().all(|i| *i != u32::MAX));
    }
}
