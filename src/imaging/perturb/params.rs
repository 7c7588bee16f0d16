//! Parameters of the perturbation lab.

use serde::Serialize;

use super::PerturbError;

/// Ideal (the paper's, with ringing) or Butterworth (smooth edge) Fourier filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub enum FilterKind {
    #[default]
    Ideal,
    /// Butterworth of the given order.
    Butterworth(u32),
}

impl FilterKind {
    /// The Butterworth order, `None` for the ideal filter.
    pub fn butterworth_order(self) -> Option<u32> {
        match self {
            Self::Ideal => None,
            Self::Butterworth(order) => Some(order),
        }
    }
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

    /// Reject values no step can use: α outside (0, 1], a negative or non-finite σ, a cut-off that is not positive,
    /// a Butterworth order of 0.
    pub fn validate(&self) -> Result<(), PerturbError> {
        let bad = |what: String| Err(PerturbError::Invalid(what));
        if let Some(a) = self.dose_fraction.filter(|a| !(*a > 0.0 && *a <= 1.0)) {
            return bad(format!("dose fraction must be in (0, 1], got {a}"));
        }
        if let Some(s) = self.noise_sigma.filter(|s| !(s.is_finite() && *s >= 0.0)) {
            return bad(format!("noise σ must be finite and ≥ 0, got {s}"));
        }
        for r in [self.lowpass_cycles_per_mm, self.highpass_cycles_per_mm].into_iter().flatten() {
            if !(r.is_finite() && r > 0.0) {
                return bad(format!("cut-off must be positive and finite, got {r} cycles/mm"));
            }
        }
        if self.filter == FilterKind::Butterworth(0) {
            return bad("Butterworth order must be at least 1".to_owned());
        }
        Ok(())
    }

    /// A one-line description of the active perturbations, in the order they apply, with the seed, e.g.
    /// `dose 0.5 (Poisson thinning); Gaussian noise sigma 100; low-pass 2 cycles/mm (ideal); seed 7`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.dose_fraction.filter(|&a| a < 1.0) {
            parts.push(format!("dose {a} (Poisson thinning)"));
        }
        if let Some(s) = self.noise_sigma.filter(|&s| s > 0.0) {
            parts.push(format!("Gaussian noise sigma {s}"));
        }
        let kind = match self.filter {
            FilterKind::Ideal => "ideal".to_owned(),
            FilterKind::Butterworth(n) => format!("Butterworth order {n}"),
        };
        if let Some(r) = self.lowpass_cycles_per_mm {
            parts.push(format!("low-pass {r} cycles/mm ({kind})"));
        }
        if let Some(r) = self.highpass_cycles_per_mm {
            parts.push(format!("high-pass {r} cycles/mm ({kind})"));
        }
        if self.shuffle_grid > 1 {
            parts.push(format!("patch shuffle {0}x{0}", self.shuffle_grid));
        }
        if parts.is_empty() {
            return "no perturbation".to_owned();
        }
        parts.push(format!("seed {}", self.seed));
        parts.join("; ")
    }
}
