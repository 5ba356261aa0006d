//! Points in blocks and a KD-tree over them: the core distances (each
//! point's `min_samples`-th nearest neighbour), found sixteen points at a time.

use super::*;

/// Points stored [`BLOCK`] at a time, dimension by dimension inside each
/// block, so that the distances from one point to a whole block are computed
/// together (the loops vectorise across the block). The sums are formed in
/// exactly the order of [`squared_distance`](crate::cluster::kernels::squared_distance),
/// so both give the same bits.
pub(super) struct Blocks {
    pub(super) dim: usize,
    pub(super) data: Vec<f32>,
}

impl Blocks {
    /// Room for `slots` points (rounded up to whole blocks), all zero.
    pub(super) fn new(dim: usize, slots: usize) -> Self {
        Blocks {
            dim,
            data: vec![0.0; slots.div_ceil(BLOCK) * BLOCK * dim],
        }
    }

    pub(super) fn set(&mut self, slot: usize, x: &[f32]) {
        let (block, lane) = (slot / BLOCK, slot % BLOCK);
        let cols = &mut self.data[block * BLOCK * self.dim..(block + 1) * BLOCK * self.dim];
        for (col, &v) in cols.chunks_exact_mut(BLOCK).zip(x) {
            col[lane] = v;
        }
    }

    pub(super) fn get(&self, slot: usize, out: &mut Vec<f32>) {
        let (block, lane) = (slot / BLOCK, slot % BLOCK);
        let cols = &self.data[block * BLOCK * self.dim..(block + 1) * BLOCK * self.dim];
        out.clear();
        out.extend(cols.chunks_exact(BLOCK).map(|col| col[lane]));
    }

    /// Squared distances from `x` to the points of block `block`.
    pub(super) fn distances(&self, block: usize, x: &[f32]) -> [f32; BLOCK] {
        let cols = &self.data[block * BLOCK * self.dim..(block + 1) * BLOCK * self.dim];
        if self.dim < 64 {
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
        let whole = self.dim / 32 * 32;
        let mut lanes = [[0f32; BLOCK]; 32];
        for (j, (col, &v)) in cols.chunks_exact(BLOCK).zip(x).take(whole).enumerate() {
            for (acc, &c) in lanes[j % 32].iter_mut().zip(col) {
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
pub(super) struct KdNode {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) left: u32,
    pub(super) right: u32,
    pub(super) block: u32,
}

/// A KD-tree with a bounding box per node. Children come after their parent
/// in `nodes`, so walking `nodes` backwards visits children first.
pub(super) struct KdTree {
    pub(super) dim: usize,
    /// Point coordinates in tree order.
    pub(super) points: Vec<f32>,
    /// The same, one block per leaf (leaf `node.block`).
    pub(super) blocks: Blocks,
    /// Original index (in the matrix given to `build`) of each tree position.
    pub(super) order: Vec<u32>,
    pub(super) nodes: Vec<KdNode>,
    pub(super) lo: Vec<f32>,
    pub(super) hi: Vec<f32>,
}

impl KdTree {
    pub(super) fn build(rows: &Matrix) -> Self {
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

    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    pub(super) fn point(&self, pos: usize) -> &[f32] {
        &self.points[pos * self.dim..(pos + 1) * self.dim]
    }

    /// Squared distance from `x` to the box of `node`, shrunk by [`SLACK`].
    pub(super) fn box_distance(&self, x: &[f32], node: usize) -> f32 {
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
    pub(super) fn nearest(
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
pub(super) fn keep_nearest(out: &mut Vec<(f32, u32)>, want: usize, d: f32, q: usize) {
    if out.len() == want && out.last().is_some_and(|w| d >= w.0) {
        return;
    }
    let at = out.partition_point(|c| c.0 <= d);
    out.insert(at, (d, q as u32));
    out.truncate(want);
}

/// Squared core distance of every tree position (`mult` rows share each
/// position) and its nearest other positions, from KD-tree searches.
pub(super) fn core_distances(
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
    let stage = Some("HDBSCAN: core distances");
    run_jobs(jobs, threads, stop, stage, |(chunk, (core, neighbours))| {
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
pub(super) struct Neighbourhoods {
    /// Squared core distance of each tree position.
    pub(super) core: Vec<f32>,
    /// Up to [`CANDIDATES`] nearest other positions of each, as (position,
    /// squared distance), `NONE` padded.
    pub(super) neighbours: Vec<(u32, f32)>,
    /// Points measured per search, as a share of all points: near 1 when
    /// the tree cannot prune (data spread over many dimensions).
    pub(super) searched_share: f64,
}

/// Distinct neighbours searched per point: at most `min_samples − 1` are
/// needed for the core distance (each counts at least once), and at least
/// [`CANDIDATES`] to seed the Borůvka bounds.
pub(super) fn wanted(min_samples: usize, m: usize) -> usize {
    (min_samples - 1).max(CANDIDATES).min(m - 1)
}
