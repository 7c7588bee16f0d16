//! `train denoise`: the paper's recipe (Adam, 64 × 64 patches, fresh dose-reduction noise at every step, loss
//! MSE + 10·(1 − SSIM)) on the simulator's crops, seeded and resumable from checkpoints in the work directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use super::batch::{DoseMix, PAPER_ALPHA, PATCH, SampleSpec, batch};
use super::crops_store::{load_crops, save_crops};
use super::net::DenoiseNet;
use super::preset::DenoisePreset;
use super::ssim_loss::{denoise_loss, gaussian_window};
use super::store::{denoise_metadata, save_denoiser};
use crate::imaging::seed::splitmix64;
use crate::models::adam::{Adam, AdamConfig};
use crate::models::checkpoint::{fill_varmap, load_weights, write_atomically};
use crate::models::error::ModelError;
use crate::synth::denoise_data::{CROP, CropParams, DenoiseCrops, build_crops, crop_side};

/// Everything that determines a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainDenoiseConfig {
    pub preset: DenoisePreset,
    pub seed: u64,
    /// Simulated training images (crops are cut from these).
    pub train_images: usize,
    /// Held-out simulated images for validation.
    pub val_images: usize,
    pub crops_per_image: usize,
    /// Optimiser steps.
    pub steps: usize,
    pub batch_size: usize,
    /// Side of a training patch (the paper's 64; larger patches give the multiscale nets' deep levels context).
    #[serde(default = "paper_patch")]
    pub patch: usize,
    /// Start from these weights instead of the seeded initialisation (a further training cycle of a finished run).
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Peak learning rate (cosine decay to `final_lr_fraction` of it after a linear warm-up).
    pub lr: f64,
    pub final_lr_fraction: f64,
    pub warmup_steps: usize,
    pub dose_mix: DoseMix,
    /// Steps between checkpoints (and validations).
    pub checkpoint_every: usize,
    /// Crops of the data cache and checkpoints.
    pub work_dir: PathBuf,
    /// Where the shipped (f16) weights go.
    pub out: PathBuf,
}

impl TrainDenoiseConfig {
    /// The recipe of the shipped models (`unet` as it is; `fast` and `wide` with fewer steps, see the model card).
    pub fn shipped(preset: DenoisePreset, out: PathBuf, work_dir: PathBuf) -> Self {
        Self {
            preset,
            seed: 2026,
            train_images: 72,
            val_images: 8,
            crops_per_image: 200,
            steps: 6000,
            batch_size: 16,
            patch: PATCH,
            init: None,
            lr: 1e-3,
            final_lr_fraction: 0.02,
            warmup_steps: 100,
            dose_mix: DoseMix::default(),
            checkpoint_every: 250,
            work_dir,
            out,
        }
    }

    /// Learning rate at `step`.
    pub fn lr_at(&self, step: usize) -> f64 {
        let t = if self.steps <= 1 { 1.0 } else { step as f64 / (self.steps - 1) as f64 };
        let floor = self.final_lr_fraction * self.lr;
        let warmup = if step < self.warmup_steps { (step + 1) as f64 / self.warmup_steps as f64 } else { 1.0 };
        warmup * (floor + 0.5 * (self.lr - floor) * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos()))
    }

    fn validate(&self) -> Result<(), ModelError> {
        if self.steps == 0 || self.batch_size == 0 || self.train_images == 0 || self.crops_per_image == 0 || self.checkpoint_every == 0 {
            return Err(ModelError::Input("steps, batch size, images, crops per image and checkpoint interval must be positive".into()));
        }
        let align = self.preset.config().alignment();
        if !(32..=512).contains(&self.patch) || !self.patch.is_multiple_of(align) {
            return Err(ModelError::Input(format!(
                "the training patch must be 32 to 512 px and a multiple of {align} for {}, got {}",
                self.preset.name(),
                self.patch
            )));
        }
        Ok(())
    }

    /// What a resumed run must share with the run that wrote the work directory.
    fn recipe(&self) -> String {
        let mut c = self.clone();
        c.out = PathBuf::new();
        c.work_dir = PathBuf::new();
        serde_json::to_string(&c).unwrap_or_default()
    }
}

/// Validation at one point of training, at the paper's α = 0.2 with fixed noise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenoiseValRecord {
    pub step: usize,
    pub train_loss: f64,
    /// Mean squared error of the noise estimate, Anscombe domain (the input's is ≈ 1).
    pub val_mse: f64,
    /// Mean squared noise of the validation inputs.
    pub val_input_mse: f64,
    /// `10·log10(input MSE / output MSE)`: the Anscombe-domain PSNR gain.
    pub val_gain_db: f64,
    pub val_ssim: f64,
    pub learning_rate: f64,
    pub seconds: f64,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DenoiseTrainSummary {
    pub preset: Option<DenoisePreset>,
    pub parameters: usize,
    pub train_crops: usize,
    pub val_crops: usize,
    pub steps_done: usize,
    pub history: Vec<DenoiseValRecord>,
    pub seconds: f64,
    pub samples_per_second: f64,
    pub data_seconds: f64,
}

