//! The perturbation lab (robustness-lowpass-mammography; mammogram-denoising-anscombe): perturbations of the
//! full-resolution modality values, applied in one documented order, deterministically from a seed.
//!
//! Order (see [`apply`]): 1. dose reduction to a fraction α (Poisson thinning in quanta, gain estimated from the
//! image) → 2. additive Gaussian noise σ → 3. Fourier filter (ideal or Butterworth low-pass, then high-pass, at R
//! cycles/mm) → 4. patch shuffle of an n × n grid. Steps 1–2 come first because they model the acquisition; the
//! forward FFT of their result is cached ([`FourierCache`]), so moving only R re-runs the mask and the inverse
//! transform. Each step draws from its own seeded stream, so e.g. the noise field does not change with the dose.
//!
//! Files: [`noise`] (Gaussian noise, matched-σ baseline), [`gain`] (gain estimator), [`dose`] (Poisson thinning),
//! [`anscombe`] (variance stabilisation and its unbiased inverse), [`count_scale`] (raw values ↔ counts ↔ Anscombe
//! domain), [`noise_share`] (how much of a reduced image's noise is its original's), [`shuffle`] (patch shuffle), `cache`.
//!
//! ```
//! use mammoscope::imaging::{Image, perturb::{self, FourierCache, PerturbParams}};
//! let image = Image::new(64, 64, (0..64 * 64).map(|i| (i % 97) as f32).collect()).unwrap();
//! let params = PerturbParams { noise_sigma: Some(5.0), lowpass_cycles_per_mm: Some(2.0), seed: 1, ..Default::default() };
//! let mut cache = FourierCache::default();
//! let out = perturb::apply(&image, [0.1, 0.1], &params, &mut cache, &|| false).unwrap();
//! assert_eq!((out.width, out.height), (64, 64));
//! ```

pub mod anscombe;
mod cache;
pub mod count_scale;
pub mod dose;
pub mod gain;
pub mod noise;
pub mod noise_share;
mod params;
mod rng;
pub mod shuffle;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use cache::{FourierCache, ImageKey};
pub use gain::GainEstimate;
pub use params::{FilterKind, PerturbParams};

use super::Image;
use super::fourier::{FourierError, RadialFilter, Spectrum};
use cache::StageKey;

/// Why a perturbation could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PerturbError {
    #[error("cancelled")]
    Cancelled,
    #[error("invalid parameter: {0}")]
    Invalid(String),
    #[error("cannot estimate the detector gain for dose reduction: {0}")]
    Gain(String),
    #[error("Fourier filter failed: {0}")]
    Fourier(FourierError),
}

impl From<FourierError> for PerturbError {
    fn from(e: FourierError) -> Self {
        match e {
            FourierError::Cancelled => Self::Cancelled,
            e => Self::Fourier(e),
        }
    }
}

/// Apply `params` to `image` (pixel spacing `[row_mm, col_mm]`). `cancelled` is polled between steps and between
/// FFT row/column batches; when it returns true the work stops with [`PerturbError::Cancelled`].
///
/// Low-pass and high-pass together give a band-pass: the low-passed image is transformed again for the high-pass
/// (the cached spectrum stays that of steps 1–2). The spacing matters only for the Fourier filters.
pub fn apply(
    image: &Image,
    spacing_mm: [f64; 2],
    params: &PerturbParams,
    cache: &mut FourierCache,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Image, PerturbError> {
    params.validate()?;
    if params.is_identity() {
        return Ok(image.clone());
    }
    let check = || if cancelled() { Err(PerturbError::Cancelled) } else { Ok(()) };
    check()?;
    let image_key = ImageKey::of(image);
    let stage_key = StageKey::new(image_key, params);
    let stage = if let Some(stage) = cache.stage_for(&stage_key) {
        stage
    } else {
        let stage = Arc::new(acquisition(image, image_key, params, cache, &check)?);
        cache.stage = Some((stage_key, Arc::clone(&stage)));
        stage
    };
    check()?;
    let order = params.filter.butterworth_order();
    let mut filtered: Option<Image> = None;
    if let Some(cutoff) = params.lowpass_cycles_per_mm {
        let spectrum = spectrum(&stage, stage_key, spacing_mm, cache, cancelled)?;
        filtered = Some(spectrum.filtered(&RadialFilter::LowPass { cutoff_cycles_per_mm: cutoff, butterworth_order: order }, cancelled)?);
    }
    if let Some(cutoff) = params.highpass_cycles_per_mm {
        let high = RadialFilter::HighPass { cutoff_cycles_per_mm: cutoff, butterworth_order: order };
        filtered = Some(match &filtered {
            Some(low) => Spectrum::forward(low, spacing_mm, cancelled)?.filtered(&high, cancelled)?,
            None => spectrum(&stage, stage_key, spacing_mm, cache, cancelled)?.filtered(&high, cancelled)?,
        });
    }
    check()?;
    let result = filtered.unwrap_or_else(|| (*stage).clone());
    if params.shuffle_grid > 1 {
        return shuffle::shuffle_patches(&result, params.shuffle_grid, params.seed);
    }
    Ok(result)
}

/// Steps 1–2: dose reduction (with the image's cached gain estimate), then Gaussian noise.
fn acquisition(
    image: &Image,
    image_key: ImageKey,
    params: &PerturbParams,
    cache: &mut FourierCache,
    check: &dyn Fn() -> Result<(), PerturbError>,
) -> Result<Image, PerturbError> {
    let mut out = None;
    if let Some(alpha) = params.dose_fraction.filter(|&a| a < 1.0) {
        let estimate = match &cache.gain {
            Some((key, estimate)) if *key == image_key => *estimate,
            _ => {
                let estimate = gain::estimate_gain(image)?;
                cache.gain = Some((image_key, estimate));
                estimate
            }
        };
        check()?;
        out = Some(dose::reduce_dose(image, alpha, estimate.gain, estimate.offset, params.seed)?);
        check()?;
    }
    let current = out.as_ref().unwrap_or(image);
    Ok(match params.noise_sigma.filter(|&s| s > 0.0) {
        Some(sigma) => noise::add_gaussian(current, sigma, params.seed),
        None => out.unwrap_or_else(|| image.clone()),
    })
}

/// The forward transform of the step-2 image, from the cache or computed (and cached) now.
fn spectrum(
    stage: &Image,
    key: StageKey,
    spacing_mm: [f64; 2],
    cache: &mut FourierCache,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Arc<Spectrum>, PerturbError> {
    if let Some(spectrum) = cache.spectrum_for(&key, spacing_mm) {
        return Ok(spectrum);
    }
    let spectrum = Arc::new(Spectrum::forward(stage, spacing_mm, cancelled)?);
    cache.spectrum = Some((key, spacing_mm, Arc::clone(&spectrum)));
    Ok(spectrum)
}
