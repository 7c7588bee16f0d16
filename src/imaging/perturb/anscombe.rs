//! The Anscombe variance-stabilising transform and its exact unbiased inverse (mammogram-denoising-anscombe, Eq. 4;
//! Mäkitalo & Foi, "A closed-form approximation of the exact unbiased inverse of the Anscombe variance-stabilizing
//! transformation", IEEE TIP 20(9), 2011).
//!
//! `f(x) = 2·√(x + 3/8)` turns Poisson counts into values with (nearly) unit variance. A denoiser estimates
//! `E[f(x)]`; inverting that with the algebraic inverse `(y/2)² − 3/8` is biased at low counts, the exact unbiased
//! inverse is not. Counts are in quanta: divide raw values by the gain first (see [`super::dose`]).
//!
//! ```
//! use mammoscope::imaging::perturb::anscombe::{anscombe, inverse_anscombe};
//! let y = anscombe(100.0);
//! assert!((y - 2.0 * 100.375_f64.sqrt()).abs() < 1e-12);
//! assert!((inverse_anscombe(y) - 100.0).abs() < 0.3); // the unbiased inverse, not the algebraic one
//! ```

use rayon::prelude::*;

use crate::imaging::Image;

/// The forward Anscombe transform `2·√(x + 3/8)` (0 for `x ≤ −3/8`).
pub fn anscombe(x: f64) -> f64 {
    2.0 * (x + 0.375).max(0.0).sqrt()
}

/// The closed-form approximation of the exact unbiased inverse (Mäkitalo & Foi 2011):
/// `¼y² + ¼√(3/2)·y⁻¹ − 11/8·y⁻² + 5/8·√(3/2)·y⁻³ − 1/8`, clamped at 0. Values `y ≤ 0` give 0.
pub fn inverse_anscombe(y: f64) -> f64 {
    if y <= 0.0 {
        return 0.0;
    }
    let s = 1.5_f64.sqrt();
    let inv = 1.0 / y;
    let value = 0.25 * y * y + 0.25 * s * inv - 1.375 * inv * inv + 0.625 * s * inv * inv * inv - 0.125;
    value.max(0.0)
}

/// [`anscombe`] on every pixel (values in quanta).
#[must_use]
pub fn anscombe_image(image: &Image) -> Image {
    map(image, anscombe)
}

/// [`inverse_anscombe`] on every pixel.
#[must_use]
pub fn inverse_anscombe_image(image: &Image) -> Image {
    map(image, inverse_anscombe)
}

fn map(image: &Image, f: fn(f64) -> f64) -> Image {
    let data = image.data.par_iter().map(|&v| f(f64::from(v)) as f32).collect();
    Image { width: image.width, height: image.height, data }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use rand_distr::{Distribution as _, Poisson};

    use super::*;

    /// The unbiased inverse of the mean transformed value recovers λ for λ ≥ 1; the algebraic inverse does not.
    #[test]
    fn unbiased_on_poisson_samples() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for lambda in [1.0, 2.0, 5.0, 20.0, 100.0, 1000.0] {
            let poisson = Poisson::new(lambda).unwrap();
            let n = 200_000;
            let mean_y = (0..n).map(|_| anscombe(poisson.sample(&mut rng))).sum::<f64>() / f64::from(n);
            let unbiased = inverse_anscombe(mean_y);
            let algebraic = (mean_y / 2.0).powi(2) - 0.375;
            assert!((unbiased / lambda - 1.0).abs() < 0.02, "λ {lambda}: {unbiased}");
            if lambda <= 2.0 {
                assert!((algebraic / lambda - 1.0).abs() > 0.1, "λ {lambda}: algebraic {algebraic}");
            }
        }
    }

    #[test]
    fn edge_values_and_images() {
        assert!(anscombe(-1.0).abs() < f64::EPSILON);
        assert!(inverse_anscombe(0.0).abs() < f64::EPSILON);
        assert!(inverse_anscombe(0.5) >= 0.0);
        let img = Image::new(2, 1, vec![0.0, 50.0]).unwrap();
        let back = inverse_anscombe_image(&anscombe_image(&img));
        assert!((back.data[1] - 50.0).abs() < 0.3, "{:?}", back.data);
        // Unit variance after the transform for large counts.
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let poisson = Poisson::new(400.0).unwrap();
        let ys: Vec<f64> = (0..50_000).map(|_| anscombe(poisson.sample(&mut rng))).collect();
        let m = ys.iter().sum::<f64>() / ys.len() as f64;
        let var = ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / (ys.len() - 1) as f64;
        assert!((var - 1.0).abs() < 0.03, "{var}");
    }
}
