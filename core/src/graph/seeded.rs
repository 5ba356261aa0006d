//! Real-time seeded communities (Chamberlain et al., PLoS ONE 2018): every
//! node's closed neighbourhood is compressed into a MinHash signature, the
//! signatures go into an LSH table, and "what community is around these
//! seeds?" is answered from the seeds' buckets in milliseconds: candidates
//! are added greedily by their average estimated Jaccard similarity to the
//! community so far, the community is cut where its conductance is lowest,
//! and Leiden on the retrieved subgraph gives it structure.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::adjacency::Adjacency;
use super::leiden::{LeidenOptions, leiden};
use crate::job::Job;
use crate::profile::sketch::{
    Banding, MINHASH_SIZE, band_keys32, hash_u64, minhash32, optimal_banding,
};

/// The LSH Jaccard threshold of the index when none is given: neighbourhoods
/// in the same community typically share a fifth or more of their members.
pub const DEFAULT_THRESHOLD: f64 = 0.2;

/// How a seeded query grows its community.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeededOptions {
    /// Stop at exactly this many members (seeds included); `None` cuts where
    /// the community's conductance is lowest.
    pub size: Option<usize>,
    /// The largest community considered.
    pub max_size: usize,
    /// The most candidates scored.
    pub max_candidates: usize,
    /// Members read from one LSH bucket at most (huge buckets are hubs).
    pub max_bucket: usize,
    /// Run Leiden on the retrieved subgraph to give the members structure.
    pub structure: bool,
}

impl Default for SeededOptions {
    fn default() -> Self {
        Self {
            size: None,
            max_size: 400,
            max_candidates: 3000,
            max_bucket: 256,
            structure: true,
        }
    }
}

/// The community found around some seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededCommunity {
    /// Members in the order they joined (seeds first), with their average
    /// estimated Jaccard similarity to the members before them (1 for seeds).
    pub members: Vec<(u32, f32)>,
    /// Sub-community of each member (same order) from Leiden on the
    /// retrieved subgraph; all zero when structure was not asked for.
    pub structure: Vec<u32>,
    /// Conductance of the community in the whole graph (lower is tighter).
    pub conductance: f64,
    /// Candidates scored.
    pub candidates: usize,
    /// Query time.
    pub elapsed: Duration,
}

impl SeededCommunity {
    /// Member node ids only, in joining order.
    pub fn nodes(&self) -> Vec<u32> {
        self.members.iter().map(|(v, _)| *v).collect()
    }
}

/// Errors of a seeded query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeededError {
    /// No seeds were given.
    #[error("no seeds given: name at least one node")]
    NoSeeds,
    /// A seed is not a node of the graph.
    #[error("seed {0} is not a node of the graph")]
    UnknownSeed(u32),
    /// The index was built for another graph.
    #[error("the index was built for a graph of {index} nodes, this one has {graph}")]
    WrongGraph {
        /// Nodes the index knows.
        index: usize,
        /// Nodes of the graph given.
        graph: usize,
    },
    /// Building the index was cancelled.
    #[error("cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(SeededError::Cancelled);

/// One band's LSH table: band keys sorted, with the node each came from.
#[derive(Debug, Clone, Default)]
struct BandTable {
    keys: Vec<u64>,
    nodes: Vec<u32>,
}

impl BandTable {
    /// Nodes whose band key is `key`.
    fn bucket(&self, key: u64) -> &[u32] {
        let start = self.keys.partition_point(|k| *k < key);
        let end = start + self.keys[start..].partition_point(|k| *k == key);
        &self.nodes[start..end]
    }
}

/// MinHash signatures of every node's closed neighbourhood and their LSH tables.
#[derive(Debug, Clone)]
pub struct NeighbourhoodIndex {
    signatures: Vec<u32>,
    banding: Banding,
    bands: Vec<BandTable>,
    threshold: f64,
    build_time: Duration,
}

/// Signature slots per node.
const K: usize = MINHASH_SIZE;

