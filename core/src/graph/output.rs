//! What a Graph or Communities cell shows: the stored graph's description,
//! its communities, a seeded community if one was asked for, and (after a
//! run, not from the output cache) the graph itself for the graph view.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use serde::{Deserialize, Serialize};

use super::adjacency::Adjacency;
use super::communities::{CommunitySummary, membership_table, seeded_table, summarise};
use super::model::LakeGraph;
use super::seeded::SeededCommunity;
use super::store::{GraphRecord, StoredGraph};

/// The graph in memory, ready for the view and for seeded queries.
#[derive(Debug)]
pub struct GraphData {
    /// Nodes with their lake ids, edges with weights.
    pub graph: LakeGraph,
    /// The compact form the algorithms read.
    pub adjacency: Adjacency,
    /// A stored layout, if one was saved.
    pub positions: Option<Vec<[f32; 2]>>,
}

impl GraphData {
    /// The in-memory form of a stored graph.
    pub fn from_stored(stored: &StoredGraph) -> Self {
        Self {
            adjacency: stored.graph.adjacency(),
            graph: stored.graph.clone(),
            positions: stored.positions.clone(),
        }
    }
}

/// A community found around seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededView {
    /// The seeds as the user named them.
    pub seeds: Vec<String>,
    /// Their node positions.
    pub seed_nodes: Vec<u32>,
    /// The community.
    pub community: SeededCommunity,
}

/// A Graph or Communities cell's output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphOutput {
    /// The stored graph's description.
    pub record: GraphRecord,
    /// Whole-graph community of each node, when a run is stored.
    pub membership: Option<Vec<u32>>,
    /// The communities, largest first.
    pub summaries: Vec<CommunitySummary>,
    /// The community around seeds, when asked for.
    pub seeded: Option<SeededView>,
    /// The graph itself; absent when the output came from the cache (the
    /// view loads it from the lake then).
    #[serde(skip)]
    pub data: Option<Arc<GraphData>>,
}

impl GraphOutput {
    /// The output for a stored graph, with its stored communities summarised.
    pub fn new(stored: &StoredGraph, data: Arc<GraphData>) -> Self {
        let summaries = stored
            .communities
            .as_ref()
            .map(|m| summarise(&data.graph, &data.adjacency, m))
            .unwrap_or_default();
        Self {
            record: stored.record.clone(),
            membership: stored.communities.clone(),
            summaries,
            seeded: None,
            data: Some(data),
        }
    }

    /// The rows a table view or the CLI shows: the seeded members, else every
    /// node with its community; `None` without communities or graph data.
    pub fn table(&self) -> Option<Result<RecordBatch, ArrowError>> {
        let data = self.data.as_ref()?;
        if let Some(seeded) = &self.seeded {
            return Some(seeded_table(
                &data.graph,
                &seeded.community,
                &seeded.seed_nodes,
            ));
        }
        let membership = self.membership.as_ref()?;
        Some(membership_table(&data.graph, &data.adjacency, membership))
    }

    /// A short text summary: the graph, cleaning notes, communities or the seeded community.
    pub fn summary(&self) -> String {
        let r = &self.record;
        let mut text = format!("{}\n", r.headline());
        for note in r.report.notes() {
            text.push_str(&format!("  note: {note}\n"));
        }
        if let Some(run) = &r.communities {
            text.push_str(&run.describe());
            text.push('\n');
            for s in self.summaries.iter().take(8) {
                text.push_str(&format!("  {s}\n"));
            }
        }
        if let Some(seeded) = &self.seeded {
            let c = &seeded.community;
            text.push_str(&format!(
                "community around {}: {} members, conductance {:.3}, {:.1} ms\n",
                seeded.seeds.join(", "),
                c.members.len(),
                c.conductance,
                c.elapsed.as_secs_f64() * 1000.0
            ));
        }
        text
    }
}

/// A stored graph laid out (its saved layout, or `steps` ForceAtlas2 steps
/// from scratch) as a scene to export: coloured by its communities (with
/// their colour key), sized by
/// degree, `highlight` outlined, and the best-connected nodes labelled where
/// their labels fit a `picture` of that many pixels.
pub fn laid_out_scene(
    data: &GraphData,
    membership: Option<&[u32]>,
    highlight: &[u32],
    steps: usize,
    title: &str,
    picture: [u32; 2],
) -> (Vec<[f32; 2]>, super::export::Scene) {
    use super::export::{
        NO_COMMUNITY, Scene, SceneNode, community_colour, community_key, keep_fitting_labels,
    };
    use super::layout::{ForceLayout, LayoutOptions};
    let positions = match &data.positions {
        Some(p) if p.len() == data.graph.node_count() => p.clone(),
        _ => {
            let mut layout = ForceLayout::new(&data.adjacency, LayoutOptions::default());
            for _ in 0..steps {
                layout.step(&data.adjacency);
                if layout.settled() {
                    break;
                }
            }
            layout.positions().to_vec()
        }
    };
    let (lo, hi) = positions.iter().fold(
        ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]),
        |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            )
        },
    );
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-3);
    // Labels offered to the 120 best-connected nodes, and the highlighted
    // ones; those that fit are kept below.
    let mut by_degree: Vec<u32> = (0..data.graph.node_count() as u32).collect();
    by_degree.sort_by_key(|v| std::cmp::Reverse(data.adjacency.degree(*v)));
    let labelled: std::collections::HashSet<u32> = by_degree.iter().take(120).copied().collect();
    let nodes = positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let v = i as u32;
            let degree = data.adjacency.degree(v) as f32;
            SceneNode {
                position: *p,
                radius: extent * (0.002 + 0.0015 * degree.sqrt()),
                colour: membership
                    .and_then(|m| m.get(i))
                    .map_or(NO_COMMUNITY, |c| community_colour(*c)),
                label: (labelled.contains(&v) || highlight.contains(&v))
                    .then(|| data.graph.node(v).map(|n| n.label.clone()))
                    .flatten(),
                highlighted: highlight.contains(&v),
            }
        })
        .collect();
    let mut scene = Scene {
        nodes,
        edges: data.adjacency.edges().map(|(a, b, _)| (a, b)).collect(),
        title: Some(title.to_string()),
        legend: membership.map_or_else(Vec::new, |m| community_key(m.iter().copied())),
        ..Scene::default()
    };
    keep_fitting_labels(&mut scene, picture[0], picture[1], 60);
    (positions, scene)
}
