//! Breast outline, compressed thickness and skin, and the pectoral muscle of an MLO.
//!
//! Detector coordinates in mm: `x` from the chest wall (column 0) toward the nipple, `y` down the rows.
//! The outline is a superellipse around a point on the chest wall, `R(ψ) = (|cos ψ/D|ⁿ + |sin ψ/H|ⁿ)^(−1/n)`,
//! with a few random low harmonics; `H` differs above and below the nipple axis, and an MLO's axis is tilted
//! and runs off the top edge (axillary tail). The compressed breast has thickness `T` in the centre and a
//! half-cylinder edge of radius `T/2`; a skin shell of thickness `s` makes the bright skin line where X-rays
//! cross it tangentially.

use std::f64::consts::FRAC_PI_2;

use rand::{Rng, rngs::StdRng};

use super::params::{MammogramParams, View};

/// Margin of air around the breast (not at the chest wall), in mm.
const MARGIN_MM: f64 = 6.0;
/// Skin thickness in mm.
pub(crate) const SKIN_MM: f64 = 1.5;

/// The pectoral muscle of an MLO: the region `x < width·(1 − y/height)^curvature`.
#[derive(Clone, Debug)]
pub(crate) struct Pectoral {
    pub width_mm: f64,
    pub height_mm: f64,
    pub curvature: f64,
}

/// The breast's shape on the detector.
#[derive(Clone, Debug)]
pub(crate) struct Outline {
    pub width: usize,
    pub height: usize,
    pub spacing_mm: f64,
    pub thickness_mm: f64,
    /// Centre of the superellipse, on the chest wall (`x = 0`).
    center_y_mm: f64,
    depth_mm: f64,
    half_up_mm: f64,
    half_down_mm: f64,
    exponent: f64,
    tilt_rad: f64,
    harmonics: Vec<(f64, f64)>,
    pub nipple_mm: [f64; 2],
    pub pectoral: Option<Pectoral>,
}

/// Where a point lies relative to the outline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Polar {
    /// `r / R(ψ)`: 0 at the chest-wall centre, 1 on the skin.
    pub rho: f64,
    /// Approximate distance to the skin line in mm (negative outside).
    pub skin_distance_mm: f64,
    /// Angle from the nipple axis, radians.
    pub psi: f64,
}

impl Outline {
    pub fn new(params: &MammogramParams, rng: &mut StdRng) -> Self {
        let mlo = params.view == View::Mlo;
        let depth_mm = params.breast_depth_mm * if mlo { 1.08 } else { 1.0 };
        let half = 0.5 * params.breast_width_mm;
        let (half_up_mm, half_down_mm) = if mlo {
            (
                half * rng.random_range(1.25..1.45),
                half * rng.random_range(0.8..0.95),
            )
        } else {
            (
                half * rng.random_range(0.95..1.1),
                half * rng.random_range(0.9..1.05),
            )
        };
        let tilt_rad = if mlo {
            rng.random_range(0.12..0.3)
        } else {
            rng.random_range(-0.06..0.06)
        };
        let harmonics = (2..=5)
            .map(|k| {
                (
                    rng.random_range(-0.03..0.03) / f64::from(k) * 2.0,
                    rng.random_range(0.0..6.3),
                )
            })
            .collect();
        let mut outline = Self {
            width: 0,
            height: 0,
            spacing_mm: params.pixel_spacing_mm,
            thickness_mm: params.thickness_mm,
            center_y_mm: 0.0,
            depth_mm,
            half_up_mm,
            half_down_mm,
            exponent: rng.random_range(2.0..2.5),
            tilt_rad,
            harmonics,
            nipple_mm: [0.0, 0.0],
            pectoral: None,
        };
        // Extent of the outline relative to its centre.
        let (mut x_max, mut y_min, mut y_max) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..=720 {
            let phi = -FRAC_PI_2 + std::f64::consts::PI * f64::from(i) / 720.0;
            let r = outline.boundary_radius(phi);
            x_max = x_max.max(r * phi.cos());
            y_min = y_min.min(r * phi.sin());
            y_max = y_max.max(r * phi.sin());
        }
        outline.center_y_mm = if mlo {
            -y_min * rng.random_range(0.82..0.9)
        } else {
            -y_min + MARGIN_MM
        };
        let height_mm = outline.center_y_mm + y_max + MARGIN_MM;
        outline.width = ((x_max + MARGIN_MM) / outline.spacing_mm).ceil() as usize;
        outline.height = (height_mm / outline.spacing_mm).ceil() as usize;
        let r_nipple = outline.boundary_radius(tilt_rad);
        outline.nipple_mm = [
            r_nipple * tilt_rad.cos(),
            outline.center_y_mm + r_nipple * tilt_rad.sin(),
        ];
        if mlo {
            let top_x = (outline.center_y_mm / outline.half_up_mm).min(1.0);
            let top_extent = depth_mm
                * (1.0 - top_x.powf(outline.exponent))
                    .max(0.0)
                    .powf(1.0 / outline.exponent);
            outline.pectoral = Some(Pectoral {
                width_mm: top_extent * rng.random_range(0.6..0.9),
                height_mm: outline.nipple_mm[1] * rng.random_range(0.9..1.2),
                curvature: rng.random_range(0.85..1.25),
            });
        }
        outline
    }

