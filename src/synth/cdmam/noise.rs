//! Quantum and electronic noise, and the conversion to raw detector values.

use rand_distr::{Distribution, Poisson, StandardNormal};
use rayon::prelude::*;

use super::{blur, params::CdmamParams, rng::stream};

/// The largest raw value (14 bits).
pub const RAW_MAX: f64 = 16383.0;

/// Electronic noise in quanta per pixel: white Gaussian of standard deviation `params.noise`, or that passed
/// through a Gaussian filter of `noise_corr_mm` and rescaled to keep its standard deviation. `None` without noise.
pub(crate) fn electronic(params: &CdmamParams, [width, height]: [usize; 2], seed: u64) -> Option<Vec<f32>> {
    if params.noise <= 0.0 {
        return None;
    }
    let mut white = vec![0.0f32; width * height];
    white.par_chunks_mut(width).enumerate().for_each(|(y, line)| {
        let mut rng = stream(seed, y as u64);
        for v in line {
            *v = StandardNormal.sample(&mut rng);
        }
    });
    let kernel = blur::kernel(params.noise_corr_mm / params.pixel_mm);
    // A separable filter turns unit white noise into noise of standard deviation Σ k².
    let scale = (params.noise / kernel.iter().map(|k| k * k).sum::<f64>()) as f32;
    let mut noise = blur::separable(&white, [width, height], &kernel);
    noise.par_iter_mut().for_each(|v| *v *= scale);
    Some(noise)
}

/// Raw values `offset + gain · (Poisson(quanta) + electronic)`, rounded and clamped to `0..=16383`; one random
/// stream per row, so the result is the same on any number of threads.
pub(crate) fn raw_values(quanta: &[f32], width: usize, electronic: Option<&[f32]>, [gain, offset]: [f64; 2], seed: u64) -> Vec<f32> {
    let mut raw = vec![0.0f32; quanta.len()];
    raw.par_chunks_mut(width.max(1)).enumerate().for_each(|(y, line)| {
        let mut rng = stream(seed, y as u64);
        for (x, out) in line.iter_mut().enumerate() {
            let i = y * width + x;
            let counts = poisson(f64::from(quanta[i]), &mut rng);
            let e = electronic.map_or(0.0, |n| f64::from(n[i]));
            *out = (offset + gain * (counts + e)).round().clamp(0.0, RAW_MAX) as f32;
        }
    });
    raw
}

/// One Poisson draw of mean `lambda` (0 for a mean that is not positive and finite).
fn poisson(lambda: f64, rng: &mut impl rand::Rng) -> f64 {
    match Poisson::new(lambda) {
        Ok(p) => p.sample(rng),
        Err(_) => 0.0,
    }
}