/// Receives the training's progress.
pub trait DenoiseTrainObserver: Sync {
    fn message(&self, text: &str);
    fn step(&self, step: usize, total: usize, loss: f64);
    fn validation(&self, record: &DenoiseValRecord);
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    recipe: String,
    weights_file: String,
    adam_file: String,
    summary: DenoiseTrainSummary,
}

const VAL_SEED: u64 = 0x0DE_5A1;

fn paper_patch() -> usize {
    PATCH
}

/// Trains (or resumes) the denoiser and writes the f16 weights to `config.out`.
pub fn train_denoiser(
    config: &TrainDenoiseConfig,
    device: &Device,
    observer: &dyn DenoiseTrainObserver,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<DenoiseTrainSummary, ModelError> {
    config.validate()?;
    let data_started = Instant::now();
    let (train, val) = crops(config, observer, cancelled)?;
    let data_seconds = data_started.elapsed().as_secs_f64();
    if train.is_empty() || val.is_empty() {
        return Err(ModelError::Input("no training or validation crops could be made".into()));
    }
    std::fs::create_dir_all(&config.work_dir).map_err(|e| ModelError::io(e, &config.work_dir))?;
    let progress_path = config.work_dir.join(format!("progress-{}.json", config.preset.name()));
    let mut progress = read_progress(&progress_path)?.filter(|p| p.recipe == config.recipe()).unwrap_or_default();

    let varmap = VarMap::new();
    let net = DenoiseNet::new(config.preset, &VarBuilder::from_varmap(&varmap, DType::F32, device))?;
    crate::models::init::seeded_init(&varmap, config.seed)?;
    let mut adam = Adam::new(&varmap, AdamConfig { lr: config.lr, ..AdamConfig::default() })?;
    if progress.summary.steps_done > 0 {
        fill_varmap(&varmap, &load_weights(&config.work_dir.join(&progress.weights_file), device)?.0)?;
        adam.load(&config.work_dir.join(&progress.adam_file), &varmap)?;
        observer.message(&format!("resumed after step {}", progress.summary.steps_done));
    } else {
        if let Some(init) = &config.init {
            fill_varmap(&varmap, &load_weights(init, device)?.0)?;
            observer.message(&format!("starting from {}", init.display()));
        }
        progress.recipe = config.recipe();
        progress.summary = DenoiseTrainSummary {
            preset: Some(config.preset),
            parameters: parameter_count(&varmap),
            train_crops: train.len(),
            val_crops: val.len(),
            data_seconds,
            ..DenoiseTrainSummary::default()
        };
    }
    let window = gaussian_window(device)?;
    let val_specs: Vec<SampleSpec> =
        (0..val.len()).map(|i| SampleSpec { crop: i, alpha: PAPER_ALPHA, flip: 0, seed: splitmix64(VAL_SEED ^ i as u64) }).collect();
    let mut loss_sum = 0.0;
    let mut loss_count = 0usize;
    let mut step_seconds = 0.0;
    let mut since_save = Instant::now();
    while progress.summary.steps_done < config.steps {
        if cancelled() {
            return Err(ModelError::Cancelled);
        }
        let step = progress.summary.steps_done;
        adam.set_lr(config.lr_at(step));
        let started = Instant::now();
        let base = (step * config.batch_size) as u64;
        let specs: Vec<SampleSpec> =
            (0..config.batch_size as u64).map(|i| SampleSpec::draw(&train, &config.dose_mix, config.seed, base + i)).collect();
        let b = batch(&train, &specs, config.patch, device)?;
        let estimated = net.forward_t(&b.input, true)?;
        let denoised = b.denoised(&estimated)?;
        let (loss, _, _) = denoise_loss(&estimated, &b.noise, &denoised, &b.clean, &b.range, &window)?;
        adam.backward_step(&loss)?;
        step_seconds += started.elapsed().as_secs_f64();
        let loss = f64::from(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?);
        loss_sum += loss;
        loss_count += 1;
        progress.summary.steps_done += 1;
        observer.step(progress.summary.steps_done, config.steps, loss);
        let done = progress.summary.steps_done;
        if done % config.checkpoint_every == 0 || done == config.steps {
            let (val_mse, val_input_mse, val_ssim) = validate(&net, &val, &val_specs, config, &window, device)?;
            let record = DenoiseValRecord {
                step: done,
                train_loss: loss_sum / loss_count.max(1) as f64,
                val_mse,
                val_input_mse,
                val_gain_db: 10.0 * (val_input_mse / val_mse).log10(),
                val_ssim,
                learning_rate: config.lr_at(step),
                seconds: since_save.elapsed().as_secs_f64(),
            };
            observer.validation(&record);
            progress.summary.seconds += record.seconds;
            progress.summary.samples_per_second = (loss_count * config.batch_size) as f64 / step_seconds.max(1e-9);
            progress.summary.history.push(record);
            (loss_sum, loss_count, step_seconds) = (0.0, 0, 0.0);
            since_save = Instant::now();
            save_checkpoint(&config.work_dir, config.preset, &varmap, &adam, &mut progress, &progress_path)?;
        }
    }
    let mut metadata = denoise_metadata(config.preset);
    metadata.insert("recipe".to_owned(), config.recipe());
    if let Some(last) = progress.summary.history.last() {
        metadata.insert("val_gain_db".to_owned(), format!("{:.3}", last.val_gain_db));
    }
    if let Some(dir) = config.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(e, dir))?;
    }
    save_denoiser(&varmap, &config.out, DType::F16, &metadata)?;
    Ok(progress.summary)
}

