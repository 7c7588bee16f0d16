//! The training loop: seeded, checkpointed every few hundred steps and at every epoch, resumable exactly
//! (weights, optimiser moments and the position in the epoch), validation AUC per epoch, best weights kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::{SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use super::batches::{batch_tensor, epoch_order};
use super::config::TrainConfig;
use super::data_cache::PatchSet;
use super::{TrainError, TrainObserver};
use crate::imaging::seed::splitmix64;
use crate::models::adam::{Adam, AdamConfig};
use crate::models::calc_net::CalcNet;
use crate::models::checkpoint::{fill_varmap, load_weights, save_weights, write_atomically};
use crate::models::init::seeded_init;
use crate::models::losses::{bce_with_logits, neighbor_loss, reconstruction_loss, uniform_noise_like};
use crate::models::roc;
use crate::synth::calc_patches::film_artefacts;

/// Steps between mid-epoch checkpoints.
const CHECKPOINT_EVERY: usize = 150;

/// The loss of one step, by term.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct LossParts {
    pub total: f64,
    pub classification: f64,
    pub neighbor: f64,
    pub reconstruction: f64,
}

/// One finished epoch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub mean_loss: LossParts,
    /// NaN (JSON null) when the validation set lacks a class.
    #[serde(deserialize_with = "f64_or_nan")]
    pub val_auc: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub val_accuracy: f64,
    pub learning_rate: f64,
    pub seconds: f64,
}

/// Where a run stands; saved with every checkpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Progress {
    epoch: usize,
    step: usize,
    history: Vec<EpochRecord>,
    #[serde(deserialize_with = "f64_or_nan")]
    best_auc: f64,
    seconds: f64,
    partial: LossParts,
}

/// What a finished run reports.
#[derive(Clone, Debug, Serialize)]
pub struct TrainSummary {
    pub history: Vec<EpochRecord>,
    pub best_val_auc: f64,
    pub operating_point: f32,
    pub seconds: f64,
    pub train_patches: usize,
    pub val_patches: usize,
    pub out: PathBuf,
}

struct Paths {
    weights: PathBuf,
    adam: PathBuf,
    progress: PathBuf,
}

impl Paths {
    fn new(dir: &Path) -> Self {
        Self { weights: dir.join("checkpoint.safetensors"), adam: dir.join("adam.safetensors"), progress: dir.join("progress.json") }
    }
}

