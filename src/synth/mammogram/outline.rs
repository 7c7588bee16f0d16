//! Breast outline, compressed thickness and skin, and the pectoral muscle of an MLO.
//!
//! Detector coordinates in mm: `x` from the chest wall (column 0) toward the nipple, `y` down the rows. The
//! silhouette ([`Shape`]) is star-shaped around a point on the chest wall. A CC is close to a half-ellipse that
//! tapers to a rounded nipple, its depth 0.55–0.75 of its chest-wall height. An MLO hangs obliquely: its axis is
//! tilted down, the upper edge flares toward the axilla and is cut by the top edge of the image, the lower edge
//! curves back to the inframammary fold near the bottom of the chest wall, and the pectoral muscle
//! `x < w·(1 − y/h)^c` fills the upper chest-wall corner. The compressed breast has thickness `T` in the centre and
//! a half-cylinder edge of radius `T/2`; a skin shell of thickness `s` makes the bright skin line where X-rays
//! cross it tangentially.

use rand::{Rng, rngs::StdRng};

use super::{
    params::{MammogramParams, View},
    shape::{Shape, ShapeParams},
};

/// Margin of air around the breast (not at the chest wall), in mm.
const MARGIN_MM: f64 = 6.0;
/// Skin thickness in mm.
pub(crate) const SKIN_MM: f64 = 1.5;
/// Chest-wall-to-nipple depth as a fraction of the chest-wall height of a CC (clamped to this range).
const DEPTH_TO_HEIGHT: (f64, f64) = (0.55, 0.75);

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
    /// Centre of the silhouette, on the chest wall (`x = 0`).
    center_y_mm: f64,
    tilt_rad: f64,
    shape: Shape,
    pub nipple_mm: [f64; 2],
    pub pectoral: Option<Pectoral>,
}

/// Where a point lies relative to the outline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Polar {
    /// `r / R(φ)`: 0 at the chest-wall centre, 1 on the skin.
    pub rho: f64,
    /// Distance to the skin line in mm along its normal (first order in `R − r`; negative outside).
    pub skin_distance_mm: f64,
    /// Angle from the nipple axis, radians.
    pub psi: f64,
}

/// Shape parameters of one view, drawn from `rng`.
fn shape_params(params: &MammogramParams, rng: &mut StdRng) -> ShapeParams {
    let mlo = params.view == View::Mlo;
    let depth_mm = params.breast_depth_mm;
    let height_mm = params.breast_width_mm.clamp(depth_mm / DEPTH_TO_HEIGHT.1, depth_mm / DEPTH_TO_HEIGHT.0);
    let half = 0.5 * height_mm;
    let harmonics =
        (2..=5).map(|k| (rng.random_range(-0.02..0.02) * 2.0 / f64::from(k), rng.random_range(0.0..std::f64::consts::TAU))).collect();
    if mlo {
        ShapeParams {
            depth_mm: depth_mm * rng.random_range(1.05..1.15),
            half_up_mm: half * rng.random_range(1.0..1.15),
            half_down_mm: half * rng.random_range(0.75..0.9),
            axial_exponent: rng.random_range(1.25..1.4),
            lateral_exponent: rng.random_range(1.8..2.1),
            tilt_rad: rng.random_range(0.3..0.45),
            flare: rng.random_range(0.5..0.8),
            harmonics,
        }
    } else {
        ShapeParams {
            depth_mm,
            half_up_mm: half * rng.random_range(0.95..1.05),
            half_down_mm: half * rng.random_range(0.95..1.05),
            axial_exponent: rng.random_range(1.4..1.75),
            lateral_exponent: rng.random_range(1.9..2.2),
            tilt_rad: rng.random_range(-0.05..0.05),
            flare: 0.0,
            harmonics,
        }
    }
}

