//! Greedy k-means++ seeding, with the bounds its distances leave for Lloyd's
//! iterations.

use super::*;

/// Centres and the assignment of every row to its nearest centre.
pub(super) struct Seeding {
    /// The centres, k × columns.
    pub(super) centres: Matrix,
    /// Nearest centre of each row.
    pub(super) labels: Vec<u32>,
    /// Distance to the nearest centre (exact).
    pub(super) upper: Vec<f32>,
    /// Lower bounds on the distances to the other centres.
    pub(super) lower: Bounds,
}

/// Lower bounds that let an assignment step skip distance computations.
pub(super) enum Bounds {
    /// Hamerly's: per row, one bound on the distance to every centre but its own.
    Nearest(Vec<f32>),
    /// Elkan's: per row, one bound per centre (rows × k).
    PerCentre(Vec<f32>),
}

/// Whether Lloyd's iterations keep a bound per row and centre (Elkan) or
/// per row (Hamerly): Elkan's skip far more distances in high dimensions.
pub(super) fn use_per_centre_bounds(rows: usize, k: usize, cols: usize) -> bool {
    rows.saturating_mul(k) <= PER_CENTRE_BOUNDS_LIMIT && k <= cols.max(1)
}

#[cfg(test)]
impl Seeding {
    /// The exact assignment of every row to the nearest of `centres`.
    pub(super) fn from_centres(data: &Matrix, norms: &[f32], centres: Matrix) -> Self {
        let rows = data.rows();
        let table = CentreTable::new(centres);
        let mut labels = vec![0u32; rows];
        let mut upper = vec![0f32; rows];
        let mut lower = vec![0f32; rows];
        let items: Vec<_> = labels
            .chunks_mut(CHUNK_ROWS)
            .zip(upper.chunks_mut(CHUNK_ROWS))
            .zip(lower.chunks_mut(CHUNK_ROWS))
            .enumerate()
            .map(|(index, ((labels, upper), lower))| (index * CHUNK_ROWS, labels, upper, lower))
            .collect();
        parallel_map(items, |(start, labels, upper, lower)| {
            let rows: Vec<usize> = (start..start + labels.len()).collect();
            for_nearest_two(data, norms, &rows, &table, |offset, nearest| {
                labels[offset] = nearest.label;
                upper[offset] = nearest.best.sqrt();
                lower[offset] = nearest.second.sqrt();
            });
        });
        Self {
            centres: table.matrix,
            labels,
            upper,
            lower: Bounds::Nearest(lower),
        }
    }

    /// The same, with the bound on the other centres repeated per centre.
    pub(super) fn with_per_centre_bounds(self) -> Self {
        let k = self.centres.rows();
        let lower = match self.lower {
            Bounds::Nearest(lower) => lower
                .iter()
                .flat_map(|&b| std::iter::repeat_n(b, k))
                .collect(),
            Bounds::PerCentre(lower) => lower,
        };
        Self {
            lower: Bounds::PerCentre(lower),
            ..self
        }
    }
}

