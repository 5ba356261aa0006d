//! Whole-graph community detection: Leiden (Traag, Waltman & van Eck 2019) maximising modularity.

use std::collections::VecDeque;
use std::hint::{black_box, select_unpredictable};

use super::adjacency::Adjacency;
use super::quality::{counts_as_weight, modularity};
use crate::job::Job;
use crate::rng::Rng;

/// Randomness θ of the refinement phase, in units of the mean edge weight:
/// a merge is chosen with odds exp(gain / θ), so merges within a few θ of the
/// best gain are likely and the rest almost never happen.
const REFINE_RANDOMNESS: f64 = 0.01;

/// Merges whose gain trails the best by more than this many θ get no odds
/// at all (e^−50 would vanish next to the best's 1 anyway).
const ODDS_CUTOFF: f64 = 50.0;

/// Upper bound on whole-algorithm passes when `max_passes` is 0 (each pass
/// must raise modularity, so this is only a guard).
const PASS_LIMIT: usize = 1_000;

/// Graphs with fewer edges than this get a second independent run and keep
/// the better result: on small graphs one run's luck matters more than the
/// (small) time.
const SMALL_GRAPH_EDGES: usize = 1 << 18;

/// Most visits local moving makes per node before it stops anyway (it
/// typically needs a handful).
const VISITS_PER_NODE: usize = 1_000;

/// A pass counts as an improvement when it raises modularity by more than
/// this (relative to the total edge weight).
const IMPROVEMENT_EPSILON: f64 = 1e-12;

/// Settings of [`leiden`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeidenOptions {
    /// Resolution γ: higher gives more, smaller communities.
    pub resolution: f64,
    /// Seed of the random node orders; the same seed gives the same result.
    pub seed: u64,
    /// Refine communities before aggregating (Leiden); `false` is Louvain.
    pub refine: bool,
    /// Passes of the whole algorithm, each starting from the last result;
    /// 0 repeats until a pass no longer improves modularity (stable).
    pub max_passes: usize,
}

impl Default for LeidenOptions {
    fn default() -> Self {
        LeidenOptions {
            resolution: 1.0,
            seed: 42,
            refine: true,
            max_passes: 0,
        }
    }
}

/// Communities found by [`leiden`].
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Community of each node, numbered `0..count` by decreasing size.
    pub membership: Vec<u32>,
    /// Number of communities.
    pub count: usize,
    /// Modularity of `membership` at the requested resolution.
    pub modularity: f64,
    /// Passes of the whole algorithm the kept result took (its last pass
    /// is the one that found nothing better when `stable`).
    pub passes: usize,
    /// Whether it stopped because a pass no longer raised modularity,
    /// rather than at `max_passes`.
    pub stable: bool,
}

/// Finds communities of `graph` maximising modularity with the Leiden
/// algorithm (or Louvain when `options.refine` is false).
///
/// Edges whose weight is not positive and finite are ignored; isolated nodes
/// are communities of their own. With refinement every community is
/// connected. Graphs under 262,144 edges get two independent runs (from the
/// same seed) and keep the better. Never panics; an empty graph gives an
/// empty partition.
pub fn leiden(graph: &Adjacency, options: &LeidenOptions) -> Partition {
    // A job no one else holds is never cancelled, so there is always a result.
    leiden_with_job(graph, options, &Job::new()).unwrap_or_else(|| Partition {
        membership: Vec::new(),
        count: 0,
        modularity: 0.0,
        passes: 0,
        stable: true,
    })
}

/// [`leiden`] that says on `job` which pass it is in and the modularity
/// reached, and stops when `job` is cancelled (checked between levels: a
/// few seconds apart at most on a graph of ten million edges). `None` when
/// cancelled.
pub fn leiden_with_job(graph: &Adjacency, options: &LeidenOptions, job: &Job) -> Option<Partition> {
    let base = WorkGraph::from_adjacency(graph);
    let mut found = optimise(&base, options, job)?;
    if options.refine {
        // Leiden's communities are connected already; this only makes sure.
        found.membership = split_disconnected(&base, &found.membership);
    }
    let (membership, count) = number_by_size(found.membership);
    Some(Partition {
        modularity: modularity(graph, &membership, options.resolution),
        membership,
        count,
        passes: found.passes,
        stable: found.stable,
    })
}

/// What [`optimise`] found: a membership (dense labels) and how it stopped.
struct Optimised {
    membership: Vec<u32>,
    /// Modularity times 2m.
    quality: f64,
    passes: usize,
    stable: bool,
}

