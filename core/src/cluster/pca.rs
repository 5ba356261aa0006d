//! Principal component analysis: the few directions along which vectors vary
//! most, for the 2-D scatter view and to shrink vectors before density
//! clustering.
//!
//! The covariance matrix (columns × columns) is accumulated in f64 from
//! centred, transposed blocks of rows with the vectorised dot products of
//! k-means. Its leading eigenvectors come from subspace iteration on it (the
//! randomized range finder of Halko, Martinsson and Tropp 2011, iterated in
//! f32 until the Ritz values settle) and a final Rayleigh–Ritz step in f64
//! with a Jacobi eigensolver on the small projected matrix. The cost is one
//! pass over the data (rows × columns² / 2 multiply-adds) plus work that
//! depends only on the number of columns, which suits embeddings of a few
//! hundred dimensions (100,000 × 384 on two cores: about 0.3 s for 2
//! components, 0.5 s for 50).

use super::kernels::{dot, dot_1x2};
use super::matrix::Matrix;
use crate::job::{Cancelled, Watch};
use crate::parallel::parallel_map;
use crate::rng::Rng;

/// Rows per transposed block of the covariance pass.
const BLOCK_ROWS: usize = 256;

/// Rows per unit of parallel work (fixed, so results do not depend on the
/// number of threads).
const GROUP_ROWS: usize = 8192;

/// Extra directions iterated beyond those asked for; they speed up and
/// steady the convergence of the wanted ones.
const OVERSAMPLING: usize = 10;

/// Most subspace iterations.
const MAX_ITERATIONS: usize = 150;

/// Relative change of the leading Ritz values under which iteration stops
/// (the iteration runs in f32).
const CONVERGED: f64 = 1e-5;

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Mean of every column of the fitted data.
    pub mean: Vec<f32>,
    /// Unit-length, mutually orthogonal directions, one per row (components ×
    /// columns), by decreasing variance. Each is signed so that its largest
    /// coordinate (in absolute value) is positive.
    pub components: Matrix,
    /// Variance of the data along each component (denominator rows − 1).
    pub explained_variance: Vec<f64>,
}

/// Fits `components` principal components of the rows of `data` (fewer when
/// the data has fewer columns). `seed` draws the starting subspace; results
/// are deterministic for a seed. Values are expected to be finite. `watch`
/// hears of the subspace iterations and can stop the fit between them.
pub fn fit_pca(
    data: &Matrix,
    components: usize,
    seed: u64,
    watch: &dyn Watch,
) -> Result<Pca, Cancelled> {
    let (rows, cols) = (data.rows(), data.cols());
    let wanted = components.min(cols);
    let mean = column_means(data);
    let mean_f32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    if rows == 0 || wanted == 0 {
        return Ok(Pca {
            mean: mean_f32,
            components: Matrix::zeros(0, cols),
            explained_variance: Vec::new(),
        });
    }
    watch.check()?;
    let mut covariance = scatter_matrix(data, &mean_f32);
    let denominator = rows.saturating_sub(1).max(1) as f64;
    for value in &mut covariance {
        *value /= denominator;
    }
    let (values, vectors) = leading_eigenpairs(&covariance, cols, wanted, seed, watch)?;
    let mut flat = Vec::with_capacity(wanted * cols);
    for mut vector in vectors {
        let largest = vector
            .iter()
            .copied()
            .fold(0f64, |kept, v| if v.abs() > kept.abs() { v } else { kept });
        if largest < 0.0 {
            for v in &mut vector {
                *v = -*v;
            }
        }
        flat.extend(vector.iter().map(|&v| v as f32));
    }
    Ok(Pca {
        mean: mean_f32,
        components: Matrix::new(wanted, cols, flat).unwrap_or_else(|| Matrix::zeros(wanted, cols)),
        explained_variance: values,
    })
}

impl Pca {
    /// Coordinates of each row of `data` along the components (rows ×
    /// components). `data` must have the fitted number of columns; a matrix
    /// of another width gives zeros.
    pub fn project(&self, data: &Matrix) -> Matrix {
        let (rows, cols) = (data.rows(), data.cols());
        let count = self.components.rows();
        let mut out = Matrix::zeros(rows, count);
        if cols != self.mean.len() || count == 0 || rows == 0 {
            return out;
        }
        let starts: Vec<usize> = (0..rows).step_by(GROUP_ROWS).collect();
        let blocks = parallel_map(starts, |start| {
            let end = (start + GROUP_ROWS).min(rows);
            let mut values = vec![0f32; (end - start) * count];
            let mut centred = vec![0f32; cols];
            for (i, out) in (start..end).zip(values.chunks_exact_mut(count)) {
                for ((c, &v), &m) in centred.iter_mut().zip(data.row(i)).zip(&self.mean) {
                    *c = v - m;
                }
                let mut j = 0;
                while j + 1 < count {
                    [out[j], out[j + 1]] =
                        dot_1x2(&centred, self.components.row(j), self.components.row(j + 1));
                    j += 2;
                }
                if j < count {
                    out[j] = dot(&centred, self.components.row(j));
                }
            }
            values
        });
        let mut row = 0;
        for block in blocks {
            for values in block.chunks_exact(count) {
                out.row_mut(row).copy_from_slice(values);
                row += 1;
            }
        }
        out
    }
}

