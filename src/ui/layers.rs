//! What a viewport draws for an image: the frame itself, the denoised image, or the perturbation lab's result
//! (perturbed or the difference), with the original beside it when the A/B split is on.

use std::sync::Arc;

use crate::app::OpenImage;
use crate::app::denoise::wanted_input;
use crate::app::perturbation::{Compare, PerturbResult};
use crate::imaging::pyramid::Pyramid;
use crate::imaging::voi::{Display, VoiFunction, VoiLut, Window};
use crate::render::image_renderer::TextureKey;

/// One image layer ready for the GPU callback.
#[derive(Clone)]
pub struct Layer {
    pub key: TextureKey,
    pub pyramid: Pyramid,
    /// Full-image pixels per layer pixel (a preview is smaller than the frame).
    pub downsample: usize,
    pub display: Display,
    pub lut: Option<(usize, Arc<VoiLut>)>,
}

/// The main layer and, with the A/B split, the original drawn left of the split (fraction of the viewport width).
pub struct Layers {
    pub main: Layer,
    pub split_original: Option<(Layer, f32)>,
}

fn original(image: &OpenImage) -> Option<Layer> {
    Some(Layer {
        key: (image.id, image.frame as u32, 0),
        pyramid: image.pyramid()?.clone(),
        downsample: 1,
        display: image.display(),
        lut: image.lut(),
    })
}

/// Texture variant of a perturbation result: never 0 (the original), distinct per version, kind and resolution.
fn variant(result: &PerturbResult, difference: bool) -> u32 {
    (result.version << 3) | (u32::from(difference) + 1) << 1 | u32::from(result.downsample == 1)
}

pub fn layers(image: &OpenImage) -> Option<Layers> {
    let original = original(image)?;
    if let Some(result) = image.denoise.shown(&wanted_input(image)) {
        // Denoised (the difference view draws its colours over it): the original, full-dose image left of the split.
        let main = Layer {
            key: (image.id, image.frame as u32, 0x8000_0000 | (result.version as u32 & 0x7FFF_FFFF)),
            pyramid: result.denoised.clone(),
            downsample: 1,
            ..original.clone()
        };
        return Some(Layers { main, split_original: image.denoise.settings.split.map(|s| (original, s)) });
    }
    let Some(result) = image.perturb.current() else {
        return Some(Layers { main: original, split_original: None });
    };
    let main = match image.perturb.compare {
        Compare::Original => return Some(Layers { main: original, split_original: None }),
        Compare::Perturbed => Layer {
            key: (image.id, image.frame as u32, variant(result, false)),
            pyramid: result.perturbed.clone(),
            downsample: result.downsample,
            ..original.clone()
        },
        Compare::Difference => Layer {
            key: (image.id, image.frame as u32, variant(result, true)),
            pyramid: result.difference.clone(),
            downsample: result.downsample,
            display: Display {
                window: Window { center: 0.0, width: 2.0 * f64::from(result.max_abs_difference.max(0.5)) },
                function: VoiFunction::LinearExact,
                inverted: false,
                gamma: 1.0,
                use_lut: false,
            },
            lut: None,
        },
    };
    Some(Layers { main, split_original: image.perturb.split.map(|s| (original, s)) })
}
