//! The phantom's aluminium base plate, [`PLATE_SIZE_MM`], and the plate frame the printed title is laid out in.

use super::supersample::Shape;
use crate::phantom::cdmam::tables::PLATE_SIZE_MM;

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
