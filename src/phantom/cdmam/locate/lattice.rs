//! The square lattice of grid lines found on the coarse image, in lattice units: vertices at integer `(i, j)`, `i`
//! along `d` (the lattice angle), `j` along `n` (a quarter turn further).

use super::profile::axes;

#[derive(Clone, Copy, Debug)]
pub(super) struct Lattice {
    /// Angle of the `i` axis from the image x axis, radians, in `[0, π/2)` up to the refinement.
    pub theta: f64,
    /// Grid pitch, coarse pixels.
    pub period: f64,
    /// `d · x` of the lines where `i` is an integer, and `n · x` of the lines where `j` is, at `i = 0` / `j = 0`.
    pub phase: [f64; 2],
}

impl Lattice {
    /// Lattice coordinates → coarse image pixels.
    pub fn to_px(self, [i, j]: [f64; 2]) -> [f64; 2] {
        let (d, n) = axes(self.theta);
        let (t, s) = (self.phase[0] + i * self.period, self.phase[1] + j * self.period);
        [d[0] * t + n[0] * s, d[1] * t + n[1] * s]
    }

    /// Coarse image pixels → lattice coordinates.
    pub fn to_lattice(self, [x, y]: [f64; 2]) -> [f64; 2] {
        let (d, n) = axes(self.theta);
        let (t, s) = (d[0] * x + d[1] * y, n[0] * x + n[1] * y);
        [(t - self.phase[0]) / self.period, (s - self.phase[1]) / self.period]
    }

    /// The range of cells `[i0, i1) × [j0, j1)` that overlap a `width × height` image.
    pub fn cell_range(self, width: usize, height: usize) -> [i64; 4] {
        let (w, h) = (width as f64, height as f64);
        let corners = [[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]].map(|c| self.to_lattice(c));
        let lo = |k: usize| corners.iter().map(|c| c[k]).fold(f64::INFINITY, f64::min).floor() as i64;
        let hi = |k: usize| corners.iter().map(|c| c[k]).fold(f64::NEG_INFINITY, f64::max).ceil() as i64;
        [lo(0), hi(0), lo(1), hi(1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let lattice = Lattice { theta: 0.8, period: 24.3, phase: [3.0, -7.5] };
        let p = [12.25, -3.5];
        let q = lattice.to_lattice(lattice.to_px(p));
        assert!((q[0] - p[0]).abs() < 1e-9 && (q[1] - p[1]).abs() < 1e-9);
        let [i0, i1, j0, j1] = lattice.cell_range(100, 200);
        assert!(i0 < i1 && j0 < j1 && (i1 - i0) < 20);
    }
}
