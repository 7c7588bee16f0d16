//! One member's training loop: seeded initialisation, the incremental margin stages, Adam with a cosine schedule, the
//! Gaussian NLL plus the L2 term, validation and a checkpoint (weights, optimiser, progress) after every epoch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde::{Deserialize, Serialize};

use super::loss::{gaussian_nll, gaussian_nll_scalar, sum_of_squares};
use super::net::CdcNet;
use super::normalisation::Normalisation;
use super::samples::{SampleRef, batch, ln_targets, sample_refs};
use super::train::{CdcEpochRecord, CdcMemberSummary, CdcStepProgress, CdcTrainObserver};
use super::train_config::TrainCdcConfig;
use crate::imaging::seed::splitmix64;
use crate::models::adam::{Adam, AdamConfig};
use crate::models::checkpoint::{fill_varmap, load_weights, save_weights, write_atomically};
use crate::models::error::ModelError;
use crate::models::init::seeded_init;
use crate::synth::cdc_data::{SettingData, margin_stage};

/// Seed of the validation draws (shared by every member, so their curves compare).
const VAL_SEED: u64 = 0x0cdc_5eed;

/// Everything a member's training needs.
pub(crate) struct MemberRun<'a> {
    pub config: &'a TrainCdcConfig,
    pub train: &'a [SettingData],
    pub val: &'a [SettingData],
    pub norm: Normalisation,
    pub side: usize,
    pub device: &'a Device,
    pub observer: &'a dyn CdcTrainObserver,
    pub cancelled: &'a dyn Fn() -> bool,
}

/// Where a member stands; written after every epoch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// Epochs finished.
    epochs_done: usize,
    /// The checkpoint files of the last finished epoch.
    weights_file: String,
    adam_file: String,
    summary: Option<CdcMemberSummary>,
    train_samples: usize,
}

fn member_dir(work_dir: &Path, m: usize) -> PathBuf {
    work_dir.join(format!("member-{m:02}"))
}

/// The finished f32 weights of member `m`.
pub(crate) fn final_weights_path(work_dir: &Path, m: usize) -> PathBuf {
    member_dir(work_dir, m).join("final.safetensors")
}

/// Trains member `m`, or returns the summary of a member already finished (`true`).
pub(crate) fn train_member(run: &MemberRun, m: usize) -> Result<(CdcMemberSummary, bool), ModelError> {
    let config = run.config;
    let dir = member_dir(&config.work_dir, m);
    std::fs::create_dir_all(&dir).map_err(|e| ModelError::io(e, &dir))?;
    let progress_path = dir.join("progress.json");
    let mut progress: Progress = if progress_path.exists() {
        let bytes = std::fs::read(&progress_path).map_err(|e| ModelError::io(e, &progress_path))?;
        serde_json::from_slice(&bytes).map_err(|e| ModelError::Format(format!("{e} ({})", progress_path.display())))?
    } else {
        Progress::default()
    };
    if final_weights_path(&config.work_dir, m).exists()
        && let Some(summary) = progress.summary.clone()
    {
        run.observer.message(&format!("member {m}: already trained, kept"));
        return Ok((summary, true));
    }

    let seed = config.member_seed(m);
    let varmap = VarMap::new();
    let net = CdcNet::with_input_side(config.preset, run.side, &VarBuilder::from_varmap(&varmap, DType::F32, run.device))?;
    seeded_init(&varmap, seed)?;
    set_mu_bias(&varmap, run.train)?;
    let mut adam = Adam::new(&varmap, AdamConfig { lr: config.lr, ..AdamConfig::default() })?;
    let l2_weights: Vec<Tensor> = {
        let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        data.values().filter(|v| v.rank() >= 2).map(|v| v.as_tensor().clone()).collect()
    };

    let val_refs = sample_refs(run.val, config.val_images_per_setting, |_| true);
    let mut summary = if progress.epochs_done > 0 {
        fill_varmap(&varmap, &load_weights(&dir.join(&progress.weights_file), run.device)?.0)?;
        adam.load(&dir.join(&progress.adam_file), &varmap)?;
        run.observer.message(&format!("member {m}: resumed after epoch {}", progress.epochs_done));
        progress.summary.clone().ok_or_else(|| ModelError::Format(format!("no summary in {}", progress_path.display())))?
    } else {
        let (nll, mae) = validate(&net, run, &val_refs)?;
        CdcMemberSummary {
            member: m,
            seed,
            initial_val_nll: nll,
            initial_val_mae_ln: mae,
            history: Vec::new(),
            seconds: 0.0,
            samples_per_second: 0.0,
        }
    };

    let stage_refs: Vec<Vec<SampleRef>> =
        (0..3).map(|stage| sample_refs(run.train, usize::MAX, |s| margin_stage(s.spec.params.margin_mm) <= stage)).collect();
    let steps_of = |epoch: usize| {
        let n = stage_refs[config.stage_of(epoch)].len();
        if n == 0 { 0 } else { (n / config.batch_size).max(1).min(config.max_steps_per_epoch.unwrap_or(usize::MAX)) }
    };
    let total_steps: usize = (0..config.total_epochs()).map(steps_of).sum();
    let mut global_step: usize = (0..progress.epochs_done).map(steps_of).sum();
    let mut step_seconds = 0.0;
    while progress.epochs_done < config.total_epochs() {
        let epoch = progress.epochs_done;
        let stage = config.stage_of(epoch);
        let epoch_started = Instant::now();
        let mut order = stage_refs[stage].clone();
        order.shuffle(&mut StdRng::seed_from_u64(splitmix64(seed ^ ((epoch as u64 + 1) << 20))));
        let steps = steps_of(epoch);
        let batch_size = config.batch_size.min(order.len());
        let mut nll_sum = 0.0;
        for step in 0..steps {
            if (run.cancelled)() {
                return Err(ModelError::Cancelled);
            }
            let lr = config.lr_at(global_step, total_steps);
            adam.set_lr(lr);
            let step_seed = splitmix64(seed ^ splitmix64(((epoch as u64) << 32) | step as u64));
            let step_started = Instant::now();
            let refs = &order[step * batch_size..(step + 1) * batch_size];
            let (x, y) = batch(run.train, refs, run.side, &run.norm, true, step_seed, run.device)?;
            let (mu, sigma) = net.forward_train_seeded(&x, splitmix64(step_seed))?;
            let nll = gaussian_nll(&mu, &sigma, &y)?;
            let loss = if config.l2 > 0.0 { (&nll + (sum_of_squares(&l2_weights)? * config.l2)?)? } else { nll.clone() };
            adam.backward_step(&loss)?;
            step_seconds += step_started.elapsed().as_secs_f64();
            progress.train_samples += refs.len();
            nll_sum += nll.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            global_step += 1;
            let loss = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            run.observer.step(&CdcStepProgress { member: m, epoch, stage, step: step + 1, steps, loss });
        }
        let (val_nll, val_mae_ln) = validate(&net, run, &val_refs)?;
        let record = CdcEpochRecord {
            member: m,
            epoch: epoch + 1,
            stage,
            train_nll: if steps > 0 { nll_sum / steps as f64 } else { f64::NAN },
            val_nll,
            val_mae_ln,
            learning_rate: config.lr_at(global_step.saturating_sub(1), total_steps),
            samples: steps * batch_size,
            seconds: epoch_started.elapsed().as_secs_f64(),
        };
        run.observer.epoch(&record);
        summary.seconds += record.seconds;
        summary.samples_per_second =
            if step_seconds > 0.0 { (steps * batch_size) as f64 / step_seconds } else { summary.samples_per_second };
        summary.history.push(record);
        progress.epochs_done += 1;
        progress.summary = Some(summary.clone());
        save_checkpoint(&dir, &varmap, &adam, &mut progress)?;
    }
    save_weights(&varmap, &final_weights_path(&config.work_dir, m), DType::F32, &BTreeMap::new())?;
    Ok((summary, false))
}

