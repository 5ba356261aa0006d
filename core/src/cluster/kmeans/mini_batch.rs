//! Mini-batch k-means (Sculley 2010) for large inputs.

use super::*;

/// Mini-batch k-means: seeded on a sample of `3 × batch` rows, then steps
/// on random batches until `max_iterations` passes, no better smoothed batch
/// inertia for 10 steps, or centre shifts below the tolerance; finally every
/// row is labelled with its nearest centre.
pub(super) fn mini_batch_kmeans(
    data: &Matrix,
    norms: &[f32],
    k: usize,
    batch: usize,
    options: &KMeansOptions,
    watch: &dyn Watch,
) -> Result<KMeansResult, KMeansError> {
    let (rows, cols) = (data.rows(), data.cols());
    let mut rng = Rng::new(options.seed);
    let init_rows = (3 * batch).max(3 * k).min(rows);
    let init_data = data.select(&sample_indices(rows, init_rows, rng.next_u64()));
    let seeding = seed_centres(
        &init_data,
        &row_norms(&init_data),
        k,
        false,
        &mut rng,
        watch,
    )?;
    let k = seeding.centres.rows();
    let mut table = CentreTable::new(seeding.centres);
    let mut weights = vec![0f64; k];
    let threshold = options.tolerance * mean_variance(data);
    let steps = (options.max_iterations.max(1).saturating_mul(rows)).div_ceil(batch);
    let smoothing = (2.0 * batch as f64 / (rows as f64 + 1.0)).min(1.0);
    let mut smoothed: Option<f64> = None;
    let mut best_smoothed = f64::INFINITY;
    let mut steps_without_improvement = 0;
    let mut batch_rows = vec![0usize; batch];
    let mut batch_labels = vec![0u32; batch];
    let mut batch_squared = vec![0f32; batch];
    let mut sums = vec![0f64; k * cols];
    let mut counts = vec![0usize; k];
    let mut iterations = 0;
    for step in 0..steps {
        watch.check()?;
        watch.progress("k-means mini-batches", step as u64, steps as u64);
        iterations = step + 1;
        for row in &mut batch_rows {
            *row = rng.below(rows);
        }
        nearest_centres(
            data,
            norms,
            &batch_rows,
            &table,
            &mut batch_labels,
            &mut batch_squared,
        );
        sums.fill(0.0);
        counts.fill(0);
        for (&row, &label) in batch_rows.iter().zip(&batch_labels) {
            let label = label as usize;
            counts[label] += 1;
            for (sum, &v) in sums[label * cols..(label + 1) * cols]
                .iter_mut()
                .zip(data.row(row))
            {
                *sum += f64::from(v);
            }
        }
        let mut next = table.matrix.clone();
        for j in 0..k {
            if counts[j] == 0 {
                continue;
            }
            let weight = weights[j] + counts[j] as f64;
            for (value, &sum) in next
                .row_mut(j)
                .iter_mut()
                .zip(&sums[j * cols..(j + 1) * cols])
            {
                *value = ((f64::from(*value) * weights[j] + sum) / weight) as f32;
            }
            weights[j] = weight;
        }
        // Centres that attract almost nothing move to random rows of the batch.
        let lightest = weights.iter().copied().fold(f64::INFINITY, f64::min);
        if (step + 1) % (10 + lightest.min(1e9) as usize) == 0 {
            reassign_light_centres(data, &batch_rows, &mut next, &mut weights, &mut rng);
        }
        let shift = table.move_to(next);
        if step == 0 {
            // The first batch measures the seeding, not the fit: smoothing
            // from it would read the first updates' big gains as progress for
            // hundreds of steps.
            continue;
        }
        let batch_inertia = batch_squared.iter().map(|&d| f64::from(d)).sum::<f64>() / batch as f64;
        let current = match smoothed {
            None => batch_inertia,
            Some(previous) => previous * (1.0 - smoothing) + batch_inertia * smoothing,
        };
        smoothed = Some(current);
        if current < best_smoothed {
            best_smoothed = current;
            steps_without_improvement = 0;
        } else {
            steps_without_improvement += 1;
            if steps_without_improvement >= MINI_BATCH_PATIENCE {
                break;
            }
        }
        if threshold > 0.0 && shift <= threshold {
            break;
        }
    }
    let mut labels = vec![0u32; rows];
    let mut squared = vec![0f32; rows];
    let everything: Vec<usize> = (0..rows).collect();
    nearest_centres(data, norms, &everything, &table, &mut labels, &mut squared);
    let inertia = inertia(data, &labels, &table.matrix);
    Ok(KMeansResult {
        k,
        labels,
        centroids: table.matrix,
        inertia,
        iterations,
        silhouettes: Vec::new(),
    })
}

/// Moves centres whose weight is below [`REASSIGNMENT_RATIO`] of the
/// heaviest onto distinct random rows of the batch (at most half the batch).
pub(super) fn reassign_light_centres(
    data: &Matrix,
    batch_rows: &[usize],
    centres: &mut Matrix,
    weights: &mut [f64],
    rng: &mut Rng,
) {
    let heaviest = weights.iter().copied().fold(0.0, f64::max);
    let light: Vec<usize> = (0..weights.len())
        .filter(|&j| weights[j] < REASSIGNMENT_RATIO * heaviest)
        .take(batch_rows.len() / 2)
        .collect();
    if light.is_empty() {
        return;
    }
    let replacement_weight = (0..weights.len())
        .filter(|j| !light.contains(j))
        .map(|j| weights[j])
        .fold(f64::INFINITY, f64::min);
    let mut positions: Vec<usize> = (0..batch_rows.len()).collect();
    rng.shuffle(&mut positions);
    for (&j, &position) in light.iter().zip(&positions) {
        centres
            .row_mut(j)
            .copy_from_slice(data.row(batch_rows[position]));
        weights[j] = if replacement_weight.is_finite() {
            replacement_weight
        } else {
            0.0
        };
    }
}

/// Nearest centre and squared distance of each of `rows`, in parallel.
pub(super) fn nearest_centres(
    data: &Matrix,
    norms: &[f32],
    rows: &[usize],
    table: &CentreTable,
    labels: &mut [u32],
    squared: &mut [f32],
) {
    // Small pieces, so that a mini-batch is shared between threads too.
    const PIECE: usize = 256;
    let items: Vec<_> = rows
        .chunks(PIECE)
        .zip(labels.chunks_mut(PIECE))
        .zip(squared.chunks_mut(PIECE))
        .map(|((rows, labels), squared)| (rows, labels, squared))
        .collect();
    parallel_map(items, |(rows, labels, squared)| {
        for_nearest_two(data, norms, rows, table, |index, nearest| {
            labels[index] = nearest.label;
            squared[index] = nearest.best;
        });
    });
}
