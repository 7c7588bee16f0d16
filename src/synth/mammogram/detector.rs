//! The acquisition: log attenuation → expected quanta (with automatic exposure control and scatter) → detector
//! blur → Poisson quantum noise + Gaussian electronic noise → linear raw values (`gain · quanta + offset`).
//!
//! The raw image is what a For Processing image holds: its variance over mean is the gain `k`
//! (Eckert et al., "mammogram denoising using physics-driven data augmentation", eq. 2), plus electronic noise.

use rand_distr::{Distribution, Normal, Poisson};
use rayon::prelude::*;

use super::{
    params::DetectorParams,
    rng::stream,
    smooth::{gaussian_blur, low_pass},
};

/// Raw detector value of the unattenuated beam.
const FLAT_FIELD_RAW: f64 = 12_000.0;
/// Dark offset of the raw detector values.
pub(crate) const RAW_OFFSET: f64 = 40.0;
/// Scatter kernel standard deviation in mm.
const SCATTER_SIGMA_MM: f64 = 12.0;

pub(crate) struct Exposure {
    /// Quanta per pixel of the unattenuated beam.
    pub flat_field_quanta: f64,
    pub gain: f64,
    /// Noise-free raw values (expected signal after blur).
    pub expected: Vec<f32>,
    /// Noisy raw values, rounded and clamped to 14 bits.
    pub raw: Vec<f32>,
}

/// The `q`-quantile of `values` (0 for an empty slice).
pub(crate) fn quantile(mut values: Vec<f32>, q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let k = ((q * values.len() as f64) as usize).min(values.len() - 1);
    f64::from(*values.select_nth_unstable_by(k, f32::total_cmp).1)
}

/// Exposes the attenuation map; `inside` marks breast pixels (for the AEC and the scatter source).
pub(crate) fn expose(attenuation: &[f32], inside: &[bool], size: [usize; 2], spacing_mm: f64, det: &DetectorParams, seed: u64) -> Exposure {
    let [width, height] = size;
    // AEC: the median breast pixel receives the target number of quanta.
    let median_a = quantile(attenuation.iter().zip(inside).filter(|p| *p.1).map(|p| *p.0).collect(), 0.5);
    let target = det.quanta_per_mm2 * spacing_mm * spacing_mm;
    let flat_field_quanta = target * median_a.exp();
    let primary: Vec<f32> = attenuation.iter().map(|&a| (flat_field_quanta * (-f64::from(a)).exp()) as f32).collect();
    let source: Vec<f32> = primary.iter().zip(inside).map(|(&p, &m)| if m { p } else { 0.0 }).collect();
    let scatter = low_pass(&source, width, height, SCATTER_SIGMA_MM / spacing_mm);
    let total: Vec<f32> = primary.iter().zip(&scatter).map(|(&p, &s)| p + (det.scatter_to_primary as f32) * s).collect();
    let quanta = gaussian_blur(&total, width, height, det.psf_sigma_mm / spacing_mm);
    let gain = FLAT_FIELD_RAW / flat_field_quanta;
    let expected: Vec<f32> = quanta.iter().map(|&q| (gain * f64::from(q) + RAW_OFFSET) as f32).collect();
    let electronic = Normal::new(0.0, det.electronic_noise_quanta.max(0.0)).ok();
    let mut raw = vec![0.0f32; quanta.len()];
    raw.par_chunks_mut(width.max(1)).enumerate().for_each(|(y, row)| {
        let mut rng = stream(seed, y as u64);
        for (x, out) in row.iter_mut().enumerate() {
            let lambda = f64::from(quanta[y * width + x]);
            let counts = match Poisson::new(lambda) {
                Ok(p) if lambda > 0.0 => p.sample(&mut rng),
                _ => 0.0,
            };
            let e = electronic.map_or(0.0, |n| n.sample(&mut rng));
            *out = (gain * (counts + e) + RAW_OFFSET).round().clamp(0.0, 16383.0) as f32;
        }
    });
    Exposure { flat_field_quanta, gain, expected, raw }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_variance_over_mean_is_the_gain() {
        let det = DetectorParams { electronic_noise_quanta: 0.0, psf_sigma_mm: 0.0, scatter_to_primary: 0.0, ..DetectorParams::default() };
        let (w, h) = (64, 64);
        let exp = expose(&vec![1.0; w * h], &vec![true; w * h], [w, h], 0.1, &det, 3);
        let signal: Vec<f64> = exp.raw.iter().map(|&v| f64::from(v) - RAW_OFFSET).collect();
        let mean = signal.iter().sum::<f64>() / signal.len() as f64;
        let var = signal.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / signal.len() as f64;
        assert!((var / mean / exp.gain - 1.0).abs() < 0.1, "k {} vs gain {}", var / mean, exp.gain);
        assert!((mean / exp.gain - det.quanta_per_mm2 * 0.01).abs() < 0.02 * det.quanta_per_mm2 * 0.01);
    }
}