/// The best membership the algorithm finds on `base`, or `None` if `job` is
/// cancelled first.
fn optimise(base: &WorkGraph<f32>, options: &LeidenOptions, job: &Job) -> Option<Optimised> {
    let node_count = base.node_count();
    let twice_total: f64 = base.node_weights.iter().sum();
    let singletons = Optimised {
        membership: (0..node_count as u32).collect(),
        quality: 0.0,
        passes: 0,
        stable: true,
    };
    if twice_total <= 0.0 || !twice_total.is_finite() {
        return Some(singletons);
    }
    let mean_weight = twice_total / base.targets.len() as f64;
    let mut search = Search {
        scale: options.resolution / twice_total,
        randomness: REFINE_RANDOMNESS * mean_weight,
        refine: options.refine,
        rng: Rng::new(options.seed),
        scratch: Scratch::new(node_count),
        job: job.clone(),
        twice_total,
    };
    let pass_limit = if options.max_passes == 0 {
        PASS_LIMIT
    } else {
        options.max_passes
    };
    let runs = if base.targets.len() / 2 < SMALL_GRAPH_EDGES {
        2
    } else {
        1
    };
    let mut best: Option<Optimised> = None;
    for _ in 0..runs {
        let run = search.improve(base, pass_limit)?;
        if best.as_ref().is_none_or(|kept| run.quality > kept.quality) {
            best = Some(run);
        }
    }
    Some(best.unwrap_or(singletons))
}

/// Edge weights a level graph stores: `f32` as given for the input graph,
/// `f64` sums in aggregates.
trait Weight: Copy + Into<f64> {}

impl Weight for f32 {}

impl Weight for f64 {}

/// The graph of one level of the algorithm: compressed sparse rows without
/// self-loops, plus what each node carries of the input graph.
struct WorkGraph<W> {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<W>,
    /// Strength of each node in the input graph (internal edges included).
    node_weights: Vec<f64>,
    /// Weight of the input edges inside each node, counted from both ends.
    node_internal: Vec<f64>,
}

impl WorkGraph<f32> {
    /// Copies `graph`, leaving out edges that do not count for modularity.
    fn from_adjacency(graph: &Adjacency) -> Self {
        let node_count = graph.node_count();
        let mut offsets = Vec::with_capacity(node_count + 1);
        let mut targets = Vec::with_capacity(2 * graph.edge_count());
        let mut weights = Vec::with_capacity(2 * graph.edge_count());
        let mut node_weights = Vec::with_capacity(node_count);
        offsets.push(0);
        for v in 0..node_count as u32 {
            let (neighbours, edge_weights) = graph.neighbours(v);
            let mut strength = 0.0;
            for (target, weight) in neighbours.iter().zip(edge_weights) {
                if counts_as_weight(*weight) {
                    targets.push(*target);
                    weights.push(*weight);
                    strength += f64::from(*weight);
                }
            }
            offsets.push(targets.len());
            node_weights.push(strength);
        }
        WorkGraph {
            offsets,
            targets,
            weights,
            node_weights,
            node_internal: vec![0.0; node_count],
        }
    }
}

impl<W: Weight> WorkGraph<W> {
    fn node_count(&self) -> usize {
        self.node_weights.len()
    }

    /// Neighbours of `v` and the weights of the edges to them.
    fn neighbours(&self, v: usize) -> (&[u32], &[W]) {
        let range = self.offsets[v]..self.offsets[v + 1];
        (&self.targets[range.clone()], &self.weights[range])
    }
}

/// Per-community weights gathered around one node: a dense array indexed by
/// community plus the list of entries touched, so it is cleared in time
/// proportional to the node's degree.
struct Scratch {
    /// Weight towards each community, plus a last entry, the sink, that
    /// takes weight no one asked for (see [`Scratch::sink`]).
    weight_to: Vec<f64>,
    /// `touched[..touched_count]` lists the entries in use; one slot more
    /// than there are entries, so `add` can write before it counts.
    touched: Vec<u32>,
    touched_count: usize,
}

impl Scratch {
    fn new(size: usize) -> Self {
        Scratch {
            weight_to: vec![0.0; size + 1],
            touched: vec![0; size + 2],
            touched_count: 0,
        }
    }

    /// Adds `weight` towards `community` (weights are positive, so a zero
    /// entry has not been touched yet). Branch-free: the community is always
    /// written to the next slot but only counted when new.
    fn add(&mut self, community: u32, weight: f64) {
        let entry = &mut self.weight_to[community as usize];
        self.touched[self.touched_count] = community;
        self.touched_count += usize::from(*entry == 0.0);
        *entry += weight;
    }

    /// The sink: hot loops add weight they do not want here rather than
    /// branch on it (a branch mispredicted half the time costs more than the
    /// add). It appears in [`Scratch::touched`] like any community.
    fn sink(&self) -> u32 {
        (self.weight_to.len() - 1) as u32
    }

