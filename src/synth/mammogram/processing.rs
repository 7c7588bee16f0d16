//! For Presentation processing of the raw detector image. Exactly:
//!
//! 1. Log: `L = ln(R₀ / max(raw − offset, gain/2))` with `R₀ = gain · N₀` the flat-field raw value, so `L` is the
//!    measured log attenuation (air ≈ 0, thick dense tissue ≈ 3–5).
//! 2. Tissue mask `M = L > 0.08`.
//! 3. Peripheral equalisation: `B` = Gaussian low-pass (σ = 6 mm) of `L` normalised over `M`;
//!    `L' = L + α (B_ref − B)` inside `M` with `α = 0.3` and `B_ref` the median of `B` over `M`. This lifts the thin
//!    periphery and compresses the large-scale range, as vendor processing does, and keeps all detail.
//! 4. Linear map to 14 bits: `P = round(16383 · clamp((L' − L_black)/(L_white − L_black), 0, 1))` with
//!    `L_black = 0.6 · (0.5 % quantile of L' in M)` and `L_white = 1.03 · (99.95 % quantile)`; outside `M`, `P = 0`.
//!
//! Dense tissue and calcifications are bright (MONOCHROME2); a linear window shows the breast sensibly.
//! The noise-free image goes through the same steps with the same `B`, mask and black/white points.

use rayon::prelude::*;

use super::{
    detector::{Exposure, RAW_OFFSET, quantile},
    smooth::low_pass,
    truth::ProcessingTruth,
};

const MASK_LOG: f32 = 0.08;
const ALPHA: f64 = 0.3;
const SIGMA_MM: f64 = 6.0;

pub(crate) struct Presentation {
    pub image: Vec<f32>,
    pub clean: Vec<f32>,
    pub truth: ProcessingTruth,
}

pub(crate) fn process(exposure: &Exposure, size: [usize; 2], spacing_mm: f64) -> Presentation {
    let [width, height] = size;
    let flat = exposure.gain * exposure.flat_field_quanta;
    let floor = 0.5 * exposure.gain;
    let log = |v: f32| (flat / (f64::from(v) - RAW_OFFSET).max(floor)).ln() as f32;
    let l_noisy: Vec<f32> = exposure.raw.par_iter().map(|&v| log(v)).collect();
    let l_clean: Vec<f32> = exposure.expected.par_iter().map(|&v| log(v)).collect();
    let mask: Vec<bool> = l_noisy.iter().map(|&l| l > MASK_LOG).collect();
    let masked: Vec<f32> = l_noisy.iter().zip(&mask).map(|(&l, &m)| if m { l } else { 0.0 }).collect();
    let weights: Vec<f32> = mask.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect();
    let num = low_pass(&masked, width, height, SIGMA_MM / spacing_mm);
    let den = low_pass(&weights, width, height, SIGMA_MM / spacing_mm);
    let background: Vec<f32> = num.iter().zip(&den).map(|(&n, &d)| if d > 0.02 { n / d } else { 0.0 }).collect();
    let inside = |v: &[f32]| -> Vec<f32> { v.iter().zip(&mask).filter(|p| *p.1).map(|p| *p.0).collect() };
    let reference = quantile(inside(&background), 0.5);
    let equalize = |l: &[f32]| -> Vec<f32> {
        l.iter()
            .zip(&background)
            .zip(&mask)
            .map(|((&l, &b), &m)| if m { (f64::from(l) + ALPHA * (reference - f64::from(b))) as f32 } else { 0.0 })
            .collect()
    };
    let eq_noisy = equalize(&l_noisy);
    let eq_clean = equalize(&l_clean);
    let values = inside(&eq_noisy);
    let log_black = 0.6 * quantile(values.clone(), 0.005);
    let log_white = (1.03 * quantile(values, 0.9995)).max(log_black + 0.1);
    let map =
        |l: &[f32]| -> Vec<f32> {
            l.iter()
                .zip(&mask)
                .map(|(&v, &m)| {
                    if m { (16383.0 * ((f64::from(v) - log_black) / (log_white - log_black)).clamp(0.0, 1.0)).round() as f32 } else { 0.0 }
                })
                .collect()
        };
    Presentation {
        image: map(&eq_noisy),
        clean: map(&eq_clean),
        truth: ProcessingTruth {
            flat_field_quanta: exposure.flat_field_quanta,
            gain: exposure.gain,
            offset: RAW_OFFSET,
            equalization_alpha: ALPHA,
            equalization_sigma_mm: SIGMA_MM,
            equalization_reference: reference,
            log_black,
            log_white,
        },
    }
}
