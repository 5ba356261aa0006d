//! Partition quality: modularity, and agreement between partitions (NMI, ARI).

use std::collections::HashMap;

use super::adjacency::Adjacency;

/// Whether an edge weight takes part in modularity: positive and finite
/// (community detection ignores the others too).
pub(crate) fn counts_as_weight(weight: f32) -> bool {
    weight.is_finite() && weight > 0.0
}

/// Modularity of `membership` (the community of each node) on `graph` with
/// resolution `resolution` (γ):
/// Q = 1/2m Σ_ij (A_ij − γ k_i k_j / 2m) δ(c_i, c_j).
///
/// Labels are arbitrary. Nodes past the end of `membership` count as
/// communities of their own; extra labels are ignored. Edges whose weight is
/// not positive and finite are ignored. A graph without edges scores 0.
pub fn modularity(graph: &Adjacency, membership: &[u32], resolution: f64) -> f64 {
    let node_count = graph.node_count();
    let labelled = membership.len().min(node_count);
    let (mut community, label_count) = dense_labels(&membership[..labelled]);
    // Unlabelled nodes: a community each.
    let community_count = label_count + node_count - labelled;
    community.extend((label_count..community_count).map(|c| c as u32));
    let mut degree_sums = vec![0.0f64; community_count];
    let mut internal = 0.0f64;
    let mut twice_total = 0.0f64;
    for v in 0..node_count {
        let (targets, weights) = graph.neighbours(v as u32);
        let own = community[v];
        for (target, weight) in targets.iter().zip(weights) {
            if !counts_as_weight(*weight) {
                continue;
            }
            let weight = f64::from(*weight);
            degree_sums[own as usize] += weight;
            twice_total += weight;
            if community[*target as usize] == own {
                internal += weight;
            }
        }
    }
    if twice_total <= 0.0 {
        return 0.0;
    }
    let expected: f64 = degree_sums.iter().map(|k| k * k).sum::<f64>() / twice_total;
    (internal - resolution * expected) / twice_total
}

/// Normalised mutual information between two partitions, given as the label
/// of each item: 2 I(a; b) / (H(a) + H(b)), the arithmetic-mean normalisation
/// (igraph's `compare_communities(method = "nmi")`, scikit-learn's default).
///
/// Labels are arbitrary. When the lengths differ only the common prefix is
/// compared. Two single-cluster (or empty) partitions score 1.0.
pub fn nmi(a: &[u32], b: &[u32]) -> f64 {
    let table = Contingency::new(a, b);
    let n = table.items as f64;
    let entropy = |sizes: &[u64]| -> f64 {
        sizes
            .iter()
            .filter(|s| **s > 0)
            .map(|s| {
                let p = *s as f64 / n;
                -p * p.ln()
            })
            .sum()
    };
    let entropy_a = entropy(&table.row_sizes);
    let entropy_b = entropy(&table.column_sizes);
    if entropy_a + entropy_b <= 0.0 {
        return 1.0;
    }
    let mutual: f64 = table
        .cells
        .iter()
        .map(|&(row, column, count)| {
            let count = count as f64;
            let expected =
                table.row_sizes[row as usize] as f64 * table.column_sizes[column as usize] as f64;
            count / n * (n * count / expected).ln()
        })
        .sum();
    (2.0 * mutual / (entropy_a + entropy_b)).clamp(0.0, 1.0)
}

/// Adjusted Rand index between two partitions (Hubert and Arabie 1985): the
/// Rand index corrected for chance, 1.0 for identical partitions and about 0
/// for independent ones.
///
/// Labels are arbitrary. When the lengths differ only the common prefix is
/// compared. Fewer than two items, or two partitions that are both a single
/// cluster or both all singletons, score 1.0.
pub fn ari(a: &[u32], b: &[u32]) -> f64 {
    let table = Contingency::new(a, b);
    let pairs = |count: u64| -> f64 { count as f64 * (count as f64 - 1.0) / 2.0 };
    let all_pairs = pairs(table.items);
    let together_both: f64 = table.cells.iter().map(|&(_, _, count)| pairs(count)).sum();
    let together_a: f64 = table.row_sizes.iter().map(|s| pairs(*s)).sum();
    let together_b: f64 = table.column_sizes.iter().map(|s| pairs(*s)).sum();
    if all_pairs <= 0.0 {
        return 1.0;
    }
    let expected = together_a * together_b / all_pairs;
    let maximum = (together_a + together_b) / 2.0;
    let spread = maximum - expected;
    if spread.abs() <= f64::EPSILON * all_pairs {
        return 1.0;
    }
    (together_both - expected) / spread
}