    fn weight_to(&self, community: u32) -> f64 {
        self.weight_to[community as usize]
    }

    /// The communities with a weight, in the order first added.
    fn touched(&self) -> &[u32] {
        &self.touched[..self.touched_count]
    }

    fn clear(&mut self) {
        for community in &self.touched[..self.touched_count] {
            self.weight_to[*community as usize] = 0.0;
        }
        self.touched_count = 0;
    }
}

/// How one level of the algorithm ends.
enum Level {
    /// The graph of the next level.
    Deeper(WorkGraph<f64>),
    /// Every community is a single node: the modularity times 2m reached.
    Settled(f64),
}

/// Settings and state shared by every pass of the algorithm.
struct Search {
    /// γ / 2m: the weight of the expected-edges term.
    scale: f64,
    /// θ of the refinement, in units of edge weight.
    randomness: f64,
    refine: bool,
    rng: Rng,
    scratch: Scratch,
    /// Where progress goes and cancellation comes from.
    job: Job,
    /// 2m: the total edge weight counted from both ends.
    twice_total: f64,
}

impl Search {
    /// Runs the multi-level algorithm from singletons, then again from each
    /// result while that raises modularity, at most `pass_limit` times;
    /// returns the best membership (`None` when the job is cancelled).
    fn improve(&mut self, base: &WorkGraph<f32>, pass_limit: usize) -> Option<Optimised> {
        let mut best = Optimised {
            membership: (0..base.node_count() as u32).collect(),
            quality: -self.scale * base.node_weights.iter().map(|k| k * k).sum::<f64>(),
            passes: 0,
            stable: false,
        };
        let tolerance = IMPROVEMENT_EPSILON * self.twice_total;
        while best.passes < pass_limit {
            let (candidate, quality) = self.run(base, &best.membership)?;
            best.passes += 1;
            self.job.set_message(format!(
                "Leiden pass {}: modularity {:.6}",
                best.passes,
                quality / self.twice_total
            ));
            if quality > best.quality + tolerance {
                best.membership = candidate;
                best.quality = quality;
            } else {
                best.stable = true;
                break;
            }
        }
        Some(best)
    }

    /// One run of the multi-level algorithm from `initial` (dense labels on
    /// the nodes of `base`); returns the dense membership it ends with and
    /// its modularity times 2m (`None` when the job is cancelled).
    fn run(&mut self, base: &WorkGraph<f32>, initial: &[u32]) -> Option<(Vec<u32>, f64)> {
        let mut membership = initial.to_vec();
        // The node of the current level that holds each input node.
        let mut level_of: Vec<u32> = (0..base.node_count() as u32).collect();
        let mut level = match self.descend(base, &mut membership, &mut level_of) {
            Level::Deeper(next) => next,
            Level::Settled(quality) => return Some((membership, quality)),
        };
        loop {
            if self.job.is_cancelled() {
                return None;
            }
            match self.descend(&level, &mut membership, &mut level_of) {
                Level::Deeper(next) => level = next,
                Level::Settled(quality) => {
                    let result = level_of
                        .iter()
                        .map(|node| membership[*node as usize])
                        .collect();
                    return Some((result, quality));
                }
            }
        }
    }

    /// Moves the nodes of `graph` between communities. Unless every community
    /// is then a single node, refines the communities and collapses each
    /// refined cluster into a node of the next level's graph, setting
    /// `membership` to the communities of its nodes and pointing `level_of`
    /// into it.
    fn descend<W: Weight>(
        &mut self,
        graph: &WorkGraph<W>,
        membership: &mut Vec<u32>,
        level_of: &mut [u32],
    ) -> Level {
        let node_count = graph.node_count();
        move_nodes(
            graph,
            membership,
            self.scale,
            &mut self.rng,
            &mut self.scratch,
        );
        let community_count = renumber(membership);
        if community_count == node_count {
            let internal: f64 = graph.node_internal.iter().sum();
            let expected: f64 = graph.node_weights.iter().map(|k| k * k).sum();
            return Level::Settled(internal - self.scale * expected);
        }
        let mut clusters = if self.refine {
            self.refine_communities(graph, membership, community_count)
        } else {
            membership.clone()
        };
        let mut cluster_count = renumber(&mut clusters);
        if cluster_count == node_count {
            // Refinement merged nothing: collapse the communities themselves
            // so the next level still shrinks.
            clusters.clone_from(membership);
            cluster_count = community_count;
        }
        let (next, next_membership) = aggregate_graph(
            graph,
            &clusters,
            cluster_count,
            membership,
            &mut self.scratch,
        );
        for node in level_of.iter_mut() {
            *node = clusters[*node as usize];
        }
        *membership = next_membership;
        Level::Deeper(next)
    }