fn parameter_count(varmap: &VarMap) -> usize {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    data.iter().filter(|(n, _)| !n.contains("running")).map(|(_, v)| v.as_tensor().elem_count()).sum()
}

/// The training and validation crops, from the cache or simulated now (and cached).
fn crops(
    config: &TrainDenoiseConfig,
    observer: &dyn DenoiseTrainObserver,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<(DenoiseCrops, DenoiseCrops), ModelError> {
    let side = crop_side(config.patch);
    let sets = [
        (
            "train",
            CropParams { seed: config.seed, first_image: 0, images: config.train_images, crops_per_image: config.crops_per_image, side },
        ),
        (
            "val",
            CropParams {
                seed: config.seed,
                first_image: config.train_images,
                images: config.val_images,
                crops_per_image: config.crops_per_image.min(64),
                side,
            },
        ),
    ];
    let mut out = Vec::new();
    for (name, params) in sets {
        let recipe = format!("{params:?}");
        // One cache per crop size, so runs with other patch sizes do not rebuild each other's.
        let file = if side == CROP { format!("crops-{name}.safetensors") } else { format!("crops-{name}-{side}.safetensors") };
        let path = config.work_dir.join(file);
        if let Some(c) = load_crops(&path, &recipe)? {
            observer.message(&format!("{name}: {} crops from {}", c.len(), path.display()));
            out.push(c);
            continue;
        }
        observer.message(&format!("{name}: simulating {} images", params.images));
        let c = build_crops(params, &|n| observer.message(&format!("{name}: image {n}/{}", params.images)), cancelled);
        if cancelled() {
            return Err(ModelError::Cancelled);
        }
        save_crops(&c, &recipe, &path)?;
        out.push(c);
    }
    let val = out.pop().unwrap_or_default();
    Ok((out.pop().unwrap_or_default(), val))
}

fn validate(
    net: &DenoiseNet,
    val: &DenoiseCrops,
    specs: &[SampleSpec],
    config: &TrainDenoiseConfig,
    window: &candle_core::Tensor,
    device: &Device,
) -> Result<(f64, f64, f64), ModelError> {
    let (mut mse, mut input, mut ssim, mut n) = (0.0, 0.0, 0.0, 0usize);
    for chunk in specs.chunks(config.batch_size) {
        let b = batch(val, chunk, config.patch, device)?;
        let estimated = net.forward_t(&b.input, false)?;
        let denoised = b.denoised(&estimated)?;
        let (_, m, s) = denoise_loss(&estimated, &b.noise, &denoised, &b.clean, &b.range, window)?;
        let k = chunk.len() as f64;
        mse += f64::from(m.to_scalar::<f32>()?) * k;
        ssim += f64::from(s.to_dtype(DType::F32)?.to_scalar::<f32>()?) * k;
        input += f64::from(b.noise.sqr()?.mean_all()?.to_scalar::<f32>()?) * k;
        n += chunk.len();
    }
    let n = n.max(1) as f64;
    Ok((mse / n, input / n, ssim / n))
}

fn read_progress(path: &Path) -> Result<Option<Progress>, ModelError> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
    Ok(serde_json::from_slice(&bytes).ok())
}

