//! A graph drawn from the lake: a petgraph graph whose nodes carry the ids
//! and labels they had in the lake, and the report of what building it had to
//! clean up (self-loops, repeated edges, unknown nodes, missing ids).

use std::collections::HashMap;

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};
use serde::{Deserialize, Serialize};

use super::adjacency::Adjacency;

/// One node: its id in the lake (a value of the source column) and a label to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    /// The id as text (numbers are written as they read in the lake).
    pub id: String,
    /// What the view shows (the id unless a label was given).
    pub label: String,
}

/// An undirected weighted graph with lake ids on its nodes.
#[derive(Debug, Clone, Default)]
pub struct LakeGraph {
    /// The graph itself; node `i` is `NodeIndex::new(i)`.
    pub graph: UnGraph<GraphNode, f32>,
    by_id: HashMap<String, NodeIndex>,
}

impl LakeGraph {
    /// A graph from nodes and edges between their positions (`a`, `b` < nodes.len()).
    pub fn from_parts(nodes: Vec<GraphNode>, edges: &[(u32, u32, f32)]) -> Self {
        let mut graph = UnGraph::with_capacity(nodes.len(), edges.len());
        let mut by_id = HashMap::with_capacity(nodes.len());
        for node in nodes {
            let id = node.id.clone();
            let index = graph.add_node(node);
            by_id.insert(id, index);
        }
        let count = graph.node_count();
        for &(a, b, w) in edges {
            if (a as usize) < count && (b as usize) < count {
                graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), w);
            }
        }
        Self { graph, by_id }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Node `i`.
    pub fn node(&self, i: u32) -> Option<&GraphNode> {
        self.graph.node_weight(NodeIndex::new(i as usize))
    }

    /// Every node, in index order.
    pub fn nodes(&self) -> impl Iterator<Item = &GraphNode> {
        self.graph.node_weights()
    }

    /// Every edge as `(a, b, weight)`.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        self.graph.raw_edges().iter().map(|e| {
            (
                e.source().index() as u32,
                e.target().index() as u32,
                e.weight,
            )
        })
    }

    /// The position of the node with this id.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).map(|i| i.index() as u32)
    }

    /// Nodes whose id or label contains `text` (case-insensitive), at most `limit`.
    pub fn search(&self, text: &str, limit: usize) -> Vec<u32> {
        let needle = text.to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        if let Some(exact) = self.find(text) {
            return vec![exact];
        }
        self.graph
            .node_indices()
            .filter(|i| {
                let n = &self.graph[*i];
                n.label.to_lowercase().contains(&needle) || n.id.to_lowercase().contains(&needle)
            })
            .take(limit)
            .map(|i| i.index() as u32)
            .collect()
    }

    /// The compact form the algorithms read.
    pub fn adjacency(&self) -> Adjacency {
        let edges: Vec<(u32, u32, f32)> = self.edges().collect();
        Adjacency::from_edges(self.node_count(), &edges)
    }
}

/// What [`GraphBuilder`] cleaned up on the way, in counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    /// Edge rows (or co-occurrences, or neighbour pairs) read.
    pub rows_read: u64,
    /// Rows whose source or target was null or empty: skipped.
    pub missing_ids: u64,
    /// Rows linking a node to itself: skipped.
    pub self_loops: u64,
    /// Rows repeating an edge already seen: merged into it.
    pub duplicate_edges: u64,
    /// Rows naming a node that is not in the node list: skipped.
    pub unknown_nodes: u64,
    /// Rows whose weight was null, not a number, zero or negative: skipped.
    pub bad_weights: u64,
    /// Groups too large to turn into a clique (co-occurrence graphs): skipped.
    pub oversized_groups: u64,
    /// Nodes without any edge.
    pub isolated_nodes: u64,
    /// Connected components (isolated nodes count as one each).
    pub components: u64,
}

impl BuildReport {
    /// One line per thing the user should know about, empty when the input was clean.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let mut say = |count: u64, what: &str| {
            if count > 0 {
                notes.push(format!("{count} {what}"));
            }
        };
        say(self.missing_ids, "rows with a null or empty id skipped");
        say(self.self_loops, "self-loops skipped");
        say(self.duplicate_edges, "repeated edges merged");
        say(self.unknown_nodes, "edges to unknown nodes skipped");
        say(
            self.bad_weights,
            "edges with a null, non-numeric or non-positive weight skipped",
        );
        say(
            self.oversized_groups,
            "groups too large to link all their members skipped",
        );
        say(self.isolated_nodes, "isolated nodes (no edges)");
        if self.components > 1 {
            notes.push(format!("{} connected components", self.components));
        }
        notes
    }
}

/// How repeated edges between the same two nodes are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeMerge {
    /// Weights add up (repeated rows are repeated interactions).
    #[default]
    Sum,
    /// The first weight stays (a simple graph, as igraph's `simplify`).
    First,
}

/// Builds a [`LakeGraph`] from ids as they come, counting what it cleans up.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    graph: LakeGraph,
    edges: HashMap<(u32, u32), EdgeIndex>,
    closed: bool,
    merge: EdgeMerge,
    report: BuildReport,
}

impl GraphBuilder {
    /// An empty builder: every id seen on an edge becomes a node.
    pub fn new(merge: EdgeMerge) -> Self {
        Self {
            merge,
            ..Self::default()
        }
    }