    /// Refinement: within each community of `membership`, starts from
    /// singletons and merges nodes (in random order, each only while still
    /// alone) into well-connected clusters, choosing among the merges that do
    /// not lower modularity at random with odds exp(gain / θ). Returns the
    /// refined clusters, each inside one community and connected.
    fn refine_communities<W: Weight>(
        &mut self,
        graph: &WorkGraph<W>,
        membership: &[u32],
        community_count: usize,
    ) -> Vec<u32> {
        let node_count = graph.node_count();
        let scale = self.scale;
        let mut community_weights = vec![0.0f64; community_count];
        for (v, community) in membership.iter().enumerate() {
            community_weights[*community as usize] += graph.node_weights[v];
        }
        let mut clusters: Vec<u32> = (0..node_count as u32).collect();
        let mut cluster_weights = graph.node_weights.clone();
        let mut cluster_sizes = vec![1u32; node_count];
        // Weight from each cluster to the rest of its community.
        let mut cluster_external: Vec<f64> = (0..node_count)
            .map(|v| {
                let own = membership[v];
                let (targets, weights) = graph.neighbours(v);
                targets
                    .iter()
                    .zip(weights)
                    .map(|(target, weight)| {
                        weight_if(membership[*target as usize] == own, (*weight).into())
                    })
                    .sum()
            })
            .collect();
        let mut order: Vec<u32> = (0..node_count as u32).collect();
        self.rng.shuffle(&mut order);
        let mut candidates: Vec<(u32, f64)> = Vec::new();
        for v in order {
            let v = v as usize;
            if clusters[v] != v as u32 || cluster_sizes[v] != 1 {
                continue;
            }
            let community = membership[v];
            let community_weight = community_weights[community as usize];
            let node_weight = graph.node_weights[v];
            let node_external = cluster_external[v];
            if node_external < scale * node_weight * (community_weight - node_weight) {
                continue;
            }
            let scratch = &mut self.scratch;
            let sink = scratch.sink();
            let (targets, weights) = graph.neighbours(v);
            for (target, weight) in targets.iter().zip(weights) {
                let t = *target as usize;
                // Neighbours in other communities count towards the sink.
                let slot = select_unpredictable(membership[t] == community, clusters[t], sink);
                scratch.add(slot, (*weight).into());
            }
            candidates.clear();
            let mut best_gain = 0.0f64;
            for &cluster in scratch.touched() {
                if cluster == sink {
                    continue;
                }
                let weight = cluster_weights[cluster as usize];
                let well_connected = cluster_external[cluster as usize]
                    >= scale * weight * (community_weight - weight);
                let gain = scratch.weight_to(cluster) - scale * node_weight * weight;
                if well_connected && gain >= 0.0 {
                    candidates.push((cluster, gain));
                    best_gain = best_gain.max(gain);
                }
            }
            if let Some(chosen) =
                pick_merge(&mut candidates, best_gain, self.randomness, &mut self.rng)
            {
                let c = chosen as usize;
                cluster_external[c] += node_external - 2.0 * scratch.weight_to(chosen);
                cluster_weights[c] += node_weight;
                cluster_sizes[c] += 1;
                cluster_weights[v] = 0.0;
                cluster_sizes[v] = 0;
                clusters[v] = chosen;
            }
            scratch.clear();
        }
        clusters
    }
}

/// Picks the cluster a node merges into among `candidates` `(cluster, gain)`,
/// or `None` to leave it alone (gain 0), with odds exp((gain − best) / θ).
/// Overwrites the gains with the odds.
fn pick_merge(
    candidates: &mut [(u32, f64)],
    best_gain: f64,
    randomness: f64,
    rng: &mut Rng,
) -> Option<u32> {
    if candidates.is_empty() {
        return None;
    }
    let odds = |gain: f64| {
        let exponent = (gain - best_gain) / randomness;
        if exponent < -ODDS_CUTOFF {
            0.0
        } else {
            exponent.exp()
        }
    };
    let stay_odds = odds(0.0);
    let mut total = stay_odds;
    let mut possible = 0;
    let mut last_possible = None;
    for candidate in candidates.iter_mut() {
        candidate.1 = odds(candidate.1);
        total += candidate.1;
        if candidate.1 > 0.0 {
            possible += 1;
            last_possible = Some(candidate.0);
        }
    }
    if stay_odds == 0.0 && possible == 1 {
        // No choice to draw.
        return last_possible;
    }
    let mut remaining = rng.unit() * total - stay_odds;
    if remaining < 0.0 {
        return None;
    }
    for &(cluster, weight) in candidates.iter() {
        if weight > 0.0 && remaining < weight {
            return Some(cluster);
        }
        remaining -= weight;
    }
    // Rounding (or gains that are not numbers) left nothing chosen: take the
    // likeliest merge.
    candidates
        .iter()
        .filter(|c| c.1 > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|c| c.0)
}