/// Greedy k-means++: up to `k` centres drawn from the rows, with every row
/// assigned to its nearest one. Stops early when every row coincides with a
/// centre (fewer distinct rows than k).
///
/// With `per_centre`, the lower bounds come per row and centre (Elkan's),
/// else per row (Hamerly's).
pub(super) fn seed_centres(
    data: &Matrix,
    norms: &[f32],
    k: usize,
    per_centre: bool,
    rng: &mut Rng,
    watch: &dyn Watch,
) -> Result<Seeding, KMeansError> {
    let (rows, cols) = (data.rows(), data.cols());
    let trials = 2 + (k as f64).ln().max(0.0) as usize;
    let first = rng.below(rows);
    let mut centre_values: Vec<f32> = data.row(first).to_vec();
    let mut labels = vec![0u32; rows];
    let mut upper = vec![0f32; rows];
    let mut lower = vec![f32::INFINITY; rows];
    // Elkan's bounds, k per row: a bound on the distance to each centre.
    let stride = if per_centre { k } else { 0 };
    let mut lower_per_centre = vec![0f32; rows * stride];
    let mut nearest_squared = vec![0f32; rows];
    {
        let items: Vec<_> = nearest_squared
            .chunks_mut(CHUNK_ROWS)
            .zip(upper.chunks_mut(CHUNK_ROWS))
            .enumerate()
            .map(|(index, (squared, upper))| (index * CHUNK_ROWS, squared, upper))
            .collect();
        let centre = data.row(first);
        parallel_map(items, |(start, squared, upper)| {
            for (offset, (sq, up)) in squared.iter_mut().zip(upper.iter_mut()).enumerate() {
                *sq = squared_distance(data.row(start + offset), centre);
                *up = sq.sqrt();
            }
        });
        for (bounds, &distance) in lower_per_centre.chunks_exact_mut(stride.max(1)).zip(&upper) {
            bounds[0] = distance;
        }
    }
    let mut cumulative = vec![0f64; rows];
    let mut trial_squared = vec![0f32; rows * trials];
    let mut centres = 1;
    while centres < k {
        watch.check()?;
        let mut total = 0f64;
        for (sum, &squared) in cumulative.iter_mut().zip(&nearest_squared) {
            total += f64::from(squared);
            *sum = total;
        }
        if total <= 0.0 {
            break; // every row sits on a centre
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.unit() * total;
                let mut index = cumulative
                    .partition_point(|&sum| sum <= target)
                    .min(rows - 1);
                while index > 0 && nearest_squared[index] == 0.0 {
                    index -= 1; // rounding at the very end of the range
                }
                index
            })
            .collect();
        // Distance from each candidate to each centre, for the pruning test.
        let gaps: Vec<Vec<f32>> = candidates
            .iter()
            .map(|&candidate| {
                centre_values
                    .chunks_exact(cols.max(1))
                    .take(centres)
                    .map(|centre| squared_distance(data.row(candidate), centre).sqrt())
                    .collect()
            })
            .collect();
        let candidate_rows: Vec<&[f32]> = candidates.iter().map(|&c| data.row(c)).collect();
        let items: Vec<_> = trial_squared
            .chunks_mut(CHUNK_ROWS * trials)
            .enumerate()
            .map(|(index, chunk)| (index * CHUNK_ROWS, chunk))
            .collect();
        let gains_per_chunk = parallel_map(items, |(start, chunk)| {
            // d(x, candidate) ≥ d(candidate, centre) − d(x, centre) ≥ d(x, centre) when
            // d(candidate, centre) ≥ 2 d(x, centre): such a candidate cannot help x.
            let mut measured_rows: Vec<usize> = Vec::new();
            for (offset, measured) in chunk.chunks_exact_mut(trials).enumerate() {
                let row = start + offset;
                let label = labels[row] as usize;
                if gaps.iter().all(|gap| gap[label] >= 2.0 * upper[row]) {
                    measured.fill(f32::INFINITY);
                } else {
                    measured_rows.push(row);
                }
            }
            let mut gains = vec![0f64; trials];
            for &row in &measured_rows {
                let x = data.row(row);
                let mut products = vec![0f32; trials];
                let mut t = 0;
                while t + 1 < trials {
                    [products[t], products[t + 1]] =
                        dot_1x2(x, candidate_rows[t], candidate_rows[t + 1]);
                    t += 2;
                }
                if t < trials {
                    products[t] = dot(x, candidate_rows[t]);
                }
                for (t, &product) in products.iter().enumerate() {
                    let squared = squared_via_dot(
                        norms[row],
                        norms[candidates[t]],
                        product,
                        x,
                        candidate_rows[t],
                    );
                    chunk[(row - start) * trials + t] = squared;
                    gains[t] += f64::from((nearest_squared[row] - squared).max(0.0));
                }
            }
            gains
        });
        let mut best = 0;
        let mut best_gain = f64::NEG_INFINITY;
        for t in 0..trials {
            let gain: f64 = gains_per_chunk.iter().map(|gains| gains[t]).sum();
            if gain > best_gain {
                best = t;
                best_gain = gain;
            }
        }
        let new_label = centres as u32;
        let mut per_centre_chunks = lower_per_centre.chunks_mut(CHUNK_ROWS * stride.max(1));
        let items: Vec<_> = labels
            .chunks_mut(CHUNK_ROWS)
            .zip(upper.chunks_mut(CHUNK_ROWS))
            .zip(lower.chunks_mut(CHUNK_ROWS))
            .zip(nearest_squared.chunks_mut(CHUNK_ROWS))
            .zip(trial_squared.chunks(CHUNK_ROWS * trials))
            .map(|((((labels, upper), lower), squared), measured)| {
                let per_centre = per_centre_chunks.next().unwrap_or_default();
                (labels, upper, lower, squared, measured, per_centre)
            })
            .collect();
        let gaps_of_best = &gaps[best];
        parallel_map(
            items,
            |(labels, upper, lower, squared, measured, per_centre)| {
                for (offset, label) in labels.iter_mut().enumerate() {
                    let value = measured[offset * trials + best];
                    // The distance to the new centre, or a lower bound on it.
                    let bound = if value.is_infinite() {
                        gaps_of_best[*label as usize] - upper[offset]
                    } else {
                        value.sqrt()
                    };
                    if let Some(slot) = per_centre.get_mut(offset * stride + centres) {
                        *slot = bound;
                    }
                    if value < squared[offset] {
                        lower[offset] = lower[offset].min(upper[offset]);
                        upper[offset] = bound;
                        squared[offset] = value;
                        *label = new_label;
                    } else {
                        lower[offset] = lower[offset].min(bound);
                    }
                }
            },
        );
        centre_values.extend_from_slice(data.row(candidates[best]));
        centres += 1;
    }
    let lower = if per_centre {
        if centres < k {
            // Fewer distinct rows than k: keep the bounds of the centres made.
            lower_per_centre = lower_per_centre
                .chunks_exact(k)
                .flat_map(|bounds| bounds[..centres].iter().copied())
                .collect();
        }
        Bounds::PerCentre(lower_per_centre)
    } else {
        Bounds::Nearest(lower)
    };
    Ok(Seeding {
        centres: Matrix::new(centres, cols, centre_values).unwrap_or_default(),
        labels,
        upper,
        lower,
    })
}