/// The contingency table of two labellings of the same items.
struct Contingency {
    /// Number of items compared.
    items: u64,
    /// Items per cluster of the first labelling.
    row_sizes: Vec<u64>,
    /// Items per cluster of the second labelling.
    column_sizes: Vec<u64>,
    /// Non-empty cells `(row, column, items)`.
    cells: Vec<(u32, u32, u64)>,
}

impl Contingency {
    /// Counts the common prefix of `a` and `b`.
    fn new(a: &[u32], b: &[u32]) -> Self {
        let len = a.len().min(b.len());
        let (rows, row_count) = dense_labels(&a[..len]);
        let (columns, column_count) = dense_labels(&b[..len]);
        let mut row_sizes = vec![0u64; row_count];
        let mut column_sizes = vec![0u64; column_count];
        let mut keys: Vec<u64> = Vec::with_capacity(len);
        for (row, column) in rows.iter().zip(&columns) {
            row_sizes[*row as usize] += 1;
            column_sizes[*column as usize] += 1;
            keys.push(u64::from(*row) << 32 | u64::from(*column));
        }
        keys.sort_unstable();
        let mut cells: Vec<(u32, u32, u64)> = Vec::new();
        for key in keys {
            let (row, column) = ((key >> 32) as u32, key as u32);
            match cells.last_mut() {
                Some(cell) if cell.0 == row && cell.1 == column => cell.2 += 1,
                _ => cells.push((row, column, 1)),
            }
        }
        Contingency {
            items: len as u64,
            row_sizes,
            column_sizes,
            cells,
        }
    }
}

