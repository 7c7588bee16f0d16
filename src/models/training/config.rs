//! What one training run does: the preset, the data, the optimiser and the robust-training terms.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::mining::HardNegatives;
use crate::models::preset::CalcPreset;

/// The robust-training terms of the denoising-CNN paper: `L = Lc + λn·Ln + λa·La`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RobustTerms {
    /// λn, weight of the neighbor loss (RMS distance of last-conv features of a clean patch and its noisy copy).
    pub neighbor_lambda: f64,
    /// λa, weight of the embedded autoencoder's reconstruction loss (clean target for both copies).
    pub autoencoder_lambda: f64,
    /// Half-width σ of the uniform noise `U[−σ, σ]` added to the normalised patch (fresh draws every step).
    pub noise_sigma: f64,
}

impl RobustTerms {
    /// No robust terms: plain cross-entropy training.
    pub const NONE: Self = Self { neighbor_lambda: 0.0, autoencoder_lambda: 0.0, noise_sigma: 0.0 };

    /// Whether any robust term is on (a noisy copy of every batch is then needed).
    pub fn active(&self) -> bool {
        self.neighbor_lambda > 0.0 || self.autoencoder_lambda > 0.0
    }
}

/// One training run. Serialised beside the checkpoints so a resumed run can check it continues the same recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub preset: CalcPreset,
    pub seed: u64,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Cosine decay of the learning rate to this fraction of the initial one over the run.
    pub final_lr_fraction: f64,
    pub weight_decay: f64,
    /// Simulated mammograms for the training patches and for the validation patches.
    pub train_images: usize,
    pub val_images: usize,
    pub positives_per_image: usize,
    pub negatives_per_image: usize,
    /// Fraction of each training image's positives drawn near the visibility threshold (`CalcDataParams`).
    #[serde(default)]
    pub near_threshold_fraction: f64,
    /// Fraction of each training image's positives drawn from its linear / branching clusters (`CalcDataParams`).
    #[serde(default)]
    pub linear_fraction: f64,
    /// Probability that a training patch gets film-like artefacts painted in (dust, fibres, scanner lines; fresh
    /// draws every step, both classes alike: `synth::calc_patches::film_artefacts`).
    #[serde(default)]
    pub film_artefacts: f64,
    pub robust: RobustTerms,
    /// Start from these weights instead of a random initialisation (tensors the file lacks, such as the embedded
    /// decoder, keep their random start). `None`: from scratch.
    #[serde(default)]
    pub init_from: Option<PathBuf>,
    /// At most this many steps per epoch (each epoch then sees a different seeded subset); `None`: all patches.
    #[serde(default)]
    pub max_steps_per_epoch: Option<usize>,
    /// Extra negatives mined by a trained model from whole simulated images (`None`: none).
    #[serde(default)]
    pub hard_negatives: Option<HardNegatives>,
    /// Shipped weights (f16 safetensors) and, beside them, the training log.
    pub out: PathBuf,
    /// Checkpoints, the optimiser state and the cached datasets (never committed).
    pub work_dir: PathBuf,
}

impl TrainConfig {
    /// The recipe of the shipped compact model.
    pub fn compact_default(out: PathBuf, work_dir: PathBuf) -> Self {
        Self {
            preset: CalcPreset::Compact,
            seed: 2026,
            epochs: 12,
            batch_size: 32,
            learning_rate: 2e-3,
            final_lr_fraction: 0.05,
            weight_decay: 1e-4,
            train_images: 240,
            val_images: 24,
            positives_per_image: 24,
            negatives_per_image: 24,
            near_threshold_fraction: 0.0,
            linear_fraction: 0.0,
            film_artefacts: 0.0,
            robust: RobustTerms::NONE,
            init_from: None,
            max_steps_per_epoch: None,
            hard_negatives: None,
            out,
            work_dir,
        }
    }

    /// Learning rate at `step` of `total` (cosine from `learning_rate` to `final_lr_fraction · learning_rate`).
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let t = if total <= 1 { 1.0 } else { step as f64 / (total - 1) as f64 };
        let floor = self.final_lr_fraction * self.learning_rate;
        floor + 0.5 * (self.learning_rate - floor) * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_ends_at_floor() {
        let c = TrainConfig::compact_default(PathBuf::from("a"), PathBuf::from("b"));
        assert!((c.lr_at(0, 100) - c.learning_rate).abs() < 1e-12);
        assert!((c.lr_at(99, 100) - c.learning_rate * c.final_lr_fraction).abs() < 1e-12);
        assert!(c.lr_at(50, 100) < c.learning_rate);
    }
}
