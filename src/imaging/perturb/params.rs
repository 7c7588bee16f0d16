//! Parameters of the perturbation lab.

use serde::Serialize;

/// Ideal (the paper's, with ringing) or Butterworth (smooth edge) Fourier filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub enum FilterKind {
    #[default]
    Ideal,
    /// Butterworth of the given order.
    Butterworth(u32),
}

/// Every perturbation; `None` (or 0 for the shuffle) means "off".
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PerturbParams {
    /// Fraction α of the acquired dose, in (0, 1].
    pub dose_fraction: Option<f64>,
    /// Additive Gaussian noise σ in raw pixel units (the paper: 1600 on a 0–4095 scale).
    pub noise_sigma: Option<f64>,
    /// Low-pass cut-off radius R in cycles/mm (keeps |f| ≤ R).
    pub lowpass_cycles_per_mm: Option<f64>,
    /// High-pass cut-off radius R in cycles/mm (keeps |f| > R; the mean is kept so the image stays displayable).
    pub highpass_cycles_per_mm: Option<f64>,
    pub filter: FilterKind,
    /// Shuffle an n × n grid of patches (the paper: 8 × 8 = 64 patches); 0 or 1 is off.
    pub shuffle_grid: u32,
    /// Seed of every random draw (noise, thinning, shuffle).
    pub seed: u64,
}

impl PerturbParams {
    pub fn is_identity(&self) -> bool {
        self.dose_fraction.is_none_or(|a| a >= 1.0)
            && self.noise_sigma.is_none_or(|s| s <= 0.0)
            && self.lowpass_cycles_per_mm.is_none()
            && self.highpass_cycles_per_mm.is_none()
            && self.shuffle_grid <= 1
    }
}