impl NeighbourhoodIndex {
    /// Signs every node's closed neighbourhood (itself and its neighbours) and
    /// fills the LSH tables, with (bands, rows) chosen for the Jaccard
    /// `threshold`. Uses every core; `job` shows progress in nodes and cancels.
    pub fn build(graph: &Adjacency, threshold: f64, job: &Job) -> Result<Self, SeededError> {
        let started = Instant::now();
        let n = graph.node_count();
        job.set_total(n as u64 * 2, "nodes");
        let threads = std::thread::available_parallelism()
            .map(|t| t.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let mut signatures = vec![0u32; n * K];
        let chunk_nodes = n.div_ceil(threads).max(1);
        let cancelled = std::thread::scope(|scope| {
            let handles: Vec<_> = signatures
                .chunks_mut(chunk_nodes * K)
                .enumerate()
                .map(|(chunk, out)| {
                    scope.spawn(move || sign_nodes(graph, chunk * chunk_nodes, out, job))
                })
                .collect();
            handles
                .into_iter()
                .any(|h| h.join().unwrap_or(Err(SeededError::Cancelled)).is_err())
        });
        if cancelled {
            return Err(SeededError::Cancelled);
        }
        let banding = optimal_banding(threshold, K, 0.5, 0.5);
        // Each band's (key, node) pairs, sorted by key.
        let mut pairs: Vec<Vec<(u64, u32)>> = vec![Vec::with_capacity(n); banding.bands];
        for v in 0..n {
            if v % 65_536 == 65_535 && job.is_cancelled() {
                return Err(SeededError::Cancelled);
            }
            for (band, key) in band_keys32(&signatures[v * K..][..K], banding).enumerate() {
                pairs[band].push((key, v as u32));
            }
        }
        let mut bands = Vec::with_capacity(banding.bands);
        for mut band in pairs {
            band.sort_unstable();
            let (keys, nodes) = band.into_iter().unzip();
            bands.push(BandTable { keys, nodes });
            job.advance((n / banding.bands.max(1)) as u64);
        }
        Ok(Self {
            signatures,
            banding,
            bands,
            threshold,
            build_time: started.elapsed(),
        })
    }

    /// Number of nodes indexed.
    pub fn node_count(&self) -> usize {
        self.signatures.len() / K
    }

    /// The banding used.
    pub fn banding(&self) -> Banding {
        self.banding
    }

    /// The Jaccard threshold the banding was chosen for.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// How long [`NeighbourhoodIndex::build`] took.
    pub fn build_time(&self) -> Duration {
        self.build_time
    }

    /// Bytes held by signatures and tables.
    pub fn memory_bytes(&self) -> usize {
        self.signatures.len() * 4 + self.bands.iter().map(|b| b.keys.len() * 12).sum::<usize>()
    }

    fn signature(&self, v: u32) -> &[u32] {
        &self.signatures[v as usize * K..][..K]
    }

    /// Estimated Jaccard similarity of the closed neighbourhoods of `a` and `b`.
    pub fn jaccard(&self, a: u32, b: u32) -> f64 {
        same_slots(self.signature(a), self.signature(b)) as f64 / K as f64
    }

    /// Nodes sharing at least one LSH bucket with `v` (at most `max_bucket` per bucket).
    fn bucket_mates(&self, v: u32, max_bucket: usize, mut visit: impl FnMut(u32)) {
        let keys = band_keys32(self.signature(v), self.banding);
        for (key, table) in keys.zip(&self.bands) {
            for &mate in table.bucket(key).iter().take(max_bucket) {
                visit(mate);
            }
        }
    }

    /// The community around `seeds`: candidates from the seeds' (and then the
    /// members') buckets, added greedily by average estimated Jaccard to the
    /// members so far, cut at the lowest conductance (or at `options.size`).
    pub fn query(
        &self,
        graph: &Adjacency,
        seeds: &[u32],
        options: &SeededOptions,
    ) -> Result<SeededCommunity, SeededError> {
        let started = Instant::now();
        if graph.node_count() != self.node_count() {
            return Err(SeededError::WrongGraph {
                index: self.node_count(),
                graph: graph.node_count(),
            });
        }
        if seeds.is_empty() {
            return Err(SeededError::NoSeeds);
        }
        if let Some(bad) = seeds.iter().find(|s| **s as usize >= graph.node_count()) {
            return Err(SeededError::UnknownSeed(*bad));
        }
        let mut pool = CandidatePool::new(options.max_candidates);
        let mut members: Vec<(u32, f32)> = Vec::new();
        for &seed in seeds {
            if pool.is_member(seed) {
                continue;
            }
            pool.admit(seed);
            members.push((seed, 1.0));
        }
        for &(seed, _) in &members {
            self.bucket_mates(seed, options.max_bucket, |c| pool.offer(c));
        }
        pool.score_new(self, &members);
        let limit = options
            .size
            .unwrap_or(options.max_size)
            .min(options.max_size.max(members.len()));
        let mut cut = ConductanceTracker::new(graph);
        for (seed, _) in &members {
            cut.add(graph, *seed);
        }
        // The tightest prefix so far (lowest conductance), and its length.
        let mut tightest = (f64::INFINITY, members.len());
        let seed_count = members.len();
        // Sum of the scores with which non-seed members joined.
        let mut joined_score = 0.0;
        while members.len() < limit {
            let Some((best, average)) = pool.best(members.len()) else {
                break;
            };
            let joined = members.len() - seed_count;
            if options.size.is_none()
                && joined > 0
                && average < SCORE_CLIFF * joined_score / joined as f64
            {
                // The best candidate is far less alike than the members were:
                // the community has been crossed.
                break;
            }
            joined_score += average;
            pool.admit(best);
            members.push((best, average as f32));
            let phi = cut.add(graph, best);
            if options.size.is_none() {
                if phi < tightest.0 - 1e-12 {
                    tightest = (phi, members.len());
                } else if members.len() >= tightest.1 + patience(tightest.1) {
                    // No tighter community for a while: the valley is behind us.
                    break;
                }
            }
            pool.add_member_score(self, best);
            self.bucket_mates(best, options.max_bucket, |c| pool.offer(c));
            pool.score_new(self, &members);
        }
        let keep = match options.size {
            Some(size) => size.min(members.len()),
            None => tightest.1,
        };
        members.truncate(keep);
        let nodes: Vec<u32> = members.iter().map(|(v, _)| *v).collect();
        let conductance = conductance(graph, &nodes);
        let structure = if options.structure && nodes.len() > 2 {
            let sub = graph.induced(&nodes);
            leiden(&sub, &LeidenOptions::default()).membership
        } else {
            vec![0; nodes.len()]
        };
        Ok(SeededCommunity {
            members,
            structure,
            conductance,
            candidates: pool.scored.len(),
            elapsed: started.elapsed(),
        })
    }
}

/// Signs the nodes `first..` whose signatures fill `out`.
fn sign_nodes(
    graph: &Adjacency,
    first: usize,
    out: &mut [u32],
    job: &Job,
) -> Result<(), SeededError> {
    let mut hashes = Vec::new();
    for (i, slots) in out.chunks_mut(K).enumerate() {
        let v = (first + i) as u32;
        hashes.clear();
        hashes.push(hash_u64(u64::from(v)));
        hashes.extend(
            graph
                .neighbours(v)
                .0
                .iter()
                .map(|t| hash_u64(u64::from(*t))),
        );
        minhash32(&hashes, slots);
        if i % 4096 == 4095 {
            if job.is_cancelled() {
                return Err(SeededError::Cancelled);
            }
            job.advance(4096);
        }
    }
    Ok(())
}

/// How many slots two signatures share (written so the compiler vectorises it).
fn same_slots(a: &[u32], b: &[u32]) -> u32 {
    a.iter().zip(b).map(|(x, y)| u32::from(x == y)).sum()
}

/// Candidates of one query and the sum of their estimated Jaccard to the members.
struct CandidatePool {
    /// Candidate → index into `scored`.
    slot: HashMap<u32, usize>,
    /// (candidate, sum of Jaccard to members, is a member).
    scored: Vec<(u32, f64, bool)>,
    /// Candidates offered but not yet scored against the members.
    fresh: Vec<usize>,
    limit: usize,
}

impl CandidatePool {
    fn new(limit: usize) -> Self {
        Self {
            slot: HashMap::new(),
            scored: Vec::new(),
            fresh: Vec::new(),
            limit,
        }
    }