/// Fast local moving: visits nodes from a queue (in random order at first),
/// moving each to the neighbouring or empty community that raises modularity
/// most, and queues its neighbours outside the new community after a move.
fn move_nodes<W: Weight>(
    graph: &WorkGraph<W>,
    membership: &mut [u32],
    scale: f64,
    rng: &mut Rng,
    scratch: &mut Scratch,
) {
    let node_count = graph.node_count();
    let mut community_weights = vec![0.0f64; node_count];
    let mut community_sizes = vec![0u32; node_count];
    for (v, community) in membership.iter().enumerate() {
        community_weights[*community as usize] += graph.node_weights[v];
        community_sizes[*community as usize] += 1;
    }
    let mut empty: Vec<u32> = (0..node_count as u32)
        .filter(|c| community_sizes[*c as usize] == 0)
        .collect();
    let mut order: Vec<u32> = (0..node_count as u32).collect();
    rng.shuffle(&mut order);
    let mut queue: VecDeque<u32> = order.into();
    let mut queued = vec![true; node_count];
    // Every move raises modularity, so the queue empties; the cap only guards
    // against rounding making two moves each look better than the other.
    let mut visits_left = node_count.saturating_mul(VISITS_PER_NODE);
    while let Some(v) = queue.pop_front() {
        if visits_left == 0 {
            break;
        }
        visits_left -= 1;
        let v = v as usize;
        queued[v] = false;
        let current = membership[v];
        let node_weight = graph.node_weights[v];
        let (targets, weights) = graph.neighbours(v);
        for (target, weight) in targets.iter().zip(weights) {
            scratch.add(membership[*target as usize], (*weight).into());
        }
        community_weights[current as usize] -= node_weight;
        community_sizes[current as usize] -= 1;
        let mut best = current;
        let mut best_gain =
            scratch.weight_to(current) - scale * node_weight * community_weights[current as usize];
        for &community in scratch.touched() {
            let gain = scratch.weight_to(community)
                - scale * node_weight * community_weights[community as usize];
            if gain > best_gain {
                best = community;
                best_gain = gain;
            }
        }
        scratch.clear();
        if best_gain < 0.0 && community_sizes[current as usize] > 0 {
            // Alone, the node would do better than anywhere it is linked to.
            if let Some(&vacant) = empty.last() {
                best = vacant;
            }
        }
        community_weights[best as usize] += node_weight;
        community_sizes[best as usize] += 1;
        if best == current {
            continue;
        }
        if empty.last() == Some(&best) {
            empty.pop();
        }
        if community_sizes[current as usize] == 0 {
            empty.push(current);
        }
        membership[v] = best;
        for target in targets {
            let t = *target as usize;
            if !queued[t] && membership[t] != best {
                queued[t] = true;
                queue.push_back(*target);
            }
        }
    }
}

/// Collapses each cluster of `clusters` (dense, `cluster_count` of them) into
/// one node; edges between clusters add up, edges inside become the node's
/// internal weight. Returns the new graph and the community of each
/// new node (the community of its members in `membership`).
fn aggregate_graph<W: Weight>(
    graph: &WorkGraph<W>,
    clusters: &[u32],
    cluster_count: usize,
    membership: &[u32],
    scratch: &mut Scratch,
) -> (WorkGraph<f64>, Vec<u32>) {
    // Members of each cluster, by counting sort.
    let mut starts = vec![0usize; cluster_count + 1];
    for cluster in clusters {
        starts[*cluster as usize + 1] += 1;
    }
    for c in 0..cluster_count {
        starts[c + 1] += starts[c];
    }
    let mut cursor = starts.clone();
    let mut members = vec![0u32; clusters.len()];
    for (v, cluster) in clusters.iter().enumerate() {
        members[cursor[*cluster as usize]] = v as u32;
        cursor[*cluster as usize] += 1;
    }
    let mut offsets = Vec::with_capacity(cluster_count + 1);
    let mut targets = Vec::new();
    let mut weights = Vec::new();
    let mut node_weights = vec![0.0f64; cluster_count];
    let mut node_internal = vec![0.0f64; cluster_count];
    let mut next_membership = vec![0u32; cluster_count];
    offsets.push(0);
    for cluster in 0..cluster_count {
        let own = &members[starts[cluster]..starts[cluster + 1]];
        if let Some(first) = own.first() {
            next_membership[cluster] = membership[*first as usize];
        }
        for &v in own {
            node_weights[cluster] += graph.node_weights[v as usize];
            node_internal[cluster] += graph.node_internal[v as usize];
            let (neighbours, edge_weights) = graph.neighbours(v as usize);
            for (target, weight) in neighbours.iter().zip(edge_weights) {
                scratch.add(clusters[*target as usize], (*weight).into());
            }
        }
        // Edges inside the cluster were gathered with the rest.
        node_internal[cluster] += scratch.weight_to(cluster as u32);
        for &other in scratch.touched() {
            if other != cluster as u32 {
                targets.push(other);
                weights.push(scratch.weight_to(other));
            }
        }
        scratch.clear();
        offsets.push(targets.len());
    }
    let next = WorkGraph {
        offsets,
        targets,
        weights,
        node_weights,
        node_internal,
    };
    (next, next_membership)
}

