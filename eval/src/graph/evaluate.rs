//! Community detection measured against known groups: a whole-graph
//! partition (NMI, ARI, modularity, time) and seeded queries (recall as
//! members are added, F1 of the automatic cut, query times).

use std::time::Instant;

use lakebook_core::graph::Adjacency;
use lakebook_core::graph::leiden::{LeidenOptions, Partition, leiden};
use lakebook_core::graph::quality::{ari, modularity, nmi};
use lakebook_core::graph::seeded::{NeighbourhoodIndex, SeededOptions};
use lakebook_core::rng::Rng;
use serde::{Deserialize, Serialize};

/// A whole-graph run measured against known groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionEvaluation {
    /// Nodes.
    pub nodes: usize,
    /// Edges.
    pub edges: usize,
    /// Communities found.
    pub communities: usize,
    /// Modularity (resolution 1).
    pub modularity: f64,
    /// Normalised mutual information with the known groups.
    pub nmi: f64,
    /// Adjusted Rand index with the known groups.
    pub ari: f64,
    /// Seconds the algorithm ran (not counting reading files).
    pub seconds: f64,
    /// Passes of the whole algorithm it took.
    pub passes: usize,
    /// Whether it stopped because a pass no longer raised modularity
    /// (rather than at the pass limit).
    pub stable: bool,
}

/// Runs Leiden on `adjacency` and compares it with `truth` (one group per node).
pub fn evaluate_partition(
    adjacency: &Adjacency,
    truth: &[u32],
    options: &LeidenOptions,
) -> (Partition, PartitionEvaluation) {
    let started = Instant::now();
    let partition = leiden(adjacency, options);
    let seconds = started.elapsed().as_secs_f64();
    let modularity = modularity(adjacency, &partition.membership, 1.0);
    let evaluation = PartitionEvaluation {
        nodes: adjacency.node_count(),
        edges: adjacency.edge_count(),
        communities: partition.count,
        modularity,
        nmi: nmi(&partition.membership, truth),
        ari: ari(&partition.membership, truth),
        seconds,
        passes: partition.passes,
        stable: partition.stable,
    };
    (partition, evaluation)
}

/// Recall of seeded queries after a number of members were added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecallPoint {
    /// Members added, as a multiple of the true group's size.
    pub members: f64,
    /// Mean share of the group found.
    pub recall: f64,
    /// Mean share of the members that belong to the group.
    pub precision: f64,
}

/// Seeded queries measured against known groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededEvaluation {
    /// Queries run.
    pub queries: usize,
    /// Seeds per query.
    pub seeds: usize,
    /// Groups of at least this size were queried.
    pub min_group: usize,
    /// Recall as members are added.
    pub recall_curve: Vec<RecallPoint>,
    /// Mean F1 of the automatically cut communities (lowest conductance).
    pub auto_f1: f64,
    /// Mean size of the automatically cut communities over the true size.
    pub auto_size_ratio: f64,
    /// Median query time in milliseconds.
    pub query_ms_p50: f64,
    /// 95th percentile query time in milliseconds.
    pub query_ms_p95: f64,
    /// Index build time in milliseconds.
    pub build_ms: f64,
    /// LSH banding (bands, rows).
    pub banding: (usize, usize),
}

