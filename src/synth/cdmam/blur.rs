//! Separable Gaussian filtering of row-major `f32` buffers (edges clamp), for the detector PSF and for
//! correlated electronic noise.

use rayon::prelude::*;

/// The sampled, normalised 1-D Gaussian of standard deviation `sigma_px`, radius ⌈3.5σ⌉ (a single tap below
/// σ = 0.05 px).
pub(crate) fn kernel(sigma_px: f64) -> Vec<f64> {
    if sigma_px < 0.05 {
        return vec![1.0];
    }
    let radius = (3.5 * sigma_px).ceil() as usize;
    let k: Vec<f64> = (0..=2 * radius).map(|i| (-((i as f64 - radius as f64).powi(2)) / (2.0 * sigma_px * sigma_px)).exp()).collect();
    let sum: f64 = k.iter().sum();
    k.iter().map(|&v| v / sum).collect()
}

/// Filters `data` (`width` × `height`) with the separable `kernel` along both axes.
pub(crate) fn separable(data: &[f32], [width, height]: [usize; 2], kernel: &[f64]) -> Vec<f32> {
    if kernel.len() <= 1 || width == 0 || height == 0 {
        return data.to_vec();
    }
    let radius = kernel.len() / 2;
    let weights: Vec<f32> = kernel.iter().map(|&w| w as f32).collect();
    let tap = |src: &[f32], len: usize, stride: usize, i: usize| -> f32 {
        weights.iter().enumerate().map(|(k, &w)| w * src[(i + k).saturating_sub(radius).min(len - 1) * stride]).sum()
    };
    let mut rows = vec![0.0f32; data.len()];
    rows.par_chunks_mut(width).zip(data.par_chunks(width)).for_each(|(out, src)| {
        for (x, o) in out.iter_mut().enumerate() {
            *o = tap(src, width, 1, x);
        }
    });
    let mut out = vec![0.0f32; data.len()];
    out.par_chunks_mut(width).enumerate().for_each(|(y, line)| {
        for (x, o) in line.iter_mut().enumerate() {
            *o = tap(&rows[x..], height, width, y);
        }
    });
    out
}

/// Gaussian blur with standard deviation `sigma_px`.
pub(crate) fn gaussian(data: &[f32], size: [usize; 2], sigma_px: f64) -> Vec<f32> {
    separable(data, size, &kernel(sigma_px))
}
