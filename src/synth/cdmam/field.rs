//! The image field and where the phantom lies in it on each exposure.
//!
//! The field is fixed by the **nominal** pose (45°, centred): its matrix bounding box plus the margin. Each exposure
//! then shifts and turns the phantom a little within that field, as when a physicist re-positions it between
//! exposures.

use rand::Rng;

use super::{params::CdmamParams, rng::stream};
use crate::phantom::cdmam::geometry::PhantomPose;

/// The image size and the nominal pose of the phantom in it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    pub width: usize,
    pub height: usize,
    /// 45°, matrix bounding box centred in the field.
    pub nominal: PhantomPose,
}

impl Field {
    pub fn new(params: &CdmamParams) -> Self {
        let px = params.pixel_mm;
        let [x0, y0, x1, y1] = PhantomPose::nominal([0.0, 0.0], px).matrix_bounds_px();
        let margin = params.margin_mm / px;
        // Saturating float → int casts keep nonsense parameters finite; `validate` rejects them.
        let width = (x1 - x0 + 2.0 * margin).ceil().max(1.0) as usize;
        let height = (y1 - y0 + 2.0 * margin).ceil().max(1.0) as usize;
        let nominal = PhantomPose::nominal([margin - x0, margin - y0], px);
        Self { width, height, nominal }
    }

    /// The pose of exposure `index` of the set `seed`: the nominal pose shifted uniformly within ±`max_shift_mm`
    /// along each image axis and turned uniformly within ±`max_rotation_deg`.
    pub fn exposure_pose(&self, params: &CdmamParams, seed: u64, index: u32) -> PhantomPose {
        let mut rng = stream(seed, u64::from(index));
        let mut uniform = || rng.random_range(-1.0..=1.0);
        let shift = [uniform() * params.max_shift_mm / params.pixel_mm, uniform() * params.max_shift_mm / params.pixel_mm];
        let turn = uniform() * params.max_rotation_deg.to_radians();
        PhantomPose {
            centre_px: [self.nominal.centre_px[0] + shift[0], self.nominal.centre_px[1] + shift[1]],
            angle_rad: self.nominal.angle_rad + turn,
            ..self.nominal
        }
    }
}
