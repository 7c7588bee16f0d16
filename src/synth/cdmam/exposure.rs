//! One exposure of the phantom: pose → expected quanta (plate, gold, heel) → detector blur → Poisson quantum
//! noise + electronic noise → raw For Processing values.
//!
//! The blur acts on the expected quanta **before** the noise, so it lowers the signal-to-noise ratio of small
//! discs, as the detector's and focal spot's unsharpness do.

use super::{
    blur,
    field::Field,
    noise::{electronic, raw_values},
    params::{CdmamError, CdmamParams},
    rng::derive,
    scene::expected_quanta,
    spectrum::Beam,
};
use crate::{
    imaging::Image,
    phantom::cdmam::{geometry::PhantomPose, layout::Layout},
};

/// Dark offset of the raw values.
pub const RAW_OFFSET: f64 = 50.0;
/// Raw value the background behind the phantom is scaled to (the detector gain follows the exposure, as a
/// system's gain calibration would): the open field then lands near 9 500, under 15 000 even with the heel effect.
pub const BACKGROUND_RAW: f64 = 6000.0;

/// A simulated exposure, For Processing (linear in dose).
#[derive(Clone, Debug, PartialEq)]
pub struct CdmamExposure {
    /// Raw values, integers in `0..=16383`.
    pub image: Image,
    /// Where the phantom lies in `image` (pixel `(i, j)` centred on image coordinates `(i, j)`).
    pub pose: PhantomPose,
    /// Raw units per detected quantum.
    pub gain: f64,
    /// Raw value of zero quanta.
    pub offset: f64,
    /// Mean detected quanta per pixel behind the aluminium plate and the PMMA, at the centre of the field.
    pub background_quanta: f64,
}

/// Simulates exposure `index` (0, 1, …) of a set: each index has its own noise, shift and rotation; the same
/// `(params, layout, seed, index)` always give the same image.
pub fn simulate(params: &CdmamParams, layout: &Layout, seed: u64, index: u32) -> Result<CdmamExposure, CdmamError> {
    params.validate()?;
    if !layout.is_complete() {
        return Err(CdmamError::IncompleteLayout);
    }
    let field = Field::new(params);
    let size = [field.width, field.height];
    let pose = field.exposure_pose(params, seed, index);
    let beam = Beam::new(params);
    let expected = expected_quanta(params, layout, &beam, &pose, size);
    let blurred = blur::gaussian(&expected, size, params.blur_mm / params.pixel_mm);
    let exposure_seed = derive(seed, u64::from(index));
    let electronic = electronic(params, size, derive(exposure_seed, 2));
    let gain = BACKGROUND_RAW / beam.background_quanta;
    let raw = raw_values(&blurred, field.width, electronic.as_deref(), [gain, RAW_OFFSET], derive(exposure_seed, 1));
    let image = Image { width: field.width, height: field.height, data: raw };
    Ok(CdmamExposure { image, pose, gain, offset: RAW_OFFSET, background_quanta: beam.background_quanta })
}
