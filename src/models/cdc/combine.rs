//! The deep-ensemble combination (Lakshminarayanan et al. 2017; the OMIG paper, section 2.2): the members' Gaussians
//! are merged into one whose mean is the mean of the members' means and whose variance is the epistemic part (spread
//! of the members' means) plus the aleatoric part (mean of the members' variances). Pure f64.

use serde::Serialize;

use super::preset::CDC_POINTS;
use crate::models::error::ModelError;

/// Coverage factor of the 95 % interval of a Gaussian.
pub const Z_95: f64 = 1.96;

/// The ensemble's prediction for one image, in ln(threshold / µm), at the 12 CDC diameters (1.00 … 0.08 mm).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CdcPrediction {
    /// Mean of the members' µ.
    pub mean: [f64; CDC_POINTS],
    /// Standard deviation of the members' µ (population, over members).
    pub epistemic: [f64; CDC_POINTS],
    /// Root mean of the members' σ².
    pub aleatoric: [f64; CDC_POINTS],
    /// `sqrt(epistemic² + aleatoric²)`.
    pub total: [f64; CDC_POINTS],
}

/// One output's combination: `(mean, epistemic, aleatoric, total)` standard deviations, from the members' µ and σ.
/// Empty input gives NaNs.
pub fn combine_point(mus: &[f64], sigmas: &[f64]) -> (f64, f64, f64, f64) {
    let m = mus.len() as f64;
    let mean = mus.iter().sum::<f64>() / m;
    let epistemic_sq = mus.iter().map(|mu| (mu - mean).powi(2)).sum::<f64>() / m;
    let aleatoric_sq = sigmas.iter().map(|s| s * s).sum::<f64>() / sigmas.len() as f64;
    (mean, epistemic_sq.sqrt(), aleatoric_sq.sqrt(), (epistemic_sq + aleatoric_sq).sqrt())
}

impl CdcPrediction {
    /// Combines the members' `(µ, σ)`: `mus[m]` and `sigmas[m]` are member `m`'s 12 outputs.
    pub fn combine(mus: &[[f64; CDC_POINTS]], sigmas: &[[f64; CDC_POINTS]]) -> Result<Self, ModelError> {
        if mus.is_empty() || mus.len() != sigmas.len() {
            return Err(ModelError::Input(format!("cannot combine {} means with {} standard deviations", mus.len(), sigmas.len())));
        }
        let mut out = Self { mean: [0.0; 12], epistemic: [0.0; 12], aleatoric: [0.0; 12], total: [0.0; 12] };
        for k in 0..CDC_POINTS {
            let point_mus: Vec<f64> = mus.iter().map(|m| m[k]).collect();
            let point_sigmas: Vec<f64> = sigmas.iter().map(|s| s[k]).collect();
            (out.mean[k], out.epistemic[k], out.aleatoric[k], out.total[k]) = combine_point(&point_mus, &point_sigmas);
        }
        Ok(out)
    }

    /// The predicted threshold gold thickness at point `k`, in µm: `exp(mean[k])`. NaN for `k ≥ 12`.
    pub fn threshold_um(&self, k: usize) -> f64 {
        self.mean.get(k).map_or(f64::NAN, |m| m.exp())
    }

    /// The 95 % band at point `k` in ln µm: `mean ± 1.96 · total`. NaNs for `k ≥ 12`.
    pub fn band_ln(&self, k: usize) -> [f64; 2] {
        match (self.mean.get(k), self.total.get(k)) {
            (Some(m), Some(t)) => [m - Z_95 * t, m + Z_95 * t],
            _ => [f64::NAN; 2],
        }
    }

    /// The 95 % band at point `k` in µm: `exp` of [`Self::band_ln`] (asymmetric around [`Self::threshold_um`]).
    pub fn band_um(&self, k: usize) -> [f64; 2] {
        self.band_ln(k).map(f64::exp)
    }

    /// The paper's scalar: the mean over the 12 points of the ensemble mean, in ln µm.
    /// The prediction with every σ multiplied by `scale` (a calibration factor; total² = epistemic² + aleatoric² holds).
    #[must_use]
    pub fn with_sigma_scale(mut self, scale: f64) -> Self {
        for k in 0..CDC_POINTS {
            self.epistemic[k] *= scale;
            self.aleatoric[k] *= scale;
            self.total[k] *= scale;
        }
        self
    }

    pub fn midpoint(&self) -> f64 {
        self.mean.iter().sum::<f64>() / CDC_POINTS as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_point_by_hand() {
        // µ = 1, 2, 3 → mean 2, population variance 2/3; σ = 1, 1, 2 → mean σ² = 2.
        let (mean, epistemic, aleatoric, total) = combine_point(&[1.0, 2.0, 3.0], &[1.0, 1.0, 2.0]);
        assert!(close(mean, 2.0));
        assert!(close(epistemic, (2.0f64 / 3.0).sqrt()));
        assert!(close(aleatoric, 2f64.sqrt()));
        assert!(close(total, (2.0 / 3.0 + 2.0f64).sqrt()));
    }

    #[test]
    fn prediction_bands_and_midpoint() {
        let mus: Vec<[f64; 12]> = vec![std::array::from_fn(|k| k as f64 * 0.1), std::array::from_fn(|k| k as f64 * 0.1 + 0.2)];
        let sigmas = vec![[0.3; 12], [0.4; 12]];
        let p = CdcPrediction::combine(&mus, &sigmas).unwrap();
        for k in 0..12 {
            assert!(close(p.mean[k], k as f64 * 0.1 + 0.1));
            assert!(close(p.epistemic[k], 0.1));
            assert!(close(p.aleatoric[k], (0.125f64).sqrt()));
            assert!(close(p.total[k], (0.01 + 0.125f64).sqrt()));
            let [lo, hi] = p.band_um(k);
            assert!(close(lo, (p.mean[k] - 1.96 * p.total[k]).exp()) && close(hi, (p.mean[k] + 1.96 * p.total[k]).exp()));
            assert!(lo < p.threshold_um(k) && p.threshold_um(k) < hi);
        }
        assert!(close(p.midpoint(), 0.65));
        assert!(p.threshold_um(12).is_nan());
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json["total"].as_array().unwrap().len(), 12);
    }

    #[test]
    fn a_single_member_has_no_epistemic_part() {
        let p = CdcPrediction::combine(&[[0.5; 12]], &[[0.2; 12]]).unwrap();
        assert!(p.epistemic.iter().all(|&e| e == 0.0));
        assert!(close(p.total[3], 0.2));
        assert!(CdcPrediction::combine(&[], &[]).is_err());
        assert!(CdcPrediction::combine(&[[0.0; 12]], &[]).is_err());
    }
}