/// Mean of each column, in f64.
fn column_means(data: &Matrix) -> Vec<f64> {
    let (rows, cols) = (data.rows(), data.cols());
    let starts: Vec<usize> = (0..rows).step_by(GROUP_ROWS).collect();
    let partial = parallel_map(starts, |start| {
        let mut sums = vec![0f64; cols];
        for i in start..(start + GROUP_ROWS).min(rows) {
            for (sum, &v) in sums.iter_mut().zip(data.row(i)) {
                *sum += f64::from(v);
            }
        }
        sums
    });
    let mut means = vec![0f64; cols];
    for sums in partial {
        for (mean, sum) in means.iter_mut().zip(sums) {
            *mean += sum;
        }
    }
    for mean in &mut means {
        *mean /= rows.max(1) as f64;
    }
    means
}

/// Σ (x − mean)(x − mean)ᵀ over the rows: columns × columns, row-major, f64.
fn scatter_matrix(data: &Matrix, mean: &[f32]) -> Vec<f64> {
    let (rows, cols) = (data.rows(), data.cols());
    // An even number of transposed columns, so that pairs always fit; the
    // padding column stays zero.
    let padded = cols + cols % 2;
    let starts: Vec<usize> = (0..rows).step_by(GROUP_ROWS).collect();
    let partial = parallel_map(starts, |start| {
        let end = (start + GROUP_ROWS).min(rows);
        let mut sums = vec![0f64; padded * padded];
        // Column a of the block at tile[a * BLOCK_ROWS ..]; short blocks are
        // padded with zeros, which add nothing.
        let mut tile = vec![0f32; padded * BLOCK_ROWS];
        for block_start in (start..end).step_by(BLOCK_ROWS) {
            let block_end = (block_start + BLOCK_ROWS).min(end);
            tile.fill(0.0);
            // Eight rows at a time, so that each column receives eight
            // consecutive values.
            for group_start in (block_start..block_end).step_by(8) {
                let group: Vec<&[f32]> = (group_start..(group_start + 8).min(block_end))
                    .map(|i| data.row(i))
                    .collect();
                let offset = group_start - block_start;
                for (a, &m) in mean.iter().enumerate() {
                    let column = &mut tile[a * BLOCK_ROWS + offset..][..group.len()];
                    for (value, row) in column.iter_mut().zip(&group) {
                        *value = row[a] - m;
                    }
                }
            }
            let column = |a: usize| &tile[a * BLOCK_ROWS..(a + 1) * BLOCK_ROWS];
            for a in 0..cols {
                // Pairs (b, b + 1) from the even column at or below a: the
                // upper triangle and a little of the lower, overwritten below.
                for b in (a - a % 2..padded).step_by(2) {
                    let [first, second] = dot_1x2(column(a), column(b), column(b + 1));
                    sums[a * padded + b] += f64::from(first);
                    sums[a * padded + b + 1] += f64::from(second);
                }
            }
        }
        sums
    });
    let mut scatter = vec![0f64; cols * cols];
    for sums in partial {
        for a in 0..cols {
            for b in a..cols {
                scatter[a * cols + b] += sums[a * padded + b];
            }
        }
    }
    for a in 0..cols {
        for b in 0..a {
            scatter[a * cols + b] = scatter[b * cols + a];
        }
    }
    scatter
}