/// New weights and optimiser files, then the progress that points to them, then the old files removed.
fn save_checkpoint(
    dir: &Path,
    preset: DenoisePreset,
    varmap: &VarMap,
    adam: &Adam,
    progress: &mut Progress,
    progress_path: &Path,
) -> Result<(), ModelError> {
    let previous = [progress.weights_file.clone(), progress.adam_file.clone()];
    let step = progress.summary.steps_done;
    progress.weights_file = format!("{}-weights-{step:06}.safetensors", preset.name());
    progress.adam_file = format!("{}-adam-{step:06}.safetensors", preset.name());
    // The format metadata makes a checkpoint usable as it is (`analyze denoise --weights`, `bench denoise`).
    save_denoiser(varmap, &dir.join(&progress.weights_file), DType::F32, &denoise_metadata(preset))?;
    adam.save(&dir.join(&progress.adam_file))?;
    let json = serde_json::to_vec_pretty(progress).map_err(|e| ModelError::Format(e.to_string()))?;
    write_atomically(progress_path, &json)?;
    for file in previous.iter().filter(|f| !f.is_empty()) {
        std::fs::remove_file(dir.join(file)).ok();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use parking_lot::Mutex;

    use super::*;

    struct Record(Mutex<Vec<DenoiseValRecord>>);
    impl DenoiseTrainObserver for Record {
        fn message(&self, _: &str) {}
        fn step(&self, _: usize, _: usize, _: f64) {}
        fn validation(&self, r: &DenoiseValRecord) {
            self.0.lock().push(r.clone());
        }
    }

    /// A short run lowers the validation noise error, and a second call resumes (nothing left to do).
    #[test]
    fn short_run_lowers_the_loss_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let config = TrainDenoiseConfig {
            train_images: 2,
            val_images: 1,
            crops_per_image: 12,
            steps: 24,
            batch_size: 4,
            lr: 2e-3,
            warmup_steps: 2,
            checkpoint_every: 12,
            ..TrainDenoiseConfig::shipped(DenoisePreset::Fast, dir.path().join("out.safetensors"), dir.path().join("work"))
        };
        let observer = Record(Mutex::new(Vec::new()));
        let summary = train_denoiser(&config, &Device::Cpu, &observer, &|| false).unwrap();
        assert_eq!(summary.steps_done, 24);
        let history = observer.0.lock().clone();
        assert_eq!(history.len(), 2);
        assert!(history[1].val_mse < 0.8 * history[1].val_input_mse, "{history:?}");
        assert!(config.out.exists());
        // Nothing left to do: the summary comes back from the checkpoint (floats through JSON, so compare closely).
        let again = train_denoiser(&config, &Device::Cpu, &observer, &|| false).unwrap();
        assert_eq!(again.steps_done, 24);
        assert_eq!(again.history.len(), 2);
        assert!((again.history[1].val_mse - summary.history[1].val_mse).abs() < 1e-9);
        assert_eq!(observer.0.lock().len(), 2, "no new validation on a finished run");
        // A further cycle from the finished weights starts where they are, not from scratch.
        let next = TrainDenoiseConfig {
            init: Some(config.out.clone()),
            steps: 1,
            checkpoint_every: 1,
            lr: 1e-9,
            warmup_steps: 1,
            work_dir: dir.path().join("work2"),
            out: dir.path().join("out2.safetensors"),
            ..config.clone()
        };
        let cycle = train_denoiser(&next, &Device::Cpu, &observer, &|| false).unwrap();
        // (One step updates the batch-norm statistics, so not exactly; a seeded start is at the input's error.)
        let (start, done) = (cycle.history[0].val_mse, summary.history[1].val_mse);
        assert!(start < 1.5 * done && start < 0.4 * cycle.history[0].val_input_mse, "{cycle:?} after {summary:?}");
        let scratch = train_denoiser(
            &TrainDenoiseConfig { init: None, work_dir: dir.path().join("work3"), ..next },
            &Device::Cpu,
            &observer,
            &|| false,
        );
        assert!(scratch.unwrap().history[0].val_mse > 0.8 * cycle.history[0].val_input_mse);
    }

    /// Larger patches train from their own crop cache; patches off the multiscale grid or out of range are refused.
    #[test]
    fn patch_size_is_checked_and_larger_patches_train() {
        let dir = tempfile::tempdir().unwrap();
        let config = TrainDenoiseConfig {
            train_images: 1,
            val_images: 1,
            crops_per_image: 4,
            steps: 2,
            batch_size: 2,
            patch: 96,
            checkpoint_every: 2,
            ..TrainDenoiseConfig::shipped(DenoisePreset::Unet, dir.path().join("out.safetensors"), dir.path().join("work"))
        };
        let observer = Record(Mutex::new(Vec::new()));
        let summary = train_denoiser(&config, &Device::Cpu, &observer, &|| false).unwrap();
        assert_eq!(summary.steps_done, 2);
        assert!(dir.path().join("work/crops-train-112.safetensors").exists());
        for patch in [66, 16, 1024] {
            let bad = TrainDenoiseConfig { patch, ..config.clone() };
            assert!(matches!(train_denoiser(&bad, &Device::Cpu, &observer, &|| false), Err(ModelError::Input(_))), "{patch}");
        }
    }
}
