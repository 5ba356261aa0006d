//! The minimum spanning tree of mutual reachability: Borůvka over the
//! KD-tree, or Prim on the implicit complete graph, and the union-find both use.

use super::*;

/// How the spanning tree is found (the tests force each way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(super) enum Search {
    /// Borůvka unless the neighbour searches show the tree prunes poorly.
    Auto,
    /// Borůvka over the KD-tree.
    Tree,
    /// Prim over all pairs.
    Brute,
}

/// A weighted edge; `w` is the *squared* mutual reachability distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Edge {
    pub(super) w: f32,
    pub(super) a: u32,
    pub(super) b: u32,
}

/// The mutual-reachability minimum spanning tree of the rows (`n − 1` edges
/// between row indices).
pub(super) fn spanning_tree(
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
pub(super) fn dedup(data: &Matrix) -> (Vec<usize>, Vec<u32>) {
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

/// A candidate edge as a sortable key: (weight bits, smaller end, larger
/// end). Non-negative `f32`s order like their bit patterns.
pub(super) type Key = (u32, u32, u32);

pub(super) const NO_EDGE: Key = (u32::MAX, NONE, NONE);

pub(super) fn key(w: f32, a: usize, b: usize) -> Key {
    let (a, b) = (a as u32, b as u32);
    (w.to_bits(), a.min(b), a.max(b))
}

/// Minimum spanning tree of the mutual reachability graph over the tree
/// positions (Borůvka; edges between positions, squared weights). `None`
/// when the searches measured more than `budget` points in all: the tree
/// prunes too little for these data, and [`prim`] will do better.
pub(super) fn boruvka(
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
        stop.progress("HDBSCAN: spanning tree", m - components, m - 1);
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
            None,
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
pub(super) fn prim(
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
pub(super) fn prim_on(
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
    // Thread 0 asks `cancelled` (given the step) every 64 steps.
    let run = |t: usize, mut cancelled: Option<&mut dyn FnMut(usize) -> bool>| {
        let mut share = PrimShare::new(tree, core, t, threads);
        let mut edges = Vec::with_capacity(if t == 0 { m - 1 } else { 0 });
        let mut added = 0usize;
        for step in 0..m - 1 {
            let (lightest, vertex) = share.add(tree, core, added);
            let stop_now = step % 64 == 63 && cancelled.as_mut().is_some_and(|c| c(step));
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
        let mut check = |step: usize| {
            stop.progress("HDBSCAN: spanning tree", step, m - 1);
            stop.check()
        };
        run(0, Some(&mut check))
    });
    stop.result()?;
    Ok(edges)
}

/// What a Prim thread posts each step.
#[derive(Debug, Clone, Copy)]
pub(super) struct Post {
    /// Its lightest link to the tree.
    pub(super) lightest: Key,
    /// That link's vertex outside the tree.
    pub(super) vertex: u32,
    /// The caller asked to stop.
    pub(super) stop: bool,
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
pub(super) struct PrimShare {
    pub(super) threads: usize,
    pub(super) first: usize,
    pub(super) ids: Vec<u32>,
    pub(super) points: Blocks,
    pub(super) core: Vec<f32>,
    pub(super) best: Vec<Key>,
    /// Where position `threads * i + first` now sits in `ids`.
    pub(super) slot: Vec<u32>,
    pub(super) scratch: Vec<f32>,
}

impl PrimShare {
    pub(super) fn new(tree: &KdTree, core: &[f32], first: usize, threads: usize) -> Self {
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
    pub(super) fn add(&mut self, tree: &KdTree, core: &[f32], v: usize) -> (Key, u32) {
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
pub(super) struct NodeCores {
    pub(super) core: f32,
    pub(super) comp: u32,
    pub(super) other: f32,
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
    pub(super) fn of(core: &[f32], comp: &[u32]) -> Self {
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

    pub(super) fn merge(self, b: NodeCores) -> NodeCores {
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
    pub(super) fn foreign(&self, comp: u32) -> f32 {
        if self.comp == comp {
            self.other
        } else {
            self.core
        }
    }
}

/// What a Borůvka round's searches share.
pub(super) struct Reach<'a> {
    pub(super) tree: &'a KdTree,
    pub(super) core: &'a [f32],
    pub(super) neighbours: &'a [(u32, f32)],
    pub(super) comp: &'a [u32],
    pub(super) summary: &'a [NodeCores],
    pub(super) bound: &'a [AtomicU32],
}

impl Reach<'_> {
    /// The lightest edge from `p` to another component, or [`NO_EDGE`] when
    /// none can beat its component's best. Every edge as light as the
    /// component's lightest is examined (pruning is strict), so the result
    /// per component does not depend on thread timing.
    /// Adds the points it measures to `measured`.
    pub(super) fn lightest_edge(
        &self,
        p: usize,
        stack: &mut Vec<(u32, f32)>,
        measured: &mut u64,
    ) -> Key {
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
pub(super) struct UnionFind {
    pub(super) parent: Vec<u32>,
    pub(super) size: Vec<u32>,
}

impl UnionFind {
    pub(super) fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub(super) fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let grand = self.parent[self.parent[x] as usize];
            self.parent[x] = grand;
            x = grand as usize;
        }
        x
    }

    /// Joins the sets of `a` and `b`; false when they were already one.
    pub(super) fn union(&mut self, a: usize, b: usize) -> bool {
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
