//! Distances from rows to every centre: the nearest two, through
//! ‖x‖² + ‖c‖² − 2 x·c.

use super::*;

/// The nearest and second-nearest centre of a row (squared distances).
#[derive(Debug, Clone, Copy)]
pub(super) struct NearestTwo {
    pub(super) label: u32,
    pub(super) best: f32,
    pub(super) second: f32,
}

impl NearestTwo {
    const NONE: Self = Self {
        label: 0,
        best: f32::INFINITY,
        second: f32::INFINITY,
    };

    pub(super) fn offer(&mut self, label: usize, squared: f32) {
        if squared < self.best {
            self.second = self.best;
            self.best = squared;
            self.label = label as u32;
        } else if squared < self.second {
            self.second = squared;
        }
    }
}

/// Finds the two nearest centres of each of `rows` (indices into `data`)
/// and calls `found(position in rows, …)`.
pub(super) fn for_nearest_two(
    data: &Matrix,
    norms: &[f32],
    rows: &[usize],
    table: &CentreTable,
    mut found: impl FnMut(usize, NearestTwo),
) {
    let centres = &table.matrix;
    let k = centres.rows();
    for (position, &row) in rows.iter().enumerate() {
        let x = data.row(row);
        let squared = |centre: usize, product: f32| {
            (norms[row] + table.norms[centre] - 2.0 * product).max(0.0)
        };
        let mut nearest = NearestTwo::NONE;
        let mut j = 0;
        while j + 1 < k {
            let [first, second] = dot_1x2(x, centres.row(j), centres.row(j + 1));
            nearest.offer(j, squared(j, first));
            nearest.offer(j + 1, squared(j + 1, second));
            j += 2;
        }
        if j < k {
            nearest.offer(j, squared(j, dot(x, centres.row(j))));
        }
        found(position, nearest);
    }
}

/// ‖x − c‖² from ‖x‖², ‖c‖² and x·c, recomputed directly when the two are
/// so close that the subtraction would lose the digits (so that a row equal
/// to a centre is at distance exactly 0).
pub(super) fn squared_via_dot(
    row_norm: f32,
    centre_norm: f32,
    product: f32,
    row: &[f32],
    centre: &[f32],
) -> f32 {
    let squared = row_norm + centre_norm - 2.0 * product;
    if squared <= 1e-2 * (row_norm + centre_norm) {
        squared_distance(row, centre)
    } else {
        squared
    }
}
