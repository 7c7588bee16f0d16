//! How much of a dose-reduced image's noise is its full-dose original's own noise (mammogram-denoising-anscombe:
//! dose reduction by binomial thinning with the gain `k` from var/mean).
//!
//! Thinning the original's counts `N` to `K ~ Bin(N, α)` adds variance `α(1 − α)·λ` and passes on `α²·Var(N)` of the
//! original's own. When the gain is right, `Var(N) = λ` and the two shares are `1 − α` and `α` of a total `α·λ`, the
//! Poisson variance of `K`. When it is not — texture counted as quantum noise by var/mean, film grain, processed
//! images — the original holds `r·λ` instead, and the input's variance over its Poisson expectation is
//! `v = 1 − α + α·r`. The part not added by the thinning is then `1 − (1 − α)/v`: `α` when `r = 1`, and 0 when the
//! original was noise-free.
//!
//! `v` is measured on the input alone: the finest diagonal Haar detail `(a − b − c + d)/2` of every 2 × 2 block of
//! counts, divided by the square root of the block's mean count (unit variance for Poisson counts), its variance
//! taken robustly as `(1.4826·median|·|)²` so edges and calcifications do not count.

use rayon::prelude::*;

use super::count_scale::CountScale;
use crate::imaging::Image;

/// Blocks whose mean count is below this are left out (nearly empty background; Poisson counts that low are too
/// discrete for the median rule).
const MIN_MEAN_COUNT: f64 = 4.0;
/// Fewer usable blocks than this and there is no measurement.
const MIN_BLOCKS: usize = 256;

/// The variance of `input`'s counts over their Poisson expectation (`v` in the module docs); `None` with fewer than
/// 256 usable 2 × 2 blocks.
///
/// Only the finest scale is free of anatomy: the same statistic on 2 × 2-binned counts reads 2–22 % above 1 on
/// simulated images whose noise is white, from their structure. So noise that is correlated between neighbouring
/// pixels (film grain, a scanner's blur) is under-counted.
pub fn poisson_dispersion(input: &Image, scale: CountScale) -> Option<f64> {
    let w = input.width;
    let mut details: Vec<f64> = (0..input.height / 2)
        .into_par_iter()
        .flat_map_iter(|by| {
            let row = |y: usize| &input.data[y * w..(y + 1) * w];
            let (top, bottom) = (row(2 * by), row(2 * by + 1));
            (0..w / 2).filter_map(move |bx| {
                let [a, b] = [top[2 * bx], top[2 * bx + 1]].map(|z| scale.counts(z));
                let [c, d] = [bottom[2 * bx], bottom[2 * bx + 1]].map(|z| scale.counts(z));
                let mean = (a + b + c + d) / 4.0;
                (mean >= MIN_MEAN_COUNT).then(|| (0.5 * (a - b - c + d) / mean.sqrt()).abs())
            })
        })
        .collect();
    if details.len() < MIN_BLOCKS {
        return None;
    }
    let mid = details.len() / 2;
    let (_, median, _) = details.select_nth_unstable_by(mid, f64::total_cmp);
    Some((1.482_6 * *median).powi(2))
}

/// The share of `input`'s noise variance that is the full-dose original's own noise, for an input dose-reduced to
/// `scale.alpha` (see the module docs); in [0, 1], and `scale.alpha` when it cannot be measured.
pub fn original_noise_share(input: &Image, scale: CountScale) -> f64 {
    let alpha = scale.alpha.clamp(0.0, 1.0);
    if alpha >= 1.0 {
        return 1.0;
    }
    poisson_dispersion(input, scale).map_or(alpha, |v| (1.0 - (1.0 - alpha) / v).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal, Poisson};

    use super::*;
    use crate::imaging::perturb::dose::reduce_dose;

    /// An original with `r·λ` of noise variance around λ = 300 quanta (gain 2, offset 100), reduced to α; with
    /// `edge`, λ = 800 right of column 129.
    fn reduced_with(r: f64, alpha: f64, seed: u64, edge: bool) -> (Image, CountScale) {
        let (w, h) = (256, 256);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let data: Vec<f32> = (0..w * h)
            .map(|i| {
                let lambda = if edge && i % w > 128 { 800.0 } else { 300.0 };
                let q = if (r - 1.0).abs() < 1e-9 {
                    Poisson::new(lambda).unwrap().sample(&mut rng)
                } else {
                    Normal::new(lambda, (r * lambda).sqrt()).unwrap().sample(&mut rng)
                };
                (100.0 + 2.0 * q) as f32
            })
            .collect();
        let full = Image::new(w, h, data).unwrap();
        (reduce_dose(&full, alpha, 2.0, 100.0, seed).unwrap(), CountScale { gain: 2.0, offset: 100.0, alpha })
    }

    fn reduced(r: f64, alpha: f64, seed: u64) -> (Image, CountScale) {
        reduced_with(r, alpha, seed, false)
    }

    #[test]
    fn share_is_alpha_when_the_gain_is_right_and_smaller_for_a_quieter_original() {
        for alpha in [0.2, 0.5] {
            let (input, scale) = reduced(1.0, alpha, 1);
            let v = poisson_dispersion(&input, scale).unwrap();
            assert!((v - 1.0).abs() < 0.03, "α {alpha}: v {v}");
            assert!((original_noise_share(&input, scale) - alpha).abs() < 0.03, "α {alpha}");
            // A quarter of the noise the gain claims: r α / (r α + 1 − α).
            let (input, scale) = reduced(0.25, alpha, 2);
            let expected = 0.25 * alpha / (0.25 * alpha + 1.0 - alpha);
            assert!((original_noise_share(&input, scale) - expected).abs() < 0.03, "α {alpha}");
            // A noise-free original: nothing to keep.
            let (input, scale) = reduced(1e-6, alpha, 3);
            assert!(original_noise_share(&input, scale) < 0.03, "α {alpha}");
        }
    }

    #[test]
    fn edges_do_not_count_and_tiny_or_empty_images_fall_back_to_alpha() {
        // A step edge through a Poisson field (cutting 2 × 2 blocks) changes nothing.
        let (input, scale) = reduced_with(1.0, 0.2, 4, true);
        assert!((original_noise_share(&input, scale) - 0.2).abs() < 0.03);
        let scale = CountScale { gain: 2.0, offset: 100.0, alpha: 0.3 };
        assert!((original_noise_share(&Image::filled(8, 8, 500.0), scale) - 0.3).abs() < 1e-12);
        assert!((original_noise_share(&Image::filled(64, 64, 0.0), scale) - 0.3).abs() < 1e-12, "no counts");
        assert!((original_noise_share(&Image::filled(64, 64, 0.0), CountScale { alpha: 1.0, ..scale }) - 1.0).abs() < 1e-12);
    }
}