impl Outline {
    pub fn new(params: &MammogramParams, rng: &mut StdRng) -> Self {
        let mlo = params.view == View::Mlo;
        let shape_params = shape_params(params, rng);
        let tilt_rad = shape_params.tilt_rad;
        let shape = Shape::new(&shape_params);
        // Extent of the silhouette relative to its centre.
        let (mut x_max, mut y_min, mut y_max) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..=720 {
            let phi = -std::f64::consts::FRAC_PI_2 + std::f64::consts::PI * f64::from(i) / 720.0;
            let r = shape.radius(phi).0;
            x_max = x_max.max(r * phi.cos());
            y_min = y_min.min(r * phi.sin());
            y_max = y_max.max(r * phi.sin());
        }
        // An MLO is cut by the top edge of the image through the axilla.
        let center_y_mm = if mlo { -y_min * rng.random_range(0.62..0.72) } else { -y_min + MARGIN_MM };
        let spacing_mm = params.pixel_spacing_mm;
        let r_nipple = shape.radius(tilt_rad).0;
        let nipple_mm = [r_nipple * tilt_rad.cos(), center_y_mm + r_nipple * tilt_rad.sin()];
        let mut outline = Self {
            width: ((x_max + MARGIN_MM) / spacing_mm).ceil() as usize,
            height: ((center_y_mm + y_max + MARGIN_MM) / spacing_mm).ceil() as usize,
            spacing_mm,
            thickness_mm: params.thickness_mm,
            center_y_mm,
            tilt_rad,
            shape,
            nipple_mm,
            pectoral: None,
        };
        if mlo {
            // Where the upper edge leaves the top of the image.
            let top_extent = (0..2000).map(|i| f64::from(i) * 0.1).take_while(|&x| outline.polar([x, 0.0]).rho < 1.0).last().unwrap_or(0.0);
            outline.pectoral = Some(Pectoral {
                width_mm: top_extent * rng.random_range(0.6..0.85),
                height_mm: nipple_mm[1] * rng.random_range(0.85..1.1),
                curvature: rng.random_range(0.85..1.25),
            });
        }
        outline
    }

    /// The centre of the outline on the chest wall, mm.
    pub fn chest_center_mm(&self) -> [f64; 2] {
        [0.0, self.center_y_mm]
    }

    /// Position of pixel `(col, row)`'s centre in mm.
    pub fn pixel_mm(&self, col: usize, row: usize) -> [f64; 2] {
        [(col as f64 + 0.5) * self.spacing_mm, (row as f64 + 0.5) * self.spacing_mm]
    }

    pub fn polar(&self, p: [f64; 2]) -> Polar {
        let (dx, dy) = (p[0].max(1e-9), p[1] - self.center_y_mm);
        let phi = dy.atan2(dx);
        let (r_boundary, slope) = self.shape.radius(phi);
        let r = dx.hypot(dy);
        Polar { rho: r / r_boundary, skin_distance_mm: (r_boundary - r) * r_boundary / r_boundary.hypot(slope), psi: phi - self.tilt_rad }
    }

    /// Depth inside the pectoral muscle in mm (negative outside; minus infinity in a CC, which has none, so
    /// "at least N mm away from the muscle" holds everywhere).
    pub fn pectoral_depth_mm(&self, p: [f64; 2]) -> f64 {
        let Some(pec) = &self.pectoral else {
            return f64::NEG_INFINITY;
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

    /// Fraction of the image height inside the breast in the column at `x_mm`.
    fn column_coverage(o: &Outline, x_mm: f64) -> f64 {
        let inside = (0..o.height).filter(|&row| o.polar([x_mm, o.pixel_mm(0, row)[1]]).rho < 1.0).count();
        inside as f64 / o.height as f64
    }

    #[test]
    fn outline_tapers_toward_the_nipple() {
        for seed in 0..8 {
            for exam_view in crate::synth::mammogram::screening_exam(seed, 0.2, None) {
                let (params, view) = (&exam_view.params, exam_view.params.view);
                let o = Outline::new(params, &mut stream(params.anatomy_seed, 0));
                let chest = column_coverage(&o, 1.0);
                let front = column_coverage(&o, 0.85 * o.nipple_mm[0]);
                let depth_ratio = o.nipple_mm[0] / (chest * o.height as f64 * o.spacing_mm);
                assert!(chest > 0.85, "{view:?} seed {seed}: chest-wall coverage {chest}");
                assert!(front < chest - 0.3, "{view:?} seed {seed}: {front} vs {chest}");
                // A CC spans well under 60 % of its chest-wall height at 85 % depth; an MLO, cut obliquely, a bit more.
                let taper = if view == View::Cc { 0.6 } else { 0.65 };
                assert!(front < taper * chest, "{view:?} seed {seed}: {front} vs {chest}");
                if view == View::Cc {
                    assert!((0.5..0.8).contains(&depth_ratio), "seed {seed}: {depth_ratio}");
                }
            }
        }
    }

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
