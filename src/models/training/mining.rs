//! Hard-negative mining: a trained model scores every tile (half-overlapping grid) of whole simulated mammograms it
//! never saw, and the calcification-free tiles it scores highest become extra negatives for the next run. The
//! random and anatomical negatives of the patch generator (skin, pectoral, dense, vessel, mass) are the kinds a
//! person guesses; mining finds the ones this model actually confuses (on the card's test images: pectoral edges
//! and bright fibroglandular blobs), the standard bootstrap of detector training.
//!
//! Images come from the evaluation generator (`synth::calc_patches::generate_eval_range`, even indices with
//! calcifications, odd ones without) under a seed of their own, a few at a time so memory stays small; a tile is a
//! negative by the training labelling rule (no speck within 1 mm).

use std::path::PathBuf;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::TrainError;
use super::data_cache::PatchSet;
use super::evaluate::{MIN_BREAST, score};
use crate::imaging::breast_mask::BreastMask;
use crate::imaging::model_input::InputScaling;
use crate::imaging::resample::MODEL_SPACING_MM;
use crate::imaging::tiling::tiles;
use crate::models::calc_net::CalcNet;
use crate::models::preset::PATCH_SIZE;
use crate::synth::calc_patches::{EvalImage, generate_eval_range, label_tiles};

/// Images simulated at a time.
const CHUNK: usize = 4;

/// What to mine, and with which model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HardNegatives {
    /// The model that scores the tiles (usually the one being fine-tuned).
    pub from: PathBuf,
    /// Whole simulated mammograms to mine.
    pub images: usize,
    /// Keep negative tiles scored at or above this probability.
    pub threshold: f32,
    /// At most this many tiles per image (the highest scored), so a few odd images do not dominate.
    pub max_per_image: usize,
}

/// The mined negatives (label 0) from `params.images` images of `seed`; `progress(done, total)` per image.
pub fn mine(
    net: &CalcNet,
    params: &HardNegatives,
    seed: u64,
    device: &Device,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<PatchSet, TrainError> {
    let mut out = PatchSet { size: PATCH_SIZE, patches: Vec::new(), labels: Vec::new() };
    let mut start = 0;
    while start < params.images {
        let end = (start + CHUNK).min(params.images);
        let images = generate_eval_range(seed, start..end, &|_, _| {}, cancelled).map_err(|e| TrainError::Data(e.to_string()))?;
        for (k, image) in images.iter().enumerate() {
            if cancelled() {
                return Err(TrainError::Cancelled);
            }
            for patch in hard_tiles(net, image, params, device)? {
                out.patches.extend(patch.into_iter().map(half::f16::from_f32));
                out.labels.push(0);
            }
            progress(start + k + 1, params.images);
        }
        start = end;
    }
    Ok(out)
}

/// The normalised patches of `image`'s negative tiles scored at or above the threshold, highest first.
fn hard_tiles(net: &CalcNet, image: &EvalImage, params: &HardNegatives, device: &Device) -> Result<Vec<Vec<f32>>, TrainError> {
    let img = &image.image;
    let mask = BreastMask::from_image(img, MODEL_SPACING_MM);
    let grid = tiles(img.width, img.height, PATCH_SIZE, PATCH_SIZE / 2, Some(&mask), MIN_BREAST);
    let labels = label_tiles(image, &grid);
    let scaling = InputScaling::from_image(img, &mask, false);
    let negatives: Vec<Vec<f32>> = grid
        .iter()
        .zip(&labels)
        .filter(|(_, l)| **l == Some(false))
        .map(|(t, _)| scaling.masked_patch(img, &mask, t.x, t.y, PATCH_SIZE))
        .collect();
    let scored = score(net, &negatives, &vec![false; negatives.len()], None, device)?;
    let mut order: Vec<usize> = (0..negatives.len()).filter(|&i| scored[i] >= params.threshold).collect();
    order.sort_by(|&a, &b| scored[b].total_cmp(&scored[a]));
    order.truncate(params.max_per_image);
    Ok(order.into_iter().map(|i| negatives[i].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::preset::CalcPreset;
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};

    #[test]
    fn keeps_only_negative_tiles_above_the_threshold_up_to_the_cap() {
        let varmap = VarMap::new();
        let net = CalcNet::new(CalcPreset::Compact, false, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        crate::models::init::seeded_init(&varmap, 1).unwrap();
        let params = HardNegatives { from: PathBuf::new(), images: 1, threshold: 0.0, max_per_image: 3 };
        // Image 1 of the sequence has no calcifications: every breast tile is a negative, the cap keeps 3.
        let images = crate::synth::calc_patches::eval_images_with(9, 1..2, (0.15, 0.2), 0.45, &|_, _| {}, &|| false).unwrap();
        let all = hard_tiles(&net, &images[0], &params, &Device::Cpu).unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|p| p.len() == PATCH_SIZE * PATCH_SIZE));
        let none = hard_tiles(&net, &images[0], &HardNegatives { threshold: 1.1, ..params }, &Device::Cpu).unwrap();
        assert!(none.is_empty());
    }
}
