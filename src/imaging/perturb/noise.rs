//! Additive Gaussian noise (robustness-lowpass-mammography: σ = 1600 on a 0–4095 scale) and the paper's baseline, a
//! Gaussian σ matched to the L2 norm of another perturbation (its Table 1).
//!
//! ```
//! use mammoscope::imaging::{Image, perturb::noise};
//! let flat = Image::filled(64, 64, 1000.0);
//! let noisy = noise::add_gaussian(&flat, 10.0, 7);
//! assert_eq!(noisy, noise::add_gaussian(&flat, 10.0, 7)); // same seed, same noise
//! let sigma = noise::matched_sigma(&flat, &noisy);
//! assert!((sigma - 10.0).abs() < 0.5);
//! ```

use rand_distr::{Distribution as _, StandardNormal};
use rayon::prelude::*;

use super::rng::{Step, stream};
use crate::imaging::Image;

/// `image` plus independent N(0, σ²) noise per pixel, in raw units. Rows are drawn in parallel, each from its own
/// generator derived from `(seed, row)`, so the result does not depend on the number of threads.
#[must_use]
pub fn add_gaussian(image: &Image, sigma: f64, seed: u64) -> Image {
    let mut out = image.clone();
    if sigma <= 0.0 || image.width == 0 {
        return out;
    }
    out.data.par_chunks_mut(image.width).enumerate().for_each(|(row, line)| {
        let mut rng = stream(seed, Step::Noise, row as u64);
        for v in line {
            let z: f64 = StandardNormal.sample(&mut rng);
            *v = (f64::from(*v) + sigma * z) as f32;
        }
    });
    out
}

/// The σ of the Gaussian baseline for a perturbation: the σ whose expected L2 norm over all `n` pixels,
/// `E‖ε‖₂ ≈ σ·√n`, equals `‖perturbed − original‖₂`; that is `σ = ‖perturbed − original‖₂ / √n` (the root mean
/// square difference). Returns 0 for empty images or images of different sizes.
pub fn matched_sigma(original: &Image, perturbed: &Image) -> f64 {
    if original.data.is_empty() || original.data.len() != perturbed.data.len() {
        return 0.0;
    }
    let sum_sq: f64 = original
        .data
        .par_iter()
        .zip(&perturbed.data)
        .map(|(&a, &b)| {
            let d = f64::from(b) - f64::from(a);
            d * d
        })
        .sum();
    (sum_sq / original.data.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_and_determinism() {
        let flat = Image::filled(200, 150, 2000.0);
        let noisy = add_gaussian(&flat, 50.0, 3);
        let n = noisy.data.len() as f64;
        let mean = noisy.data.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = noisy.data.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!((mean - 2000.0).abs() < 1.0, "mean {mean}");
        assert!((var.sqrt() / 50.0 - 1.0).abs() < 0.02, "σ {}", var.sqrt());
        assert_eq!(noisy, add_gaussian(&flat, 50.0, 3));
        assert_ne!(noisy, add_gaussian(&flat, 50.0, 4));
        // Thread count does not matter: a single-threaded pool gives the same image.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(pool.install(|| add_gaussian(&flat, 50.0, 3)), noisy);
        assert_eq!(add_gaussian(&flat, 0.0, 3), flat);
    }

    #[test]
    fn matched_sigma_is_the_rms_difference() {
        let a = Image::new(2, 2, vec![0.0, 0.0, 0.0, 0.0]).unwrap();
        let b = Image::new(2, 2, vec![3.0, -3.0, 3.0, -3.0]).unwrap();
        assert!((matched_sigma(&a, &b) - 3.0).abs() < 1e-12);
        assert!(matched_sigma(&a, &Image::filled(3, 1, 0.0)).abs() < f64::EPSILON);
        let noisy = add_gaussian(&Image::filled(300, 300, 100.0), 1600.0, 9);
        let sigma = matched_sigma(&Image::filled(300, 300, 100.0), &noisy);
        assert!((sigma / 1600.0 - 1.0).abs() < 0.01, "{sigma}");
    }
}