    fn is_member(&self, v: u32) -> bool {
        self.slot.get(&v).is_some_and(|i| self.scored[*i].2)
    }

    /// Marks `v` a member (adding it if it was not a candidate).
    fn admit(&mut self, v: u32) {
        let i = *self.slot.entry(v).or_insert_with(|| {
            self.scored.push((v, 0.0, false));
            self.scored.len() - 1
        });
        self.scored[i].2 = true;
    }

    /// Adds a candidate if there is room.
    fn offer(&mut self, v: u32) {
        if self.scored.len() >= self.limit || self.slot.contains_key(&v) {
            return;
        }
        self.slot.insert(v, self.scored.len());
        self.fresh.push(self.scored.len());
        self.scored.push((v, 0.0, false));
    }

    /// Scores the fresh candidates against every member.
    fn score_new(&mut self, index: &NeighbourhoodIndex, members: &[(u32, f32)]) {
        for i in self.fresh.drain(..) {
            let signature = index.signature(self.scored[i].0);
            self.scored[i].1 = members
                .iter()
                .map(|(m, _)| f64::from(same_slots(signature, index.signature(*m))) / K as f64)
                .sum();
        }
    }

    /// Adds the new member's Jaccard to every candidate's sum.
    fn add_member_score(&mut self, index: &NeighbourhoodIndex, member: u32) {
        let signature = index.signature(member);
        for entry in self.scored.iter_mut().filter(|e| !e.2) {
            entry.1 += f64::from(same_slots(signature, index.signature(entry.0))) / K as f64;
        }
    }

