//! A whole image through the paper's pipeline (mammogram-denoising-anscombe, Fig. 1): raw values → counts at the
//! image's dose fraction → Anscombe → denoiser (or the σ = 1 Gaussian baseline) → exact unbiased inverse → raw
//! values on the input's scale. Pixels with no counts (background at or below the offset) keep their value.
//!
//! The network estimates the noise-free image. Scored against a full-dose reference (the paper's Table 1), the best
//! estimate of that reference is a different one, [`Estimate::FullDose`]: the dose-reduced image shares its quanta
//! with the full-dose one, so part of its noise is the reference's own noise.

use candle_core::Device;

use super::mirrors::denoise_anscombe_mirrored;
use super::net::DenoiseNet;
use super::tiled::{Rect, TileOptions, TileProgress, denoise_anscombe};
use crate::imaging::{
    Image,
    gaussian::blur_image,
    perturb::{count_scale::CountScale, noise_share::original_noise_share},
};
use crate::models::error::ModelError;

/// σ of the Gaussian-filter baseline in the Anscombe domain (the paper's Table 1).
pub const GAUSSIAN_BASELINE_SIGMA: f64 = 1.0;

/// Denoises `image` whose raw values relate to counts by `scale`. `progress` sees the Anscombe-domain partial result
/// (convert with [`to_raw`]).
pub fn denoise_image(
    net: &DenoiseNet,
    image: &Image,
    scale: CountScale,
    visible: Option<Rect>,
    device: &Device,
    progress: &mut dyn FnMut(&TileProgress<'_>),
    cancelled: &dyn Fn() -> bool,
) -> Result<Image, ModelError> {
    let a = scale.to_anscombe(image);
    let denoised = denoise_anscombe(net, &a, TileOptions::for_net(net), visible, device, progress, cancelled)?;
    Ok(to_raw(image, &denoised, scale))
}

/// [`denoise_image`] averaged over `passes` mirror images ([`super::mirrors`]); no visible-first order.
pub fn denoise_image_mirrored(
    net: &DenoiseNet,
    image: &Image,
    scale: CountScale,
    passes: usize,
    device: &Device,
    progress: &mut dyn FnMut(&TileProgress<'_>),
    cancelled: &dyn Fn() -> bool,
) -> Result<Image, ModelError> {
    let denoised = denoise_anscombe_mirrored(net, &scale.to_anscombe(image), passes, device, progress, cancelled)?;
    Ok(to_raw(image, &denoised, scale))
}

/// The baseline: a Gaussian filter (σ = 1 px) in the Anscombe domain.
pub fn gaussian_baseline(image: &Image, scale: CountScale) -> Image {
    to_raw(image, &blur_image(&scale.to_anscombe(image), GAUSSIAN_BASELINE_SIGMA), scale)
}

/// What a denoised image of a dose-reduced input estimates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Estimate {
    /// The noise-free image (what the network predicts).
    NoiseFree,
    /// The full-dose image the input was reduced from: the paper's training target, and what its Table 1 scores.
    FullDose,
}

impl Estimate {
    /// Both estimates.
    pub const ALL: [Self; 2] = [Self::NoiseFree, Self::FullDose];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoiseFree => "noise-free",
            Self::FullDose => "full-dose",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Result<Self, ModelError> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| ModelError::Input(format!("unknown estimate {name:?} (expected full-dose or noise-free)")))
    }

    /// `noise_free` (a noise-free estimate of `input`, a dose reduction to α) as this estimate. Callers that blend
    /// more than once per input measure [`Self::input_weight`] once and call [`blend_input`].
    pub fn apply(self, input: &Image, noise_free: Image, scale: CountScale) -> Image {
        blend_input(input, noise_free, scale, self.input_weight(input, scale))
    }

    /// The weight of `input` in this estimate: 0 for the noise-free one; for the full-dose one, the posterior mean of
    /// the full-dose image given its binomial thinning to α (what `reduce_dose` simulates).
    ///
    /// With full-dose counts `N = K + M`, the kept `K` observed and the removed `M ~ Poisson((1 − α)λ)` independent of
    /// `K` given the rate λ, `E[N | K] = K + (1 − α)·E[λ | K]`. On the raw scale, where the input shows `K / α`, that is
    /// `α·input + (1 − α)·noise_free` (raw values are affine in counts); at α = 1 it is the input itself. The weight α
    /// holds when the gain describes the original's noise. Where it does not (var/mean counts texture or film grain as
    /// quanta, processed images), the weight is the measured share of the input's noise that is the original's own
    /// ([`original_noise_share`]), the Gaussian posterior mean `noise_free + w·(input − noise_free)`.
    pub fn input_weight(self, input: &Image, scale: CountScale) -> f64 {
        match self {
            Self::NoiseFree => 0.0,
            Self::FullDose => original_noise_share(input, scale),
        }
    }
}

/// `weight·input + (1 − weight)·noise_free`; pixels without counts keep the input's value.
pub fn blend_input(input: &Image, mut noise_free: Image, scale: CountScale, weight: f64) -> Image {
    if weight <= 0.0 {
        return noise_free;
    }
    let w = weight.min(1.0) as f32;
    for (o, &v) in noise_free.data.iter_mut().zip(&input.data) {
        *o = if scale.counts(v) <= 0.0 { v } else { w * v + (1.0 - w) * *o };
    }
    noise_free
}

/// An Anscombe-domain result back on the raw scale of `input`; pixels without counts in `input` keep their value.
pub fn to_raw(input: &Image, anscombe: &Image, scale: CountScale) -> Image {
    let mut out = scale.from_anscombe(anscombe);
    for (o, &v) in out.data.iter_mut().zip(&input.data) {
        if scale.counts(v) <= 0.0 {
            *o = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::perturb::dose::reduce_dose;

    /// On a flat field the full-dose estimate is closer to the full-dose image than the exact noise-free value is,
    /// by the share of the reference's noise that the thinned input carries: mean squared error `λ(1 − α)` against `λ`
    /// (in counts), and exactly the input at α = 1.
    #[test]
    fn full_dose_estimate_is_the_posterior_mean_of_the_reference() {
        let (w, h, lambda) = (200, 200, 400.0f64);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
        let poisson = rand_distr::Poisson::new(lambda).unwrap();
        let full =
            Image::new(w, h, (0..w * h).map(|_| 100.0 + 2.0 * rand_distr::Distribution::sample(&poisson, &mut rng) as f32).collect())
                .unwrap();
        let alpha = 0.2;
        let scale = CountScale { gain: 2.0, offset: 100.0, alpha };
        let reduced = reduce_dose(&full, alpha, 2.0, 100.0, 9).unwrap();
        let truth = Image::new(w, h, vec![(100.0 + 2.0 * lambda) as f32; w * h]).unwrap();
        let mse = |a: &Image| a.data.iter().zip(&full.data).map(|(p, q)| f64::from(p - q).powi(2)).sum::<f64>() / (w * h) as f64 / 4.0;
        let noise_free = Estimate::NoiseFree.apply(&reduced, truth.clone(), scale);
        let full_dose = Estimate::FullDose.apply(&reduced, truth.clone(), scale);
        assert!((mse(&noise_free) / lambda - 1.0).abs() < 0.05, "{}", mse(&noise_free));
        assert!((mse(&full_dose) / (lambda * (1.0 - alpha)) - 1.0).abs() < 0.05, "{}", mse(&full_dose));
        let same = Estimate::FullDose.apply(&full, truth, CountScale { alpha: 1.0, ..scale });
        assert_eq!(same.data, full.data);
    }
}
