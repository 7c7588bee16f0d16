//! Per-image state of the perturbation lab: the parameters, what is shown (perturbed, original, difference,
//! A/B split), and the latest result — a quick display-resolution preview first, replaced by the full-resolution
//! image from a background job. Models later run on the perturbed image.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::imaging::perturb::{FourierCache, PerturbParams};
use crate::imaging::{Image, pyramid::Pyramid, spectrum::RadialSpectrum};

/// Longest side of the preview image: small enough to perturb within a frame or two while a slider moves.
pub const PREVIEW_MAX_SIDE: usize = 768;

/// What the viewport shows of a perturbed image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compare {
    #[default]
    Perturbed,
    Original,
    /// Perturbed minus original, with a symmetric window around zero.
    Difference,
}

/// A perturbed image ready for display, at full or preview resolution.
#[derive(Clone)]
pub struct PerturbResult {
    /// The parameters' version it was made for (a stale result is never shown over a newer preview).
    pub version: u32,
    /// Pixels per result pixel along each axis (1 at full resolution).
    pub downsample: usize,
    pub perturbed: Pyramid,
    pub difference: Pyramid,
    /// Largest |difference|, for the difference view's window.
    pub max_abs_difference: f32,
    /// Radial power spectra of the original and the perturbed image over the same central region, for the plot;
    /// full resolution only (a preview cannot show frequencies above its Nyquist).
    pub spectra: Option<(RadialSpectrum, RadialSpectrum)>,
    /// σ of the Gaussian baseline matched to this perturbation's L2 norm (the paper's Table 1); exact only at full
    /// resolution (the panel offers it then).
    pub matched_sigma: f64,
}

/// The lab's state for one image.
#[derive(Clone, Default)]
pub struct PerturbState {
    pub params: PerturbParams,
    pub compare: Compare,
    /// A/B split: the original left of this fraction of the viewport width, the perturbed right of it.
    pub split: Option<f32>,
    /// Bumped on every parameter change.
    pub version: u32,
    /// Set when the preview and the full-resolution job must be (re)started.
    pub dirty: bool,
    pub result: Option<PerturbResult>,
    /// Cached forward transforms of the full image and of the preview (shared with the background job).
    pub full_cache: Arc<Mutex<FourierCache>>,
    pub preview_cache: Arc<Mutex<FourierCache>>,
    /// The preview-resolution original (built on first use).
    pub preview_source: Option<Arc<Image>>,
    /// Last error of the lab for this image (shown in the panel).
    pub error: Option<String>,
    /// True while the full-resolution job runs.
    pub computing: bool,
}

impl PerturbState {
    /// True when something is perturbed (the lab is active for this image).
    pub fn active(&self) -> bool {
        !self.params.is_identity()
    }

    /// Cut-offs are in cycles/mm: a new pixel spacing changes what they remove, so recompute.
    pub fn spacing_changed(&mut self) {
        self.version += 1;
        self.dirty = self.active();
    }

    /// The result to show, if it belongs to the current parameters.
    pub fn current(&self) -> Option<&PerturbResult> {
        self.result.as_ref().filter(|r| r.version == self.version && self.active())
    }
}

/// Nominal spacing used when the file states none and is not digitised film (research images, other secondary
/// captures; film: [`crate::dicom::ImageMeta::nominal_spacing_mm`]); the panel says so.
pub const ASSUMED_SPACING_MM: f64 = 0.1;

/// Perturb `original` (whose pixels are `downsample` × the spacing `spacing_mm` of the full image) and prepare
/// everything the viewer draws. Runs on the UI thread for previews and in a background job at full resolution.
pub fn compute(
    original: &Image,
    spacing_mm: [f64; 2],
    downsample: usize,
    params: &PerturbParams,
    cache: &Mutex<FourierCache>,
    version: u32,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<PerturbResult, crate::imaging::perturb::PerturbError> {
    let f = downsample as f64;
    let spacing = [spacing_mm[0] * f, spacing_mm[1] * f];
    // A preview pixel averages f × f pixels, whose independent noise averages down by f: add σ/f to look alike.
    let params = PerturbParams { noise_sigma: params.noise_sigma.map(|s| s / f), ..*params };
    let perturbed = crate::imaging::perturb::apply(original, spacing, &params, &mut cache.lock(), cancelled)?;
    let spectra = if downsample == 1 { spectra(original, &perturbed, spacing[1]) } else { None };
    let matched_sigma = crate::imaging::perturb::noise::matched_sigma(original, &perturbed);
    let diff: Vec<f32> = perturbed.data.iter().zip(&original.data).map(|(p, o)| p - o).collect();
    let max_abs_difference = diff.iter().fold(0.0f32, |m, d| m.max(d.abs()));
    let difference = Image { width: original.width, height: original.height, data: diff };
    Ok(PerturbResult {
        version,
        downsample,
        perturbed: Pyramid::build(Arc::new(perturbed), 64),
        difference: Pyramid::build(Arc::new(difference), 64),
        max_abs_difference,
        spectra,
        matched_sigma,
    })
}

/// Radial power spectra of the same central square of two images (side: the largest power of two that fits,
/// at most 512 px), or `None` when the images are too small.
pub fn spectra(original: &Image, perturbed: &Image, spacing_mm: f64) -> Option<(RadialSpectrum, RadialSpectrum)> {
    let side = original.width.min(original.height).min(512);
    let side = if side >= 16 { 1 << side.ilog2() } else { return None };
    let corner = [(original.width - side) / 2, (original.height - side) / 2];
    let a = crate::imaging::spectrum::radial_power_spectrum(original, corner, side, spacing_mm).ok()?;
    let b = crate::imaging::spectrum::radial_power_spectrum(perturbed, corner, side, spacing_mm).ok()?;
    Some((a, b))
}

/// Integer downsampling factor that brings the longer side to at most [`PREVIEW_MAX_SIDE`].
pub fn preview_factor(width: usize, height: usize) -> usize {
    width.max(height).div_ceil(PREVIEW_MAX_SIDE).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_factor_bounds_the_longer_side() {
        assert_eq!(preview_factor(500, 700), 1);
        assert_eq!(preview_factor(3328, 4096), 6);
        assert!(4096usize.div_ceil(preview_factor(3328, 4096)) <= PREVIEW_MAX_SIDE);
    }
}