/// Writes this epoch's weights and optimiser state under new names, then the progress that points to them (the
/// commit), then removes the previous epoch's files: an interruption at any point leaves a consistent checkpoint.
fn save_checkpoint(dir: &Path, varmap: &VarMap, adam: &Adam, progress: &mut Progress) -> Result<(), ModelError> {
    let previous = [progress.weights_file.clone(), progress.adam_file.clone()];
    progress.weights_file = format!("weights-e{:03}.safetensors", progress.epochs_done);
    progress.adam_file = format!("adam-e{:03}.safetensors", progress.epochs_done);
    save_weights(varmap, &dir.join(&progress.weights_file), DType::F32, &BTreeMap::new())?;
    adam.save(&dir.join(&progress.adam_file))?;
    let json = serde_json::to_vec_pretty(progress).map_err(|e| ModelError::Format(e.to_string()))?;
    write_atomically(&dir.join("progress.json"), &json)?;
    for file in previous.iter().filter(|f| !f.is_empty()) {
        std::fs::remove_file(dir.join(file)).ok();
    }
    Ok(())
}

/// Mean NLL and mean |µ − y| (ln) over `refs` of the validation settings, in evaluation mode; `None` without data.
fn validate(net: &CdcNet, run: &MemberRun, refs: &[SampleRef]) -> Result<(Option<f64>, Option<f64>), ModelError> {
    if refs.is_empty() {
        return Ok((None, None));
    }
    let (mut nll, mut mae, mut count) = (0.0, 0.0, 0usize);
    for (i, chunk) in refs.chunks(run.config.batch_size).enumerate() {
        let (x, _) = batch(run.val, chunk, run.side, &run.norm, false, splitmix64(VAL_SEED + i as u64), run.device)?;
        let (mu, sigma) = net.forward_t(&x, false)?;
        let (mu, sigma) = (mu.to_dtype(DType::F64)?.to_vec2::<f64>()?, sigma.to_dtype(DType::F64)?.to_vec2::<f64>()?);
        for ((r, mu), sigma) in chunk.iter().zip(mu).zip(sigma) {
            let y = ln_targets(&run.val[r.setting].label_um);
            for ((&mu, &sigma), &y) in mu.iter().zip(&sigma).zip(&y) {
                nll += gaussian_nll_scalar(mu, sigma, f64::from(y));
                mae += (mu - f64::from(y)).abs();
                count += 1;
            }
        }
    }
    Ok((Some(nll / count as f64), Some(mae / count as f64)))
}

/// Starts the µ head at the mean training target of each output, so that the first steps fit the shape of the curve
/// rather than its level.
fn set_mu_bias(varmap: &VarMap, train: &[SettingData]) -> Result<(), ModelError> {
    if train.is_empty() {
        return Ok(());
    }
    let mut mean = [0f32; 12];
    for s in train {
        for (m, y) in mean.iter_mut().zip(ln_targets(&s.label_um)) {
            *m += y / train.len() as f32;
        }
    }
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let bias = data.get("mu.bias").ok_or_else(|| ModelError::Format("no mu.bias".to_owned()))?;
    bias.set(&Tensor::new(&mean, bias.device())?.to_dtype(bias.dtype())?)?;
    Ok(())
}
