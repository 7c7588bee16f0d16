//! Exposure settings of a simulated CDMAM image, their checks, and the named scenarios of the OMIG paper.

use serde::{Deserialize, Serialize};

use super::field::Field;

/// The largest image side the simulator accepts, pixels.
pub const MAX_SIDE_PX: usize = 10_000;

/// Why a set of parameters cannot be simulated.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum CdmamError {
    #[error("{name} = {value} is out of range: expected {expected}")]
    OutOfRange { name: &'static str, value: f64, expected: &'static str },
    #[error("the image would be {width} × {height} pixels, more than {MAX_SIDE_PX} on a side: raise pixel_mm or lower margin_mm")]
    TooLarge { width: usize, height: usize },
    #[error("the layout has no corner for some cell of the phantom")]
    IncompleteLayout,
}

/// The acquisition and phantom placement of one CDMAM exposure (all lengths in the phantom plane).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CdmamParams {
    /// Tube voltage, kVp (23–35 clinically; 20–40 accepted).
    pub kvp: f64,
    /// Tube current-time product, mAs: the dose.
    pub mas: f64,
    /// Detector and focal-spot point spread function as a Gaussian standard deviation, mm.
    pub blur_mm: f64,
    /// Electronic noise: standard deviation in detected-quanta units per pixel.
    pub noise: f64,
    /// The electronic noise passes a Gaussian filter of this standard deviation, mm (0 = white); its standard
    /// deviation is kept at `noise`.
    pub noise_corr_mm: f64,
    /// Pixel size in the phantom plane, mm.
    pub pixel_mm: f64,
    /// The image is the nominal pose's matrix bounding box plus this margin on each side, mm (0 = tight crop).
    pub margin_mm: f64,
    /// Print "CDMAM 3.4", a serial number and the row and column labels in gold around the matrix.
    pub text: bool,
    /// Heel effect: relative drop of the intensity from the top (cathode) to the bottom (anode) of the image.
    pub heel: f64,
    /// Largest random shift of the phantom per exposure, along each image axis, mm.
    pub max_shift_mm: f64,
    /// Largest random rotation about the nominal 45°, degrees.
    pub max_rotation_deg: f64,
    /// Fraction of the incident quanta the detector absorbs.
    pub detector_efficiency: f64,
}

impl Default for CdmamParams {
    fn default() -> Self {
        Self {
            kvp: 28.0,
            mas: 100.0,
            blur_mm: 0.06,
            noise: 5.0,
            noise_corr_mm: 0.0,
            pixel_mm: 0.07,
            margin_mm: 10.0,
            text: true,
            heel: 0.1,
            max_shift_mm: 3.0,
            max_rotation_deg: 1.5,
            detector_efficiency: 0.7,
        }
    }
}

/// Standard deviation (mm) of the Gaussian filter the scenarios put on their electronic noise: the OMIG paper's
/// Table 1 defines its noise level as "the standard deviation of the Gaussian white noise that is fed into a
/// Gaussian filter"; the filter's width is not given, one pixel is assumed.
pub const SCENARIO_NOISE_CORR_MM: f64 = 0.07;

/// The settings of Table 1 of the OMIG paper ("1" … "4", "ood"): tube voltage, mAs and noise level (taken as the
/// electronic noise in quanta per pixel, filtered by [`SCENARIO_NOISE_CORR_MM`]); everything else default.
pub fn scenario(name: &str) -> Option<CdmamParams> {
    let (kvp, mas, noise) = match name.trim().to_ascii_lowercase().trim_start_matches('#') {
        "1" => (28.0, 115.0, 9.55),
        "2" => (25.0, 110.0, 13.06),
        "3" => (25.0, 110.0, 18.91),
        "4" => (25.0, 110.0, 22.91),
        "ood" => (23.0, 105.0, 6.04),
        _ => return None,
    };
    Some(CdmamParams { kvp, mas, noise, noise_corr_mm: SCENARIO_NOISE_CORR_MM, ..CdmamParams::default() })
}

/// The names [`scenario`] knows.
pub const SCENARIOS: [&str; 5] = ["1", "2", "3", "4", "ood"];

impl CdmamParams {
    /// Checks every field, and the size of the image they give.
    pub fn validate(&self) -> Result<(), CdmamError> {
        let checks: [(&'static str, f64, bool, &'static str); 11] = [
            ("kvp", self.kvp, (20.0..=40.0).contains(&self.kvp), "20 to 40 kVp"),
            ("mas", self.mas, self.mas > 0.0 && self.mas <= 2000.0, "more than 0, at most 2000 mAs"),
            ("blur_mm", self.blur_mm, (0.0..=2.0).contains(&self.blur_mm), "0 to 2 mm"),
            ("noise", self.noise, (0.0..=1e5).contains(&self.noise), "0 to 1e5 quanta"),
            ("noise_corr_mm", self.noise_corr_mm, (0.0..=5.0).contains(&self.noise_corr_mm), "0 to 5 mm"),
            ("pixel_mm", self.pixel_mm, self.pixel_mm > 0.0 && self.pixel_mm <= 0.5, "more than 0, at most 0.5 mm"),
            ("margin_mm", self.margin_mm, (0.0..=200.0).contains(&self.margin_mm), "0 to 200 mm"),
            ("heel", self.heel, (0.0..1.0).contains(&self.heel), "0 to less than 1"),
            ("max_shift_mm", self.max_shift_mm, (0.0..=50.0).contains(&self.max_shift_mm), "0 to 50 mm"),
            ("max_rotation_deg", self.max_rotation_deg, (0.0..=45.0).contains(&self.max_rotation_deg), "0 to 45 degrees"),
            (
                "detector_efficiency",
                self.detector_efficiency,
                self.detector_efficiency > 0.0 && self.detector_efficiency <= 1.0,
                "more than 0, at most 1",
            ),
        ];
        // NaN fails every range check above.
        if let Some(&(name, value, _, expected)) = checks.iter().find(|c| !c.2) {
            return Err(CdmamError::OutOfRange { name, value, expected });
        }
        let field = Field::new(self);
        if field.width > MAX_SIDE_PX || field.height > MAX_SIDE_PX {
            return Err(CdmamError::TooLarge { width: field.width, height: field.height });
        }
        Ok(())
    }
}
