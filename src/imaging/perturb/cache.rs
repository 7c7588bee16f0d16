//! [`FourierCache`]: what [`super::apply`] keeps between calls on the same image — the gain estimate (once per
//! image) and the forward transform of the dose-reduced, noisy image (steps 1–2), so a new cut-off R re-runs only
//! the mask and the inverse transform, and a new shuffle only the shuffle.

use std::sync::Arc;

use rayon::prelude::*;

use super::{PerturbParams, gain::GainEstimate, rng::mix};
use crate::imaging::{Image, fourier::Spectrum};

/// Identity of an image: its size and a content checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageKey {
    pub width: usize,
    pub height: usize,
    pub checksum: u64,
}

impl ImageKey {
    /// Size plus a 64-bit checksum of every pixel's bits (parallel over rows, order-dependent).
    pub fn of(image: &Image) -> Self {
        let width = image.width.max(1);
        let checksum = image
            .data
            .par_chunks(width)
            .enumerate()
            .map(|(row, line)| {
                let mut h = mix(row as u64);
                for v in line {
                    h = mix(h ^ u64::from(v.to_bits()));
                }
                h
            })
            .reduce(|| 0, u64::wrapping_add);
        Self { width: image.width, height: image.height, checksum }
    }
}

/// What steps 1–2 depend on: the image, the dose, the noise, the seed and (for the transform) the spacing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct StageKey {
    pub image: ImageKey,
    pub dose_fraction: Option<f64>,
    pub noise_sigma: Option<f64>,
    pub seed: u64,
}

impl StageKey {
    pub fn new(image: ImageKey, params: &PerturbParams) -> Self {
        Self {
            image,
            dose_fraction: params.dose_fraction.filter(|&a| a < 1.0),
            noise_sigma: params.noise_sigma.filter(|&s| s > 0.0),
            seed: params.seed,
        }
    }
}

/// The cached gain estimate and forward transform of the (dose-reduced, noisy) image, keyed by what produced them.
/// One cache per open image is the intended use; a different image simply replaces the entries.
#[derive(Default)]
pub struct FourierCache {
    pub(super) gain: Option<(ImageKey, GainEstimate)>,
    pub(super) stage: Option<(StageKey, Arc<Image>)>,
    pub(super) spectrum: Option<(StageKey, [f64; 2], Arc<Spectrum>)>,
}

impl FourierCache {
    /// The gain estimate of the last image whose dose was reduced, if any (for the UI's fit-quality readout).
    pub fn gain_estimate(&self) -> Option<&GainEstimate> {
        self.gain.as_ref().map(|(_, g)| g)
    }

    /// Drop everything (e.g. when the image is closed).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub(super) fn spectrum_for(&self, key: &StageKey, spacing_mm: [f64; 2]) -> Option<Arc<Spectrum>> {
        match &self.spectrum {
            Some((k, s, spectrum)) if k == key && s.map(f64::to_bits) == spacing_mm.map(f64::to_bits) => Some(Arc::clone(spectrum)),
            _ => None,
        }
    }

    pub(super) fn stage_for(&self, key: &StageKey) -> Option<Arc<Image>> {
        match &self.stage {
            Some((k, image)) if k == key => Some(Arc::clone(image)),
            _ => None,
        }
    }
}
