//! The printed gold grid: lines of [`GRID_LINE_WIDTH_MM`] along the cell boundaries, only where they border an
//! existing cell (the staircase outline of the matrix and everything inside it).

use super::supersample::Shape;
use crate::phantom::cdmam::{
    geometry::Cell,
    tables::{CELL_PITCH_MM, GRID_LINE_WIDTH_MM},
};

/// The boundary lines of the 16 × 16 matrix: `vertical[k][row]` is the segment at `u = (k − 8)·pitch` along the
/// given row (between columns `k − 1` and `k`); `horizontal[k][col]` the segment at `v = (k − 8)·pitch`.
pub(crate) struct Grid {
    vertical: [[bool; 16]; 17],
    horizontal: [[bool; 16]; 17],
}

impl Grid {
    pub(crate) fn new() -> Self {
        let exists = |row: usize, col: Option<usize>| col.is_some_and(|col| Cell::exists(row, col));
        let mut vertical = [[false; 16]; 17];
        let mut horizontal = [[false; 16]; 17];
        for k in 0..17 {
            for i in 0..16 {
                vertical[k][i] = exists(i, k.checked_sub(1)) || exists(i, Some(k));
                horizontal[k][i] = k.checked_sub(1).is_some_and(|row| Cell::exists(row, i)) || Cell::exists(k, i);
            }
        }
        Self { vertical, horizontal }
    }

    /// Whether a segment of `lines` runs through the across-coordinate `a` (mm) at along-coordinate `b` (mm),
    /// segments extended by half a line width at their ends so that corners close.
    fn hits(lines: &[[bool; 16]; 17], a: f64, b: f64) -> bool {
        let half = GRID_LINE_WIDTH_MM / 2.0;
        let k = (a / CELL_PITCH_MM + 8.0).round();
        if !(0.0..=16.0).contains(&k) || (a - (k - 8.0) * CELL_PITCH_MM).abs() > half {
            return false;
        }
        [b - half, b + half].iter().any(|&s| {
            let i = (s / CELL_PITCH_MM + 8.0).floor();
            (0.0..16.0).contains(&i) && lines[k as usize][i as usize]
        })
    }
}

/// Distance from `a` to the nearest multiple of the pitch, mm.
fn off_line(a: f64) -> f64 {
    (a - (a / CELL_PITCH_MM).round() * CELL_PITCH_MM).abs()
}

impl Shape for Grid {
    fn quick(&self, [u, v]: [f64; 2], slack_mm: f64) -> Option<f64> {
        let reach = GRID_LINE_WIDTH_MM / 2.0 + slack_mm;
        let outside_matrix = u.abs().max(v.abs()) > 8.0 * CELL_PITCH_MM + reach;
        (outside_matrix || off_line(u).min(off_line(v)) > reach).then_some(0.0)
    }

    fn contains(&self, [u, v]: [f64; 2]) -> bool {
        Self::hits(&self.vertical, u, v) || Self::hits(&self.horizontal, v, u)
    }
}
