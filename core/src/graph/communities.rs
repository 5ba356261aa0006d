//! Communities as a user sees them: whole-graph partitions summarised
//! (size, share, best-connected members), seeds named by their lake ids, and
//! the evaluation against known groups that the CLI and benchmark print.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, BooleanArray, Float32Array, RecordBatch, StringArray, UInt32Array};
use arrow::error::ArrowError;

use serde::{Deserialize, Serialize};

use super::GraphError;
use super::adjacency::Adjacency;
use super::leiden::{LeidenOptions, Partition, leiden};
use super::model::LakeGraph;
use super::quality::{ari, nmi};
use super::seeded::{NeighbourhoodIndex, SeededCommunity, SeededOptions};
use crate::rng::Rng;

/// One community of a partition, for lists and legends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunitySummary {
    /// Community number (0 is the largest).
    pub id: u32,
    /// Members.
    pub size: usize,
    /// Share of all nodes.
    pub share: f64,
    /// Edges inside over edges touching it (1 = closed world).
    pub cohesion: f64,
    /// Labels of its best-connected members (highest degree first).
    pub top_members: Vec<String>,
}

impl std::fmt::Display for CommunitySummary {
    /// One line for listings: number, size, share, cohesion, best-connected members.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "#{:<4} {:>7} nodes ({:>5.1}%)  cohesion {:.2}  {}",
            self.id,
            self.size,
            self.share * 100.0,
            self.cohesion,
            self.top_members.join(", ")
        )
    }
}

/// Summaries of every community of `membership`, largest first.
pub fn summarise(
    graph: &LakeGraph,
    adjacency: &Adjacency,
    membership: &[u32],
) -> Vec<CommunitySummary> {
    let count = membership
        .iter()
        .map(|c| *c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); count];
    for (v, c) in membership.iter().enumerate() {
        members[*c as usize].push(v as u32);
    }
    let n = membership.len().max(1);
    let mut out: Vec<CommunitySummary> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(id, nodes)| {
            let (mut inside, mut touching) = (0.0, 0.0);
            for v in nodes {
                let (targets, weights) = adjacency.neighbours(*v);
                for (t, w) in targets.iter().zip(weights) {
                    touching += f64::from(*w);
                    if membership.get(*t as usize) == Some(&(id as u32)) {
                        inside += f64::from(*w);
                    }
                }
            }
            let mut by_degree = nodes.clone();
            by_degree.sort_by_key(|v| (std::cmp::Reverse(adjacency.degree(*v)), *v));
            CommunitySummary {
                id: id as u32,
                size: nodes.len(),
                share: nodes.len() as f64 / n as f64,
                cohesion: if touching > 0.0 {
                    inside / touching
                } else {
                    1.0
                },
                top_members: distinct_labels(graph, &by_degree, 3),
            }
        })
        .collect();
    out.sort_by_key(|s| (std::cmp::Reverse(s.size), s.id));
    out
}

/// The first `limit` distinct labels of `nodes`.
fn distinct_labels(graph: &LakeGraph, nodes: &[u32], limit: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for label in nodes
        .iter()
        .filter_map(|v| graph.node(*v).map(|n| &n.label))
    {
        if !out.contains(label) {
            out.push(label.clone());
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

/// The node positions of seeds given by their lake ids (or labels).
pub fn seeds_by_id(graph: &LakeGraph, ids: &[String]) -> Result<Vec<u32>, GraphError> {
    ids.iter()
        .map(|id| {
            let id = id.trim();
            graph
                .find(id)
                .or_else(|| graph.nodes().position(|n| n.label == id).map(|i| i as u32))
                .ok_or_else(|| GraphError::UnknownNode(id.to_string()))
        })
        .collect()
}

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
    let modularity = super::quality::modularity(adjacency, &partition.membership, 1.0);
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

/// Every node with its community, largest community first, then by degree:
/// columns `id`, `label`, `community`, `degree`.
pub fn membership_table(
    graph: &LakeGraph,
    adjacency: &Adjacency,
    membership: &[u32],
) -> Result<RecordBatch, ArrowError> {
    let mut order: Vec<u32> = (0..membership.len() as u32).collect();
    let mut sizes = vec![
        0usize;
        membership
            .iter()
            .map(|c| *c as usize + 1)
            .max()
            .unwrap_or(0)
    ];
    for c in membership {
        sizes[*c as usize] += 1;
    }
    order.sort_by_key(|v| {
        let c = membership[*v as usize];
        (
            std::cmp::Reverse(sizes[c as usize]),
            c,
            std::cmp::Reverse(adjacency.degree(*v)),
            *v,
        )
    });
    let node = |v: &u32| graph.node(*v);
    RecordBatch::try_from_iter(vec![
        (
            "id",
            Arc::new(StringArray::from_iter_values(
                order.iter().map(|v| node(v).map_or("", |n| n.id.as_str())),
            )) as ArrayRef,
        ),
        (
            "label",
            Arc::new(StringArray::from_iter_values(
                order
                    .iter()
                    .map(|v| node(v).map_or("", |n| n.label.as_str())),
            )),
        ),
        (
            "community",
            Arc::new(UInt32Array::from_iter_values(
                order.iter().map(|v| membership[*v as usize]),
            )),
        ),
        (
            "degree",
            Arc::new(UInt32Array::from_iter_values(
                order.iter().map(|v| adjacency.degree(*v) as u32),
            )),
        ),
    ])
}

/// The members of a seeded community in joining order: columns `rank`, `id`,
/// `label`, `score` (average estimated Jaccard when it joined), `part` (its
/// sub-community), `seed`.
pub fn seeded_table(
    graph: &LakeGraph,
    community: &SeededCommunity,
    seeds: &[u32],
) -> Result<RecordBatch, ArrowError> {
    let members = &community.members;
    let node = |v: u32| graph.node(v);
    RecordBatch::try_from_iter(vec![
        (
            "rank",
            Arc::new(UInt32Array::from_iter_values(1..=members.len() as u32)) as ArrayRef,
        ),
        (
            "id",
            Arc::new(StringArray::from_iter_values(
                members
                    .iter()
                    .map(|(v, _)| node(*v).map_or("", |n| n.id.as_str())),
            )),
        ),
        (
            "label",
            Arc::new(StringArray::from_iter_values(
                members
                    .iter()
                    .map(|(v, _)| node(*v).map_or("", |n| n.label.as_str())),
            )),
        ),
        (
            "score",
            Arc::new(Float32Array::from_iter_values(
                members.iter().map(|(_, s)| *s),
            )),
        ),
        (
            "part",
            Arc::new(UInt32Array::from_iter_values(
                community.structure.iter().copied(),
            )),
        ),
        (
            "seed",
            Arc::new(BooleanArray::from_iter(
                members.iter().map(|(v, _)| Some(seeds.contains(v))),
            )),
        ),
    ])
}
