//! Communities as a user sees them: whole-graph partitions summarised
//! (size, share, best-connected members), seeds named by their lake ids, and
//! membership tables. (Evaluation against known groups is in `lakebook-eval`.)

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float32Array, RecordBatch, StringArray, UInt32Array};
use arrow::error::ArrowError;

use serde::{Deserialize, Serialize};

use super::GraphError;
use super::adjacency::Adjacency;
use super::model::LakeGraph;
use super::seeded::SeededCommunity;

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
