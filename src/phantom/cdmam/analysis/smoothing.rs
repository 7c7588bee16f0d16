//! The protocol's smoothing of the fraction-correct matrix before the psychometric fits.
//!
//! Each cell becomes the weighted mean of its 3 × 3 neighbourhood with the kernel
//! `[[.25, .5, .25], [.5, 1, .5], [.25, .5, .25]]`, normalised over the neighbourhood cells that hold a value (so
//! the edges and the staircase of the matrix, where cells are missing, are averaged over what exists rather than
//! pulled towards zero). Cells without a value stay without one.

use crate::phantom::cdmam::geometry::Cell;

use super::matrix::CellMatrix;

/// Kernel weights indexed `[row offset + 1][column offset + 1]`.
pub const KERNEL: [[f64; 3]; 3] = [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]];

/// The smoothed matrix.
pub fn smooth(values: &CellMatrix<f64>) -> CellMatrix<f64> {
    let mut out = CellMatrix::default();
    for (cell, _) in values.values() {
        let (mut sum, mut weight) = (0.0, 0.0);
        for (dr, kernel_row) in KERNEL.iter().enumerate() {
            for (dc, &w) in kernel_row.iter().enumerate() {
                let (Some(row), Some(col)) = ((cell.row + dr).checked_sub(1), (cell.col + dc).checked_sub(1)) else { continue };
                if let Some(v) = values.get(Cell { row, col }) {
                    sum += w * v;
                    weight += w;
                }
            }
        }
        out.set(cell, Some(sum / weight));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(value: impl Fn(Cell) -> f64) -> CellMatrix<f64> {
        let mut m = CellMatrix::default();
        for cell in Cell::all() {
            m.set(cell, Some(value(cell)));
        }
        m
    }

    #[test]
    fn a_constant_matrix_stays_constant_at_edges_and_on_the_staircase() {
        let s = smooth(&full(|_| 0.7));
        assert_eq!(s.count(), 205);
        assert!(s.values().all(|(_, v)| (v - 0.7).abs() < 1e-12));
    }

    #[test]
    fn weights_are_normalised_over_existing_cells() {
        // A single 1 at an interior cell: its own smoothed value is 1/4 (kernel sum 4), an axis neighbour's 0.5/4.
        let spike = Cell { row: 7, col: 7 };
        let s = smooth(&full(|c| f64::from(u8::from(c == spike))));
        assert!((s.get(spike).unwrap() - 0.25).abs() < 1e-12);
        assert!((s.get(Cell { row: 7, col: 8 }).unwrap() - 0.125).abs() < 1e-12);
        assert!((s.get(Cell { row: 8, col: 8 }).unwrap() - 0.0625).abs() < 1e-12);
        // A staircase corner: (0, 1) has (0, 2), (1, 0), (1, 1), (1, 2) around it; (0, 0) does not exist.
        // Weights: self 1, right 0.5, below 0.5, diagonals 0.25 + 0.25 → 2.5.
        let corner = Cell { row: 0, col: 1 };
        let s = smooth(&full(|c| f64::from(u8::from(c == corner))));
        assert!((s.get(corner).unwrap() - 1.0 / 2.5).abs() < 1e-12);
        // A missing value is skipped, not read as zero.
        let mut m = full(|_| 1.0);
        m.set(Cell { row: 7, col: 8 }, None);
        let s = smooth(&m);
        assert_eq!(s.get(Cell { row: 7, col: 8 }), None);
        assert!((s.get(spike).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_linear_ramp_is_preserved_inside() {
        // The kernel is symmetric, so a ramp along the columns is unchanged where the whole 3 × 3 block exists.
        let s = smooth(&full(|c| c.col as f64 / 15.0));
        let c = Cell { row: 7, col: 7 };
        assert!((s.get(c).unwrap() - 7.0 / 15.0).abs() < 1e-12);
    }
}
