//! HDBSCAN's tests: every step on small cases, and whole runs against
//! scikit-learn's answers.

use super::*;
use crate::cluster::kernels::squared_distance;
use crate::rng::Rng;
use std::collections::HashMap;

fn never() -> bool {
    false
}

fn options(min_cluster_size: usize) -> HdbscanOptions {
    HdbscanOptions {
        min_cluster_size,
        ..HdbscanOptions::default()
    }
}

fn run(data: &Matrix, options: &HdbscanOptions) -> HdbscanResult {
    hdbscan(data, options, &never).expect("hdbscan")
}

fn matrix(cols: usize, values: Vec<f32>) -> Matrix {
    Matrix::new(values.len() / cols.max(1), cols, values).expect("shape")
}

fn normal(rng: &mut Rng) -> f64 {
    let (u, v) = (rng.unit().max(1e-12), rng.unit());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Gaussian blobs (`per` points each, standard deviation `sd`) and then
/// `noise` uniform points in [-20, 20]^dim; the truth label of noise is -1.
fn blobs(centres: &[Vec<f64>], per: usize, sd: f64, noise: usize, seed: u64) -> (Matrix, Vec<i32>) {
    let dim = centres[0].len();
    let mut rng = Rng::new(seed);
    let (mut values, mut truth) = (Vec::new(), Vec::new());
    for (label, centre) in centres.iter().enumerate() {
        for _ in 0..per {
            values.extend(centre.iter().map(|c| (c + sd * normal(&mut rng)) as f32));
            truth.push(label as i32);
        }
    }
    for _ in 0..noise {
        values.extend((0..dim).map(|_| rng.range(-20.0, 20.0) as f32));
        truth.push(-1);
    }
    (matrix(dim, values), truth)
}

/// Two concentric rings of radius 1 and 4 with a little jitter.
fn rings(per: usize, seed: u64) -> (Matrix, Vec<i32>) {
    let mut rng = Rng::new(seed);
    let (mut values, mut truth) = (Vec::new(), Vec::new());
    for (label, radius) in [1.0, 4.0].into_iter().enumerate() {
        for _ in 0..per {
            let angle = rng.range(0.0, std::f64::consts::TAU);
            let r = radius + 0.08 * normal(&mut rng);
            values.extend([(r * angle.cos()) as f32, (r * angle.sin()) as f32]);
            truth.push(label as i32);
        }
    }
    (matrix(2, values), truth)
}

/// Adjusted Rand index of two labelings (noise is a label like any other).
fn ari(a: &[i32], b: &[i32]) -> f64 {
    let choose = |x: usize| (x * x.saturating_sub(1)) as f64 / 2.0;
    let mut table: HashMap<(i32, i32), usize> = HashMap::new();
    let (mut rows, mut cols) = (HashMap::new(), HashMap::new());
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_insert(0usize) += 1;
        *cols.entry(y).or_insert(0usize) += 1;
    }
    let index: f64 = table.values().map(|&v| choose(v)).sum();
    let (sa, sb): (f64, f64) = (
        rows.values().map(|&v| choose(v)).sum(),
        cols.values().map(|&v| choose(v)).sum(),
    );
    let expected = sa * sb / choose(a.len());
    let max = (sa + sb) / 2.0;
    if max == expected {
        1.0
    } else {
        (index - expected) / (max - expected)
    }
}

/// Plain Lloyd k-means seeded with evenly spaced rows: the
/// convex-cluster method that fails on rings and moons.
fn kmeans(data: &Matrix, k: usize) -> Vec<i32> {
    let mut centres: Vec<Vec<f32>> = (0..k)
        .map(|i| data.row(i * data.rows() / k).to_vec())
        .collect();
    let mut labels = vec![0i32; data.rows()];
    for _ in 0..100 {
        for (i, label) in labels.iter_mut().enumerate() {
            let nearest = (0..k)
                .min_by(|&a, &b| {
                    squared_distance(data.row(i), &centres[a])
                        .total_cmp(&squared_distance(data.row(i), &centres[b]))
                })
                .unwrap_or(0);
            *label = nearest as i32;
        }
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..data.rows())
                .filter(|&i| labels[i] == c as i32)
                .collect();
            if members.is_empty() {
                continue;
            }
            for (j, value) in centre.iter_mut().enumerate() {
                *value =
                    members.iter().map(|&i| data.row(i)[j]).sum::<f32>() / members.len() as f32;
            }
        }
    }
    labels
}

