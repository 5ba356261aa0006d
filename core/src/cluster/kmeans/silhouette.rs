//! Mean silhouettes of labelings on a sample, for choosing k.

use super::*;

/// Mean silhouette of each labelling over the rows `sample` of `data`; the
/// distances between sampled rows are computed once for all labellings.
pub(super) fn silhouette_scores(data: &Matrix, sample: &[usize], labelings: &[&[u32]]) -> Vec<f64> {
    let size = sample.len();
    if labelings.is_empty() {
        return Vec::new();
    }
    let rows = data.select(sample);
    let norms = row_norms(&rows);
    // Per labelling: sampled labels, number of clusters, sampled cluster sizes.
    let prepared: Vec<(Vec<u32>, usize, Vec<usize>)> = labelings
        .iter()
        .map(|labels| {
            let sampled: Vec<u32> = sample.iter().map(|&i| labels[i]).collect();
            let clusters = sampled.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
            let mut sizes = vec![0usize; clusters];
            for &label in &sampled {
                sizes[label as usize] += 1;
            }
            (sampled, clusters, sizes)
        })
        .collect();
    let starts: Vec<usize> = (0..size).step_by(64).collect();
    let partial = parallel_map(starts, |start| {
        let end = (start + 64).min(size);
        let mut totals = vec![0f64; prepared.len()];
        let mut distances = vec![0f32; size];
        for i in start..end {
            let x = rows.row(i);
            let mut j = 0;
            while j + 1 < size {
                let [first, second] = dot_1x2(x, rows.row(j), rows.row(j + 1));
                distances[j] = norms[i] + norms[j] - 2.0 * first;
                distances[j + 1] = norms[i] + norms[j + 1] - 2.0 * second;
                j += 2;
            }
            if j < size {
                distances[j] = norms[i] + norms[j] - 2.0 * dot(x, rows.row(j));
            }
            for distance in &mut distances {
                *distance = distance.max(0.0).sqrt();
            }
            distances[i] = 0.0;
            for (total, (labels, clusters, sizes)) in totals.iter_mut().zip(&prepared) {
                *total += row_silhouette(i, &distances, labels, *clusters, sizes);
            }
        }
        totals
    });
    prepared
        .iter()
        .enumerate()
        .map(|(index, (_, _, sizes))| {
            let present = sizes.iter().filter(|&&s| s > 0).count();
            if present < 2 || size == 0 {
                return 0.0;
            }
            partial.iter().map(|totals| totals[index]).sum::<f64>() / size as f64
        })
        .collect()
}

/// Silhouette of sampled row `row`, whose distances to every sampled row are
/// `distances`.
pub(super) fn row_silhouette(
    row: usize,
    distances: &[f32],
    labels: &[u32],
    clusters: usize,
    sizes: &[usize],
) -> f64 {
    let own = labels[row] as usize;
    if sizes[own] <= 1 {
        return 0.0;
    }
    let mut sums = vec![0f64; clusters];
    for (distance, &label) in distances.iter().zip(labels) {
        sums[label as usize] += f64::from(*distance);
    }
    let within = sums[own] / (sizes[own] - 1) as f64;
    let between = (0..clusters)
        .filter(|&c| c != own && sizes[c] > 0)
        .map(|c| sums[c] / sizes[c] as f64)
        .fold(f64::INFINITY, f64::min);
    if !between.is_finite() {
        return 0.0;
    }
    let scale = within.max(between);
    if scale > 0.0 {
        (between - within) / scale
    } else {
        0.0
    }
}
