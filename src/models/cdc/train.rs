//! Training the ensemble from data in memory: members one after another, each seeded, checkpointed every epoch and
//! resumable; a member whose finished weights exist in the work directory is not trained again. The finished
//! ensemble is written (f16) to `config.out`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use super::net::CdcNet;
use super::normalisation::Normalisation;
use super::preset::{CdcPreset, INPUT_SIDE};
use super::store::save_ensemble;
use super::train_config::TrainCdcConfig;
use super::train_member::{MemberRun, final_weights_path, train_member};
use crate::models::checkpoint::{fill_varmap, load_weights, write_atomically};
use crate::models::error::ModelError;
use crate::synth::cdc_data::SettingData;

/// One optimiser step, as reported to the observer.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CdcStepProgress {
    pub member: usize,
    /// Global epoch, 0-based.
    pub epoch: usize,
    pub stage: usize,
    /// Steps done in this epoch (1-based).
    pub step: usize,
    pub steps: usize,
    /// This step's loss (NLL + L2 term).
    pub loss: f64,
}

/// One finished epoch of one member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdcEpochRecord {
    pub member: usize,
    /// Global epoch, 1-based.
    pub epoch: usize,
    pub stage: usize,
    /// Mean NLL of the epoch's training steps (without the L2 term).
    pub train_nll: f64,
    /// Mean NLL on the validation images (NaN, i.e. JSON null, without validation data).
    pub val_nll: Option<f64>,
    /// Mean |µ − y| on the validation images, ln units.
    pub val_mae_ln: Option<f64>,
    pub learning_rate: f64,
    pub samples: usize,
    pub seconds: f64,
}

/// Progress callbacks (a progress bar in the CLI, a job in the GUI).
pub trait CdcTrainObserver: Sync {
    fn step(&self, progress: &CdcStepProgress);
    fn epoch(&self, record: &CdcEpochRecord);
    fn message(&self, text: &str);
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct SilentObserver;

impl CdcTrainObserver for SilentObserver {
    fn step(&self, _: &CdcStepProgress) {}
    fn epoch(&self, _: &CdcEpochRecord) {}
    fn message(&self, _: &str) {}
}

/// What one member's training did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdcMemberSummary {
    pub member: usize,
    pub seed: u64,
    /// Validation NLL and MAE (ln) of the freshly initialised network.
    pub initial_val_nll: Option<f64>,
    pub initial_val_mae_ln: Option<f64>,
    pub history: Vec<CdcEpochRecord>,
    /// Training time over all sessions.
    pub seconds: f64,
    /// Training samples per second (optimiser steps only).
    pub samples_per_second: f64,
}

/// What a finished run reports.
#[derive(Clone, Debug, Serialize)]
pub struct CdcTrainSummary {
    pub preset: CdcPreset,
    pub normalisation: Normalisation,
    pub members: Vec<CdcMemberSummary>,
    /// Members found finished in the work directory and not trained in this session.
    pub members_reused: usize,
    pub train_settings: usize,
    pub train_images: usize,
    pub val_settings: usize,
    /// This session's wall-clock time.
    pub seconds: f64,
    pub out: PathBuf,
}

/// Trains `config.members` members on `train`, validates each epoch on `val`, and writes the ensemble (f16) to
/// `config.out`. Rerunning with the same recipe and work directory resumes where the previous run stopped.
pub fn train_ensemble(
    config: &TrainCdcConfig,
    train: &[SettingData],
    val: &[SettingData],
    device: &Device,
    observer: &dyn CdcTrainObserver,
    cancelled: &dyn Fn() -> bool,
) -> Result<CdcTrainSummary, ModelError> {
    let started = Instant::now();
    config.validate()?;
    if train.is_empty() {
        return Err(ModelError::Input("no training settings".to_owned()));
    }
    let dir = &config.work_dir;
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(e, dir))?;
    check_recipe(config, train.len())?;
    let norm = Normalisation::from_settings(train)?;
    observer.message(&format!("pixel normalisation: mean {:.2}, std {:.2}", norm.mean, norm.std));

    let run = MemberRun { config, train, val, norm, side: INPUT_SIDE, device, observer, cancelled };
    let mut members = Vec::with_capacity(config.members);
    let mut members_reused = 0;
    for m in 0..config.members {
        let (summary, reused) = train_member(&run, m)?;
        members_reused += usize::from(reused);
        members.push(summary);
    }

    let varmaps = (0..config.members)
        .map(|m| {
            let varmap = VarMap::new();
            CdcNet::with_input_side(config.preset, INPUT_SIDE, &VarBuilder::from_varmap(&varmap, DType::F32, device))?;
            fill_varmap(&varmap, &load_weights(&final_weights_path(dir, m), device)?.0)?;
            Ok(varmap)
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    let metadata = BTreeMap::from([
        ("seed".to_owned(), config.seed.to_string()),
        ("epochs_per_stage".to_owned(), format!("{:?}", config.epochs_per_stage)),
        ("train_settings".to_owned(), train.len().to_string()),
    ]);
    save_ensemble(&config.out, config.preset, INPUT_SIDE, norm, &varmaps, DType::F16, &metadata)?;
    Ok(CdcTrainSummary {
        preset: config.preset,
        normalisation: norm,
        members,
        members_reused,
        train_settings: train.len(),
        train_images: train.iter().map(|s| s.images.len()).sum(),
        val_settings: val.len(),
        seconds: started.elapsed().as_secs_f64(),
        out: config.out.clone(),
    })
}

/// Refuses a work directory that holds a run of another recipe; records the recipe in a new one.
fn check_recipe(config: &TrainCdcConfig, train_settings: usize) -> Result<(), ModelError> {
    let path = config.work_dir.join("recipe.json");
    let recipe = config.recipe(train_settings);
    if path.exists() {
        let bytes = std::fs::read(&path).map_err(|e| ModelError::io(e, &path))?;
        let previous: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ModelError::Format(format!("{e} ({})", path.display())))?;
        if previous != recipe {
            return Err(ModelError::Input(format!(
                "the work directory {} holds a run of another recipe ({previous}); use another directory",
                config.work_dir.display()
            )));
        }
        return Ok(());
    }
    let bytes = serde_json::to_vec_pretty(&recipe).map_err(|e| ModelError::Format(e.to_string()))?;
    write_atomically(&path, &bytes)
}