/// The `wanted` largest eigenvalues of the symmetric `size` × `size` matrix
/// `matrix` (row-major) with their unit eigenvectors, largest first.
///
/// Subspace iteration runs in f32 with the vectorised kernel (each step is
/// size² × (wanted + 10) multiply-adds); the final Rayleigh–Ritz step is in
/// f64.
fn leading_eigenpairs(
    matrix: &[f64],
    size: usize,
    wanted: usize,
    seed: u64,
    watch: &dyn Watch,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), Cancelled> {
    let width = (wanted + OVERSAMPLING).min(size);
    let single: Vec<f32> = matrix.iter().map(|&v| v as f32).collect();
    let mut rng = Rng::new(seed);
    let mut basis: Vec<Vec<f32>> = (0..width)
        .map(|_| (0..size).map(|_| rng.range(-1.0, 1.0) as f32).collect())
        .collect();
    orthonormalise(&mut basis, &mut rng);
    // With as many directions as dimensions the subspace is already everything.
    if width < size {
        let mut ritz: Vec<f64> = Vec::new();
        for iteration in 0..MAX_ITERATIONS {
            watch.check()?;
            watch.progress("PCA iterations", iteration as u64, MAX_ITERATIONS as u64);
            let images = multiply_each(&single, size, &basis);
            if iteration % 3 == 2 {
                // Ritz values of the current basis: Bᵀ (M B).
                let mut small: Vec<f64> = basis
                    .iter()
                    .flat_map(|b| images.iter().map(move |image| f64::from(dot(b, image))))
                    .collect();
                symmetrise(&mut small, width);
                let (values, _) = symmetric_eigen(&mut small, width);
                let settled = !ritz.is_empty()
                    && values.iter().zip(&ritz).take(wanted).all(|(now, before)| {
                        (now - before).abs() <= CONVERGED * now.abs().max(f64::MIN_POSITIVE)
                    });
                ritz = values;
                if settled {
                    break;
                }
            }
            basis = images;
            orthonormalise(&mut basis, &mut rng);
        }
    }
    let basis: Vec<Vec<f64>> = basis
        .iter()
        .map(|b| b.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let (values, mixing) = rayleigh_ritz(matrix, size, &basis);
    let vectors = (0..wanted)
        .map(|e| {
            let mut vector = vec![0f64; size];
            for (q, column) in basis.iter().enumerate() {
                let weight = mixing[q * width + e];
                for (v, &b) in vector.iter_mut().zip(column) {
                    *v += weight * b;
                }
            }
            let norm = vector.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                for v in &mut vector {
                    *v /= norm;
                }
            }
            vector
        })
        .collect();
    Ok((values.into_iter().take(wanted).collect(), vectors))
}

