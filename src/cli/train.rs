//! `mammoscope train calc`: trains a calcification patch classifier from the simulator, with an indicatif progress
//! bar, validation AUC per epoch, checkpoints in `--work-dir` (rerun the same command to resume).

use std::path::PathBuf;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::models::detector::DEFAULT_STRIDE;
use crate::models::device::{best_device, device_name};
use crate::models::preset::CalcPreset;
use crate::models::training::calibrate::{CalibrationParams, DetectionCalibration, VALIDATION_SEED, calibrate_detection};
use crate::models::training::mining::HardNegatives;
use crate::models::training::{EpochRecord, LossParts, RobustTerms, TrainConfig, TrainObserver, train_calc};

/// `train` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TrainCommand {
    /// Train the microcalcification patch classifier on simulated mammograms.
    Calc(TrainCalcArgs),
    /// Train the deep ensemble that predicts the CDMAM contrast-detail curve from one image.
    Cdc(crate::cli::train_cdc::TrainCdcArgs),
    /// Train the Anscombe-domain residual denoiser on simulated dose reduction.
    Denoise(crate::cli::train_denoise::TrainDenoiseArgs),
}

#[derive(Debug, clap::Args)]
pub struct TrainCalcArgs {
    /// Network: compact (default; fast on CPU), resnet18, resnet50 (the paper's).
    #[arg(long, default_value = "compact")]
    pub preset: CalcPreset,
    /// Output weights (f16 safetensors), e.g. assets/models/calc-compact.safetensors.
    #[arg(long, value_name = "OUT.safetensors")]
    pub out: PathBuf,
    /// λn: weight of the neighbor loss (robust training; 0 = off).
    #[arg(long, value_name = "LAMBDA", default_value_t = 0.0)]
    pub neighbor_loss: f64,
    /// λa: weight of the embedded autoencoder's reconstruction loss (robust training; 0 = off).
    #[arg(long, value_name = "LAMBDA", default_value_t = 0.0)]
    pub autoencoder: f64,
    /// σ of the uniform noise U[−σ, σ] for the robust terms, in normalised units (breast p1–p99 = 0–1).
    #[arg(long, value_name = "SIGMA", default_value_t = 0.1)]
    pub noise_sigma: f64,
    #[arg(long, default_value_t = 12)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, value_name = "LR", default_value_t = 2e-3)]
    pub lr: f64,
    /// Simulated mammograms for training patches.
    #[arg(long, value_name = "N", default_value_t = 240)]
    pub train_images: usize,
    /// Simulated mammograms for validation patches (other seeds).
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub val_images: usize,
    /// Positive and negative patches drawn per simulated image.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub patches_per_class: usize,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Fraction of each training image's positives whose strongest speck is just over the visibility rule (CNR below
    /// 5 + 1.5), where the image has such specks; validation patches stay as drawn.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub near_threshold_positives: f64,
    /// Fraction of each training image's positives drawn from its linear / branching clusters, where the image has
    /// visible ones; validation patches stay as drawn.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub linear_positives: f64,
    /// Probability that a training patch (either class) gets film-like artefacts painted in, fresh each step: screen
    /// dust, lint fibres, scanner lines (`synth::calc_patches::film_artefacts`).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub film_artefacts: f64,
    /// Start from these weights (e.g. fine-tune the plain model with the robust terms); the decoder starts random.
    #[arg(long, value_name = "W.safetensors")]
    pub init_from: Option<PathBuf>,
    /// At most this many steps per epoch (a seeded subset of the patches each epoch).
    #[arg(long, value_name = "N")]
    pub max_steps_per_epoch: Option<usize>,
    /// Add hard negatives: this model scores every tile of `--mine-images` whole simulated mammograms (seeds of their
    /// own) and the calcification-free tiles it scores at or above `--mine-threshold` join the training set.
    #[arg(long, value_name = "W.safetensors")]
    pub hard_negatives_from: Option<PathBuf>,
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub mine_images: usize,
    #[arg(long, value_name = "P", default_value_t = 0.2)]
    pub mine_threshold: f32,
    /// At most this many mined tiles per image (its highest scored).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub mine_per_image: usize,
    /// Checkpoints, optimiser state and cached patches (default: .cache/train/<OUT file stem>).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// After training, choose the whole-image operating point on this many simulated validation mammograms: the
    /// lowest threshold with at most `--max-false-marks` false marks per calcification-free image, written into the
    /// weights (the viewer's default threshold). 0: none; the paper's patch operating point is used.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub calibrate_images: usize,
    /// Seed of the calibration mammograms (the validation seed; not a training or test seed).
    #[arg(long, value_name = "SEED", default_value_t = VALIDATION_SEED)]
    pub calibrate_seed: u64,
    /// The calibration's budget of false marks per calcification-free image.
    #[arg(long, value_name = "B", default_value_t = 1.0)]
    pub max_false_marks: f64,
}

pub fn run(command: TrainCommand) -> anyhow::Result<()> {
    match command {
        TrainCommand::Calc(a) => calc(&a),
        TrainCommand::Cdc(a) => crate::cli::train_cdc::run(&a),
        TrainCommand::Denoise(a) => crate::cli::train_denoise::run(&a),
    }
}

