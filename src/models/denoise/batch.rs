//! One training or validation sample from a stored full-dose crop (mammogram-denoising-anscombe, Fig. 1), drawn
//! fresh at every step: dose reduction to a fraction α by Poisson thinning with the image's estimated gain, the
//! Anscombe transform of the counts, the smooth background removed, and a dihedral flip/rotation.

use candle_core::{Device, Result, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rayon::prelude::*;

use super::tiled::BACKGROUND_SIGMA_PX;
use crate::imaging::{
    Image,
    gaussian::gaussian_blur,
    perturb::{count_scale::CountScale, count_scale::mean_anscombe, dose::reduce_dose},
    seed::splitmix64,
};
use crate::models::training::batches::dihedral;
use crate::synth::denoise_data::DenoiseCrops;

/// Side of a training patch by default (the paper's 64 × 64; `train denoise --patch` for larger ones).
pub const PATCH: usize = 64;
/// The paper's dose fraction (80 % dose reduction).
pub const PAPER_ALPHA: f64 = 0.2;

/// How α is drawn: the paper's 0.2 with probability `paper_share`, the acquired dose (α = 1, denoising an image as it
/// is) with probability `full_share`, otherwise log-uniform in `[min_alpha, 1]`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DoseMix {
    pub paper_share: f64,
    pub full_share: f64,
    pub min_alpha: f64,
}

impl Default for DoseMix {
    fn default() -> Self {
        Self { paper_share: 0.4, full_share: 0.1, min_alpha: 0.08 }
    }
}

impl DoseMix {
    /// Draws α.
    pub fn draw(&self, rng: &mut impl Rng) -> f64 {
        let u: f64 = rng.random();
        if u < self.paper_share {
            PAPER_ALPHA
        } else if u < self.paper_share + self.full_share {
            1.0
        } else {
            self.min_alpha.powf(rng.random::<f64>())
        }
    }
}

/// A batch: network input (Anscombe image − background), the background, the true noise map, the noise-free
/// Anscombe target, and each sample's Anscombe-domain dynamic range (for the SSIM constants). SSIM compares
/// `input − V̂ + background` with the target: images on their own scale, as the paper's loss does.
pub struct Batch {
    pub input: Tensor,
    pub background: Tensor,
    pub noise: Tensor,
    pub clean: Tensor,
    pub range: Tensor,
}

impl Batch {
    /// The denoised Anscombe image for an estimated noise map.
    pub fn denoised(&self, estimated_noise: &Tensor) -> candle_core::Result<Tensor> {
        (&self.input - estimated_noise)? + &self.background
    }
}

/// What one sample needs: which crop, α, the flip, the noise seed.
#[derive(Clone, Copy, Debug)]
pub struct SampleSpec {
    pub crop: usize,
    pub alpha: f64,
    pub flip: u8,
    pub seed: u64,
}

impl SampleSpec {
    /// A random sample of `crops` for training step `step`.
    pub fn draw(crops: &DenoiseCrops, mix: &DoseMix, seed: u64, index: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(splitmix64(seed ^ splitmix64(index)));
        Self { crop: rng.random_range(0..crops.len()), alpha: mix.draw(&mut rng), flip: rng.random_range(0..8), seed: rng.random() }
    }
}

/// Builds the `(input, background, noise, clean)` arrays of one sample: the centred `patch`² of its crop.
pub fn sample(crops: &DenoiseCrops, spec: SampleSpec, patch: usize) -> [Vec<f32>; 4] {
    let (noisy, clean) = crops.crop(spec.crop);
    let side = crops.side;
    let scale = CountScale { gain: f64::from(crops.gain[spec.crop]), offset: f64::from(crops.offset[spec.crop]), alpha: spec.alpha };
    let noisy = Image { width: side, height: side, data: noisy.to_vec() };
    let reduced = reduce_dose(&noisy, spec.alpha, scale.gain, scale.offset, spec.seed).unwrap_or(noisy);
    let a = scale.to_anscombe(&reduced);
    let a_clean = scale.expected_anscombe(&Image { width: side, height: side, data: clean.to_vec() });
    let background = gaussian_blur(&a.data, side, side, BACKGROUND_SIGMA_PX);
    let margin = (side - patch) / 2;
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| Vec::with_capacity(patch * patch));
    for y in margin..margin + patch {
        for x in margin..margin + patch {
            let i = y * side + x;
            out[0].push(a.data[i] - background[i]);
            out[1].push(background[i]);
            out[2].push(a.data[i] - a_clean.data[i]);
            out[3].push(a_clean.data[i]);
        }
    }
    out.map(|v| dihedral(&v, patch, spec.flip))
}

/// The Anscombe-domain dynamic range of a crop's image at α (for the SSIM constants).
pub fn anscombe_range(crops: &DenoiseCrops, i: usize, alpha: f64) -> f32 {
    let scale = CountScale { gain: f64::from(crops.gain[i]), offset: f64::from(crops.offset[i]), alpha };
    let [lo, hi] = crops.range[i];
    (mean_anscombe(scale.counts(hi)) - mean_anscombe(scale.counts(lo))).max(1.0) as f32
}

/// Builds a batch of `specs`, `patch`² each (samples in parallel).
pub fn batch(crops: &DenoiseCrops, specs: &[SampleSpec], patch: usize, device: &Device) -> Result<Batch> {
    if patch > crops.side {
        candle_core::bail!("{patch} px patches do not fit in {} px crops", crops.side);
    }
    let samples: Vec<[Vec<f32>; 4]> = specs.par_iter().map(|s| sample(crops, *s, patch)).collect();
    let n = specs.len();
    let stack = |k: usize| Tensor::from_vec(samples.iter().flat_map(|s| s[k].iter().copied()).collect(), (n, 1, patch, patch), device);
    let range: Vec<f32> = specs.iter().map(|s| anscombe_range(crops, s.crop, s.alpha)).collect();
    Ok(Batch { input: stack(0)?, background: stack(1)?, noise: stack(2)?, clean: stack(3)?, range: Tensor::from_vec(range, n, device)? })
}
