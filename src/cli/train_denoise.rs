//! `mammoscope train denoise`: the Anscombe-domain residual denoiser from the mammogram simulator (crops cached in
//! the work directory, fresh dose-reduction noise at every step), with a progress bar and a validation line per
//! checkpoint; rerunning the same command resumes.

use std::path::PathBuf;

use super::train::BarObserver;
use crate::models::denoise::DenoisePreset;
use crate::models::denoise::train::{DenoiseTrainObserver, DenoiseValRecord, TrainDenoiseConfig, train_denoiser};
use crate::models::device::{best_device, device_name};

#[derive(Debug, clap::Args)]
pub struct TrainDenoiseArgs {
    /// Network: unet (multiscale; the shipped default), fast, wide, unet4, paper (the paper's 1.7 M-parameter residual
    /// net), dncnn.
    #[arg(long, default_value = "unet")]
    pub preset: String,
    /// Output weights (f16 safetensors), e.g. assets/models/denoise-unet.safetensors.
    #[arg(long, value_name = "OUT.safetensors")]
    pub out: PathBuf,
    /// Optimiser steps (each a batch of patches with fresh noise).
    #[arg(long, default_value_t = 6000)]
    pub steps: usize,
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Start from these weights (same preset) instead of the seeded initialisation: a further training cycle.
    #[arg(long, value_name = "W.safetensors")]
    pub init: Option<PathBuf>,
    /// Side of a training patch in px (the paper's 64; crops are cut 16 px larger).
    #[arg(long, value_name = "PX", default_value_t = 64)]
    pub patch: usize,
    #[arg(long, value_name = "LR", default_value_t = 1e-3)]
    pub lr: f64,
    /// Simulated training mammograms.
    #[arg(long, value_name = "N", default_value_t = 72)]
    pub train_images: usize,
    /// Simulated validation mammograms (other seeds).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub val_images: usize,
    /// Crops cut from each image.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub crops_per_image: usize,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Steps between checkpoints and validations.
    #[arg(long, value_name = "N", default_value_t = 250)]
    pub checkpoint_every: usize,
    /// Crops and checkpoints (default: .cache/denoise-train).
    #[arg(long, value_name = "DIR", default_value = ".cache/denoise-train")]
    pub work_dir: PathBuf,
}

pub fn run(a: &TrainDenoiseArgs) -> anyhow::Result<()> {
    let preset = DenoisePreset::from_name(&a.preset)?;
    let config = TrainDenoiseConfig {
        steps: a.steps,
        batch_size: a.batch,
        patch: a.patch,
        init: a.init.clone(),
        lr: a.lr,
        train_images: a.train_images,
        val_images: a.val_images,
        crops_per_image: a.crops_per_image,
        seed: a.seed,
        checkpoint_every: a.checkpoint_every,
        ..TrainDenoiseConfig::shipped(preset, a.out.clone(), a.work_dir.clone())
    };
    let device = best_device()?;
    eprintln!("training denoiser {} on {} (work dir {})", preset.name(), device_name(&device), config.work_dir.display());
    let observer = BarObserver::new();
    observer.bar.set_prefix("step");
    let summary = train_denoiser(&config, &device, &observer, &|| false)?;
    observer.bar.finish_and_clear();
    let last = summary.history.last();
    println!(
        "wrote {}: {} parameters, validation Anscombe-domain gain {:.2} dB at α 0.2, {:.0} s training ({:.1} patches/s), {} / {} crops",
        a.out.display(),
        summary.parameters,
        last.map_or(f64::NAN, |r| r.val_gain_db),
        summary.seconds,
        summary.samples_per_second,
        summary.train_crops,
        summary.val_crops
    );
    let log = a.out.with_extension("train.json");
    let bytes = serde_json::to_vec_pretty(&summary)?;
    super::write_atomically(&log, |w| Ok(std::io::Write::write_all(w, &bytes)?))?;
    Ok(())
}

impl DenoiseTrainObserver for BarObserver {
    fn message(&self, text: &str) {
        self.line(text.to_owned());
    }

    fn step(&self, step: usize, total: usize, loss: f64) {
        self.bar.set_length(total as u64);
        self.bar.set_position(step as u64);
        self.bar.set_message(format!("loss {loss:.4}"));
    }

    fn validation(&self, r: &DenoiseValRecord) {
        self.line(format!(
            "step {:>6}: train loss {:.4}, val noise MSE {:.4} (input {:.4}, gain {:.2} dB), val SSIM {:.4}, lr {:.2e}, {:.0} s",
            r.step, r.train_loss, r.val_mse, r.val_input_mse, r.val_gain_db, r.val_ssim, r.learning_rate, r.seconds
        ));
    }
}
