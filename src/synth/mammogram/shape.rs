//! The silhouette of a compressed breast: a star-shaped region around a point `C` on the chest wall, tabulated as
//! the boundary radius `R(φ)` for directions `φ ∈ [−π/2, π/2]` (0 = straight toward the nipple side, +π/2 = down).
//!
//! In a frame rotated by the tilt `θ` (`u` along the axis from `C` to the nipple, `v` across, positive down), the
//! breast in front of the chest-wall centre is a generalised half-superellipse
//! `(u/D)^q + |v/H±|^p ≤ 1` — with `q ≈ 1.3–1.7 < p ≈ 2` it tapers from the chest wall to a rounded nipple
//! (between a half-ellipse, `p = q = 2`, and a parabola, `q = 1`). `H₊`/`H₋` are the half-heights below/above the
//! axis. Behind the centre (`u < 0`, only reached in an MLO) the upper side flares toward the axilla:
//! `|v| ≤ H₋ + k·u²/(|u| + u₀)`, a smooth turn into a nearly straight upper edge running from the axilla down and
//! out to the nipple. A few low harmonics make every breast a little different.

use std::f64::consts::{FRAC_PI_2, PI};

/// Directions in the table over `[−π/2, π/2]`.
const SAMPLES: usize = 2048;
/// Radial step of the boundary search, mm (refined by bisection).
const MARCH_MM: f64 = 0.5;
/// Scale of the smooth turn into the axillary flare, mm.
const FLARE_TURN_MM: f64 = 15.0;

/// Parameters of the silhouette (lengths in mm, angles in radians).
#[derive(Clone, Debug)]
pub(crate) struct ShapeParams {
    /// Chest-wall centre to nipple, along the axis.
    pub depth_mm: f64,
    /// Half-height above the axis at the chest-wall centre.
    pub half_up_mm: f64,
    /// Half-height below the axis.
    pub half_down_mm: f64,
    /// Exponent `q` along the axis (taper toward the nipple).
    pub axial_exponent: f64,
    /// Exponent `p` across the axis (≤ 2.2 keeps the nipple region rounded).
    pub lateral_exponent: f64,
    /// Tilt of the axis, down from horizontal (MLO ≈ 0.3–0.45, CC ≈ 0).
    pub tilt_rad: f64,
    /// Slope `k` of the axillary flare behind the centre (0 for a CC).
    pub flare: f64,
    /// Relative amplitude and phase of harmonics 2, 3, … of the boundary radius.
    pub harmonics: Vec<(f64, f64)>,
}

impl ShapeParams {
    fn contains(&self, u: f64, v: f64) -> bool {
        let half = if v < 0.0 { self.half_up_mm } else { self.half_down_mm };
        if u >= 0.0 {
            (u / self.depth_mm).powf(self.axial_exponent) + (v.abs() / half).powf(self.lateral_exponent) <= 1.0
        } else {
            let flare = if v < 0.0 { self.flare * u * u / (u.abs() + FLARE_TURN_MM) } else { 0.0 };
            v.abs() <= half + flare
        }
    }

    /// Distance from the centre to the boundary along `phi` (image frame), without harmonics.
    fn ray_radius(&self, phi: f64) -> f64 {
        let psi = phi - self.tilt_rad;
        let (du, dv) = (psi.cos(), psi.sin());
        let limit = 4.0 * (self.depth_mm + self.half_up_mm + self.half_down_mm);
        let mut outer = MARCH_MM;
        while outer < limit && self.contains(outer * du, outer * dv) {
            outer += MARCH_MM;
        }
        let mut inner = (outer - MARCH_MM).max(0.0);
        for _ in 0..40 {
            let mid = 0.5 * (inner + outer);
            if self.contains(mid * du, mid * dv) {
                inner = mid;
            } else {
                outer = mid;
            }
        }
        0.5 * (inner + outer)
    }
}

/// The tabulated boundary `R(φ)` and its derivative.
#[derive(Clone, Debug)]
pub(crate) struct Shape {
    radius_mm: Vec<f64>,
    slope_mm: Vec<f64>,
}

impl Shape {
    pub fn new(params: &ShapeParams) -> Self {
        let step = PI / (SAMPLES - 1) as f64;
        let radius_mm: Vec<f64> = (0..SAMPLES)
            .map(|i| {
                let phi = -FRAC_PI_2 + step * i as f64;
                let psi = phi - params.tilt_rad;
                let wobble: f64 = params.harmonics.iter().enumerate().map(|(k, &(a, p))| a * ((k as f64 + 2.0) * psi + p).cos()).sum();
                params.ray_radius(phi) * (1.0 + wobble)
            })
            .collect();
        let slope_mm = (0..SAMPLES)
            .map(|i| {
                let (lo, hi) = (i.saturating_sub(1), (i + 1).min(SAMPLES - 1));
                (radius_mm[hi] - radius_mm[lo]) / (step * (hi - lo) as f64)
            })
            .collect();
        Self { radius_mm, slope_mm }
    }

    /// `(R(φ), dR/dφ)` in mm, interpolated linearly; `φ` is clamped to `[−π/2, π/2]`.
    pub fn radius(&self, phi: f64) -> (f64, f64) {
        let g = ((phi + FRAC_PI_2) / PI * (SAMPLES - 1) as f64).clamp(0.0, (SAMPLES - 1) as f64);
        let i = (g as usize).min(SAMPLES - 2);
        let t = g - i as f64;
        let lerp = |v: &[f64]| v[i] * (1.0 - t) + v[i + 1] * t;
        (lerp(&self.radius_mm), lerp(&self.slope_mm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_superellipse_radius_matches_closed_form() {
        let params = ShapeParams {
            depth_mm: 90.0,
            half_up_mm: 70.0,
            half_down_mm: 60.0,
            axial_exponent: 2.0,
            lateral_exponent: 2.0,
            tilt_rad: 0.0,
            flare: 0.0,
            harmonics: Vec::new(),
        };
        let shape = Shape::new(&params);
        assert!((shape.radius(0.0).0 - 90.0).abs() < 0.05);
        assert!((shape.radius(FRAC_PI_2).0 - 60.0).abs() < 0.05);
        assert!((shape.radius(-FRAC_PI_2).0 - 70.0).abs() < 0.05);
        let phi: f64 = 0.6;
        let exact = ((phi.cos() / 90.0).powi(2) + (phi.sin() / 60.0).powi(2)).powf(-0.5);
        assert!((shape.radius(phi).0 - exact).abs() < 0.05);
    }
}
