//! One-to-one selection: the Hungarian method on a rectangular score matrix.

/// The assignment of rows to columns that maximises the total score; each row
/// and each column is used at most once, and `min(rows, cols)` pairs are
/// returned as (row, column), sorted by row.
pub fn hungarian(scores: &[Vec<f64>]) -> Vec<(usize, usize)> {
    let rows = scores.len();
    let cols = scores.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    if rows > cols {
        let transposed: Vec<Vec<f64>> = (0..cols)
            .map(|c| (0..rows).map(|r| scores[r][c]).collect())
            .collect();
        let mut pairs: Vec<(usize, usize)> = hungarian(&transposed)
            .into_iter()
            .map(|(c, r)| (r, c))
            .collect();
        pairs.sort_unstable();
        return pairs;
    }
    // Shortest augmenting paths with potentials, minimising cost = -score
    // (rows ≤ cols; 1-based internally, index 0 is the virtual start).
    let cost = |r: usize, c: usize| -scores[r - 1][c - 1];
    let mut u = vec![0.0f64; rows + 1];
    let mut v = vec![0.0f64; cols + 1];
    let mut owner = vec![0usize; cols + 1];
    let mut way = vec![0usize; cols + 1];
    for r in 1..=rows {
        owner[0] = r;
        let mut col = 0usize;
        let mut min_to = vec![f64::INFINITY; cols + 1];
        let mut used = vec![false; cols + 1];
        loop {
            used[col] = true;
            let row = owner[col];
            let mut delta = f64::INFINITY;
            let mut next = 0usize;
            for c in 1..=cols {
                if used[c] {
                    continue;
                }
                let reduced = cost(row, c) - u[row] - v[c];
                if reduced < min_to[c] {
                    min_to[c] = reduced;
                    way[c] = col;
                }
                if min_to[c] < delta {
                    delta = min_to[c];
                    next = c;
                }
            }
            for c in 0..=cols {
                if used[c] {
                    u[owner[c]] += delta;
                    v[c] -= delta;
                } else {
                    min_to[c] -= delta;
                }
            }
            col = next;
            if owner[col] == 0 {
                break;
            }
        }
        while col != 0 {
            let prev = way[col];
            owner[col] = owner[prev];
            col = prev;
        }
    }
    let mut pairs: Vec<(usize, usize)> = (1..=cols)
        .filter(|&c| owner[c] != 0)
        .map(|c| (owner[c] - 1, c - 1))
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(scores: &[Vec<f64>], pairs: &[(usize, usize)]) -> f64 {
        pairs.iter().map(|&(r, c)| scores[r][c]).sum()
    }

    #[test]
    fn finds_the_best_total_not_the_greedy_one() {
        // Greedy takes (0,0)=0.9 and then (1,1)=0.1; the best total is 0.8 + 0.85.
        let s = vec![vec![0.9, 0.8], vec![0.85, 0.1]];
        let pairs = hungarian(&s);
        assert_eq!(pairs, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn rectangular_both_ways_and_brute_force_agree() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for (rows, cols) in [(3, 5), (5, 3), (4, 4)] {
            let s: Vec<Vec<f64>> = (0..rows)
                .map(|_| (0..cols).map(|_| next()).collect())
                .collect();
            let pairs = hungarian(&s);
            assert_eq!(pairs.len(), rows.min(cols));
            // Brute force over permutations of the larger side.
            let best = brute(&s);
            assert!((total(&s, &pairs) - best).abs() < 1e-9);
        }
        assert!(hungarian(&[]).is_empty());
    }

    fn brute(s: &[Vec<f64>]) -> f64 {
        fn go(s: &[Vec<f64>], r: usize, used: &mut Vec<bool>) -> f64 {
            if r == s.len() {
                return 0.0;
            }
            let mut best = if s.len() > used.len() {
                go(s, r + 1, used)
            } else {
                f64::NEG_INFINITY
            };
            for c in 0..used.len() {
                if !used[c] {
                    used[c] = true;
                    best = best.max(s[r][c] + go(s, r + 1, used));
                    used[c] = false;
                }
            }
            if best == f64::NEG_INFINITY {
                go(s, r + 1, used)
            } else {
                best
            }
        }
        go(s, 0, &mut vec![false; s[0].len()])
    }
}
