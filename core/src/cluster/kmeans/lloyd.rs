//! Lloyd's iterations that skip what the triangle inequality rules out
//! (Elkan's per-centre bounds, or Hamerly's one bound), and what they share:
//! the centre table, cluster sums, empty clusters and inertia.

use super::*;

/// The centres with what the bounds need.
pub(super) struct CentreTable {
    /// k × columns.
    pub(super) matrix: Matrix,
    /// ‖c‖² of each centre.
    pub(super) norms: Vec<f32>,
    /// Half the distance from each centre to the nearest other one.
    pub(super) half_gap: Vec<f32>,
    /// Half the distance between each two centres (k × k).
    pub(super) half_distances: Vec<f32>,
    /// How far each centre moved in the last update.
    pub(super) shift: Vec<f32>,
    /// The largest shift, the centre that made it, and the second largest.
    pub(super) largest_shift: (f32, usize, f32),
}

impl CentreTable {
    pub(super) fn new(matrix: Matrix) -> Self {
        let k = matrix.rows();
        let mut table = Self {
            matrix,
            norms: Vec::new(),
            half_gap: Vec::new(),
            half_distances: Vec::new(),
            shift: vec![0.0; k],
            largest_shift: (0.0, 0, 0.0),
        };
        table.refresh();
        table
    }

    /// Recomputes the norms and half gaps after the centres changed.
    pub(super) fn refresh(&mut self) {
        let k = self.matrix.rows();
        self.norms = (0..k)
            .map(|j| dot(self.matrix.row(j), self.matrix.row(j)))
            .collect();
        let mut half = vec![0f32; k * k];
        let mut nearest = vec![f32::INFINITY; k];
        for a in 0..k {
            for b in a + 1..k {
                let distance = squared_distance(self.matrix.row(a), self.matrix.row(b)).sqrt();
                half[a * k + b] = 0.5 * distance;
                half[b * k + a] = 0.5 * distance;
                nearest[a] = nearest[a].min(distance);
                nearest[b] = nearest[b].min(distance);
            }
        }
        self.half_gap = nearest.into_iter().map(|d| 0.5 * d).collect();
        self.half_distances = half;
    }

    /// Moves the centres to `next`, remembering the shifts; returns the sum
    /// of squared shifts.
    pub(super) fn move_to(&mut self, next: Matrix) -> f64 {
        let mut total = 0f64;
        let mut largest = (0f32, 0usize, 0f32);
        for (j, shift) in self.shift.iter_mut().enumerate() {
            let squared: f64 = self
                .matrix
                .row(j)
                .iter()
                .zip(next.row(j))
                .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                .sum();
            total += squared;
            *shift = squared.sqrt() as f32;
            if *shift > largest.0 {
                largest = (*shift, j, largest.0);
            } else if *shift > largest.2 {
                largest.2 = *shift;
            }
        }
        self.largest_shift = largest;
        self.matrix = next;
        self.refresh();
        total
    }

    /// The largest shift of a centre other than `label`.
    pub(super) fn shift_of_others(&self, label: usize) -> f32 {
        let (largest, centre, second) = self.largest_shift;
        if centre == label { second } else { largest }
    }
}

/// A row that changed cluster.
#[derive(Debug, Clone, Copy)]
pub(super) struct Move {
    pub(super) row: usize,
    pub(super) from: u32,
    pub(super) to: u32,
}

/// Per-cluster sums of the rows (f64, in blocks of columns) and row counts.
pub(super) struct ClusterSums {
    pub(super) cols: usize,
    /// Block `b` holds columns `b * SUM_BLOCK_COLS ..`, k × its width.
    pub(super) blocks: Vec<Vec<f64>>,
    pub(super) counts: Vec<usize>,
}

impl ClusterSums {
    pub(super) fn block_width(&self, block: usize) -> usize {
        SUM_BLOCK_COLS.min(self.cols - block * SUM_BLOCK_COLS)
    }