    /// Distance from the chest-wall centre to the skin in direction `phi` (0 = toward the nipple side).
    fn boundary_radius(&self, phi: f64) -> f64 {
        let psi = phi - self.tilt_rad;
        let half = if psi.sin() < 0.0 {
            self.half_up_mm
        } else {
            self.half_down_mm
        };
        let n = self.exponent;
        let base = ((psi.cos() / self.depth_mm).abs().powf(n) + (psi.sin() / half).abs().powf(n))
            .powf(-1.0 / n);
        let wobble: f64 = self
            .harmonics
            .iter()
            .enumerate()
            .map(|(k, &(a, p))| a * ((k as f64 + 2.0) * psi + p).cos())
            .sum();
        base * (1.0 + wobble)
    }

    /// The centre of the outline on the chest wall, mm.
    pub fn chest_center_mm(&self) -> [f64; 2] {
        [0.0, self.center_y_mm]
    }

    /// Position of pixel `(col, row)`'s centre in mm.
    pub fn pixel_mm(&self, col: usize, row: usize) -> [f64; 2] {
        [
            (col as f64 + 0.5) * self.spacing_mm,
            (row as f64 + 0.5) * self.spacing_mm,
        ]
    }

    pub fn polar(&self, p: [f64; 2]) -> Polar {
        let (dx, dy) = (p[0].max(1e-9), p[1] - self.center_y_mm);
        let phi = dy.atan2(dx);
        let r_boundary = self.boundary_radius(phi);
        let rho = dx.hypot(dy) / r_boundary;
        Polar {
            rho,
            skin_distance_mm: (1.0 - rho) * r_boundary,
            psi: phi - self.tilt_rad,
        }
    }

    /// Depth inside the pectoral muscle in mm (≤ 0 outside or in a CC).
    pub fn pectoral_depth_mm(&self, p: [f64; 2]) -> f64 {
        let Some(pec) = &self.pectoral else {
            return -1.0;
        };
        let t = (1.0 - p[1] / pec.height_mm).max(0.0);
        let edge_x = pec.width_mm * t.powf(pec.curvature);
        let cos_slope = pec.height_mm / pec.width_mm.hypot(pec.height_mm);
        (edge_x - p[0]) * cos_slope
    }

    /// Path lengths (tissue, skin) in mm through the compressed breast at `skin_distance_mm` from the skin line.
    pub fn path_lengths_mm(&self, skin_distance_mm: f64) -> (f64, f64) {
        let radius = 0.5 * self.thickness_mm;
        let d = skin_distance_mm;
        if d <= 0.0 {
            return (0.0, 0.0);
        }
        let chord = |r: f64| {
            let off = radius - d;
            if off <= -r {
                2.0 * r
            } else if off.abs() < r {
                2.0 * (r * r - off * off).sqrt()
            } else {
                0.0
            }
        };
        if d >= radius {
            return (self.thickness_mm - 2.0 * SKIN_MM, 2.0 * SKIN_MM);
        }
        let total = chord(radius);
        let tissue = chord(radius - SKIN_MM);
        (tissue, total - tissue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::mammogram::rng::stream;

    #[test]
    fn path_lengths_are_continuous_and_bounded() {
        let params = MammogramParams::small_for_tests(1, View::Cc);
        let o = Outline::new(&params, &mut stream(1, 0));
        let mut prev = 0.0;
        for i in 0..400 {
            let (tissue, skin) = o.path_lengths_mm(f64::from(i) * 0.05);
            let total = tissue + skin;
            assert!(total <= o.thickness_mm + 1e-9 && total + 1e-9 >= prev);
            prev = total;
        }
        assert!((prev - o.thickness_mm).abs() < 1e-9);
        // Skin seen tangentially is far longer than the two skin layers in the centre.
        assert!(o.path_lengths_mm(SKIN_MM).1 > 4.0 * SKIN_MM);
    }
}