/// `weight` if `keep`, else 0, without a branch: the compiler turns a
/// choice between floating-point values into a jump (x86 has no conditional
/// move for them), which `keep` flipping at random would mispredict often.
/// Masking the bits behind an opaque mask keeps it a few integer operations.
fn weight_if(keep: bool, weight: f64) -> f64 {
    let mask = black_box(u64::from(keep).wrapping_neg());
    f64::from_bits(weight.to_bits() & mask)
}

/// Renames labels (each below `labels.len()`) to `0..count` in order of first
/// appearance; returns `count`.
fn renumber(labels: &mut [u32]) -> usize {
    let mut names = vec![u32::MAX; labels.len()];
    let mut count = 0u32;
    for label in labels.iter_mut() {
        let name = &mut names[*label as usize];
        if *name == u32::MAX {
            *name = count;
            count += 1;
        }
        *label = *name;
    }
    count as usize
}

/// Splits every community of a dense `membership` into its connected
/// components (never lowers modularity for a positive resolution).
fn split_disconnected(graph: &WorkGraph<f32>, membership: &[u32]) -> Vec<u32> {
    let node_count = graph.node_count();
    let mut component = vec![u32::MAX; node_count];
    let mut count = 0u32;
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..node_count {
        if component[start] != u32::MAX {
            continue;
        }
        component[start] = count;
        stack.push(start);
        while let Some(v) = stack.pop() {
            for target in graph.neighbours(v).0 {
                let t = *target as usize;
                if component[t] == u32::MAX && membership[t] == membership[v] {
                    component[t] = count;
                    stack.push(t);
                }
            }
        }
        count += 1;
    }
    component
}

/// Renames communities `0..count` by decreasing size (ties by first
/// appearance); returns the new labels and `count`.
fn number_by_size(mut membership: Vec<u32>) -> (Vec<u32>, usize) {
    let count = renumber(&mut membership);
    let mut sizes = vec![0usize; count];
    for community in &membership {
        sizes[*community as usize] += 1;
    }
    let mut by_size: Vec<u32> = (0..count as u32).collect();
    by_size.sort_by_key(|c| std::cmp::Reverse(sizes[*c as usize]));
    let mut rank = vec![0u32; count];
    for (position, community) in by_size.iter().enumerate() {
        rank[*community as usize] = position as u32;
    }
    for community in &mut membership {
        *community = rank[*community as usize];
    }
    (membership, count)
}

#[cfg(test)]
mod tests {
    use super::super::quality::nmi;
    use super::*;

    /// `cliques` cliques of `size` nodes in a ring, neighbouring cliques
    /// joined by one edge; returns the graph and the planted communities.
    fn ring_of_cliques(cliques: u32, size: u32) -> (Adjacency, Vec<u32>) {
        let mut edges = Vec::new();
        for c in 0..cliques {
            let first = c * size;
            for a in first..first + size {
                for b in a + 1..first + size {
                    edges.push((a, b, 1.0));
                }
            }
            edges.push((first, ((c + 1) % cliques) * size + 1, 1.0));
        }
        let planted = (0..cliques * size).map(|v| v / size).collect();
        (
            Adjacency::from_edges((cliques * size) as usize, &edges),
            planted,
        )
    }

    /// A planted partition: `groups` groups of `size` nodes, each node with
    /// about `degree` edges of which a share `mixing` leave its group.
    fn planted(
        groups: u32,
        size: u32,
        degree: u32,
        mixing: f64,
        seed: u64,
    ) -> (Adjacency, Vec<u32>) {
        let mut rng = Rng::new(seed);
        let n = groups * size;
        let mut edges = Vec::new();
        for a in 0..n {
            for _ in 0..degree / 2 {
                let b = if rng.chance(mixing) {
                    rng.below(n as usize) as u32
                } else {
                    (a / size) * size + rng.below(size as usize) as u32
                };
                edges.push((a.min(b), a.max(b), 1.0));
            }
        }
        edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
        edges.dedup_by_key(|&mut (a, b, _)| (a, b));
        (
            Adjacency::from_edges(n as usize, &edges),
            (0..n).map(|v| v / size).collect(),
        )
    }

