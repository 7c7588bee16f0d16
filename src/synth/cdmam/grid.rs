//! The printed gold grid: lines of [`GRID_LINE_WIDTH_MM`] along the cell boundaries, only where they border an
//! existing cell (the staircase outline of the matrix and everything inside it), and the aluminium plate.

use super::supersample::Shape;
use crate::phantom::cdmam::{
    geometry::Cell,
    tables::{CELL_PITCH_MM, GRID_LINE_WIDTH_MM, PLATE_SIZE_MM},
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

/// The aluminium plate: [`PLATE_SIZE_MM`] (width, height), centred on the matrix and aligned with the image axes
/// at the nominal 45° pose, i.e. turned by −45° in the phantom frame.
pub(crate) struct Plate;

impl Plate {
    /// Phantom frame → plate frame (mm from the matrix centre, x across, y along the diamond).
    pub(crate) fn to_plate([u, v]: [f64; 2]) -> [f64; 2] {
        let h = std::f64::consts::FRAC_1_SQRT_2;
        [h * (u - v), h * (u + v)]
    }

    /// Plate frame → phantom frame.
    pub(crate) fn to_phantom([x, y]: [f64; 2]) -> [f64; 2] {
        let h = std::f64::consts::FRAC_1_SQRT_2;
        [h * (x + y), h * (y - x)]
    }

    /// Signed distance inside the plate's nearest edge, mm (negative outside).
    fn depth(p: [f64; 2]) -> f64 {
        let [x, y] = Self::to_plate(p);
        (PLATE_SIZE_MM[0] / 2.0 - x.abs()).min(PLATE_SIZE_MM[1] / 2.0 - y.abs())
    }
}

impl Shape for Plate {
    fn quick(&self, p: [f64; 2], slack_mm: f64) -> Option<f64> {
        let d = Self::depth(p);
        (d.abs() > slack_mm).then_some(if d > 0.0 { 1.0 } else { 0.0 })
    }

    fn contains(&self, p: [f64; 2]) -> bool {
        Self::depth(p) > 0.0
    }
}