/// Trains on `train`, validates on `val`, and writes the best weights (f16) to `config.out`.
pub fn run(
    config: &TrainConfig,
    train: &PatchSet,
    val: &PatchSet,
    device: &Device,
    observer: &dyn TrainObserver,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<TrainSummary, TrainError> {
    let paths = Paths::new(&config.work_dir);
    let varmap = VarMap::new();
    let with_decoder = config.robust.autoencoder_lambda > 0.0;
    let net = CalcNet::new(config.preset, with_decoder, VarBuilder::from_varmap(&varmap, DType::F32, device))?;
    seeded_init(&varmap, config.seed)?;
    let adam_config = AdamConfig { lr: config.learning_rate, weight_decay: config.weight_decay, ..AdamConfig::default() };
    let mut adam = Adam::new(&varmap, adam_config)?;
    let mut progress = Progress::default();
    if let Some(init) = config.init_from.as_ref().filter(|_| !paths.progress.exists()) {
        let (tensors, _) = load_weights(init, device)?;
        let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut loaded = 0;
        for (name, var) in data.iter() {
            if let Some(t) = tensors.get(name).filter(|t| t.dims() == var.dims()) {
                var.set(&t.to_dtype(DType::F32)?)?;
                loaded += 1;
            }
        }
        observer.message(&format!("initialised {loaded} of {} tensors from {}", data.len(), init.display()));
    }
    if paths.progress.exists() {
        progress = serde_json::from_slice(&std::fs::read(&paths.progress)?)?;
        restore(&varmap, &paths.weights, device)?;
        adam.load(&paths.adam, &varmap)?;
        observer.message(&format!("resumed at epoch {} step {}", progress.epoch + 1, progress.step));
    }

    let steps_per_epoch = (train.len() / config.batch_size).min(config.max_steps_per_epoch.unwrap_or(usize::MAX));
    if steps_per_epoch == 0 {
        return Err(TrainError::Config(format!("{} training patches < batch size {}", train.len(), config.batch_size)));
    }
    let total_steps = steps_per_epoch * config.epochs;
    let started = Instant::now();
    let seconds_before = progress.seconds;
    while progress.epoch < config.epochs {
        let epoch = progress.epoch;
        let epoch_started = Instant::now();
        let order = epoch_order(train.len(), config.seed, epoch);
        while progress.step < steps_per_epoch {
            if cancelled() {
                progress.seconds = seconds_before + started.elapsed().as_secs_f64();
                save_checkpoint(&varmap, &adam, &progress, &paths)?;
                return Err(TrainError::Cancelled);
            }
            let step = progress.step;
            let global = epoch * steps_per_epoch + step;
            let lr = config.lr_at(global, total_steps);
            adam.set_lr(lr);
            let indices = &order[step * config.batch_size..(step + 1) * config.batch_size];
            let step_seed = splitmix64(config.seed ^ splitmix64((epoch as u64) << 32 | step as u64));
            let parts = train_step(&net, &mut adam, config, train, indices, step_seed, device)?;
            add_parts(&mut progress.partial, &parts, 1.0);
            progress.step += 1;
            observer.step(epoch, progress.step, steps_per_epoch, &parts);
            if progress.step % CHECKPOINT_EVERY == 0 {
                progress.seconds = seconds_before + started.elapsed().as_secs_f64();
                save_checkpoint(&varmap, &adam, &progress, &paths)?;
            }
        }
        let (scores, labels) = predict(&net, val, config.batch_size, device)?;
        let val_auc = roc::auc(&scores, &labels);
        let val_accuracy = roc::accuracy_operating_point(&scores, &labels).map_or(f64::NAN, |c| c.accuracy);
        let mut mean_loss = LossParts::default();
        add_parts(&mut mean_loss, &progress.partial, 1.0 / steps_per_epoch as f64);
        let record = EpochRecord {
            epoch: epoch + 1,
            mean_loss,
            val_auc,
            val_accuracy,
            learning_rate: config.lr_at(global_end(epoch, steps_per_epoch), total_steps),
            seconds: epoch_started.elapsed().as_secs_f64(),
        };
        observer.epoch(&record);
        progress.history.push(record);
        progress.epoch += 1;
        progress.step = 0;
        progress.partial = LossParts::default();
        if val_auc > progress.best_auc || progress.epoch == 1 {
            progress.best_auc = val_auc;
            let op = roc::accuracy_operating_point(&scores, &labels).map_or(0.5, |c| c.threshold);
            save_weights(&varmap, &config.out, DType::F16, &metadata(config, &progress, op))?;
            save_weights(&varmap, &config.work_dir.join("best.safetensors"), DType::F32, &metadata(config, &progress, op))?;
        }
        progress.seconds = seconds_before + started.elapsed().as_secs_f64();
        save_checkpoint(&varmap, &adam, &progress, &paths)?;
    }

    // The operating point of the best weights, on the validation set.
    let best = config.work_dir.join("best.safetensors");
    if best.exists() {
        restore(&varmap, &best, device)?;
    }
    let (scores, labels) = predict(&net, val, config.batch_size, device)?;
    let op = roc::accuracy_operating_point(&scores, &labels).map_or(0.5, |c| c.threshold);
    save_weights(&varmap, &config.out, DType::F16, &metadata(config, &progress, op))?;
    Ok(TrainSummary {
        history: progress.history.clone(),
        best_val_auc: progress.best_auc,
        operating_point: op,
        seconds: progress.seconds,
        train_patches: train.len(),
        val_patches: val.len(),
        out: config.out.clone(),
    })
}

/// serde writes a NaN as `null`; read it back as NaN.
fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn global_end(epoch: usize, steps: usize) -> usize {
    (epoch + 1) * steps - 1
}

fn add_parts(acc: &mut LossParts, p: &LossParts, weight: f64) {
    acc.total += weight * p.total;
    acc.classification += weight * p.classification;
    acc.neighbor += weight * p.neighbor;
    acc.reconstruction += weight * p.reconstruction;
}

/// One optimiser step: `L = Lc + λn·Ln + λa·La`; with robust terms the clean and the noisy copy go through the
/// network in one batch (shared batch-norm statistics) and `Lc` covers both, as the paper trains.
fn train_step(
    net: &CalcNet,
    adam: &mut Adam,
    config: &TrainConfig,
    data: &PatchSet,
    indices: &[usize],
    step_seed: u64,
    device: &Device,
) -> Result<LossParts, TrainError> {
    let patch = |i: usize| training_patch(data, i, config.film_artefacts, step_seed);
    let x = batch_tensor(indices, data.size, patch, Some(step_seed), device)?;
    let y: Vec<f32> = indices.iter().map(|&i| f32::from(data.labels[i])).collect();
    let b = indices.len();
    let robust = config.robust;
    if !robust.active() {
        let out = net.forward_all(&x, true)?;
        let loss = bce_with_logits(&out.logits, &Tensor::from_vec(y, b, device)?)?;
        let value = f64::from(loss.to_scalar::<f32>()?);
        adam.step(&loss.backward()?)?;
        return Ok(LossParts { total: value, classification: value, ..LossParts::default() });
    }
    let mut rng = StdRng::seed_from_u64(splitmix64(step_seed ^ 0x006e_015e));
    let noisy = uniform_noise_like(&x, robust.noise_sigma as f32, &mut rng)?;
    let both = Tensor::cat(&[&x, &noisy], 0)?;
    let targets = Tensor::from_vec([y.clone(), y].concat(), 2 * b, device)?;
    let out = net.forward_all(&both, true)?;
    let lc = bce_with_logits(&out.logits, &targets)?;
    let mut loss = lc.clone();
    let mut parts = LossParts { classification: f64::from(lc.to_scalar::<f32>()?), ..LossParts::default() };
    if robust.neighbor_lambda > 0.0 {
        let ln = neighbor_loss(&out.features.narrow(0, 0, b)?, &out.features.narrow(0, b, b)?)?;
        parts.neighbor = f64::from(ln.to_scalar::<f32>()?);
        loss = (loss + (ln * robust.neighbor_lambda)?)?;
    }
    if robust.autoencoder_lambda > 0.0
        && let Some(recon) = net.reconstruct(&out.encoded, true)?
    {
        let la = reconstruction_loss(&x, &recon.narrow(0, 0, b)?, &recon.narrow(0, b, b)?)?;
        parts.reconstruction = f64::from(la.to_scalar::<f32>()?);
        loss = (loss + (la * robust.autoencoder_lambda)?)?;
    }
    parts.total = f64::from(loss.to_scalar::<f32>()?);
    adam.step(&loss.backward()?)?;
    Ok(parts)
}

/// Training patch `i` as this step sees it: with probability `film_artefacts` film-like artefacts painted in, drawn
/// from the step's seed and the patch's index (before the flips and rotations of the batch).
fn training_patch(data: &PatchSet, i: usize, film_artefacts: f64, step_seed: u64) -> Vec<f32> {
    let mut p = data.patch(i);
    film_artefacts::paint(&mut p, data.size, film_artefacts, splitmix64(step_seed ^ splitmix64(i as u64)));
    p
}

/// Eval-mode probabilities of every patch of `set`, with its labels.
pub fn predict(net: &CalcNet, set: &PatchSet, batch: usize, device: &Device) -> Result<(Vec<f32>, Vec<bool>), TrainError> {
    let mut scores = Vec::with_capacity(set.len());
    let all: Vec<usize> = (0..set.len()).collect();
    for chunk in all.chunks(batch.max(1)) {
        let x = batch_tensor(chunk, set.size, |i| set.patch(i), None, device)?;
        scores.extend(net.probabilities(&x)?.to_vec1::<f32>()?);
    }
    Ok((scores, set.labels.iter().map(|&l| l == 1).collect()))
}

fn restore(varmap: &VarMap, path: &Path, device: &Device) -> Result<(), TrainError> {
    let (tensors, _) = load_weights(path, device)?;
    fill_varmap(varmap, &tensors)?;
    Ok(())
}

fn save_checkpoint(varmap: &VarMap, adam: &Adam, progress: &Progress, paths: &Paths) -> Result<(), TrainError> {
    save_weights(varmap, &paths.weights, DType::F32, &BTreeMap::new())?;
    adam.save(&paths.adam)?;
    write_atomically(&paths.progress, &serde_json::to_vec_pretty(progress)?)?;
    Ok(())
}

fn metadata(config: &TrainConfig, progress: &Progress, operating_point: f32) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("format".to_owned(), "mammoscope-calc-v1".to_owned()),
        ("preset".to_owned(), config.preset.name().to_owned()),
        ("scale_mm".to_owned(), format!("{}", crate::imaging::resample::MODEL_SPACING_MM)),
        ("patch_size".to_owned(), format!("{}", crate::models::preset::PATCH_SIZE)),
        ("operating_point".to_owned(), format!("{operating_point}")),
        ("epochs".to_owned(), format!("{}", progress.epoch)),
        ("val_auc".to_owned(), format!("{:.4}", progress.best_auc)),
        ("recipe".to_owned(), serde_json::to_string(config).unwrap_or_default()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::preset::CalcPreset;
    use crate::models::training::config::RobustTerms;
    use rand::Rng;

    struct Quiet;
    impl TrainObserver for Quiet {
        fn data(&self, _: &str, _: usize, _: usize) {}
        fn step(&self, _: usize, _: usize, _: usize, _: &LossParts) {}
        fn epoch(&self, _: &EpochRecord) {}
        fn message(&self, _: &str) {}
    }

    /// 32 × 32 patches of noisy texture; positives carry a bright 2 × 2 speck somewhere.
    fn speck_set(n: usize, seed: u64) -> PatchSet {
        let size = 32;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut patches = Vec::with_capacity(n * size * size);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let positive = i % 2 == 0;
            let mut p: Vec<f32> = (0..size * size).map(|_| 0.4 + 0.1 * rng.random::<f32>()).collect();
            if positive {
                let (x, y) = (rng.random_range(4..size - 5), rng.random_range(4..size - 5));
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    p[(y + dy) * size + x + dx] = 1.5;
                }
            }
            patches.extend(p.into_iter().map(half::f16::from_f32));
            labels.push(u8::from(positive));
        }
        PatchSet { size, patches, labels }
    }

    fn config(dir: &Path, epochs: usize, robust: RobustTerms) -> TrainConfig {
        TrainConfig {
            preset: CalcPreset::Compact,
            epochs,
            batch_size: 16,
            learning_rate: 3e-3,
            robust,
            ..TrainConfig::compact_default(dir.join("w.safetensors"), dir.join("work"))
        }
    }

    #[test]
    fn a_short_run_lowers_the_loss_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let (train, val) = (speck_set(96, 1), speck_set(32, 2));
        let device = Device::Cpu;
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let summary = run(&config(dir.path(), 4, RobustTerms::NONE), &train, &val, &device, &Quiet, &|| false).unwrap();
        let losses: Vec<f64> = summary.history.iter().map(|r| r.mean_loss.total).collect();
        assert!(losses[3] < 0.8 * losses[0], "loss did not fall: {losses:?}");
        assert!(summary.best_val_auc > 0.8, "validation AUC {}", summary.best_val_auc);
        assert!(dir.path().join("w.safetensors").exists());
        // Resuming a finished run does no more steps and keeps its history.
        let again = run(&config(dir.path(), 4, RobustTerms::NONE), &train, &val, &device, &Quiet, &|| false).unwrap();
        assert_eq!(again.history.len(), 4);
    }

    #[test]
    fn film_artefacts_are_painted_only_when_asked_and_differ_between_steps() {
        let set = speck_set(8, 5);
        for i in 0..8 {
            assert_eq!(training_patch(&set, i, 0.0, 7), set.patch(i));
            let painted = training_patch(&set, i, 1.0, 7);
            assert_ne!(painted, set.patch(i), "patch {i}");
            assert_eq!(painted, training_patch(&set, i, 1.0, 7), "the same step paints the same");
            assert_ne!(painted, training_patch(&set, i, 1.0, 8), "the next step draws afresh");
        }
    }

    #[test]
    fn robust_terms_are_trained_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (train, val) = (speck_set(32, 3), speck_set(16, 4));
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let robust = RobustTerms { neighbor_lambda: 1.0, autoencoder_lambda: 1.0, noise_sigma: 0.05 };
        let summary = run(&config(dir.path(), 1, robust), &train, &val, &Device::Cpu, &Quiet, &|| false).unwrap();
        let parts = summary.history[0].mean_loss;
        assert!(parts.neighbor > 0.0 && parts.reconstruction > 0.0, "{parts:?}");
        let sum = parts.classification + parts.neighbor + parts.reconstruction;
        assert!((parts.total - sum).abs() < 1e-3 * sum, "{parts:?}");
    }
}
