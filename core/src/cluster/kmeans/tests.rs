//! k-means's tests: seeding, bounds, mini-batches, automatic k, and
//! agreement with plain Lloyd's iterations.

use super::*;

fn never() -> bool {
    false
}

/// `count` random centres in `cols` dimensions, coordinates in ±`scale`.
fn random_centres(count: usize, cols: usize, scale: f64, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| (0..cols).map(|_| rng.range(-scale, scale) as f32).collect())
        .collect()
}

/// `per_blob` rows around each centre (Gaussian, standard deviation
/// `spread`), shuffled; returns the rows and each row's blob.
fn blobs(centres: &[Vec<f32>], per_blob: usize, spread: f64, seed: u64) -> (Matrix, Vec<u32>) {
    let cols = centres[0].len();
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..centres.len() * per_blob).collect();
    rng.shuffle(&mut order);
    let mut values = Vec::with_capacity(order.len() * cols);
    let mut truth = Vec::with_capacity(order.len());
    for &slot in &order {
        let blob = slot / per_blob;
        truth.push(blob as u32);
        for &c in &centres[blob] {
            values.push(c + (spread * rng.normal()) as f32);
        }
    }
    (
        Matrix::new(order.len(), cols, values).expect("shape"),
        truth,
    )
}

/// Adjusted Rand index (Hubert and Arabie 1985) of two labellings.
fn adjusted_rand(a: &[u32], b: &[u32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let ka = a.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let kb = b.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut table = vec![0f64; ka * kb];
    let (mut rows, mut cols) = (vec![0f64; ka], vec![0f64; kb]);
    for (&x, &y) in a.iter().zip(b) {
        table[x as usize * kb + y as usize] += 1.0;
        rows[x as usize] += 1.0;
        cols[y as usize] += 1.0;
    }
    let index: f64 = table.iter().map(|&c| pairs(c)).sum();
    let sum_rows: f64 = rows.iter().map(|&c| pairs(c)).sum();
    let sum_cols: f64 = cols.iter().map(|&c| pairs(c)).sum();
    let expected = sum_rows * sum_cols / pairs(a.len() as f64);
    let largest = 0.5 * (sum_rows + sum_cols);
    if largest == expected {
        return 1.0;
    }
    (index - expected) / (largest - expected)
}

fn fixed(k: usize) -> KMeansOptions {
    KMeansOptions {
        k: KChoice::Fixed(k),
        ..KMeansOptions::default()
    }
}

/// Index of the nearest centroid, by exact distances (ties to the lowest).
fn brute_nearest(row: &[f32], centroids: &Matrix) -> (usize, f32) {
    (0..centroids.rows())
        .map(|j| (j, squared_distance(row, centroids.row(j))))
        .fold((0, f32::INFINITY), |best, next| {
            if next.1 < best.1 { next } else { best }
        })
}

#[test]
fn kernels_match_plain_sums() {
    let mut rng = Rng::new(3);
    for len in 0..100 {
        let v: Vec<Vec<f32>> = (0..3)
            .map(|_| (0..len).map(|_| rng.range(-1.0, 1.0) as f32).collect())
            .collect();
        let plain = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f32>();
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * (1.0 + b.abs());
        let two = dot_1x2(&v[0], &v[1], &v[2]);
        assert!(close(two[0], plain(&v[0], &v[1])), "len {len}");
        assert!(close(two[1], plain(&v[0], &v[2])), "len {len}");
        assert!(close(dot(&v[0], &v[2]), plain(&v[0], &v[2])), "len {len}");
        assert!(
            close(
                squared_distance(&v[0], &v[1]),
                squared_distance(&v[0], &v[1])
            ),
            "len {len}"
        );
    }
}

#[test]
fn recovers_well_separated_blobs() {
    let centres = random_centres(6, 10, 10.0, 1);
    let (data, truth) = blobs(&centres, 300, 1.0, 2);
    let result = kmeans(&data, &fixed(6), &never).expect("clusters");
    assert_eq!(result.k, 6);
    assert_eq!(result.centroids.rows(), 6);
    assert_eq!(result.labels.len(), data.rows());
    assert!((adjusted_rand(&result.labels, &truth) - 1.0).abs() < 1e-12);
    // Inertia is the noise: about rows × columns × spread².
    let expected = (data.rows() * data.cols()) as f64;
    assert!(
        (result.inertia / expected - 1.0).abs() < 0.1,
        "inertia {}",
        result.inertia
    );
    assert!(result.silhouettes.is_empty());
}

#[test]
fn labels_are_the_nearest_centroids_with_odd_shapes() {
    // Odd k, odd row count, 13 columns (not a multiple of the lanes),
    // overlapping blobs so that many rows sit near boundaries.
    let centres = random_centres(5, 13, 2.0, 4);
    let (data, _) = blobs(&centres, 201, 1.0, 5);
    let result = kmeans(&data, &fixed(7), &never).expect("clusters");
    assert_eq!(result.k, 7);
    let mut inertia = 0f64;
    for i in 0..data.rows() {
        let (nearest, squared) = brute_nearest(data.row(i), &result.centroids);
        let own = squared_distance(data.row(i), result.centroids.row(result.labels[i] as usize));
        assert!(
            own <= squared * (1.0 + 1e-5) + 1e-6,
            "row {i}: label {} nearest {nearest}",
            result.labels[i]
        );
        inertia += f64::from(own);
    }
    assert!((inertia - result.inertia).abs() <= 1e-9 * inertia);
    // Every centroid is the mean of its rows (converged: labels stopped changing
    // or centres stopped moving).
    for j in 0..result.k {
        let members: Vec<usize> = (0..data.rows())
            .filter(|&i| result.labels[i] as usize == j)
            .collect();
        assert!(!members.is_empty());
        for c in 0..data.cols() {
            let mean = members
                .iter()
                .map(|&i| f64::from(data.row(i)[c]))
                .sum::<f64>()
                / members.len() as f64;
            assert!((mean - f64::from(result.centroids.row(j)[c])).abs() < 0.05);
        }
    }
}

#[test]
fn seeding_bounds_hold() {
    let centres = random_centres(8, 9, 3.0, 6);
    let (data, _) = blobs(&centres, 100, 1.0, 7);
    let norms = row_norms(&data);
    for per_centre in [false, true] {
        let seeding =
            seed_centres(&data, &norms, 12, per_centre, &mut Rng::new(8), &never).expect("seeds");
        let k = seeding.centres.rows();
        assert_eq!(k, 12);
        for i in 0..data.rows() {
            let distances: Vec<f32> = (0..k)
                .map(|j| squared_distance(data.row(i), seeding.centres.row(j)).sqrt())
                .collect();
            let (nearest, squared) = brute_nearest(data.row(i), &seeding.centres);
            assert_eq!(seeding.labels[i] as usize, nearest, "row {i}");
            assert!((seeding.upper[i] - squared.sqrt()).abs() <= 1e-4 * (1.0 + squared.sqrt()));
            let slack = |d: f32| d * (1.0 + 1e-5) + 1e-5;
            match &seeding.lower {
                Bounds::Nearest(lower) => {
                    let second = (0..k)
                        .filter(|&j| j != nearest)
                        .map(|j| distances[j])
                        .fold(f32::INFINITY, f32::min);
                    assert!(lower[i] <= slack(second), "row {i}");
                }
                Bounds::PerCentre(lower) => {
                    for j in 0..k {
                        assert!(
                            lower[i * k + j] <= slack(distances[j]),
                            "row {i}, centre {j}"
                        );
                    }
                }
            }
        }
    }
}

/// Greedy k-means++ then Lloyd's iterations with the bounds asked for.
fn lloyd_with(data: &Matrix, k: usize, per_centre: bool, seed: u64) -> KMeansResult {
    let norms = row_norms(data);
    let options = KMeansOptions { seed, ..fixed(k) };
    let seeding =
        seed_centres(data, &norms, k, per_centre, &mut Rng::new(seed), &never).expect("seeds");
    lloyd(data, &norms, seeding, &options, &never, None).expect("fit")
}

#[test]
fn both_bounds_give_the_same_clustering() {
    let centres = random_centres(6, 24, 1.0, 20);
    let (data, _) = blobs(&centres, 300, 1.0, 21);
    let elkan = lloyd_with(&data, 8, true, 3);
    let hamerly = lloyd_with(&data, 8, false, 3);
    assert!(elkan.iterations > 3);
    assert!(adjusted_rand(&elkan.labels, &hamerly.labels) > 0.999);
    assert!((elkan.inertia / hamerly.inertia - 1.0).abs() < 1e-4);
    for result in [&elkan, &hamerly] {
        for i in 0..data.rows() {
            let (_, squared) = brute_nearest(data.row(i), &result.centroids);
            let own =
                squared_distance(data.row(i), result.centroids.row(result.labels[i] as usize));
            assert!(own <= squared * (1.0 + 1e-5) + 1e-6, "row {i}");
        }
    }
}

#[test]
fn inertia_never_increases() {
    let centres = random_centres(6, 6, 2.0, 9);
    let (data, _) = blobs(&centres, 400, 1.5, 10);
    let options = fixed(9);
    let norms = row_norms(&data);
    let seeding =
        seed_centres(&data, &norms, 9, true, &mut Rng::new(options.seed), &never).expect("seeds");
    let mut history = Vec::new();
    let result = lloyd(&data, &norms, seeding, &options, &never, Some(&mut history)).expect("fit");
    assert!(history.len() >= 5, "only {} iterations", history.len());
    for pair in history.windows(2) {
        assert!(
            pair[1] <= pair[0] * (1.0 + 1e-6),
            "{} then {}",
            pair[0],
            pair[1]
        );
    }
    let last = history.last().copied().unwrap_or(f64::INFINITY);
    assert!(result.inertia <= last * (1.0 + 1e-6));
    assert_eq!(result.iterations, history.len());
}

#[test]
fn same_seed_same_result() {
    let centres = random_centres(5, 7, 2.0, 11);
    let (data, _) = blobs(&centres, 500, 1.2, 12);
    let options = KMeansOptions {
        seed: 42,
        ..fixed(5)
    };
    let first = kmeans(&data, &options, &never).expect("clusters");
    let second = kmeans(&data, &options, &never).expect("clusters");
    assert_eq!(first, second);
    let batched = KMeansOptions {
        mini_batch: Some(256),
        ..options.clone()
    };
    assert_eq!(
        kmeans(&data, &batched, &never).expect("clusters"),
        kmeans(&data, &batched, &never).expect("clusters")
    );
}

#[test]
fn auto_k_finds_four_blobs() {
    let corners = vec![
        vec![0.0, 0.0],
        vec![10.0, 0.0],
        vec![0.0, 10.0],
        vec![10.0, 10.0],
    ];
    let (data, truth) = blobs(&corners, 150, 0.7, 13);
    let options = KMeansOptions {
        k: KChoice::Auto { min: 2, max: 8 },
        ..KMeansOptions::default()
    };
    let result = kmeans(&data, &options, &never).expect("clusters");
    assert_eq!(result.k, 4);
    assert!((adjusted_rand(&result.labels, &truth) - 1.0).abs() < 1e-12);
    let tried: Vec<usize> = result.silhouettes.iter().map(|&(k, _)| k).collect();
    assert_eq!(tried, (2..=8).collect::<Vec<_>>());
    let best = result
        .silhouettes
        .iter()
        .fold((0, f64::NEG_INFINITY), |best, &(k, s)| {
            if s > best.1 { (k, s) } else { best }
        });
    assert_eq!(best.0, 4);
    assert!(best.1 > 0.7);
}

#[test]
fn auto_k_on_a_sample_then_all_rows() {
    let corners = vec![
        vec![0.0, 0.0, 0.0],
        vec![8.0, 0.0, 0.0],
        vec![0.0, 8.0, 0.0],
    ];
    let (data, truth) = blobs(&corners, 7000, 0.6, 14);
    assert!(data.rows() > AUTO_K_SAMPLE_ROWS);
    let options = KMeansOptions {
        k: KChoice::Auto { min: 2, max: 5 },
        silhouette_sample: 1000,
        ..KMeansOptions::default()
    };
    let result = kmeans(&data, &options, &never).expect("clusters");
    assert_eq!(result.k, 3);
    assert_eq!(result.labels.len(), data.rows());
    assert!((adjusted_rand(&result.labels, &truth) - 1.0).abs() < 1e-12);
}

#[test]
fn refuses_bad_input() {
    assert_eq!(
        kmeans(&Matrix::zeros(0, 3), &fixed(2), &never),
        Err(KMeansError::Empty)
    );
    let mut values = vec![1.0f32; 8 * 3];
    values[2 * 3 + 1] = f32::NAN;
    values[5 * 3] = f32::INFINITY;
    let data = Matrix::new(8, 3, values).expect("shape");
    assert_eq!(
        kmeans(&data, &fixed(2), &never),
        Err(KMeansError::NonFinite { row: 2 })
    );
    let three = Matrix::new(3, 2, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).expect("shape");
    assert_eq!(
        kmeans(&three, &fixed(4), &never),
        Err(KMeansError::TooFewRows { rows: 3, k: 4 })
    );
    let auto = KMeansOptions {
        k: KChoice::Auto { min: 5, max: 9 },
        ..KMeansOptions::default()
    };
    assert_eq!(
        kmeans(&three, &auto, &never),
        Err(KMeansError::TooFewRows { rows: 3, k: 5 })
    );
    assert_eq!(
        kmeans(&three, &fixed(2), &|| true),
        Err(KMeansError::Cancelled)
    );
    // Cancelled later, between iterations (seeding asks once per centre).
    let centres = random_centres(4, 5, 1.0, 22);
    let (data, _) = blobs(&centres, 200, 1.5, 23);
    let asked = std::cell::Cell::new(0);
    let cancel_later = || {
        asked.set(asked.get() + 1);
        asked.get() > 5
    };
    assert_eq!(
        kmeans(&data, &fixed(4), &cancel_later),
        Err(KMeansError::Cancelled)
    );
    assert!(asked.get() > 5);
    let messages: Vec<String> = [
        KMeansError::Empty,
        KMeansError::TooFewRows { rows: 3, k: 4 },
        KMeansError::Cancelled,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        messages,
        [
            "there are no rows to cluster",
            "cannot make 4 clusters from 3 rows",
            "clustering was cancelled",
        ]
    );
    assert!(
        KMeansError::NonFinite { row: 2 }
            .to_string()
            .contains("row 2")
    );
}

#[test]
fn identical_rows_make_one_cluster() {
    let data = Matrix::new(40, 3, [0.5f32, -2.0, 7.0].repeat(40)).expect("shape");
    for options in [
        fixed(3),
        KMeansOptions::default(),
        KMeansOptions {
            mini_batch: Some(8),
            ..fixed(3)
        },
    ] {
        let result = kmeans(&data, &options, &never).expect("clusters");
        assert_eq!(result.k, 1);
        assert_eq!(result.inertia, 0.0);
        assert!(result.labels.iter().all(|&l| l == 0));
        assert_eq!(result.centroids.row(0), data.row(0));
    }
    let no_columns = Matrix::zeros(10, 0);
    assert_eq!(
        kmeans(&no_columns, &fixed(2), &never).expect("clusters").k,
        1
    );
}

#[test]
fn fewer_distinct_rows_than_k() {
    let distinct = [[0.0f32, 0.0], [5.0, 1.0], [-3.0, 4.0]];
    let mut values = Vec::new();
    let mut truth = Vec::new();
    for copy in 0..30 {
        let which = copy % 3;
        values.extend_from_slice(&distinct[which]);
        truth.push(which as u32);
    }
    let data = Matrix::new(30, 2, values).expect("shape");
    let result = kmeans(&data, &fixed(5), &never).expect("clusters");
    assert_eq!(result.k, 3);
    assert_eq!(result.inertia, 0.0);
    assert!((adjusted_rand(&result.labels, &truth) - 1.0).abs() < 1e-12);
}

#[test]
fn empty_cluster_gets_the_farthest_row() {
    let corners = vec![vec![0.0, 0.0], vec![20.0, 0.0], vec![0.0, 20.0]];
    let (data, truth) = blobs(&corners, 100, 1.0, 15);
    // Two starting centres in the first blob and one far from everything:
    // the far one attracts no row and must be moved.
    let start = Matrix::new(3, 2, vec![0.0, 0.0, 0.5, 0.5, 1000.0, 1000.0]).expect("shape");
    let norms = row_norms(&data);
    for per_centre in [false, true] {
        let mut seeding = Seeding::from_centres(&data, &norms, start.clone());
        if per_centre {
            seeding = seeding.with_per_centre_bounds();
        }
        let result = lloyd(&data, &norms, seeding, &fixed(3), &never, None).expect("fit");
        assert_eq!(result.k, 3);
        assert!((adjusted_rand(&result.labels, &truth) - 1.0).abs() < 1e-12);
    }
}

#[test]
fn mini_batch_is_close_to_lloyd() {
    let centres = random_centres(10, 16, 8.0, 16);
    let (data, truth) = blobs(&centres, 2000, 1.0, 17);
    let full = kmeans(&data, &fixed(10), &never).expect("clusters");
    assert!(adjusted_rand(&full.labels, &truth) > 0.95);
    for seed in 0..3 {
        let batched = KMeansOptions {
            mini_batch: Some(512),
            seed,
            ..fixed(10)
        };
        let mini = kmeans(&data, &batched, &never).expect("clusters");
        assert_eq!(mini.labels.len(), data.rows());
        // Batch means alone (no running weights) land about 2 % higher.
        let excess = mini.inertia / full.inertia - 1.0;
        assert!(
            excess < 0.01,
            "seed {seed}: {:.2} % above Lloyd",
            100.0 * excess
        );
        assert!(adjusted_rand(&mini.labels, &truth) > 0.95);
    }
    let defaults = KMeansOptions::for_rows(MINI_BATCH_MIN_ROWS);
    assert_eq!(defaults.mini_batch, Some(DEFAULT_BATCH_SIZE));
    assert_eq!(KMeansOptions::for_rows(1000).mini_batch, None);
}

#[test]
fn silhouette_separates_good_and_random_labels() {
    let corners = vec![vec![0.0, 0.0, 0.0], vec![30.0, 0.0, 0.0]];
    let (data, truth) = blobs(&corners, 200, 1.0, 18);
    assert!(silhouette(&data, &truth, 3000, 1) > 0.9);
    let mut rng = Rng::new(19);
    let random: Vec<u32> = (0..data.rows()).map(|_| rng.below(2) as u32).collect();
    assert!(silhouette(&data, &random, 3000, 1).abs() < 0.1);
    assert_eq!(silhouette(&data, &vec![0; data.rows()], 3000, 1), 0.0);
    // A sample gives nearly the value of all rows.
    let sampled = silhouette(&data, &truth, 150, 2);
    assert!((sampled - silhouette(&data, &truth, 3000, 1)).abs() < 0.05);
}

#[test]
fn sample_indices_are_sorted_distinct_and_repeatable() {
    let picked = sample_indices(1000, 100, 5);
    assert_eq!(picked.len(), 100);
    assert!(picked.windows(2).all(|w| w[0] < w[1]));
    assert!(picked.iter().all(|&i| i < 1000));
    assert_eq!(picked, sample_indices(1000, 100, 5));
    assert_eq!(sample_indices(10, 20, 5), (0..10).collect::<Vec<_>>());
}
