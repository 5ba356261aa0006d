//! The compact form every graph algorithm reads: an undirected, weighted graph
//! in compressed sparse rows (each edge stored once from each end).

/// An undirected weighted graph over nodes `0..n` in compressed sparse rows.
///
/// Built from clean edges: no self-loops (they are skipped) and at most one
/// edge per pair (the builder in [`super::model`] merges duplicates).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Adjacency {
    /// `offsets[v]..offsets[v + 1]` is node `v`'s slice of `targets`/`weights`.
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f32>,
    /// Weighted degree of each node.
    strengths: Vec<f64>,
    /// Sum of edge weights, each undirected edge once.
    total_weight: f64,
}

impl Adjacency {
    /// Builds the adjacency of `node_count` nodes from undirected `edges`
    /// `(a, b, weight)`; self-loops and edges naming a node `>= node_count`
    /// are skipped. Neighbours of each node come out sorted by id.
    pub fn from_edges(node_count: usize, edges: &[(u32, u32, f32)]) -> Self {
        let valid = |&&(a, b, _): &&(u32, u32, f32)| {
            a != b && (a as usize) < node_count && (b as usize) < node_count
        };
        let mut counts = vec![0usize; node_count + 1];
        for &(a, b, _) in edges.iter().filter(valid) {
            counts[a as usize + 1] += 1;
            counts[b as usize + 1] += 1;
        }
        for v in 0..node_count {
            counts[v + 1] += counts[v];
        }
        let offsets = counts;
        let stored = offsets[node_count];
        let mut cursor = offsets.clone();
        let mut targets = vec![0u32; stored];
        let mut weights = vec![0f32; stored];
        let mut total_weight = 0.0;
        for &(a, b, w) in edges.iter().filter(valid) {
            for (from, to) in [(a, b), (b, a)] {
                let slot = &mut cursor[from as usize];
                targets[*slot] = to;
                weights[*slot] = w;
                *slot += 1;
            }
            total_weight += f64::from(w);
        }
        let mut adjacency = Adjacency {
            offsets,
            targets,
            weights,
            strengths: Vec::new(),
            total_weight,
        };
        adjacency.sort_neighbours();
        adjacency.strengths = (0..node_count as u32)
            .map(|v| {
                adjacency
                    .neighbours(v)
                    .1
                    .iter()
                    .map(|w| f64::from(*w))
                    .sum()
            })
            .collect();
        adjacency
    }

    /// Sorts each node's neighbours by id (weights follow).
    fn sort_neighbours(&mut self) {
        for v in 0..self.node_count() {
            let range = self.offsets[v]..self.offsets[v + 1];
            let targets = &self.targets[range.clone()];
            if targets.windows(2).all(|w| w[0] <= w[1]) {
                continue;
            }
            let mut pairs: Vec<(u32, f32)> = targets
                .iter()
                .copied()
                .zip(self.weights[range.clone()].iter().copied())
                .collect();
            pairs.sort_unstable_by_key(|(t, _)| *t);
            for (slot, (t, w)) in range.zip(pairs) {
                self.targets[slot] = t;
                self.weights[slot] = w;
            }
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of undirected edges.
    pub fn edge_count(&self) -> usize {
        self.targets.len() / 2
    }

    /// Node `v`'s neighbours (sorted by id) and the weights of the edges to them.
    pub fn neighbours(&self, v: u32) -> (&[u32], &[f32]) {
        let range = self.offsets[v as usize]..self.offsets[v as usize + 1];
        (&self.targets[range.clone()], &self.weights[range])
    }

    /// Number of neighbours of `v`.
    pub fn degree(&self, v: u32) -> usize {
        self.offsets[v as usize + 1] - self.offsets[v as usize]
    }

    /// Sum of the weights of `v`'s edges.
    pub fn strength(&self, v: u32) -> f64 {
        self.strengths[v as usize]
    }

    /// Sum of all edge weights, each undirected edge counted once.
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// Every edge once, as `(a, b, weight)` with `a < b`.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.node_count() as u32).flat_map(move |a| {
            let (targets, weights) = self.neighbours(a);
            targets
                .iter()
                .zip(weights)
                .filter(move |(b, _)| a < **b)
                .map(move |(b, w)| (a, *b, *w))
        })
    }

    /// The subgraph induced by `nodes` (distinct ids): node `i` of the result
    /// is `nodes[i]` here.
    pub fn induced(&self, nodes: &[u32]) -> Adjacency {
        let mut local = std::collections::HashMap::with_capacity(nodes.len());
        for (i, v) in nodes.iter().enumerate() {
            local.insert(*v, i as u32);
        }
        let mut edges = Vec::new();
        for (i, v) in nodes.iter().enumerate() {
            let (targets, weights) = self.neighbours(*v);
            for (t, w) in targets.iter().zip(weights) {
                if let Some(&j) = local.get(t)
                    && (i as u32) < j
                {
                    edges.push((i as u32, j, *w));
                }
            }
        }
        Adjacency::from_edges(nodes.len(), &edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_each_edge_from_both_ends_and_skips_loops_and_strangers() {
        let g = Adjacency::from_edges(4, &[(2, 0, 1.0), (0, 1, 2.0), (1, 1, 5.0), (3, 9, 1.0)]);
        assert_eq!(g.node_count(), 4);
        assert_eq!(g.edge_count(), 2);
        assert_eq!(g.neighbours(0), (&[1u32, 2][..], &[2.0f32, 1.0][..]));
        assert_eq!(g.degree(3), 0);
        assert_eq!(g.strength(0), 3.0);
        assert_eq!(g.total_weight(), 3.0);
        assert_eq!(
            g.edges().collect::<Vec<_>>(),
            vec![(0, 1, 2.0), (0, 2, 1.0)]
        );
        let sub = g.induced(&[2, 0]);
        assert_eq!(sub.edges().collect::<Vec<_>>(), vec![(0, 1, 1.0)]);
    }
}
