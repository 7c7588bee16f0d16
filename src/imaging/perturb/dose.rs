//! Dose reduction as the denoising paper models it (mammogram-denoising-anscombe, Sec. 2): raw values `z` are
//! `k·λ + offset` with λ Poisson quanta; convert to quanta, keep each quantum with probability α, convert back.
//!
//! Binomial thinning `Bin(n, α)` of a Poisson(λ) count is exactly Poisson(αλ), so the result has the noise of an
//! acquisition at α times the dose. Quanta `q = (z − offset)/k` that are not integers (rounding of raw values,
//! electronic noise, processed images) are rounded stochastically (`⌊q⌋` plus a Bernoulli draw of the fraction), which
//! keeps the mean; negative `q` count as 0.
//!
//! Scale: the thinned count is divided by α before converting back, `z' = offset + k·count/α`, so the mean brightness
//! stays where it was and only the noise grows (variance `k²λ/α` instead of `k²λ`). The denoising paper likewise keeps
//! the image scale (its network sees images of the original brightness); a physically darker image would need a new
//! window in the viewer for every α.
//!
//! On For Presentation (log-processed) images the gain comes from a local linearisation (see [`super::gain`]) and
//! the result approximates the look of a lower dose; on linear For Processing images it is the model above.
//!
//! ```
//! use mammoscope::imaging::{Image, perturb::dose::reduce_dose};
//! let flat = Image::filled(32, 32, 1000.0); // k = 2, offset 0: 500 quanta per pixel
//! let half = reduce_dose(&flat, 0.5, 2.0, 0.0, 1).unwrap();
//! assert!((half.stats().mean - 1000.0).abs() < 10.0);
//! ```

use rand::Rng as _;
use rand_distr::{Binomial, Distribution as _};
use rayon::prelude::*;

use super::{
    PerturbError,
    rng::{Step, stream},
};
use crate::imaging::Image;

