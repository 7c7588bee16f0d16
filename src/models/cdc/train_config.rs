//! The training recipe of the CDC ensemble and its learning-rate schedule.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::preset::CdcPreset;
use crate::imaging::seed::splitmix64;
use crate::models::error::ModelError;

/// How to train an ensemble.
///
/// The paper trains with Adam at lr 10⁻⁵ for 300 epochs on 52 800 images (batch 50) with L2 regularisation 10⁻⁴; with
/// ~2500 images and ~12 epochs the default here is lr 10⁻³ with a cosine decay to 5 % and batch 32. The L2 term is
/// added to the loss, `l2 · Σ w²` over the conv and dense weights (not biases, batch-norm scales or statistics), as
/// Keras' `kernel_regularizer`; Adam's decoupled weight decay is not used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainCdcConfig {
    pub preset: CdcPreset,
    /// Ensemble size M (paper: 10).
    pub members: usize,
    /// Epochs of the incremental stages (appendix D): no margin, margins ≤ 10 mm, all margins.
    pub epochs_per_stage: [usize; 3],
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// The cosine schedule ends at `final_lr_fraction · lr`.
    pub final_lr_fraction: f64,
    /// Linear warm-up from `lr / warmup_steps` over the first steps: Adam's first updates move every weight of the
    /// 7200-input dense layer by ≈ lr in a coherent direction, which at lr 10⁻³ throws µ and σ far off (NLL in the
    /// hundreds after the first step on test data).
    pub warmup_steps: usize,
    /// Weight of the L2 penalty `Σ w²`.
    pub l2: f64,
    pub seed: u64,
    /// Caps the steps of every epoch (quick runs, tests).
    pub max_steps_per_epoch: Option<usize>,
    /// Validation images per validation setting (each drawn once, deterministically, without mirroring).
    pub val_images_per_setting: usize,
    /// Checkpoints, progress, and each member's finished f32 weights; a rerun resumes from here.
    pub work_dir: PathBuf,
    /// The finished ensemble folder (f16 members and `ensemble.json`).
    pub out: PathBuf,
}

impl TrainCdcConfig {
    /// The recipe of the shipped compact ensemble.
    pub fn compact_default(work_dir: PathBuf, out: PathBuf) -> Self {
        Self {
            preset: CdcPreset::Compact,
            members: 10,
            epochs_per_stage: [2, 2, 8],
            batch_size: 32,
            lr: 1e-3,
            final_lr_fraction: 0.05,
            warmup_steps: 50,
            l2: 1e-4,
            seed: 2026,
            max_steps_per_epoch: None,
            val_images_per_setting: 4,
            work_dir,
            out,
        }
    }

    /// Checks the numbers.
    pub fn validate(&self) -> Result<(), ModelError> {
        let ok = self.members > 0
            && self.batch_size > 0
            && self.lr > 0.0
            && (0.0..=1.0).contains(&self.final_lr_fraction)
            && self.l2 >= 0.0
            && self.epochs_per_stage.iter().sum::<usize>() > 0
            && self.max_steps_per_epoch != Some(0);
        if ok { Ok(()) } else { Err(ModelError::Input(format!("invalid CDC training configuration {self:?}"))) }
    }

    /// Total epochs over the three stages.
    pub fn total_epochs(&self) -> usize {
        self.epochs_per_stage.iter().sum()
    }

    /// The stage (0, 1, 2) of global epoch `epoch` (0-based).
    pub fn stage_of(&self, epoch: usize) -> usize {
        let mut end = 0;
        for (stage, &n) in self.epochs_per_stage.iter().enumerate() {
            end += n;
            if epoch < end {
                return stage;
            }
        }
        2
    }

    /// The seed of member `m`.
    pub fn member_seed(&self, m: usize) -> u64 {
        splitmix64(self.seed ^ splitmix64(m as u64 + 1))
    }

    /// Learning rate at `step` of `total`: cosine from `lr` to `final_lr_fraction · lr`, times the linear warm-up.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let t = if total <= 1 { 1.0 } else { step as f64 / (total - 1) as f64 };
        let floor = self.final_lr_fraction * self.lr;
        let warmup = if step < self.warmup_steps { (step + 1) as f64 / self.warmup_steps as f64 } else { 1.0 };
        warmup * (floor + 0.5 * (self.lr - floor) * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos()))
    }

    /// What a resumed run must share with the run that wrote the work directory (everything but the member count and
    /// the paths), as JSON.
    pub(crate) fn recipe(&self, train_settings: usize) -> serde_json::Value {
        serde_json::json!({
            "preset": self.preset,
            "epochs_per_stage": self.epochs_per_stage,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "final_lr_fraction": self.final_lr_fraction,
            "warmup_steps": self.warmup_steps,
            "l2": self.l2,
            "seed": self.seed,
            "max_steps_per_epoch": self.max_steps_per_epoch,
            "val_images_per_setting": self.val_images_per_setting,
            "train_settings": train_settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_stages() {
        let c = TrainCdcConfig::compact_default("w".into(), "o".into());
        c.validate().unwrap();
        assert!((c.lr_at(0, 100) - c.lr / 50.0).abs() < 1e-15);
        assert!((c.lr_at(49, 1000) - c.lr_at(50, 1000)).abs() < 1e-6);
        assert!((c.lr_at(99, 100) - 0.05 * c.lr).abs() < 1e-15);
        assert_eq!(c.total_epochs(), 12);
        assert_eq!((0..12).map(|e| c.stage_of(e)).collect::<Vec<_>>(), [0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
        assert_ne!(c.member_seed(0), c.member_seed(1));
        assert!(TrainCdcConfig { batch_size: 0, ..c }.validate().is_err());
    }
}
