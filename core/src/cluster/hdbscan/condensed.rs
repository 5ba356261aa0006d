//! From the spanning tree to labels: the single-linkage tree, the condensed
//! tree, cluster selection by excess of mass or leaves, and the labels,
//! probabilities and persistence.

use super::*;

/// Merge `i` of the single-linkage tree creates node `n + i` from `left` and
/// `right` (nodes below `n` are rows) at `distance`; `size` rows below it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Merge {
    pub(super) left: u32,
    pub(super) right: u32,
    pub(super) distance: f64,
    pub(super) size: u32,
}

/// The single-linkage tree of a spanning tree's edges, lightest first (ties
/// by row indices, so the tree is always the same).
pub(super) fn single_linkage(n: usize, mut edges: Vec<Edge>) -> Vec<Merge> {
    edges.sort_unstable_by_key(|e| key(e.w, e.a as usize, e.b as usize));
    let mut sets = UnionFind::new(n);
    let mut node_of: Vec<u32> = (0..n as u32).collect();
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    for e in edges {
        let (a, b) = (sets.find(e.a as usize), sets.find(e.b as usize));
        if a == b {
            continue;
        }
        let (left, right) = (node_of[a], node_of[b]);
        sets.union(a, b);
        let root = sets.find(a);
        node_of[root] = (n + merges.len()) as u32;
        merges.push(Merge {
            left,
            right,
            distance: f64::from(e.w).sqrt(),
            size: sets.size[root],
        });
    }
    merges
}

/// The condensed tree. Cluster 0 is the root; a child cluster always has a
/// larger number than its parent. Every row falls out of exactly one
/// cluster, at some `λ = 1 / distance`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Condensed {
    /// Parent of each cluster (`NONE` for the root).
    pub(super) parent: Vec<u32>,
    /// `λ` at which each cluster appears (0 for the root).
    pub(super) birth: Vec<f64>,
    /// Rows in each cluster when it appears.
    pub(super) size: Vec<u32>,
    /// Cluster each row falls out of.
    pub(super) point_cluster: Vec<u32>,
    /// `λ` at which each row falls out.
    pub(super) point_lambda: Vec<f64>,
}

pub(super) fn condense(n: usize, merges: &[Merge], min_cluster_size: usize) -> Condensed {
    let mut tree = Condensed {
        parent: vec![NONE],
        birth: vec![0.0],
        size: vec![n as u32],
        point_cluster: vec![0; n],
        point_lambda: vec![0.0; n],
    };
    let size_of = |node: u32| {
        let node = node as usize;
        if node < n {
            1
        } else {
            merges[node - n].size as usize
        }
    };
    let mut cluster_of = vec![NONE; merges.len()];
    if let Some(last) = cluster_of.last_mut() {
        *last = 0;
    }
    let (mut parts, mut stack) = (Vec::new(), Vec::new());
    for i in (0..merges.len()).rev() {
        let c = cluster_of[i];
        if c == NONE {
            continue;
        }
        let distance = merges[i].distance;
        let lambda = if distance > 0.0 {
            1.0 / distance
        } else {
            f64::INFINITY
        };
        // All edges of one weight go at once (Campello et al.): the parts
        // are the subtrees hanging below the run of merges at `distance`,
        // however ties happened to be ordered.
        parts.clear();
        stack.clear();
        stack.extend([merges[i].left, merges[i].right]);
        while let Some(node) = stack.pop() {
            let at = node as usize;
            if at >= n && merges[at - n].distance == distance {
                stack.extend([merges[at - n].left, merges[at - n].right]);
            } else {
                parts.push(node);
            }
        }
        parts.sort_unstable();
        let big = parts
            .iter()
            .filter(|&&part| size_of(part) >= min_cluster_size)
            .count();
        for &part in &parts {
            if size_of(part) >= min_cluster_size {
                // A part that is a row is below min_cluster_size (at least 2).
                let at = part as usize - n;
                if big == 1 {
                    cluster_of[at] = c;
                } else {
                    cluster_of[at] = tree.parent.len() as u32;
                    tree.parent.push(c);
                    tree.birth.push(lambda);
                    tree.size.push(size_of(part) as u32);
                }
                continue;
            }
            // Every row below a small part leaves cluster `c` here.
            stack.push(part);
            while let Some(node) = stack.pop() {
                let node = node as usize;
                if node < n {
                    tree.point_cluster[node] = c;
                    tree.point_lambda[node] = lambda;
                } else {
                    stack.push(merges[node - n].left);
                    stack.push(merges[node - n].right);
                }
            }
        }
    }
    tree
}

/// `to − from`, 0 when both are infinite.
pub(super) fn gap(to: f64, from: f64) -> f64 {
    if to == from { 0.0 } else { to - from }
}