/// `matrix × v` (f32) for every vector of `basis`, two vectors at a time, in
/// parallel.
fn multiply_each(matrix: &[f32], size: usize, basis: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let pairs: Vec<&[Vec<f32>]> = basis.chunks(2).collect();
    parallel_map(pairs, |pair| {
        let mut first = vec![0f32; size];
        let mut second = vec![0f32; size];
        for (r, row) in matrix.chunks_exact(size).enumerate() {
            match pair {
                [a, b] => [first[r], second[r]] = dot_1x2(row, a, b),
                [a] => first[r] = dot(row, a),
                _ => {}
            }
        }
        if pair.len() == 2 {
            vec![first, second]
        } else {
            vec![first]
        }
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Makes the square `size` × `size` row-major `matrix` exactly symmetric
/// (the mean of each entry and its mirror).
fn symmetrise(matrix: &mut [f64], size: usize) {
    for p in 0..size {
        for q in 0..p {
            let average = 0.5 * (matrix[p * size + q] + matrix[q * size + p]);
            matrix[p * size + q] = average;
            matrix[q * size + p] = average;
        }
    }
}

/// Eigenvalues (largest first) and eigenvectors of `Bᵀ M B` for the
/// orthonormal basis `B`, in f64; eigenvector `e` is column `e` of the
/// returned width × width row-major matrix.
fn rayleigh_ritz(matrix: &[f64], size: usize, basis: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let width = basis.len();
    let images: Vec<Vec<f64>> = basis
        .iter()
        .map(|vector| {
            matrix
                .chunks_exact(size)
                .map(|row| row.iter().zip(vector).map(|(a, b)| a * b).sum())
                .collect()
        })
        .collect();
    let mut small = vec![0f64; width * width];
    for p in 0..width {
        for q in 0..width {
            small[p * width + q] = basis[p].iter().zip(&images[q]).map(|(a, b)| a * b).sum();
        }
    }
    symmetrise(&mut small, width);
    symmetric_eigen(&mut small, width)
}

/// Gram–Schmidt (twice, for stability) over `vectors` in place; a vector
/// that depends on the earlier ones is replaced by a fresh random one.
fn orthonormalise(vectors: &mut [Vec<f32>], rng: &mut Rng) {
    for i in 0..vectors.len() {
        let (done, rest) = vectors.split_at_mut(i);
        let vector = &mut rest[0];
        for _attempt in 0..8 {
            let before = dot(vector, vector).sqrt();
            for _pass in 0..2 {
                for earlier in done.iter() {
                    let projection = dot(earlier, vector);
                    for (v, &e) in vector.iter_mut().zip(earlier) {
                        *v -= projection * e;
                    }
                }
            }
            let after = dot(vector, vector).sqrt();
            if after > 1e-4 * before && after > 0.0 {
                for v in vector.iter_mut() {
                    *v /= after;
                }
                break;
            }
            for v in vector.iter_mut() {
                *v = rng.range(-1.0, 1.0) as f32;
            }
        }
    }
}

/// Eigen-decomposition of the symmetric `size` × `size` row-major `matrix`
/// (destroyed) by cyclic Jacobi rotations: eigenvalues largest first, and
/// the eigenvectors as the columns of a row-major matrix in the same order.
fn symmetric_eigen(matrix: &mut [f64], size: usize) -> (Vec<f64>, Vec<f64>) {
    let n = size;
    let mut vectors = vec![0f64; n * n];
    for i in 0..n {
        vectors[i * n + i] = 1.0;
    }
    let total: f64 = matrix.iter().map(|v| v * v).sum();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| matrix[p * n + q].powi(2))
            .sum();
        if off <= 1e-30 * total || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = matrix[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (matrix[q * n + q] - matrix[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..n {
                    let (rp, rq) = (matrix[r * n + p], matrix[r * n + q]);
                    matrix[r * n + p] = c * rp - s * rq;
                    matrix[r * n + q] = s * rp + c * rq;
                }
                for r in 0..n {
                    let (pr, qr) = (matrix[p * n + r], matrix[q * n + r]);
                    matrix[p * n + r] = c * pr - s * qr;
                    matrix[q * n + r] = s * pr + c * qr;
                }
                for r in 0..n {
                    let (rp, rq) = (vectors[r * n + p], vectors[r * n + q]);
                    vectors[r * n + p] = c * rp - s * rq;
                    vectors[r * n + q] = s * rp + c * rq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        matrix[b * n + b]
            .total_cmp(&matrix[a * n + a])
            .then(a.cmp(&b))
    });
    let values = order.iter().map(|&i| matrix[i * n + i]).collect();
    let mut sorted = vec![0f64; n * n];
    for (new, &old) in order.iter().enumerate() {
        for r in 0..n {
            sorted[r * n + new] = vectors[r * n + old];
        }
    }
    (values, sorted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Unwatched;

    fn unit(v: &[f64]) -> Vec<f64> {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    fn cosine(a: &[f32], b: &[f64]) -> f64 {
        let dot: f64 = a.iter().zip(b).map(|(&x, &y)| f64::from(x) * y).sum();
        let na = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        let nb = b.iter().map(|y| y * y).sum::<f64>().sqrt();
        dot / (na * nb)
    }

    /// Rows `offset + Σ scale_i · z_i · axis_i + noise`, with unit-variance `noise`.
    fn elongated(
        rows: usize,
        offset: &[f64],
        axes: &[(f64, Vec<f64>)],
        noise: f64,
        seed: u64,
    ) -> Matrix {
        let cols = offset.len();
        let mut rng = Rng::new(seed);
        let mut values = Vec::with_capacity(rows * cols);
        for _ in 0..rows {
            let mut row: Vec<f64> = offset.iter().map(|&o| o + noise * rng.normal()).collect();
            for (scale, axis) in axes {
                let z = scale * rng.normal();
                for (r, a) in row.iter_mut().zip(axis) {
                    *r += z * a;
                }
            }
            values.extend(row.iter().map(|&v| v as f32));
        }
        Matrix::new(rows, cols, values).expect("shape")
    }

    #[test]
    fn finds_the_main_axis_of_an_elongated_gaussian() {
        let main = unit(&[1.0, 2.0, 0.0, -1.0, 0.5]);
        let offset = [10.0, -4.0, 3.0, 100.0, 0.0];
        let data = elongated(5000, &offset, &[(10.0, main.clone())], 1.0, 1);
        let pca = fit_pca(&data, 2, 7, &Unwatched).expect("not cancelled");
        assert_eq!(pca.components.rows(), 2);
        assert_eq!(pca.components.cols(), 5);
        assert!(cosine(pca.components.row(0), &main).abs() > 0.99);
        // Variance along the axis is 100 + 1 (noise); across it, 1.
        assert!(
            (pca.explained_variance[0] / 101.0 - 1.0).abs() < 0.1,
            "{:?}",
            pca.explained_variance
        );
        assert!((pca.explained_variance[1] - 1.0).abs() < 0.15);
        for (m, o) in pca.mean.iter().zip(offset) {
            assert!((f64::from(*m) - o).abs() < 0.5);
        }
    }

    #[test]
    fn components_are_orthonormal_and_ordered() {
        let mut rng = Rng::new(2);
        let axes: Vec<(f64, Vec<f64>)> = [12.0, 8.0, 5.0, 3.0]
            .iter()
            .map(|&scale| {
                (
                    scale,
                    unit(&(0..40).map(|_| rng.normal()).collect::<Vec<_>>()),
                )
            })
            .collect();
        let data = elongated(3000, &[0.0; 40], &axes, 0.5, 3);
        let pca = fit_pca(&data, 6, 4, &Unwatched).expect("not cancelled");
        assert_eq!(pca.components.rows(), 6);
        assert!(pca.explained_variance.windows(2).all(|w| w[0] >= w[1]));
        for a in 0..6 {
            for b in 0..6 {
                let product: f64 = pca
                    .components
                    .row(a)
                    .iter()
                    .zip(pca.components.row(b))
                    .map(|(&x, &y)| f64::from(x) * f64::from(y))
                    .sum();
                let expected = if a == b { 1.0 } else { 0.0 };
                assert!((product - expected).abs() < 1e-4, "{a}·{b} = {product}");
            }
        }
        // The four planted directions span the first four components.
        for (_, axis) in &axes {
            let captured: f64 = (0..4)
                .map(|c| cosine(pca.components.row(c), axis).powi(2))
                .sum();
            assert!(captured > 0.98, "captured {captured}");
        }
        // The same data and seed give the same fit.
        assert_eq!(
            pca,
            fit_pca(&data, 6, 4, &Unwatched).expect("not cancelled")
        );
    }

    #[test]
    fn projection_is_centred_and_matches_the_components() {
        let axis = unit(&[3.0, -1.0, 2.0]);
        let data = elongated(2001, &[5.0, 5.0, -5.0], &[(4.0, axis)], 0.3, 5);
        let pca = fit_pca(&data, 3, 6, &Unwatched).expect("not cancelled");
        let mean = Matrix::new(1, 3, pca.mean.clone()).expect("shape");
        let at_mean = pca.project(&mean);
        assert_eq!((at_mean.rows(), at_mean.cols()), (1, 3));
        assert!(at_mean.row(0).iter().all(|v| v.abs() < 1e-4));
        let projected = pca.project(&data);
        assert_eq!((projected.rows(), projected.cols()), (2001, 3));
        // Coordinates have mean 0 and the explained variances.
        for c in 0..3 {
            let values: Vec<f64> = (0..2001).map(|i| f64::from(projected.row(i)[c])).collect();
            let mean = values.iter().sum::<f64>() / 2001.0;
            let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2000.0;
            assert!(mean.abs() < 1e-3);
            assert!((variance / pca.explained_variance[c] - 1.0).abs() < 1e-3);
        }
        // Row 7 by hand.
        let by_hand: f64 = data
            .row(7)
            .iter()
            .zip(&pca.mean)
            .zip(pca.components.row(1))
            .map(|((&x, &m), &w)| f64::from(x - m) * f64::from(w))
            .sum();
        assert!((f64::from(projected.row(7)[1]) - by_hand).abs() < 1e-4);
        assert_eq!(pca.project(&Matrix::zeros(4, 2)), Matrix::zeros(4, 3));
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let empty = fit_pca(&Matrix::zeros(0, 4), 2, 1, &Unwatched).expect("not cancelled");
        assert_eq!(empty.components.rows(), 0);
        let same = Matrix::new(5, 3, [1.0f32, 2.0, 3.0].repeat(5)).expect("shape");
        let pca = fit_pca(&same, 2, 1, &Unwatched).expect("not cancelled");
        assert_eq!(pca.components.rows(), 2);
        assert!(pca.explained_variance.iter().all(|&v| v.abs() < 1e-9));
        let one = fit_pca(
            &Matrix::new(1, 3, vec![1.0, 2.0, 3.0]).expect("shape"),
            5,
            1,
            &Unwatched,
        )
        .expect("not cancelled");
        assert_eq!(one.components.rows(), 3);
    }

    #[test]
    fn jacobi_diagonalises() {
        let mut matrix = vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let original = matrix.clone();
        let (values, vectors) = symmetric_eigen(&mut matrix, 3);
        assert!(values.windows(2).all(|w| w[0] >= w[1]));
        for e in 0..3 {
            for r in 0..3 {
                let av: f64 = (0..3)
                    .map(|c| original[r * 3 + c] * vectors[c * 3 + e])
                    .sum();
                assert!((av - values[e] * vectors[r * 3 + e]).abs() < 1e-10);
            }
        }
        assert!((values.iter().sum::<f64>() - 12.0).abs() < 1e-10);
    }
}