fn calc(a: &TrainCalcArgs) -> anyhow::Result<()> {
    let stem = a.out.file_stem().map(|s| s.to_string_lossy().into_owned()).context("--out must name a file")?;
    let work_dir = a.work_dir.clone().unwrap_or_else(|| PathBuf::from(".cache/train").join(&stem));
    let config = TrainConfig {
        preset: a.preset,
        seed: a.seed,
        epochs: a.epochs,
        batch_size: a.batch,
        learning_rate: a.lr,
        train_images: a.train_images,
        val_images: a.val_images,
        positives_per_image: a.patches_per_class,
        negatives_per_image: a.patches_per_class,
        near_threshold_fraction: a.near_threshold_positives,
        linear_fraction: a.linear_positives,
        film_artefacts: a.film_artefacts,
        robust: RobustTerms { neighbor_lambda: a.neighbor_loss, autoencoder_lambda: a.autoencoder, noise_sigma: a.noise_sigma },
        init_from: a.init_from.clone(),
        max_steps_per_epoch: a.max_steps_per_epoch,
        hard_negatives: a.hard_negatives_from.clone().map(|from| HardNegatives {
            from,
            images: a.mine_images,
            threshold: a.mine_threshold,
            max_per_image: a.mine_per_image,
        }),
        ..TrainConfig::compact_default(a.out.clone(), work_dir)
    };
    let device = best_device()?;
    eprintln!("training {} on {} (work dir {})", config.preset.name(), device_name(&device), config.work_dir.display());
    let observer = BarObserver::new();
    let summary = train_calc(&config, &device, &observer, &|| false)?;
    observer.bar.finish_and_clear();
    println!(
        "wrote {}: best validation AUC {:.4}, operating point {:.3}, {:.0} s, {} training / {} validation patches",
        summary.out.display(),
        summary.best_val_auc,
        summary.operating_point,
        summary.seconds,
        summary.train_patches,
        summary.val_patches
    );
    let detection = if a.calibrate_images > 0 {
        let params = CalibrationParams {
            images: a.calibrate_images,
            seed: a.calibrate_seed,
            max_false_marks: a.max_false_marks,
            stride: DEFAULT_STRIDE,
        };
        let bar = ProgressBar::new(a.calibrate_images as u64).with_message("calibration mammograms");
        let calibration = calibrate_detection(&summary.out, &params, &device, &|done, _| bar.set_position(done as u64), &|| false)
            .with_context(|| format!("cannot choose a detection threshold for {}", summary.out.display()))?;
        bar.finish_and_clear();
        let s = &calibration.stats;
        println!(
            "detection threshold {:.3}: {}/{} clusters ({:.1}%) at {:.2} false marks per calcification-free image on {} validation mammograms",
            s.threshold,
            s.clusters_found,
            s.clusters,
            100.0 * s.sensitivity,
            s.false_marks_per_calc_free_image,
            a.calibrate_images
        );
        Some(calibration)
    } else {
        None
    };
    let log = summary.out.with_extension("train.json");
    let bytes = serde_json::to_vec_pretty(&TrainLog { summary: &summary, detection })?;
    super::write_atomically(&log, |w| Ok(std::io::Write::write_all(w, &bytes)?))?;
    Ok(())
}

/// `<out>.train.json`: the training summary and, when calibrated, the whole-image operating point.
#[derive(serde::Serialize)]
struct TrainLog<'a> {
    #[serde(flatten)]
    summary: &'a crate::models::training::train_loop::TrainSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    detection: Option<DetectionCalibration>,
}

/// The training progress bar with a log line above it; shared by the `train` subcommands.
pub(super) struct BarObserver {
    pub(super) bar: ProgressBar,
}

impl BarObserver {
    pub(super) fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self { bar }
    }
}

impl BarObserver {
    /// A line above the bar, or on stderr when there is no terminal (a log file): the bar is hidden there.
    pub(super) fn line(&self, text: String) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }
}

impl TrainObserver for BarObserver {
    fn data(&self, label: &str, done: usize, total: usize) {
        self.bar.set_prefix(format!("sim {label}"));
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        // Without a terminal (a log file) the bar is hidden: a line at every tenth instead.
        if self.bar.is_hidden() && total > 0 && (done * 10 / total) != ((done.saturating_sub(1)) * 10 / total) {
            eprintln!("{label}: {done}/{total}");
        }
    }

    fn step(&self, epoch: usize, step: usize, steps: usize, loss: &LossParts) {
        if self.bar.is_hidden() && steps >= 10 && step.is_multiple_of(steps / 10) {
            eprintln!("epoch {} step {step}/{steps}: loss {:.4}", epoch + 1, loss.total);
        }
        self.bar.set_prefix(format!("epoch {}", epoch + 1));
        self.bar.set_length(steps as u64);
        self.bar.set_position(step as u64);
        self.bar.set_message(format!(
            "loss {:.4} (c {:.4} n {:.4} a {:.4})",
            loss.total, loss.classification, loss.neighbor, loss.reconstruction
        ));
    }

    fn epoch(&self, r: &EpochRecord) {
        self.line(format!(
            "epoch {:>3}: loss {:.4} (c {:.4} n {:.4} a {:.4}), val AUC {:.4}, val acc {:.3}, lr {:.2e}, {:.0} s",
            r.epoch,
            r.mean_loss.total,
            r.mean_loss.classification,
            r.mean_loss.neighbor,
            r.mean_loss.reconstruction,
            r.val_auc,
            r.val_accuracy,
            r.learning_rate,
            r.seconds
        ));
    }

    fn message(&self, text: &str) {
        self.line(text.to_owned());
    }
}
