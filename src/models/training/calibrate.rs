//! The detector's whole-image operating point. The paper's operating point maximises accuracy on balanced patches;
//! a whole mammogram has a hundred calcification-free tiles for every one with a cluster, so that threshold marks
//! too much. This chooses, on simulated validation mammograms (a seed no training or test set uses), the lowest
//! threshold with at most a budget of false marks per calcification-free image, and writes it into the weights'
//! metadata ([`DETECTION_THRESHOLD_KEY`]): the viewer's default threshold and what `analyze calc` marks.

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::Device;
use serde::Serialize;

use crate::models::checkpoint::{add_metadata, build_from_file};
use crate::models::detector::{DETECTION_CALIBRATION_KEY, DETECTION_THRESHOLD_KEY};
use crate::models::error::ModelError;
use crate::models::training::evaluate::{DetectionStats, TestSet, detection_at, lowest_threshold_within, tile_scores};
use crate::synth::calc_patches::generate_eval_images;

/// The validation mammograms the shipped models are calibrated on (the seed `evaluate calc --seed` calls validation).
pub const VALIDATION_SEED: u64 = 1234;

/// What to calibrate on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationParams {
    /// Simulated validation mammograms.
    pub images: usize,
    pub seed: u64,
    /// At most this many false marks per calcification-free image.
    pub max_false_marks: f64,
    /// Tile stride in model pixels (the detector's default: half-overlapping tiles).
    pub stride: usize,
}

/// The chosen threshold and what it does on the validation mammograms.
#[derive(Clone, Debug, Serialize)]
pub struct DetectionCalibration {
    pub params: CalibrationParams,
    pub stats: DetectionStats,
}

impl DetectionCalibration {
    /// The metadata entries that carry it in a weights file.
    pub fn metadata(&self) -> BTreeMap<String, String> {
        let (p, s) = (&self.params, &self.stats);
        let how = format!(
            "lowest threshold with <= {} false marks per calcification-free image on {} simulated mammograms (seed {}, stride {} px): \
             {}/{} clusters, {:.2} false marks",
            p.max_false_marks, p.images, p.seed, p.stride, s.clusters_found, s.clusters, s.false_marks_per_calc_free_image
        );
        BTreeMap::from([(DETECTION_THRESHOLD_KEY.to_owned(), format!("{}", s.threshold)), (DETECTION_CALIBRATION_KEY.to_owned(), how)])
    }
}

/// Chooses the whole-image threshold of the weights at `path` on `params.images` simulated mammograms and adds it to
/// the file's metadata (atomically; the tensors are unchanged). Fails when no threshold up to 0.995 keeps within the
/// budget or the images hold no calcification-free one.
pub fn calibrate_detection(
    path: &Path,
    params: &CalibrationParams,
    device: &Device,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<DetectionCalibration, ModelError> {
    let (net, _) = build_from_file(path, device)?;
    let images = generate_eval_images(params.seed, params.images, progress, cancelled).map_err(|e| ModelError::Input(e.to_string()))?;
    let set = TestSet::new(images, params.seed);
    if set.images.iter().all(|i| !i.image.specks.is_empty()) {
        return Err(ModelError::Input(format!("the {} calibration mammograms hold no calcification-free one; use more", params.images)));
    }
    let scored = tile_scores(&net, &set, params.stride, 1, device, cancelled)?;
    let stats = lowest_threshold_within(params.max_false_marks, |t| detection_at(&set, &scored, t)).ok_or_else(|| {
        ModelError::Input(format!("no threshold up to 0.995 has <= {} false marks per calcification-free image", params.max_false_marks))
    })?;
    let calibration = DetectionCalibration { params: params.clone(), stats };
    add_metadata(path, &calibration.metadata())?;
    Ok(calibration)
}