/// Simulate `alpha` (0 < α ≤ 1) times the dose of `image`, given the gain `k` (raw units per quantum) and the
/// offset. Rows are drawn in parallel from per-row generators derived from `seed` (independent of thread count).
pub fn reduce_dose(image: &Image, alpha: f64, gain: f64, offset: f64, seed: u64) -> Result<Image, PerturbError> {
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(PerturbError::Invalid(format!("dose fraction must be in (0, 1], got {alpha}")));
    }
    if !(gain.is_finite() && gain > 0.0 && offset.is_finite()) {
        return Err(PerturbError::Invalid(format!("gain must be positive and offset finite, got k = {gain}, offset = {offset}")));
    }
    let mut out = image.clone();
    if alpha >= 1.0 || image.width == 0 {
        return Ok(out);
    }
    out.data.par_chunks_mut(image.width).enumerate().for_each(|(row, line)| {
        let mut rng = stream(seed, Step::Dose, row as u64);
        for v in line {
            let q = (f64::from(*v) - offset) / gain;
            if q <= 0.0 {
                continue; // at or below the detector offset (background, padding): no quanta to thin, left as it is
            }
            let whole = q.floor();
            let n = whole as u64 + u64::from(rng.random::<f64>() < q - whole);
            let kept = Binomial::new(n, alpha).map_or(0, |b| b.sample(&mut rng));
            *v = (offset + gain * kept as f64 / alpha) as f32;
        }
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use rand_distr::Poisson;

    use super::super::gain::{estimate_gain, estimate_gain_or_ratio};
    use super::*;

    fn mean_var(data: &[f32]) -> (f64, f64) {
        let n = data.len() as f64;
        let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        (mean, data.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / (n - 1.0))
    }

    /// `k·Poisson(λ(x, y)) + offset`, integer-rounded, with a background of 0 around the object.
    fn simulated(k: f64, offset: f64, lambda: impl Fn(usize, usize) -> f64, seed: u64) -> Image {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (w, h) = (320, 256);
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if x < 24 {
                    return 0.0; // background
                }
                let count: f64 = Poisson::new(lambda(x, y)).unwrap().sample(&mut rng);
                (k * count + offset).round() as f32
            })
            .collect();
        Image::new(w, h, data).unwrap()
    }

    #[test]
    fn thinning_a_flat_field_gives_the_predicted_statistics() {
        let (k, offset, lambda) = (3.0, 100.0, 400.0);
        let flat = simulated(k, offset, |_, _| lambda, 1);
        let object: Vec<f32> = (0..flat.height).flat_map(|y| flat.data[y * flat.width + 24..(y + 1) * flat.width].to_vec()).collect();
        let object = Image::new(flat.width - 24, flat.height, object).unwrap();
        for alpha in [0.5, 0.2] {
            let low = reduce_dose(&object, alpha, k, offset, 7).unwrap();
            let (mean, var) = mean_var(&low.data);
            let (m0, _) = mean_var(&object.data);
            assert!((mean / m0 - 1.0).abs() < 0.005, "α {alpha}: mean {mean} vs {m0}");
            let predicted = k * k * lambda / alpha; // Poisson(αλ) scaled by k/α
            assert!((var / predicted - 1.0).abs() < 0.04, "α {alpha}: var {var} vs {predicted}");
            assert_eq!(low, reduce_dose(&object, alpha, k, offset, 7).unwrap(), "deterministic");
            assert_ne!(low, reduce_dose(&object, alpha, k, offset, 8).unwrap());
        }
        assert_eq!(reduce_dose(&object, 1.0, k, offset, 7).unwrap(), object);
        assert!(reduce_dose(&object, 0.0, k, offset, 7).is_err());
        assert!(reduce_dose(&object, 0.5, -1.0, offset, 7).is_err());
    }

    #[test]
    fn pixels_at_or_below_the_offset_are_left_alone() {
        let image = Image::new(4, 1, vec![0.0, 50.0, 100.0, 500.0]).unwrap();
        let out = reduce_dose(&image, 0.5, 2.0, 100.0, 7).unwrap();
        assert_eq!(&out.data[..3], &[0.0, 50.0, 100.0]);
        assert!(out.data[3] > 100.0);
    }

    #[test]
    fn gain_estimator_recovers_a_known_gain() {
        for (k, offset) in [(2.5, 50.0), (0.8, 0.0), (6.0, 1000.0)] {
            // Flat + gradient + structure: a ramp, bright disks and a dense band with sharp edges.
            let lambda = |x: usize, y: usize| {
                let mut l = 200.0 + 3.0 * x as f64 + 0.5 * y as f64;
                for (cx, cy, r) in [(100.0, 80.0, 20.0), (220.0, 170.0, 30.0), (280.0, 60.0, 12.0)] {
                    if (x as f64 - cx).hypot(y as f64 - cy) < r {
                        l += 700.0;
                    }
                }
                if (140..150).contains(&x) {
                    l *= 2.0;
                }
                l
            };
            let img = simulated(k, offset, lambda, 3);
            let est = estimate_gain(&img).unwrap();
            assert!((est.gain / k - 1.0).abs() < 0.05, "k {k}: estimated {est:?}");
            assert!((est.offset - offset).abs() < 0.05 * 200.0 * k, "offset {offset}: {est:?}");
            assert!(est.blocks_used < est.blocks_total, "edges dropped: {est:?}");
            assert!((0.6..1.4).contains(&est.dispersion), "{est:?}");
        }
        assert!(estimate_gain(&Image::filled(64, 64, 5.0)).is_err());
    }

    #[test]
    fn gain_falls_back_to_the_papers_ratio_when_variance_falls_with_the_mean() {
        // Noise σ² = 4000 − 2·mean: the regression slope is negative, the paper's ratio still gives a gain.
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let (w, h) = (256, 128);
        let data: Vec<f32> = (0..w * h)
            .map(|i| {
                let mean = 500.0 + 5.0 * (i % w) as f64;
                let sd = (4000.0 - 2.0 * mean).max(1.0).sqrt();
                let z: f64 = rand_distr::StandardNormal.sample(&mut rng);
                (mean + sd * z) as f32
            })
            .collect();
        let image = Image::new(w, h, data).unwrap();
        assert!(estimate_gain(&image).is_err());
        let (est, fallback) = estimate_gain_or_ratio(&image).unwrap();
        assert!(fallback && est.gain > 0.0 && est.offset == 0.0, "{est:?}");
        // Where the regression works, it is used.
        let linear = simulated(2.5, 50.0, |x, _| 200.0 + 3.0 * x as f64, 9);
        assert!(!estimate_gain_or_ratio(&linear).unwrap().1);
    }
}