    pub(super) fn from_labels(data: &Matrix, labels: &[u32], k: usize) -> Self {
        let cols = data.cols();
        let mut counts = vec![0usize; k];
        for &label in labels {
            counts[label as usize] += 1;
        }
        let starts: Vec<usize> = (0..cols).step_by(SUM_BLOCK_COLS).collect();
        let blocks = parallel_map(starts, |start| {
            let width = SUM_BLOCK_COLS.min(cols - start);
            let mut block = vec![0f64; k * width];
            for (i, &label) in labels.iter().enumerate() {
                let sums = &mut block[label as usize * width..][..width];
                for (sum, &v) in sums.iter_mut().zip(&data.row(i)[start..start + width]) {
                    *sum += f64::from(v);
                }
            }
            block
        });
        Self {
            cols,
            blocks,
            counts,
        }
    }

    pub(super) fn apply(&mut self, data: &Matrix, moves: &[Move]) {
        for change in moves {
            self.counts[change.from as usize] -= 1;
            self.counts[change.to as usize] += 1;
        }
        let cols = self.cols;
        let items: Vec<(usize, &mut Vec<f64>)> = self.blocks.iter_mut().enumerate().collect();
        parallel_map(items, |(block, sums)| {
            let start = block * SUM_BLOCK_COLS;
            let width = SUM_BLOCK_COLS.min(cols - start);
            for change in moves {
                let values = &data.row(change.row)[start..start + width];
                let from = change.from as usize * width;
                for (sum, &v) in sums[from..from + width].iter_mut().zip(values) {
                    *sum -= f64::from(v);
                }
                let to = change.to as usize * width;
                for (sum, &v) in sums[to..to + width].iter_mut().zip(values) {
                    *sum += f64::from(v);
                }
            }
        });
    }

    /// The mean of each cluster; an empty cluster keeps its `previous` centre.
    pub(super) fn means(&self, previous: &Matrix) -> Matrix {
        let mut next = previous.clone();
        for (j, &count) in self.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let row = next.row_mut(j);
            for (block, sums) in self.blocks.iter().enumerate() {
                let width = self.block_width(block);
                let start = block * SUM_BLOCK_COLS;
                for (value, &sum) in row[start..start + width]
                    .iter_mut()
                    .zip(&sums[j * width..(j + 1) * width])
                {
                    *value = (sum / count as f64) as f32;
                }
            }
        }
        next
    }
}

/// Lloyd's iterations from `seeding`. With `history`, records the inertia
/// after each assignment step (tests).
pub(super) fn lloyd(
    data: &Matrix,
    norms: &[f32],
    seeding: Seeding,
    options: &KMeansOptions,
    watch: &dyn Watch,
    mut history: Option<&mut Vec<f64>>,
) -> Result<KMeansResult, KMeansError> {
    let Seeding {
        centres,
        mut labels,
        mut upper,
        mut lower,
    } = seeding;
    // Assignment steps skip the distances these bounds rule out.
    let assign = |table: &CentreTable,
                  labels: &mut [u32],
                  upper: &mut [f32],
                  lower: &mut Bounds| {
        match lower {
            Bounds::Nearest(lower) => assign_hamerly(data, norms, table, labels, upper, lower),
            Bounds::PerCentre(lower) => assign_elkan(data, table, labels, upper, lower),
        }
    };
    let k = centres.rows();
    let threshold = options.tolerance * mean_variance(data);
    let mut table = CentreTable::new(centres);
    let mut sums = ClusterSums::from_labels(data, &labels, k);
    let mut iterations = 0;
    let mut labels_fit_centres = false;
    let most = options.max_iterations.max(1);
    for iteration in 1..=most {
        iterations = iteration;
        watch.progress("k-means iterations", iteration as u64 - 1, most as u64);
        if iteration > 1 {
            let moves = assign(&table, &mut labels, &mut upper, &mut lower);
            if moves.is_empty() {
                labels_fit_centres = true;
                break;
            }
            sums.apply(data, &moves);
        }
        if let Some(history) = history.as_deref_mut() {
            history.push(inertia(data, &labels, &table.matrix));
        }
        relocate_empty_clusters(
            data,
            &table.matrix,
            &mut labels,
            &mut upper,
            &mut lower,
            &mut sums,
        );
        let shift = table.move_to(sums.means(&table.matrix));
        if shift <= threshold {
            break;
        }
        watch.check()?;
    }
    if !labels_fit_centres {
        let moves = assign(&table, &mut labels, &mut upper, &mut lower);
        sums.apply(data, &moves);
    }
    let (centroids, labels) = drop_empty_clusters(table.matrix, labels, &sums.counts);
    let inertia = inertia(data, &labels, &centroids);
    Ok(KMeansResult {
        k: centroids.rows(),
        labels,
        centroids,
        inertia,
        iterations,
        silhouettes: Vec::new(),
    })
}