/// Stability (excess of mass) of each cluster, the largest `λ` among its
/// direct children (rows and clusters), and the largest finite such `λ`.
pub(super) fn stabilities(tree: &Condensed) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let k = tree.parent.len();
    let (mut stability, mut death, mut finite_death) =
        (vec![0.0; k], vec![0.0f64; k], vec![0.0f64; k]);
    let rows = tree
        .point_cluster
        .iter()
        .zip(&tree.point_lambda)
        .map(|(&c, &l)| (c, l, 1));
    let clusters = (1..k).map(|c| (tree.parent[c], tree.birth[c], tree.size[c]));
    for (c, lambda, size) in rows.chain(clusters) {
        let c = c as usize;
        stability[c] += gap(lambda, tree.birth[c]) * f64::from(size);
        death[c] = death[c].max(lambda);
        if lambda.is_finite() {
            finite_death[c] = finite_death[c].max(lambda);
        }
    }
    (stability, death, finite_death)
}

/// Labels, probabilities and persistence from the condensed tree.
pub(super) fn extract(
    tree: &Condensed,
    selection: Selection,
    allow_single_cluster: bool,
) -> HdbscanResult {
    let k = tree.parent.len();
    let n = tree.point_cluster.len();
    let (stability, death, finite_death) = stabilities(tree);
    let mut has_children = vec![false; k];
    for c in 1..k {
        has_children[tree.parent[c] as usize] = true;
    }
    // Which clusters choose themselves (bottom-up; children have larger ids).
    let mut chosen = vec![false; k];
    match selection {
        Selection::Eom => {
            let mut best = stability.clone();
            let mut below = vec![0.0f64; k];
            for c in (0..k).rev() {
                if c > 0 || allow_single_cluster {
                    if below[c] > best[c] {
                        best[c] = below[c];
                    } else {
                        chosen[c] = true;
                    }
                }
                if c > 0 {
                    below[tree.parent[c] as usize] += best[c];
                }
            }
        }
        Selection::Leaf => {
            if k == 1 {
                chosen[0] = allow_single_cluster;
            } else {
                for c in 0..k {
                    chosen[c] = !has_children[c];
                }
            }
        }
    }
    // A chosen cluster wins over everything below it (top-down).
    let mut selected_above = vec![NONE; k];
    for c in 0..k {
        let inherited = if c == 0 {
            NONE
        } else {
            selected_above[tree.parent[c] as usize]
        };
        selected_above[c] = if inherited == NONE && chosen[c] {
            c as u32
        } else {
            inherited
        };
    }
    let mut owner = vec![NONE; n];
    let mut count = vec![0usize; k];
    for p in 0..n {
        let s = selected_above[tree.point_cluster[p] as usize];
        // A lone root cluster keeps only the rows that last until it dies.
        if s != NONE && (s != 0 || tree.point_lambda[p] >= death[0]) {
            owner[p] = s;
            count[s as usize] += 1;
        }
    }
    let mut order: Vec<usize> = (0..k).filter(|&c| count[c] > 0).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(count[c]), c));
    let mut label_of = vec![-1i32; k];
    for (label, &c) in order.iter().enumerate() {
        label_of[c] = label as i32;
    }

    let mut labels = vec![-1i32; n];
    let mut probabilities = vec![0f32; n];
    for p in 0..n {
        if owner[p] == NONE {
            continue;
        }
        let s = owner[p] as usize;
        labels[p] = label_of[s];
        let lambda = tree.point_lambda[p];
        let top = if death[s].is_finite() {
            death[s]
        } else {
            finite_death[s]
        };
        probabilities[p] = if lambda.is_infinite() || top <= 0.0 {
            1.0
        } else {
            (lambda.min(top) / top) as f32
        };
    }

    // Persistence: stability with λ capped at the largest finite λ, over
    // size × that λ.
    let cap = tree
        .point_lambda
        .iter()
        .chain(&tree.birth)
        .filter(|l| l.is_finite())
        .fold(0f64, |a, &b| a.max(b));
    let mut capped = vec![0f64; k];
    if cap > 0.0 {
        let rows = tree
            .point_cluster
            .iter()
            .zip(&tree.point_lambda)
            .map(|(&c, &l)| (c, l, 1));
        let clusters = (1..k).map(|c| (tree.parent[c], tree.birth[c], tree.size[c]));
        for (c, lambda, size) in rows.chain(clusters) {
            let c = c as usize;
            capped[c] += (lambda.min(cap) - tree.birth[c].min(cap)) * f64::from(size);
        }
    }
    let persistence = order
        .iter()
        .map(|&c| {
            if cap > 0.0 {
                (capped[c] / (count[c] as f64 * cap)).clamp(0.0, 1.0)
            } else {
                1.0
            }
        })
        .collect();
    HdbscanResult {
        labels,
        probabilities,
        clusters: order.len(),
        persistence,
    }
}
