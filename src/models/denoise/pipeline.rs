//! A whole image through the paper's pipeline (mammogram-denoising-anscombe, Fig. 1): raw values → counts at the
//! image's dose fraction → Anscombe → denoiser (or the σ = 1 Gaussian baseline) → exact unbiased inverse → raw
//! values on the input's scale. Pixels with no counts (background at or below the offset) keep their value.

use candle_core::Device;

use super::net::DenoiseNet;
use super::tiled::{Rect, TileOptions, TileProgress, denoise_anscombe};
use crate::imaging::{Image, gaussian::blur_image, perturb::count_scale::CountScale};
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

/// The baseline: a Gaussian filter (σ = 1 px) in the Anscombe domain.
pub fn gaussian_baseline(image: &Image, scale: CountScale) -> Image {
    to_raw(image, &blur_image(&scale.to_anscombe(image), GAUSSIAN_BASELINE_SIGMA), scale)
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