/// Runs `trials` seeded queries per known group of at least `min_group`
/// members (random seeds from the group) and reports recall as members are
/// added, the quality of the automatic cut, and query times.
pub fn evaluate_seeded(
    adjacency: &Adjacency,
    index: &NeighbourhoodIndex,
    truth: &[u32],
    seeds: usize,
    trials: usize,
    min_group: usize,
    seed: u64,
) -> SeededEvaluation {
    let fractions = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0];
    let groups = group_members(truth);
    let mut rng = Rng::new(seed);
    let mut recall_sum = vec![0.0; fractions.len()];
    let mut precision_sum = vec![0.0; fractions.len()];
    let (mut f1_sum, mut size_ratio_sum) = (0.0, 0.0);
    let mut times = Vec::new();
    let mut queries = 0;
    for group in groups
        .iter()
        .filter(|g| g.len() >= min_group.max(seeds + 1))
    {
        let in_group = |v: &u32| truth.get(*v as usize) == Some(&truth[group[0] as usize]);
        for _ in 0..trials {
            let mut pool = group.clone();
            rng.shuffle(&mut pool);
            let chosen = &pool[..seeds];
            let grown = index.query(
                adjacency,
                chosen,
                &SeededOptions {
                    size: Some(((group.len() as f64 * 2.0).ceil() as usize).max(seeds + 1)),
                    max_size: group.len() * 2 + seeds,
                    structure: false,
                    ..SeededOptions::default()
                },
            );
            let automatic = index.query(adjacency, chosen, &SeededOptions::default());
            let (Ok(grown), Ok(automatic)) = (grown, automatic) else {
                continue;
            };
            times.push(automatic.elapsed.as_secs_f64() * 1000.0);
            queries += 1;
            let nodes = grown.nodes();
            for (i, f) in fractions.iter().enumerate() {
                let take = ((group.len() as f64 * f).round() as usize)
                    .min(nodes.len())
                    .max(1);
                let hits = nodes[..take].iter().filter(|v| in_group(v)).count() as f64;
                recall_sum[i] += hits / group.len() as f64;
                precision_sum[i] += hits / take as f64;
            }
            let found = automatic.nodes();
            let hits = found.iter().filter(|v| in_group(v)).count() as f64;
            let (p, r) = (hits / found.len().max(1) as f64, hits / group.len() as f64);
            f1_sum += if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
            size_ratio_sum += found.len() as f64 / group.len() as f64;
        }
    }
    let q = queries.max(1) as f64;
    times.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        if times.is_empty() {
            0.0
        } else {
            times[((times.len() - 1) as f64 * p).round() as usize]
        }
    };
    SeededEvaluation {
        queries,
        seeds,
        min_group,
        recall_curve: fractions
            .iter()
            .enumerate()
            .map(|(i, f)| RecallPoint {
                members: *f,
                recall: recall_sum[i] / q,
                precision: precision_sum[i] / q,
            })
            .collect(),
        auto_f1: f1_sum / q,
        auto_size_ratio: size_ratio_sum / q,
        query_ms_p50: percentile(0.5),
        query_ms_p95: percentile(0.95),
        build_ms: index.build_time().as_secs_f64() * 1000.0,
        banding: (index.banding().bands, index.banding().rows),
    }
}

/// Mean F1 of the community of `membership` that holds most of each known
/// group of at least `min_group` members: the best a whole-graph partition
/// can answer "which community is this group?".
pub fn best_community_f1(membership: &[u32], truth: &[u32], min_group: usize) -> f64 {
    let mut sizes: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for c in membership {
        *sizes.entry(*c).or_default() += 1;
    }
    let scores: Vec<f64> = group_members(truth)
        .iter()
        .filter(|members| members.len() >= min_group)
        .filter_map(|members| {
            let mut votes: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
            for v in members {
                *votes.entry(*membership.get(*v as usize)?).or_default() += 1;
            }
            let (c, hits) = votes
                .into_iter()
                .max_by_key(|(c, n)| (*n, std::cmp::Reverse(*c)))?;
            let p = hits as f64 / sizes.get(&c).copied().unwrap_or(1) as f64;
            let r = hits as f64 / members.len() as f64;
            Some(2.0 * p * r / (p + r))
        })
        .collect();
    scores.iter().sum::<f64>() / scores.len().max(1) as f64
}

/// Members of each known group, groups in order of first appearance.
fn group_members(truth: &[u32]) -> Vec<Vec<u32>> {
    let mut order: Vec<u32> = Vec::new();
    let mut by_label: std::collections::HashMap<u32, Vec<u32>> = std::collections::HashMap::new();
    for (v, label) in truth.iter().enumerate() {
        by_label
            .entry(*label)
            .or_insert_with(|| {
                order.push(*label);
                Vec::new()
            })
            .push(v as u32);
    }
    order.iter().filter_map(|l| by_label.remove(l)).collect()
}
