//! Dense row-major matrices of `f32`: the vectors every clustering method reads.

/// `rows` vectors of `cols` values each, stored row after row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

impl Matrix {
    /// A matrix from row-major values; `None` when `data.len() != rows * cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Option<Self> {
        (rows.checked_mul(cols)? == data.len()).then_some(Self { rows, cols, data })
    }

    /// A `rows` × `cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Number of rows (vectors).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (dimensions).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i`, to change.
    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Every value, row after row.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            rows: indices.len(),
            cols: self.cols,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::kernels::squared_distance;

    #[test]
    fn rows_and_distances() {
        let m = Matrix::new(2, 9, (0..18).map(|v| v as f32).collect()).expect("shape");
        assert_eq!(m.row(1)[0], 9.0);
        assert_eq!(squared_distance(m.row(0), m.row(1)), 9.0 * 81.0);
        assert!(Matrix::new(2, 2, vec![0.0; 3]).is_none());
        assert_eq!(m.select(&[1]).row(0), m.row(1));
    }
}