/// Renames arbitrary labels to `0..count` in order of first appearance;
/// returns the renamed labels and `count`. Labels below twice the length
/// (the usual case) go through a table, others through a hash map.
fn dense_labels(labels: &[u32]) -> (Vec<u32>, usize) {
    let table_size = labels.len().saturating_mul(2);
    if labels.iter().all(|label| (*label as usize) < table_size) {
        let mut names = vec![u32::MAX; table_size];
        let mut count = 0u32;
        let dense = labels
            .iter()
            .map(|label| {
                let name = &mut names[*label as usize];
                if *name == u32::MAX {
                    *name = count;
                    count += 1;
                }
                *name
            })
            .collect();
        return (dense, count as usize);
    }
    let mut names: HashMap<u32, u32> = HashMap::new();
    let dense = labels
        .iter()
        .map(|label| {
            let next = names.len() as u32;
            *names.entry(*label).or_insert(next)
        })
        .collect();
    (dense, names.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Two triangles {0,1,2} and {3,4,5} joined by the edge 2–3.
    fn two_triangles() -> Adjacency {
        Adjacency::from_edges(
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
        )
    }

    #[test]
    fn modularity_of_two_triangles_matches_the_hand_computation() {
        let graph = two_triangles();
        // m = 7; each side has 3 internal edges and degree sum 7:
        // Q = 2 × (3/7 − (7/14)²) = 5/14.
        assert!(close(
            modularity(&graph, &[0, 0, 0, 1, 1, 1], 1.0),
            5.0 / 14.0
        ));
        // Labels are arbitrary.
        assert!(close(
            modularity(
                &graph,
                &[9, 9, 9, 4_000_000_000, 4_000_000_000, 4_000_000_000],
                1.0
            ),
            5.0 / 14.0
        ));
        // One community: 1 − 1 = 0; resolution 0.5: 1 − 0.5.
        assert!(close(modularity(&graph, &[0; 6], 1.0), 0.0));
        assert!(close(modularity(&graph, &[0; 6], 0.5), 0.5));
        // Singletons: −Σ k² / 4m² = −(4·4 + 2·9) / 196.
        assert!(close(
            modularity(&graph, &[0, 1, 2, 3, 4, 5], 1.0),
            -34.0 / 196.0
        ));
        // Missing labels are singletons.
        assert!(close(modularity(&graph, &[], 1.0), -34.0 / 196.0));
    }

    #[test]
    fn modularity_counts_weights_and_ignores_bad_ones() {
        let graph = Adjacency::from_edges(
            4,
            &[(0, 1, 3.0), (2, 3, 1.0), (1, 2, f32::NAN), (0, 3, -2.0)],
        );
        // m = 4: Q = (3 + 1)/4 − (6² + 2²)/64.
        assert!(close(
            modularity(&graph, &[0, 0, 1, 1], 1.0),
            1.0 - 40.0 / 64.0
        ));
        assert_eq!(
            modularity(&Adjacency::from_edges(3, &[]), &[0, 1, 2], 1.0),
            0.0
        );
        assert_eq!(modularity(&Adjacency::default(), &[], 1.0), 0.0);
    }

    #[test]
    fn identical_and_relabelled_partitions_agree_fully() {
        let a = [0, 0, 1, 1, 2, 2, 2];
        let relabelled = [7, 7, 3, 3, 900, 900, 900];
        for b in [&a, &relabelled] {
            assert!(close(nmi(&a, b), 1.0));
            assert!(close(ari(&a, b), 1.0));
        }
        assert!(close(nmi(&[5; 4], &[1; 4]), 1.0));
        assert!(close(ari(&[5; 4], &[1; 4]), 1.0));
        assert!(close(ari(&[0, 1, 2], &[2, 1, 0]), 1.0));
        assert!(close(nmi(&[], &[]), 1.0));
    }

    #[test]
    fn independent_partitions_score_zero() {
        // Every cell of the 2 × 2 table holds the same count.
        let a = [0, 0, 1, 1, 0, 0, 1, 1];
        let b = [0, 1, 0, 1, 0, 1, 0, 1];
        assert!(close(nmi(&a, &b), 0.0));
        assert!(ari(&a, &b) < 0.0 && ari(&a, &b) > -0.3);
        // One cluster against several: no information.
        assert!(close(nmi(&[0; 4], &[0, 1, 2, 3]), 0.0));
        assert!(close(ari(&[0; 4], &[0, 1, 2, 3]), 0.0));
    }

    #[test]
    fn ari_and_nmi_match_hand_computations() {
        // Table rows {0,1,2} / {3,4,5}; columns {0,1} / {2,3} / {4,5}.
        let a = [0, 0, 0, 1, 1, 1];
        let b = [0, 0, 1, 1, 2, 2];
        // Σ C(n_ij,2) = 1 + 1 = 2 (cells 2,1,1,2); Σ C(a,2) = 6; Σ C(b,2) = 3;
        // expected = 6·3/15 = 1.2; max = 4.5; ARI = 0.8 / 3.3.
        assert!(close(ari(&a, &b), 0.8 / 3.3));
        // I = 4·(1/6)ln(... ) computed from the table:
        let ln = f64::ln;
        let mutual = 2.0 * (2.0 / 6.0) * ln((2.0 / 6.0) / (0.5 / 3.0))
            + 2.0 * (1.0 / 6.0) * ln((1.0 / 6.0) / (0.5 / 3.0));
        let entropy_a = ln(2.0);
        let entropy_b = ln(3.0);
        assert!(close(nmi(&a, &b), 2.0 * mutual / (entropy_a + entropy_b)));
        assert!(close(nmi(&b, &a), nmi(&a, &b)));
    }

    #[test]
    fn different_lengths_compare_the_common_prefix() {
        assert!(close(nmi(&[0, 0, 1, 1], &[3, 3, 4, 4, 4, 4]), 1.0));
        assert!(close(ari(&[0, 0, 1, 1, 9], &[3, 3, 4, 4]), 1.0));
    }
}
