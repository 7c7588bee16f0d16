//! The photon-count domain of a (dose-reduced) image, where the denoising paper works
//! (mammogram-denoising-anscombe, Fig. 1): raw values `z = offset + k·q/α` (see [`super::dose`], which keeps the
//! brightness), so the counts of a dose fraction α are `q = α·(z − offset)/k`; the Anscombe transform of `q` has
//! unit-variance noise whatever α, which is why one denoiser serves the whole dose slider.
//!
//! ```
//! use mammoscope::imaging::{Image, perturb::count_scale::CountScale};
//! let scale = CountScale { gain: 2.0, offset: 40.0, alpha: 0.5 };
//! let image = Image::new(2, 1, vec![40.0, 440.0]).unwrap(); // 0 and 100 counts
//! assert!((scale.to_anscombe(&image).data[1] - 2.0 * 100.375_f32.sqrt()).abs() < 1e-4);
//! // The expected Anscombe value of a noise-free pixel maps back to it exactly.
//! let back = scale.from_anscombe(&scale.expected_anscombe(&image));
//! assert!((back.data[1] - 440.0).abs() < 0.01);
//! ```

use rayon::prelude::*;

use super::anscombe::{anscombe, inverse_anscombe};
use crate::imaging::Image;

/// Raw units per quantum, dark offset and dose fraction of an image.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CountScale {
    /// Raw units per quantum `k` (from [`super::gain::estimate_gain`]).
    pub gain: f64,
    /// Raw value of zero quanta.
    pub offset: f64,
    /// Dose fraction α of the image (1 for an image as acquired).
    pub alpha: f64,
}

impl CountScale {
    /// Counts of a raw value (negative counts are 0).
    pub fn counts(&self, z: f32) -> f64 {
        (self.alpha * (f64::from(z) - self.offset) / self.gain).max(0.0)
    }

    /// Raw value of a count.
    pub fn raw(&self, counts: f64) -> f32 {
        (self.offset + self.gain * counts / self.alpha) as f32
    }

    /// `2·√(q + 3/8)` of every pixel's counts: the noisy image with unit-variance noise.
    #[must_use]
    pub fn to_anscombe(&self, image: &Image) -> Image {
        Self::map(image, |z| anscombe(self.counts(z)) as f32)
    }

    /// The expected Anscombe value of Poisson counts with the mean of each pixel of a noise-free image: the target
    /// a denoiser estimates, and exactly what [`Self::from_anscombe`] maps back to that mean.
    #[must_use]
    pub fn expected_anscombe(&self, clean: &Image) -> Image {
        Self::map(clean, |z| mean_anscombe(self.counts(z)) as f32)
    }

    /// Back to raw values through the exact unbiased inverse (Mäkitalo & Foi 2011).
    #[must_use]
    pub fn from_anscombe(&self, a: &Image) -> Image {
        Self::map(a, |y| self.raw(inverse_anscombe(f64::from(y))))
    }

    fn map(image: &Image, f: impl Fn(f32) -> f32 + Sync) -> Image {
        Image { width: image.width, height: image.height, data: image.data.par_iter().map(|&v| f(v)).collect() }
    }
}

/// `E[2·√(X + 3/8)]` for `X ~ Poisson(q)`: the value `y` whose unbiased inverse is `q` (Newton on the closed form;
/// for `q` below 0.05 the inverse is flat, and the forward transform of `q` is returned).
pub fn mean_anscombe(q: f64) -> f64 {
    if q < 0.05 {
        return anscombe(q);
    }
    let mut y = 2.0 * (q + 0.125).sqrt();
    for _ in 0..4 {
        // d/dy of the inverse is ≈ y/2 (its leading term ¼y²).
        y -= (inverse_anscombe(y) - q) / (0.5 * y).max(0.1);
    }
    y
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use rand_distr::{Distribution as _, Poisson};

    use super::*;

    #[test]
    fn mean_anscombe_is_the_mean_of_transformed_poisson_counts() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for q in [2.0, 10.0, 100.0, 2000.0] {
            let p = Poisson::new(q).unwrap();
            let n = 200_000;
            let mean = (0..n).map(|_| anscombe(p.sample(&mut rng))).sum::<f64>() / f64::from(n);
            assert!((mean_anscombe(q) - mean).abs() < 0.01, "q {q}: {} vs {mean}", mean_anscombe(q));
            assert!((inverse_anscombe(mean_anscombe(q)) - q).abs() < 1e-6 * q.max(1.0));
        }
    }

    #[test]
    fn counts_and_raw_round_trip() {
        let s = CountScale { gain: 3.0, offset: 100.0, alpha: 0.2 };
        assert!((s.counts(400.0) - 20.0).abs() < 1e-12);
        assert!((s.raw(20.0) - 400.0).abs() < 1e-3);
        assert!(s.counts(50.0).abs() < f64::EPSILON);
    }
}
