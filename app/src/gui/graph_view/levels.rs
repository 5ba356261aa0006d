//! What the graph view draws: the graph itself, one community of it, or its
//! communities as super-nodes, each level with its own force layout.

use lakebook_core::graph::layout::{ForceLayout, LayoutOptions};
use lakebook_core::graph::{Adjacency, GraphData};

use super::MAX_DRAWN_NODES;

/// What the view is drawing.
pub(super) enum Level {
    /// Nodes of the graph (all of it, or one community): local index → graph node.
    Nodes(Vec<u32>),
    /// Communities as super-nodes: local index → (community, members).
    Communities(Vec<(u32, usize)>),
}

/// The part of the graph on screen, with its own layout.
pub(super) struct Drawn {
    pub(super) level: Level,
    pub(super) adjacency: Adjacency,
    pub(super) layout: ForceLayout,
    /// The heaviest edge's weight (edges are shaded relative to it).
    pub(super) heaviest: f32,
}

impl Drawn {
    fn new(level: Level, adjacency: Adjacency, layout: ForceLayout) -> Self {
        let heaviest = adjacency
            .edges()
            .map(|(_, _, w)| w)
            .filter(|w| w.is_finite())
            .fold(0.0, f32::max);
        Drawn {
            level,
            adjacency,
            layout,
            heaviest,
        }
    }
}

/// The first level of a graph: all of it, or its communities when it is too
/// large to draw, or its best-connected nodes when it has no communities.
pub(super) fn first_level(data: &GraphData, membership: Option<&[u32]>) -> Drawn {
    let n = data.graph.node_count();
    if n <= MAX_DRAWN_NODES {
        let positions = data.positions.clone();
        return nodes_level(&data.adjacency, (0..n as u32).collect(), positions);
    }
    match membership {
        Some(m) => communities_level(&data.adjacency, m),
        None => {
            let mut nodes: Vec<u32> = (0..n as u32).collect();
            nodes.sort_by_key(|v| std::cmp::Reverse(data.adjacency.degree(*v)));
            nodes.truncate(MAX_DRAWN_NODES);
            nodes_level(&data.adjacency, nodes, None)
        }
    }
}

/// Nothing drawn: the level shown while the real one is built.
pub(super) fn empty_level() -> Drawn {
    nodes_level(&Adjacency::from_edges(0, &[]), Vec::new(), None)
}

/// A level drawing `nodes` of the graph (their induced subgraph).
pub(super) fn nodes_level(
    adjacency: &Adjacency,
    nodes: Vec<u32>,
    positions: Option<Vec<[f32; 2]>>,
) -> Drawn {
    let sub = if nodes.len() == adjacency.node_count() {
        adjacency.clone()
    } else {
        adjacency.induced(&nodes)
    };
    let options = LayoutOptions::default();
    let layout = match positions {
        Some(p) if p.len() == nodes.len() => ForceLayout::with_positions(&sub, options, p),
        _ => ForceLayout::new(&sub, options),
    };
    Drawn::new(Level::Nodes(nodes), sub, layout)
}

/// A level drawing each community as one node, linked by the weight between them.
pub(super) fn communities_level(adjacency: &Adjacency, membership: &[u32]) -> Drawn {
    let count = membership.iter().max().map_or(0, |m| *m as usize + 1);
    let mut sizes = vec![0usize; count];
    for c in membership {
        sizes[*c as usize] += 1;
    }
    let mut between = std::collections::HashMap::new();
    for (a, b, w) in adjacency.edges() {
        let (ca, cb) = (membership[a as usize], membership[b as usize]);
        if ca != cb {
            *between.entry((ca.min(cb), ca.max(cb))).or_insert(0.0f32) += w;
        }
    }
    let edges: Vec<(u32, u32, f32)> = between.into_iter().map(|((a, b), w)| (a, b, w)).collect();
    let sub = Adjacency::from_edges(count, &edges);
    let layout = ForceLayout::new(&sub, LayoutOptions::default());
    let level = Level::Communities(
        sizes
            .into_iter()
            .enumerate()
            .map(|(c, s)| (c as u32, s))
            .collect(),
    );
    Drawn::new(level, sub, layout)
}