    /// After this, edges naming an id that is not yet a node are skipped and counted.
    pub fn close_node_set(&mut self) {
        self.closed = true;
    }

    /// Adds a node (or relabels it if the id exists); returns its position.
    pub fn add_node(&mut self, id: &str, label: Option<&str>) -> u32 {
        if let Some(i) = self.graph.by_id.get(id) {
            if let Some(label) = label {
                self.graph.graph[*i].label = label.to_string();
            }
            return i.index() as u32;
        }
        let index = self.graph.graph.add_node(GraphNode {
            id: id.to_string(),
            label: label.unwrap_or(id).to_string(),
        });
        self.graph.by_id.insert(id.to_string(), index);
        index.index() as u32
    }

    /// Adds one edge row: null/empty ids, self-loops, unknown nodes and bad
    /// weights are skipped and counted; a repeated edge is merged.
    pub fn add_edge(&mut self, source: Option<&str>, target: Option<&str>, weight: Option<f64>) {
        self.report.rows_read += 1;
        let (Some(a), Some(b)) = (
            source.filter(|s| !s.is_empty()),
            target.filter(|s| !s.is_empty()),
        ) else {
            self.report.missing_ids += 1;
            return;
        };
        let Some(weight) = weight.filter(|w| w.is_finite() && *w > 0.0) else {
            self.report.bad_weights += 1;
            return;
        };
        if a == b {
            self.report.self_loops += 1;
            return;
        }
        let ends = if self.closed {
            match (self.graph.find(a), self.graph.find(b)) {
                (Some(x), Some(y)) => (x, y),
                _ => {
                    self.report.unknown_nodes += 1;
                    return;
                }
            }
        } else {
            (self.add_node(a, None), self.add_node(b, None))
        };
        self.link(ends.0, ends.1, weight as f32);
    }

    /// Adds an edge between two node positions (already known to be distinct nodes).
    pub fn link(&mut self, a: u32, b: u32, weight: f32) {
        let key = (a.min(b), a.max(b));
        if let Some(edge) = self.edges.get(&key) {
            self.report.duplicate_edges += 1;
            if self.merge == EdgeMerge::Sum
                && let Some(w) = self.graph.graph.edge_weight_mut(*edge)
            {
                *w += weight;
            }
            return;
        }
        let edge = self.graph.graph.add_edge(
            NodeIndex::new(key.0 as usize),
            NodeIndex::new(key.1 as usize),
            weight,
        );
        self.edges.insert(key, edge);
    }

    /// Counts a row that was read but not turned into an edge for a reason of its own.
    pub fn report_mut(&mut self) -> &mut BuildReport {
        &mut self.report
    }

    /// The graph and what was cleaned up.
    pub fn finish(self) -> (LakeGraph, BuildReport) {
        let mut report = self.report;
        let graph = self.graph;
        report.isolated_nodes = graph
            .graph
            .node_indices()
            .filter(|i| graph.graph.neighbors(*i).next().is_none())
            .count() as u64;
        report.components = petgraph::algo::connected_components(&graph.graph) as u64;
        (graph, report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_cleans_and_reports_bad_edges() {
        let mut b = GraphBuilder::new(EdgeMerge::Sum);
        b.add_node("lonely", Some("Lonely node"));
        b.add_edge(Some("a"), Some("b"), Some(1.0));
        b.add_edge(Some("b"), Some("a"), Some(2.0));
        b.add_edge(Some("a"), Some("a"), Some(1.0));
        b.add_edge(None, Some("a"), Some(1.0));
        b.add_edge(Some("c"), Some(""), Some(1.0));
        b.add_edge(Some("c"), Some("d"), Some(f64::NAN));
        b.add_edge(Some("c"), Some("d"), Some(-1.0));
        b.add_edge(Some("c"), Some("d"), None);
        b.close_node_set();
        b.add_edge(Some("a"), Some("zz"), Some(1.0));
        let (g, r) = b.finish();
        assert_eq!(g.node_count(), 3);
        assert_eq!(g.edge_count(), 1);
        assert_eq!(g.edges().next().map(|e| e.2), Some(3.0));
        assert_eq!(r.rows_read, 9);
        assert_eq!(
            (
                r.self_loops,
                r.duplicate_edges,
                r.missing_ids,
                r.bad_weights
            ),
            (1, 1, 2, 3)
        );
        assert_eq!((r.unknown_nodes, r.isolated_nodes, r.components), (1, 1, 2));
        assert_eq!(g.find("b"), Some(2));
        assert_eq!(g.node(0).map(|n| n.label.as_str()), Some("Lonely node"));
        assert_eq!(g.search("LONELY", 5), vec![0]);
        assert!(r.notes().iter().any(|n| n.contains("self-loops")));
    }

    #[test]
    fn first_merge_keeps_the_first_weight() {
        let mut b = GraphBuilder::new(EdgeMerge::First);
        b.add_edge(Some("1"), Some("2"), Some(1.0));
        b.add_edge(Some("2"), Some("1"), Some(5.0));
        let (g, _) = b.finish();
        assert_eq!(g.adjacency().total_weight(), 1.0);
    }

    #[test]
    fn empty_graph_is_fine() {
        let (g, r) = GraphBuilder::new(EdgeMerge::Sum).finish();
        assert_eq!((g.node_count(), r.components, r.isolated_nodes), (0, 0, 0));
        assert_eq!(g.adjacency().node_count(), 0);
    }
}