    /// The non-member with the highest average Jaccard to the `members` members.
    fn best(&self, members: usize) -> Option<(u32, f64)> {
        self.scored
            .iter()
            .filter(|e| !e.2 && e.1 > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|e| (e.0, e.1 / members.max(1) as f64))
    }
}

/// A candidate whose average similarity is below this share of the members'
/// average (when they joined) ends an automatically cut community.
const SCORE_CLIFF: f64 = 0.25;

/// Members added past the tightest community before the search gives up on
/// finding a tighter one.
fn patience(tightest: usize) -> usize {
    (tightest / 2).max(10)
}

/// Conductance of a growing node set, updated per added node.
struct ConductanceTracker {
    inside: std::collections::HashSet<u32>,
    cut: f64,
    volume: f64,
    total_volume: f64,
}

impl ConductanceTracker {
    fn new(graph: &Adjacency) -> Self {
        Self {
            inside: std::collections::HashSet::new(),
            cut: 0.0,
            volume: 0.0,
            total_volume: 2.0 * graph.total_weight(),
        }
    }

    /// Adds `v`; returns the set's conductance (infinite while undefined).
    fn add(&mut self, graph: &Adjacency, v: u32) -> f64 {
        if !self.inside.contains(&v) {
            self.take_in(graph, v);
        }
        let denominator = self.volume.min(self.total_volume - self.volume);
        if denominator > 0.0 {
            self.cut / denominator
        } else {
            f64::INFINITY
        }
    }

    /// Moves `v` (not yet inside) into the set: its edges to the set stop
    /// being cut, its other edges start being.
    fn take_in(&mut self, graph: &Adjacency, v: u32) {
        let (targets, weights) = graph.neighbours(v);
        let to_inside: f64 = targets
            .iter()
            .zip(weights)
            .filter(|(t, _)| self.inside.contains(t))
            .map(|(_, w)| f64::from(*w))
            .sum();
        let strength = graph.strength(v);
        self.cut += strength - 2.0 * to_inside;
        self.volume += strength;
        self.inside.insert(v);
    }
}

/// Conductance of `nodes` in `graph`: weight leaving the set over the smaller
/// side's volume (1 when undefined).
pub fn conductance(graph: &Adjacency, nodes: &[u32]) -> f64 {
    let mut set = ConductanceTracker::new(graph);
    let phi = nodes.iter().fold(f64::INFINITY, |_, v| set.add(graph, *v));
    if phi.is_finite() { phi } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cliques` cliques of `size` nodes, clique i's last node linked to clique i+1's first.
    fn ring_of_cliques(cliques: u32, size: u32) -> Adjacency {
        let mut edges = Vec::new();
        for c in 0..cliques {
            let base = c * size;
            for a in 0..size {
                for b in a + 1..size {
                    edges.push((base + a, base + b, 1.0));
                }
            }
            edges.push((base + size - 1, ((c + 1) % cliques) * size, 1.0));
        }
        Adjacency::from_edges((cliques * size) as usize, &edges)
    }

    #[test]
    fn finds_the_clique_around_a_seed() {
        let graph = ring_of_cliques(30, 12);
        let index = NeighbourhoodIndex::build(&graph, 0.3, &Job::new()).expect("index");
        assert!(index.jaccard(0, 1) > 0.6);
        assert!(index.jaccard(0, 40) < 0.2);
        let found = index
            .query(&graph, &[25], &SeededOptions::default())
            .expect("query");
        let mut nodes = found.nodes();
        nodes.sort_unstable();
        assert_eq!(nodes, (24..36).collect::<Vec<u32>>());
        assert!(found.conductance < 0.05, "{}", found.conductance);
        let sized = index
            .query(
                &graph,
                &[25, 26],
                &SeededOptions {
                    size: Some(5),
                    ..SeededOptions::default()
                },
            )
            .expect("query");
        assert_eq!(sized.members.len(), 5);
        assert!(sized.nodes().iter().all(|v| (24..36).contains(v)));
    }

    #[test]
    fn bad_queries_are_errors() {
        let graph = ring_of_cliques(3, 4);
        let index = NeighbourhoodIndex::build(&graph, 0.2, &Job::new()).expect("index");
        let options = SeededOptions::default();
        assert_eq!(
            index.query(&graph, &[], &options),
            Err(SeededError::NoSeeds)
        );
        assert_eq!(
            index.query(&graph, &[99], &options),
            Err(SeededError::UnknownSeed(99))
        );
        let other = ring_of_cliques(2, 4);
        assert!(matches!(
            index.query(&other, &[0], &options),
            Err(SeededError::WrongGraph { .. })
        ));
    }

    #[test]
    fn isolated_and_empty_graphs_do_not_panic() {
        let graph = Adjacency::from_edges(3, &[]);
        let index = NeighbourhoodIndex::build(&graph, 0.2, &Job::new()).expect("index");
        let found = index
            .query(&graph, &[1], &SeededOptions::default())
            .expect("query");
        assert_eq!(found.nodes(), vec![1]);
        let empty = Adjacency::from_edges(0, &[]);
        let index = NeighbourhoodIndex::build(&empty, 0.2, &Job::new()).expect("index");
        assert_eq!(index.node_count(), 0);
    }
}