/// One assignment step with Hamerly's bounds: updates them for the last
/// centre shifts, then compares with every centre only the rows they cannot
/// settle.
pub(super) fn assign_hamerly(
    data: &Matrix,
    norms: &[f32],
    table: &CentreTable,
    labels: &mut [u32],
    upper: &mut [f32],
    lower: &mut [f32],
) -> Vec<Move> {
    let items: Vec<_> = labels
        .chunks_mut(CHUNK_ROWS)
        .zip(upper.chunks_mut(CHUNK_ROWS))
        .zip(lower.chunks_mut(CHUNK_ROWS))
        .enumerate()
        .map(|(index, ((labels, upper), lower))| (index * CHUNK_ROWS, labels, upper, lower))
        .collect();
    let moves_per_chunk = parallel_map(items, |(start, labels, upper, lower)| {
        let mut unsettled: Vec<usize> = Vec::new();
        for (offset, &label) in labels.iter().enumerate() {
            let label = label as usize;
            let mut up = upper[offset] + table.shift[label];
            let low = lower[offset] - table.shift_of_others(label);
            lower[offset] = low;
            let limit = low.max(table.half_gap[label]);
            if up > limit {
                up = squared_distance(data.row(start + offset), table.matrix.row(label)).sqrt();
                if up > limit {
                    unsettled.push(start + offset);
                }
            }
            upper[offset] = up;
        }
        let mut moves = Vec::new();
        for_nearest_two(data, norms, &unsettled, table, |index, nearest| {
            let row = unsettled[index];
            let offset = row - start;
            upper[offset] = nearest.best.sqrt();
            lower[offset] = nearest.second.sqrt();
            if labels[offset] != nearest.label {
                moves.push(Move {
                    row,
                    from: labels[offset],
                    to: nearest.label,
                });
                labels[offset] = nearest.label;
            }
        });
        moves
    });
    moves_per_chunk.into_iter().flatten().collect()
}

/// One assignment step with Elkan's bounds: updates them for the last
/// centre shifts, then measures a row's distance to a centre only when
/// neither its bound nor half the distance between the two centres rules
/// that centre out.
pub(super) fn assign_elkan(
    data: &Matrix,
    table: &CentreTable,
    labels: &mut [u32],
    upper: &mut [f32],
    lower: &mut [f32],
) -> Vec<Move> {
    let k = table.matrix.rows();
    let items: Vec<_> = labels
        .chunks_mut(CHUNK_ROWS)
        .zip(upper.chunks_mut(CHUNK_ROWS))
        .zip(lower.chunks_mut(CHUNK_ROWS * k))
        .enumerate()
        .map(|(index, ((labels, upper), lower))| (index * CHUNK_ROWS, labels, upper, lower))
        .collect();
    let moves_per_chunk = parallel_map(items, |(start, labels, upper, lower)| {
        let mut moves = Vec::new();
        let rows = labels
            .iter_mut()
            .zip(upper.iter_mut())
            .zip(lower.chunks_exact_mut(k));
        for (offset, ((label, up), bounds)) in rows.enumerate() {
            for (bound, &shift) in bounds.iter_mut().zip(&table.shift) {
                *bound -= shift;
            }
            let mut nearest = *label as usize;
            let mut distance = *up + table.shift[nearest];
            if distance > table.half_gap[nearest] {
                let row = data.row(start + offset);
                let mut tight = false;
                for j in 0..k {
                    let limit = bounds[j].max(table.half_distances[nearest * k + j]);
                    if j == nearest || distance <= limit {
                        continue;
                    }
                    if !tight {
                        distance = squared_distance(row, table.matrix.row(nearest)).sqrt();
                        tight = true;
                        if distance <= limit {
                            continue;
                        }
                    }
                    let candidate = squared_distance(row, table.matrix.row(j)).sqrt();
                    bounds[j] = candidate;
                    if candidate < distance {
                        bounds[nearest] = distance;
                        nearest = j;
                        distance = candidate;
                    }
                }
            }
            *up = distance;
            if nearest as u32 != *label {
                moves.push(Move {
                    row: start + offset,
                    from: *label,
                    to: nearest as u32,
                });
                *label = nearest as u32;
            }
        }
        moves
    });
    moves_per_chunk.into_iter().flatten().collect()
}

