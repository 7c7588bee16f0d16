//! The perturbation lab (robustness-lowpass-mammography; mammogram-denoising-anscombe): perturbations of the
//! full-resolution modality values, applied in one documented order, deterministically from a seed.
//!
//! Order (see [`apply`]): 1. dose reduction to a fraction α (Poisson thinning in quanta, gain estimated from the
//! image) → 2. additive Gaussian noise σ → 3. Fourier filter (ideal or Butterworth low-/high-pass at R cycles/mm) →
//! 4. patch shuffle of an n × n grid. Steps 1–2 come first because they model the acquisition; the forward FFT of their
//! result is cached ([`FourierCache`]), so moving only R re-runs the mask and the inverse transform.

mod params;

pub use params::{FilterKind, PerturbParams};

use super::Image;

/// Why a perturbation could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PerturbError {
    #[error("cancelled")]
    Cancelled,
    #[error("invalid parameter: {0}")]
    Invalid(String),
}

/// The cached forward transform of the (dose-reduced, noisy) image, keyed by what produced it.
#[derive(Default)]
pub struct FourierCache {
    _private: (),
}

/// Apply `params` to `image` (pixel spacing `[row_mm, col_mm]`). `cancelled` is polled between steps and between
/// FFT row/column batches; when it returns true the work stops with [`PerturbError::Cancelled`].
pub fn apply(
    image: &Image,
    spacing_mm: [f64; 2],
    params: &PerturbParams,
    cache: &mut FourierCache,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Image, PerturbError> {
    let _ = (spacing_mm, cache, cancelled);
    if params.is_identity() {
        return Ok(image.clone());
    }
    Err(PerturbError::Invalid("perturbations are not implemented yet".into()))
}
