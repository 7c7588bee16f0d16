//! The denoised and difference views of one open image (mammogram-denoising-anscombe): what the user set, what the
//! running job denoises (the frame, or the perturbation lab's dose-reduced image of a version), and the results,
//! cached per input (frame, lab version, dose) and preset so that moving the dose slider back shows the earlier
//! result at once.

use std::sync::Arc;

use crate::imaging::{Image, pyramid::Pyramid};
use crate::models::denoise::DenoisePreset;
use crate::models::denoise::pipeline::Estimate;

/// How many finished results an image keeps.
pub const CACHED_RESULTS: usize = 4;

/// What the viewport shows when denoising is on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DenoiseView {
    /// The denoised image (with the original left of the split line when the split is on).
    #[default]
    Denoised,
    /// Denoised − input in a diverging colour map: what the denoiser removed.
    Difference,
}

/// The user's settings for one image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenoiseSettings {
    pub enabled: bool,
    pub view: DenoiseView,
    pub preset: DenoisePreset,
    /// Split compare: the original (full dose) left of this fraction of the viewport width.
    pub split: Option<f32>,
    /// Colour gain of the difference view: |difference| at (robust maximum / gain) is full colour.
    pub difference_gain: f32,
    /// What the denoised image of a dose-reduced input estimates (the image as acquired is always denoised to its
    /// noise-free estimate).
    pub estimate: Estimate,
}

impl Default for DenoiseSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            view: DenoiseView::Denoised,
            preset: DenoisePreset::Unet,
            split: None,
            difference_gain: 1.0,
            estimate: Estimate::NoiseFree,
        }
    }
}

/// What a result was computed from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenoiseInput {
    pub frame: usize,
    /// The lab's parameter version when its output was denoised, `None` for the frame as acquired.
    pub perturb_version: Option<u32>,
    /// The dose fraction α of the input (the lab's dose slider; 1 for the frame).
    pub alpha: f64,
    pub preset: DenoisePreset,
    /// Noise-free, or (α < 1 only) the full-dose image.
    pub estimate: Estimate,
}

/// PSNR/SSIM against the full-dose original, when the input is dose-reduced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenoiseScores {
    pub psnr_input: f64,
    pub ssim_input: f64,
    pub psnr_output: f64,
    pub ssim_output: f64,
}

/// A denoised image, complete or partial (tiles not yet done hold the input).
#[derive(Clone)]
pub struct DenoiseResult {
    pub input: DenoiseInput,
    pub denoised: Pyramid,
    /// Denoised − input at display resolution (each value the signed extreme of a `block` × `block` block, so a
    /// removed speck stays visible), row-major `display_width × display_height`.
    pub difference: Arc<Vec<f32>>,
    pub display_width: usize,
    pub display_height: usize,
    pub block: usize,
    /// Robust scale of the difference (99th percentile of |value|), for the colour map.
    pub difference_scale: f32,
    pub tiles_done: usize,
    pub tiles_total: usize,
    pub scores: Option<DenoiseScores>,
    pub seconds: f64,
    /// Bumped on every snapshot (the UI rebuilds its textures when it changes).
    pub version: u64,
}

impl DenoiseResult {
    pub fn complete(&self) -> bool {
        self.tiles_done >= self.tiles_total
    }
}

/// The denoising state of one image.
#[derive(Clone, Default)]
pub struct DenoiseState {
    pub settings: DenoiseSettings,
    /// The latest result (possibly partial) of the current input.
    pub result: Option<DenoiseResult>,
    /// Finished results of earlier inputs.
    pub cache: Vec<DenoiseResult>,
    pub running: bool,
    pub error: Option<String>,
    /// The input of the last job started.
    pub attempted: Option<DenoiseInput>,
}

impl DenoiseState {
    /// The result to show for `input`, if any.
    pub fn shown(&self, input: &DenoiseInput) -> Option<&DenoiseResult> {
        self.result.as_ref().filter(|r| r.input == *input && self.settings.enabled)
    }

    /// Keep a finished result (most recent first, at most [`CACHED_RESULTS`]).
    pub fn remember(&mut self, result: DenoiseResult) {
        self.cache.retain(|r| r.input != result.input);
        self.cache.insert(0, result);
        self.cache.truncate(CACHED_RESULTS);
    }

    /// A cached result of `input`.
    pub fn cached(&self, input: &DenoiseInput) -> Option<&DenoiseResult> {
        self.cache.iter().find(|r| r.input == *input)
    }
}

/// What `img` should be denoised from now: the lab's output when the lab is on (its dose slider sets α), else the
/// frame as acquired.
pub fn wanted_input(img: &super::OpenImage) -> DenoiseInput {
    let lab = img.perturb.active();
    let alpha = if lab { img.perturb.params.dose_fraction.filter(|a| *a < 1.0).unwrap_or(1.0) } else { 1.0 };
    DenoiseInput {
        frame: img.frame,
        perturb_version: lab.then_some(img.perturb.version),
        alpha,
        preset: img.denoise.settings.preset,
        estimate: if alpha < 1.0 { img.denoise.settings.estimate } else { Estimate::NoiseFree },
    }
}

/// `denoised − input` reduced to blocks of `block` × `block` by the signed value of largest magnitude.
pub fn block_extremes(denoised: &Image, input: &Image, block: usize) -> (Vec<f32>, usize, usize) {
    let block = block.max(1);
    let (w, h) = (denoised.width.div_ceil(block), denoised.height.div_ceil(block));
    let mut out = vec![0.0f32; w * h];
    for y in 0..denoised.height {
        for x in 0..denoised.width {
            let i = y * denoised.width + x;
            let d = denoised.data[i] - input.data[i];
            let o = &mut out[(y / block) * w + x / block];
            if d.abs() > o.abs() {
                *o = d;
            }
        }
    }
    (out, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_extremes_keep_the_sign_of_the_largest_change() {
        let input = Image::filled(4, 2, 10.0);
        let mut denoised = input.clone();
        denoised.data[1] = 7.0; // −3 in block (0, 0)
        denoised.data[4] = 11.0; // +1 in block (0, 0)
        denoised.data[7] = 12.0; // +2 in block (1, 0)
        let (v, w, h) = block_extremes(&denoised, &input, 2);
        assert_eq!((w, h), (2, 1));
        assert_eq!(v, vec![-3.0, 2.0]);
    }

    #[test]
    fn cache_keeps_the_latest_results_per_input() {
        let mut s = DenoiseState::default();
        let input =
            |alpha| DenoiseInput { frame: 0, perturb_version: None, alpha, preset: DenoisePreset::Fast, estimate: Estimate::NoiseFree };
        let result = |alpha| DenoiseResult {
            input: input(alpha),
            denoised: Pyramid::build(Arc::new(Image::filled(2, 2, 0.0)), 64),
            difference: Arc::new(vec![0.0; 4]),
            display_width: 2,
            display_height: 2,
            block: 1,
            difference_scale: 1.0,
            tiles_done: 1,
            tiles_total: 1,
            scores: None,
            seconds: 0.0,
            version: 0,
        };
        for a in [1.0, 0.5, 0.2, 0.1, 0.05, 0.5] {
            s.remember(result(a));
        }
        assert_eq!(s.cache.len(), CACHED_RESULTS);
        assert!((s.cache[0].input.alpha - 0.5).abs() < f64::EPSILON);
        assert!(s.cached(&input(1.0)).is_none());
        assert!(s.cached(&input(0.1)).is_some());
    }
}