    /// Whether the nodes of every community induce a connected subgraph.
    fn communities_are_connected(graph: &Adjacency, membership: &[u32]) -> bool {
        let mut labels = membership.to_vec();
        labels.sort_unstable();
        labels.dedup();
        labels.iter().all(|community| {
            let nodes: Vec<u32> = (0..graph.node_count() as u32)
                .filter(|v| membership[*v as usize] == *community)
                .collect();
            let sub = graph.induced(&nodes);
            let mut seen = vec![false; nodes.len()];
            let mut stack = vec![0u32];
            seen[0] = true;
            while let Some(v) = stack.pop() {
                for t in sub.neighbours(v).0 {
                    if !seen[*t as usize] {
                        seen[*t as usize] = true;
                        stack.push(*t);
                    }
                }
            }
            seen.iter().all(|s| *s)
        })
    }

    #[test]
    fn reports_its_passes_and_stops_when_cancelled() {
        let (graph, _) = planted(30, 20, 6, 0.6, 3);
        let job = Job::new();
        let partition = leiden_with_job(&graph, &LeidenOptions::default(), &job);
        assert_eq!(
            partition.map(|p| p.count),
            Some(leiden(&graph, &LeidenOptions::default()).count)
        );
        let message = job.snapshot().message;
        assert!(message.starts_with("Leiden pass "), "{message}");
        assert!(message.contains("modularity 0."), "{message}");
        job.cancel();
        assert!(leiden_with_job(&graph, &LeidenOptions::default(), &job).is_none());
    }