/// Exact O(n²) Prim on the same mutual reachability and edge order.
fn brute_mst(tree: &KdTree, core: &[f32]) -> Vec<Key> {
    let m = tree.len();
    let mut in_tree = vec![false; m];
    let mut best = vec![NO_EDGE; m];
    let mut edges = Vec::new();
    let mut v = 0;
    for _ in 1..m {
        in_tree[v] = true;
        for u in (0..m).filter(|&u| !in_tree[u]) {
            let w = core[u]
                .max(core[v])
                .max(squared_distance(tree.point(u), tree.point(v)));
            best[u] = best[u].min(key(w, u, v));
        }
        let next = (0..m)
            .filter(|&u| !in_tree[u])
            .min_by_key(|&u| best[u])
            .unwrap_or(0);
        edges.push(best[next]);
        v = next;
    }
    edges.sort_unstable();
    edges
}

#[test]
fn three_blobs_with_noise() {
    let centres = [vec![-4.0, -4.0], vec![0.0, 4.0], vec![5.0, -2.0]];
    let (data, truth) = blobs(&centres, 200, 0.6, 60, 7);
    let result = run(&data, &options(15));
    assert_eq!(result.clusters, 3);
    // Each blob maps onto its own cluster, almost entirely.
    let mut seen = Vec::new();
    for blob in 0..3 {
        let members: Vec<i32> = (0..data.rows())
            .filter(|&i| truth[i] == blob)
            .map(|i| result.labels[i])
            .collect();
        let main = members[0];
        let agree = members.iter().filter(|&&l| l == main).count();
        assert!(
            main >= 0 && agree >= 190 && !seen.contains(&main),
            "blob {blob}: {agree} of 200 in cluster {main}"
        );
        seen.push(main);
    }
    // Uniform noise: mostly -1, and whatever a cluster took in is a weak member.
    let noise: Vec<usize> = (0..data.rows()).filter(|&i| truth[i] == -1).collect();
    let unlabelled = noise.iter().filter(|&&i| result.labels[i] == -1).count();
    assert!(
        unlabelled * 4 >= noise.len() * 3,
        "{unlabelled} of {} noise points are noise",
        noise.len()
    );
    assert!(noise.iter().all(|&i| result.probabilities[i] < 0.5));
    assert!(ari(&result.labels, &truth) > 0.9);
    // Clusters are numbered by decreasing size, and persistence is per cluster.
    let sizes: Vec<usize> = (0..3)
        .map(|c| result.labels.iter().filter(|&&l| l == c).count())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    assert_eq!(result.persistence.len(), 3);
    assert!(result.persistence.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn rings_defeat_kmeans_but_not_hdbscan() {
    let (data, truth) = rings(400, 3);
    let result = run(&data, &options(15));
    assert_eq!(result.clusters, 2);
    assert!(
        ari(&result.labels, &truth) > 0.98,
        "ARI {}",
        ari(&result.labels, &truth)
    );
    assert!(ari(&kmeans(&data, 2), &truth) < 0.2);
}

#[test]
fn moons() {
    let mut rng = Rng::new(11);
    let (mut values, mut truth) = (Vec::new(), Vec::new());
    for i in 0..600 {
        let t = rng.range(0.0, std::f64::consts::PI);
        let (x, y) = if i % 2 == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        values.push((x + 0.05 * normal(&mut rng)) as f32);
        values.push((y + 0.05 * normal(&mut rng)) as f32);
        truth.push(i % 2);
    }
    let data = matrix(2, values);
    let result = run(&data, &options(15));
    assert_eq!(result.clusters, 2);
    assert!(ari(&result.labels, &truth) > 0.95);
    assert!(ari(&kmeans(&data, 2), &truth) < 0.6);
}

#[test]
fn too_few_rows_is_all_noise() {
    let (data, _) = blobs(&[vec![0.0, 0.0]], 10, 0.1, 0, 1);
    let result = run(&data, &options(11));
    assert_eq!(result, HdbscanResult::noise(10));
    let one = matrix(3, vec![1.0, 2.0, 3.0]);
    assert_eq!(run(&one, &options(2)), HdbscanResult::noise(1));
    // min_samples above the row count is capped, not an error.
    let opts = HdbscanOptions {
        min_samples: Some(1000),
        ..options(5)
    };
    assert_eq!(run(&data, &opts).labels.len(), 10);
}

#[test]
fn deterministic_whatever_the_threads() {
    let centres = [vec![0.0; 5], vec![6.0; 5], vec![-6.0, 6.0, 0.0, 3.0, -2.0]];
    let (mut data, _) = blobs(&centres, 700, 1.0, 300, 5);
    // Some exact duplicates and ties as well.
    for i in 0..50 {
        let copy = data.row(i).to_vec();
        data.row_mut(1000 + i).copy_from_slice(&copy);
    }
    let opts = options(10);
    let first = hdbscan_with_threads(&data, &opts, &never, 1).expect("one thread");
    for threads in [2, 3, 8] {
        assert_eq!(
            hdbscan_with_threads(&data, &opts, &never, threads).expect("threads"),
            first
        );
    }
    assert_eq!(run(&data, &opts), first);
}

#[test]
fn spanning_tree_matches_brute_force() {
    let centres = [vec![0.0, 0.0, 0.0], vec![3.0, 1.0, 0.0]];
    let (mut data, _) = blobs(&centres, 300, 1.0, 100, 9);
    // A lattice corner (many equal distances) and duplicates.
    for i in 0..64 {
        data.row_mut(i)
            .copy_from_slice(&[(i % 4) as f32, (i / 4 % 4) as f32, (i / 16) as f32]);
    }
    for i in 64..80 {
        let copy = data.row(i + 100).to_vec();
        data.row_mut(i).copy_from_slice(&copy);
    }
    let (reps, _) = dedup(&data);
    let unique = data.select(&reps);
    let tree = KdTree::build(&unique);
    let stop = Stop {
        watch: &never,
        flag: AtomicBool::new(false),
    };
    let mult = vec![1; tree.len()];
    let keys = |edges: Vec<Edge>| {
        let mut keys: Vec<Key> = edges
            .iter()
            .map(|e| key(e.w, e.a as usize, e.b as usize))
            .collect();
        keys.sort_unstable();
        keys
    };
    for min_samples in [1, 2, 5, 20] {
        let found = core_distances(&tree, &mult, min_samples, 2, &stop).expect("core");
        let (core, neighbours) = (found.core, found.neighbours);
        // Core distance: the min_samples-th smallest distance, self included.
        for (p, &c) in core.iter().enumerate() {
            let mut all: Vec<f32> = (0..tree.len())
                .map(|q| squared_distance(tree.point(p), tree.point(q)))
                .collect();
            all.sort_by(f32::total_cmp);
            assert_eq!(c, all[min_samples - 1]);
        }
        let expected = brute_mst(&tree, &core);
        let found = boruvka(&tree, &core, &neighbours, u64::MAX, 2, &stop).expect("mst");
        let found = keys(found.expect("within budget"));
        assert_eq!(found, expected, "Borůvka, min_samples {min_samples}");
        for threads in [1, 3] {
            let found = keys(prim_on(&tree, &core, threads, &stop).expect("mst"));
            assert_eq!(found, expected, "Prim, min_samples {min_samples}");
        }
    }
    // Both searches give the same tree over the rows (duplicates included).
    assert_eq!(
        keys(spanning_tree(&data, 5, Search::Tree, 2, &stop).expect("tree")),
        keys(spanning_tree(&data, 5, Search::Brute, 2, &stop).expect("tree"))
    );
    // The full tree has n − 1 edges joining every row.
    let edges = spanning_tree(&data, 5, Search::Auto, 2, &stop).expect("tree");
    assert_eq!(edges.len(), data.rows() - 1);
    assert_eq!(
        single_linkage(data.rows(), edges).last().map(|m| m.size),
        Some(data.rows() as u32)
    );
}

#[test]
fn block_distances_are_bitwise_squared_distance() {
    let mut rng = Rng::new(21);
    for dim in [
        0, 1, 3, 7, 8, 9, 10, 16, 17, 23, 31, 32, 33, 50, 63, 64, 65, 100, 384,
    ] {
        let mut blocks = Blocks::new(dim, 2 * BLOCK);
        let points: Vec<Vec<f32>> = (0..2 * BLOCK)
            .map(|_| (0..dim).map(|_| (normal(&mut rng) * 3.0) as f32).collect())
            .collect();
        for (slot, x) in points.iter().enumerate() {
            blocks.set(slot, x);
        }
        let query: Vec<f32> = (0..dim).map(|_| rng.range(-5.0, 5.0) as f32).collect();
        for block in 0..2 {
            let found = blocks.distances(block, &query);
            for (lane, &d) in found.iter().enumerate() {
                let exact = squared_distance(&query, &points[block * BLOCK + lane]);
                assert_eq!(d.to_bits(), exact.to_bits(), "dim {dim}");
            }
        }
        let mut back = Vec::new();
        blocks.get(BLOCK + 3, &mut back);
        assert_eq!(back, points[BLOCK + 3]);
    }
}

#[test]
fn core_distance_counts_the_point_itself() {
    // Points 0, 1, 3, 7 and a duplicate of 7 on a line.
    let data = matrix(1, vec![0.0, 1.0, 3.0, 7.0, 7.0]);
    let (reps, unique_of) = dedup(&data);
    assert_eq!(
        (reps.clone(), unique_of),
        (vec![0, 1, 2, 3], vec![0, 1, 2, 3, 3])
    );
    let tree = KdTree::build(&data.select(&reps));
    let mult: Vec<u32> = tree
        .order
        .iter()
        .map(|&u| if u == 3 { 2 } else { 1 })
        .collect();
    let stop = Stop {
        watch: &never,
        flag: AtomicBool::new(false),
    };
    let by_value = |min_samples| {
        let core = core_distances(&tree, &mult, min_samples, 1, &stop)
            .expect("core")
            .core;
        let mut pairs: Vec<(f32, f32)> = tree
            .order
            .iter()
            .map(|&u| data.row(reps[u as usize])[0])
            .zip(core)
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        pairs
            .into_iter()
            .map(|(_, c)| c.sqrt())
            .collect::<Vec<f32>>()
    };
    assert_eq!(by_value(1), vec![0.0, 0.0, 0.0, 0.0]);
    assert_eq!(by_value(2), vec![1.0, 1.0, 2.0, 0.0]); // 7 has its twin
    assert_eq!(by_value(3), vec![3.0, 2.0, 3.0, 4.0]);
}

#[test]
fn errors() {
    assert_eq!(
        hdbscan(&Matrix::zeros(0, 3), &options(5), &never),
        Err(HdbscanError::Empty)
    );
    let mut data = Matrix::zeros(6, 2);
    data.row_mut(3)[1] = f32::NAN;
    data.row_mut(5)[0] = f32::INFINITY;
    let err = hdbscan(&data, &options(2), &never).expect_err("NaN");
    assert_eq!(err, HdbscanError::NonFinite { row: 3 });
    assert!(err.to_string().contains("row 3"));
    let huge = Matrix::new(MAX_ROWS + 1, 0, Vec::new()).expect("shape");
    assert_eq!(
        hdbscan(&huge, &options(5), &never),
        Err(HdbscanError::TooLarge {
            rows: MAX_ROWS + 1,
            limit: MAX_ROWS
        })
    );
    let (blob, _) = blobs(&[vec![0.0, 0.0]], 100, 1.0, 0, 2);
    assert_eq!(
        hdbscan(&blob, &options(5), &|| true),
        Err(HdbscanError::Cancelled)
    );
}

#[test]
fn cancelling_midway_stops_every_path() {
    let (data, _) = blobs(&[vec![0.0; 8], vec![5.0; 8]], 3000, 1.0, 0, 6);
    for search in [Search::Tree, Search::Brute] {
        for calls in [1, 3, 40] {
            let asked = std::cell::Cell::new(0);
            let cancel = || {
                asked.set(asked.get() + 1);
                asked.get() > calls
            };
            let stop = Stop {
                watch: &cancel,
                flag: AtomicBool::new(false),
            };
            let result = spanning_tree(&data, 10, search, 2, &stop);
            assert_eq!(result, Err(HdbscanError::Cancelled), "{search:?} {calls}");
        }
    }
}

#[test]
fn min_samples_and_signed_zeros() {
    let (mut data, truth) = blobs(&[vec![0.0, 0.0], vec![8.0, 0.0]], 150, 0.5, 0, 13);
    // -0.0 and 0.0 are the same point.
    data.row_mut(0).copy_from_slice(&[0.0, -0.0]);
    data.row_mut(1).copy_from_slice(&[-0.0, 0.0]);
    assert_eq!(dedup(&data).1[1], 0);
    for min_samples in [1, 2, 40, 100] {
        let opts = HdbscanOptions {
            min_samples: Some(min_samples),
            ..options(20)
        };
        let result = run(&data, &opts);
        assert_eq!(result.clusters, 2, "min_samples {min_samples}");
        assert!(
            ari(&result.labels, &truth) > 0.9,
            "min_samples {min_samples}"
        );
    }
    // Larger min_samples never makes fewer points noise here.
    let noise = |min_samples| {
        let opts = HdbscanOptions {
            min_samples: Some(min_samples),
            ..options(20)
        };
        run(&data, &opts).labels.iter().filter(|&&l| l < 0).count()
    };
    assert!(noise(2) <= noise(40));
}

#[test]
fn identical_rows() {
    let data = matrix(3, [1.5f32, -2.0, 0.0].repeat(40));
    let result = run(&data, &options(5));
    assert_eq!(result, HdbscanResult::noise(40));
    let single = HdbscanOptions {
        allow_single_cluster: true,
        ..options(5)
    };
    let result = run(&data, &single);
    assert_eq!(result.clusters, 1);
    assert!(result.labels.iter().all(|&l| l == 0));
    assert!(result.probabilities.iter().all(|&p| p == 1.0));
    assert_eq!(result.persistence, vec![1.0]);
    // No columns at all: every row is the same point.
    assert_eq!(run(&Matrix::zeros(20, 0), &single).clusters, 1);
}

#[test]
fn duplicated_dense_core_keeps_useful_probabilities() {
    let (mut data, _) = blobs(&[vec![0.0, 0.0], vec![30.0, 0.0]], 100, 1.0, 0, 4);
    for i in 0..30 {
        data.row_mut(i).copy_from_slice(&[0.25, -0.5]);
    }
    let result = run(&data, &options(10));
    assert_eq!(result.clusters, 2);
    let first = result.labels[0];
    assert!((0..30).all(|i| result.labels[i] == first && result.probabilities[i] == 1.0));
    let others: Vec<f32> = (30..100).map(|i| result.probabilities[i]).collect();
    assert!(others.iter().any(|&p| p > 0.0 && p < 1.0));
}

#[test]
fn probabilities_are_in_range_and_one_at_the_core() {
    let centres = [vec![0.0, 0.0, 0.0], vec![20.0, 0.0, 0.0]];
    let (data, _) = blobs(&centres, 300, 1.0, 40, 8);
    let result = run(&data, &options(15));
    assert_eq!(result.clusters, 2);
    for (&l, &p) in result.labels.iter().zip(&result.probabilities) {
        assert!((0.0..=1.0).contains(&p));
        assert_eq!(l == -1, p == 0.0, "label {l} probability {p}");
    }
    // Every cluster has members of probability 1, and its dense middle
    // (the tenth of its points nearest the centre) is near 1 while its
    // rim (the farthest tenth) is well below.
    for centre in &centres {
        let c: Vec<f32> = centre.iter().map(|&v| v as f32).collect();
        let label = result.labels[(0..data.rows())
            .min_by(|&a, &b| {
                squared_distance(data.row(a), &c).total_cmp(&squared_distance(data.row(b), &c))
            })
            .unwrap_or(0)];
        let mut members: Vec<usize> = (0..data.rows())
            .filter(|&i| result.labels[i] == label)
            .collect();
        assert!(label >= 0 && members.len() >= 250);
        assert!(members.iter().any(|&i| result.probabilities[i] == 1.0));
        members.sort_by(|&a, &b| {
            squared_distance(data.row(a), &c).total_cmp(&squared_distance(data.row(b), &c))
        });
        let tenth = members.len() / 10;
        let mean = |part: &[usize]| {
            part.iter().map(|&i| result.probabilities[i]).sum::<f32>() / part.len() as f32
        };
        let (middle, rim) = (
            mean(&members[..tenth]),
            mean(&members[members.len() - tenth..]),
        );
        assert!(
            middle > 0.85 && rim < middle - 0.2,
            "middle {middle}, rim {rim}"
        );
    }
    // And most of a dense blob is well above 0.
    let strong = result.probabilities.iter().filter(|&&p| p > 0.5).count();
    assert!(strong > 400, "{strong}");
}

#[test]
fn condensed_tree_of_two_pairs() {
    // A=(0,0) B=(0,1) and C=(10,0) D=(10,2); min_cluster_size 2 and the
    // default min_samples 2, so each core distance is the distance to the
    // other member of its pair.
    let data = matrix(2, vec![0.0, 0.0, 0.0, 1.0, 10.0, 0.0, 10.0, 2.0]);
    let stop = Stop {
        watch: &never,
        flag: AtomicBool::new(false),
    };
    let edges = spanning_tree(&data, 2, Search::Auto, 1, &stop).expect("tree");
    let merges = single_linkage(4, edges);
    let distances: Vec<f64> = merges.iter().map(|m| m.distance).collect();
    assert_eq!(distances, vec![1.0, 2.0, 10.0]);
    let tree = condense(4, &merges, 2);
    assert_eq!(tree.parent, vec![NONE, 0, 0]);
    assert_eq!(tree.birth, vec![0.0, 0.1, 0.1]);
    assert_eq!(tree.size, vec![4, 2, 2]);
    let (ab, cd) = (tree.point_cluster[0], tree.point_cluster[2]);
    assert_eq!(tree.point_cluster, vec![ab, ab, cd, cd]);
    assert_ne!(ab, cd);
    assert_eq!(tree.point_lambda, vec![1.0, 1.0, 0.5, 0.5]);
    let (stability, death, _) = stabilities(&tree);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(stability[0], 0.4)); // two pairs born at λ 0.1
    assert!(close(stability[ab as usize], 1.8)); // 2 × (1 − 0.1)
    assert!(close(stability[cd as usize], 0.8)); // 2 × (0.5 − 0.1)
    assert_eq!((death[ab as usize], death[cd as usize]), (1.0, 0.5));
    let result = extract(&tree, Selection::Eom, false);
    assert_eq!(result.clusters, 2);
    assert_eq!(result.labels[0], result.labels[1]);
    assert_eq!(result.labels[2], result.labels[3]);
    assert_ne!(result.labels[0], result.labels[2]);
    assert_eq!(result.probabilities, vec![1.0; 4]);
    // Persistence: stability / (size × largest λ = 1), by label.
    let mut persistence = result.persistence.clone();
    persistence.sort_by(f64::total_cmp);
    assert!(
        close(persistence[0], 0.4) && close(persistence[1], 0.9),
        "{persistence:?}"
    );
    // With a single cluster allowed the root still loses (0.4 < 2.6).
    assert_eq!(extract(&tree, Selection::Eom, true).clusters, 2);
    // The whole thing end to end.
    assert_eq!(run(&data, &options(2)).clusters, 2);
}

#[test]
fn ties_split_at_once() {
    // Three triples on a line, 1 apart (exact in binary): the root splits
    // into all three at λ = 1, with no zero-lifetime cluster for two of
    // them, whatever order the tied edges come in.
    let data = matrix(1, vec![0.0, 0.25, 0.5, 1.5, 1.75, 2.0, 3.0, 3.25, 3.5]);
    let stop = Stop {
        watch: &never,
        flag: AtomicBool::new(false),
    };
    let edges = spanning_tree(&data, 1, Search::Auto, 1, &stop).expect("tree");
    let tree = condense(9, &single_linkage(9, edges), 3);
    assert_eq!(tree.parent, vec![NONE, 0, 0, 0]);
    assert_eq!(tree.birth, vec![0.0, 1.0, 1.0, 1.0]);
    assert_eq!(tree.size, vec![9, 3, 3, 3]);
    assert!(tree.point_lambda.iter().all(|&l| l == 4.0));
    // The two ways a one-edge-at-a-time tree can order the tied merges,
    // (A ∪ B) ∪ C and A ∪ (B ∪ C), condense the same way.
    let merge = |left, right, distance, size| Merge {
        left,
        right,
        distance,
        size,
    };
    let triples = [
        merge(0, 1, 0.25, 2),
        merge(9, 2, 0.25, 3),
        merge(3, 4, 0.25, 2),
        merge(11, 5, 0.25, 3),
        merge(6, 7, 0.25, 2),
        merge(13, 8, 0.25, 3),
    ];
    for last in [
        [merge(10, 12, 1.0, 6), merge(15, 14, 1.0, 9)],
        [merge(12, 14, 1.0, 6), merge(10, 15, 1.0, 9)],
    ] {
        let merges: Vec<Merge> = triples.iter().chain(&last).copied().collect();
        let other = condense(9, &merges, 3);
        assert_eq!(other.parent, tree.parent);
        assert_eq!(other.birth, tree.birth);
        assert_eq!(other.point_lambda, tree.point_lambda);
        assert_eq!(other.point_cluster, vec![1, 1, 1, 2, 2, 2, 3, 3, 3]);
    }
    let result = extract(&tree, Selection::Eom, false);
    assert_eq!(result.clusters, 3);
    assert_eq!(result.probabilities, vec![1.0; 9]);
    let (stability, _, _) = stabilities(&tree);
    assert_eq!(stability, vec![9.0, 9.0, 9.0, 9.0]);
}

#[test]
fn leaf_selection_splits_finer_than_eom() {
    // Two far groups, each of two sub-blobs 4 standard deviations apart.
    // Excess of mass keeps the groups (scikit-learn agrees: 2 clusters,
    // no noise); leaf selection takes the four sub-blobs (scikit-learn:
    // 4 clusters, ARI 0.99 with these labels).
    let centres = [
        vec![0.0, 0.0],
        vec![2.0, 0.0],
        vec![40.0, 0.0],
        vec![42.0, 0.0],
    ];
    let (data, truth) = blobs(&centres, 150, 0.5, 0, 12);
    let groups: Vec<i32> = truth.iter().map(|&t| t / 2).collect();
    let eom = run(&data, &options(20));
    assert_eq!(eom.clusters, 2);
    assert_eq!(ari(&eom.labels, &groups), 1.0);
    let leaf = run(
        &data,
        &HdbscanOptions {
            selection: Selection::Leaf,
            ..options(20)
        },
    );
    assert_eq!(leaf.clusters, 4);
    // Each leaf cluster lies within one sub-blob (the tails overlap a
    // little) and takes at least half of it.
    for c in 0..4 {
        let members: Vec<i32> = (0..data.rows())
            .filter(|&i| leaf.labels[i] == c)
            .map(|i| truth[i])
            .collect();
        let main = (0..4)
            .map(|t| members.iter().filter(|&&m| m == t).count())
            .max()
            .unwrap_or(0);
        assert!(members.len() >= 75, "{}", members.len());
        assert!(
            main * 100 >= members.len() * 97,
            "{main} of {}",
            members.len()
        );
    }
}

#[test]
fn single_cluster_when_allowed() {
    let (data, _) = blobs(&[vec![0.0, 0.0]], 500, 1.0, 0, 0);
    // Without it the root is never a cluster: a blob that never splits
    // into two big parts (this one) is all noise, one that does gives two
    // or more clusters.
    assert_eq!(run(&data, &options(15)).clusters, 0);
    let single = HdbscanOptions {
        allow_single_cluster: true,
        ..options(15)
    };
    let result = run(&data, &single);
    assert_eq!(result.clusters, 1);
    // As in scikit-learn, only the rows that last until the root itself
    // splits are members: the densest middle of the blob.
    let members: Vec<usize> = (0..500).filter(|&i| result.labels[i] == 0).collect();
    assert!(members.len() >= 15, "{}", members.len());
    let radius = |rows: &[usize]| {
        rows.iter()
            .map(|&i| squared_distance(data.row(i), &[0.0, 0.0]).sqrt())
            .sum::<f32>()
            / rows.len() as f32
    };
    let all: Vec<usize> = (0..500).collect();
    assert!(radius(&members) < radius(&all) / 2.0);
    assert!(result.labels.iter().all(|&l| l == 0 || l == -1));
}