/// Gives each empty cluster the row farthest from its own centre (taken from
/// a cluster with other rows), as scikit-learn does. A cluster stays empty
/// when every row sits on its centre.
pub(super) fn relocate_empty_clusters(
    data: &Matrix,
    centres: &Matrix,
    labels: &mut [u32],
    upper: &mut [f32],
    lower: &mut Bounds,
    sums: &mut ClusterSums,
) {
    let empty: Vec<usize> = (0..sums.counts.len())
        .filter(|&j| sums.counts[j] == 0)
        .collect();
    if empty.is_empty() {
        return;
    }
    let distances = distances_to_own_centre(data, centres, labels);
    let mut order: Vec<usize> = (0..labels.len()).filter(|&i| distances[i] > 0.0).collect();
    order.sort_by(|&a, &b| distances[b].total_cmp(&distances[a]).then(a.cmp(&b)));
    let mut candidates = order.into_iter();
    let mut remaining = sums.counts.clone();
    let mut moves = Vec::new();
    for cluster in empty {
        let Some(row) = candidates.find(|&i| remaining[labels[i] as usize] > 1) else {
            break;
        };
        let from = labels[row];
        remaining[from as usize] -= 1;
        remaining[cluster] += 1;
        labels[row] = cluster as u32;
        // Settled afresh at the next assignment.
        upper[row] = f32::INFINITY;
        match lower {
            Bounds::Nearest(lower) => lower[row] = 0.0,
            Bounds::PerCentre(lower) => {
                let k = sums.counts.len();
                lower[row * k..(row + 1) * k].fill(0.0);
            }
        }
        moves.push(Move {
            row,
            from,
            to: cluster as u32,
        });
    }
    sums.apply(data, &moves);
}

/// Squared distance from each row to the centre of its cluster.
pub(super) fn distances_to_own_centre(data: &Matrix, centres: &Matrix, labels: &[u32]) -> Vec<f32> {
    let mut distances = vec![0f32; labels.len()];
    let items: Vec<_> = distances
        .chunks_mut(CHUNK_ROWS)
        .enumerate()
        .map(|(index, chunk)| (index * CHUNK_ROWS, chunk))
        .collect();
    parallel_map(items, |(start, chunk)| {
        for (offset, distance) in chunk.iter_mut().enumerate() {
            let row = start + offset;
            *distance = squared_distance(data.row(row), centres.row(labels[row] as usize));
        }
    });
    distances
}

/// Sum of squared distances from each row to its centre (exact, in f64).
pub(super) fn inertia(data: &Matrix, labels: &[u32], centres: &Matrix) -> f64 {
    let starts: Vec<usize> = (0..labels.len()).step_by(CHUNK_ROWS).collect();
    parallel_map(starts, |start| {
        (start..(start + CHUNK_ROWS).min(labels.len()))
            .map(|row| {
                f64::from(squared_distance(
                    data.row(row),
                    centres.row(labels[row] as usize),
                ))
            })
            .sum::<f64>()
    })
    .iter()
    .sum()
}

/// Removes clusters without rows and renumbers the labels.
pub(super) fn drop_empty_clusters(
    centres: Matrix,
    labels: Vec<u32>,
    counts: &[usize],
) -> (Matrix, Vec<u32>) {
    if counts.iter().all(|&count| count > 0) {
        return (centres, labels);
    }
    let kept: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] > 0).collect();
    let mut renumber = vec![0u32; counts.len()];
    for (new, &old) in kept.iter().enumerate() {
        renumber[old] = new as u32;
    }
    let labels = labels
        .into_iter()
        .map(|label| renumber[label as usize])
        .collect();
    (centres.select(&kept), labels)
}