    #[test]
    fn recovers_a_ring_of_cliques_with_and_without_refinement() {
        let (graph, truth) = ring_of_cliques(12, 6);
        for refine in [true, false] {
            let partition = leiden(
                &graph,
                &LeidenOptions {
                    refine,
                    ..LeidenOptions::default()
                },
            );
            assert_eq!(partition.count, 12);
            assert!((nmi(&partition.membership, &truth) - 1.0).abs() < 1e-12);
            assert!((partition.modularity - modularity(&graph, &truth, 1.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn finds_the_two_triangles() {
        let graph = Adjacency::from_edges(
            6,
            &[
                (0, 1, 1.0),
                (0, 2, 1.0),
                (1, 2, 1.0),
                (3, 4, 1.0),
                (3, 5, 1.0),
                (4, 5, 1.0),
                (2, 3, 1.0),
            ],
        );
        let partition = leiden(&graph, &LeidenOptions::default());
        assert_eq!(partition.membership, vec![0, 0, 0, 1, 1, 1]);
        assert!((partition.modularity - 5.0 / 14.0).abs() < 1e-12);
    }

    #[test]
    fn follows_edge_weights() {
        // A complete graph: heavy inside {0, 1, 2} and {3, 4, 5}, light across.
        let mut edges = Vec::new();
        for a in 0..6u32 {
            for b in a + 1..6 {
                edges.push((a, b, if a / 3 == b / 3 { 10.0 } else { 0.1 }));
            }
        }
        let partition = leiden(&Adjacency::from_edges(6, &edges), &LeidenOptions::default());
        assert_eq!(partition.membership, vec![0, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn recovers_planted_groups_with_connected_communities() {
        let (graph, truth) = planted(20, 50, 16, 0.3, 7);
        for seed in 0..4 {
            let partition = leiden(
                &graph,
                &LeidenOptions {
                    seed,
                    ..LeidenOptions::default()
                },
            );
            assert!(nmi(&partition.membership, &truth) > 0.95);
            assert!(partition.modularity >= modularity(&graph, &truth, 1.0) - 1e-9);
            assert!(communities_are_connected(&graph, &partition.membership));
        }
    }

    #[test]
    fn communities_are_connected_in_noisy_graphs() {
        for seed in 0..8 {
            let (graph, _) = planted(30, 20, 6, 0.6, seed);
            let base = WorkGraph::from_adjacency(&graph);
            for resolution in [0.2, 0.5, 1.0, 2.0, 5.0] {
                let options = LeidenOptions {
                    resolution,
                    seed,
                    ..LeidenOptions::default()
                };
                // The refinement alone keeps communities connected, before
                // the final safety split.
                let membership = optimise(&base, &options, &Job::new())
                    .map(|found| found.membership)
                    .unwrap_or_default();
                assert!(communities_are_connected(&graph, &membership));
                let partition = leiden(&graph, &options);
                assert!(communities_are_connected(&graph, &partition.membership));
            }
        }
    }

    #[test]
    fn splitting_separates_the_parts_of_a_disconnected_community() {
        let graph = Adjacency::from_edges(5, &[(0, 1, 1.0), (2, 3, 1.0), (3, 4, 1.0)]);
        let base = WorkGraph::from_adjacency(&graph);
        assert_eq!(
            split_disconnected(&base, &[0, 0, 0, 0, 1]),
            vec![0, 0, 1, 1, 2]
        );
    }

    #[test]
    fn never_scores_below_singletons() {
        for seed in 0..6 {
            let (graph, _) = planted(10, 15, 4, 0.9, seed);
            let singletons: Vec<u32> = (0..graph.node_count() as u32).collect();
            for refine in [true, false] {
                for resolution in [0.1, 1.0, 5.0] {
                    let options = LeidenOptions {
                        resolution,
                        seed,
                        refine,
                        max_passes: 0,
                    };
                    let partition = leiden(&graph, &options);
                    assert!(
                        partition.modularity >= modularity(&graph, &singletons, resolution) - 1e-12
                    );
                }
            }
        }
    }

    #[test]
    fn is_deterministic_for_a_seed() {
        let (graph, _) = planted(25, 30, 10, 0.5, 3);
        let options = LeidenOptions {
            seed: 9,
            ..LeidenOptions::default()
        };
        assert_eq!(leiden(&graph, &options), leiden(&graph, &options));
        let louvain = LeidenOptions {
            refine: false,
            ..options
        };
        assert_eq!(leiden(&graph, &louvain), leiden(&graph, &louvain));
    }

    #[test]
    fn numbers_communities_by_decreasing_size() {
        let (graph, _) = planted(25, 30, 10, 0.5, 3);
        let partition = leiden(&graph, &LeidenOptions::default());
        let mut sizes = vec![0usize; partition.count];
        for community in &partition.membership {
            sizes[*community as usize] += 1;
        }
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
        assert!(sizes.iter().all(|s| *s > 0));
    }

    #[test]
    fn one_pass_is_allowed_and_reported_modularity_is_exact() {
        let (graph, _) = planted(10, 40, 8, 0.4, 5);
        let options = LeidenOptions {
            max_passes: 1,
            ..LeidenOptions::default()
        };
        let partition = leiden(&graph, &options);
        assert!(
            (partition.modularity - modularity(&graph, &partition.membership, 1.0)).abs() < 1e-12
        );
        assert!(partition.modularity > 0.3);
        assert_eq!(partition.passes, 1);

        // Left to itself it goes on until a pass finds nothing better, and
        // that last pass is counted.
        let stable = leiden(&graph, &LeidenOptions::default());
        assert!(stable.stable && stable.passes >= 2);
        assert!(stable.modularity >= partition.modularity - 1e-12);
    }

    #[test]
    fn handles_empty_edgeless_and_isolated_graphs() {
        let empty = leiden(&Adjacency::default(), &LeidenOptions::default());
        assert_eq!(
            (empty.membership.len(), empty.count, empty.modularity),
            (0, 0, 0.0)
        );

        let edgeless = leiden(&Adjacency::from_edges(5, &[]), &LeidenOptions::default());
        assert_eq!(edgeless.count, 5);
        let mut labels = edgeless.membership.clone();
        labels.sort_unstable();
        assert_eq!(labels, vec![0, 1, 2, 3, 4]);

        // A ring of cliques (nodes 0..24) plus isolated nodes 24..27.
        let (ring, _) = ring_of_cliques(4, 6);
        let edges: Vec<_> = ring.edges().collect();
        let graph = Adjacency::from_edges(27, &edges);
        let partition = leiden(&graph, &LeidenOptions::default());
        assert_eq!(partition.count, 7);
        for isolated in 24..27 {
            let own = partition.membership[isolated];
            assert_eq!(
                partition.membership.iter().filter(|c| **c == own).count(),
                1
            );
        }
    }

    #[test]
    fn survives_odd_weights_and_resolutions() {
        let graph = Adjacency::from_edges(
            5,
            &[
                (0, 1, f32::NAN),
                (1, 2, -1.0),
                (2, 3, f32::INFINITY),
                (3, 4, 0.0),
                (0, 4, 2.0),
            ],
        );
        for resolution in [f64::NAN, -1.0, 0.0, 1.0, 1e9, f64::INFINITY] {
            for refine in [true, false] {
                let options = LeidenOptions {
                    resolution,
                    refine,
                    ..LeidenOptions::default()
                };
                let partition = leiden(&graph, &options);
                assert_eq!(partition.membership.len(), 5);
            }
        }
        let partition = leiden(&graph, &LeidenOptions::default());
        assert_eq!(partition.membership[0], partition.membership[4]);
    }
}
