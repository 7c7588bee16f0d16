//! Training the patch classifier on simulated patches: data (generated once, cached in the work directory),
//! the loop (`train_loop`), mini-batches (`batches`) and the recipe (`config`).

pub mod batches;
pub mod calibrate;
pub mod config;
pub mod data_cache;
pub mod evaluate;
pub mod mining;
pub mod train_loop;

use candle_core::Device;

pub use config::{RobustTerms, TrainConfig};
pub use data_cache::PatchSet;
pub use train_loop::{EpochRecord, LossParts, TrainSummary};

use crate::imaging::seed::splitmix64;
use crate::models::error::ModelError;
use crate::synth::calc_patches::{self, CalcDataParams};

/// Why training stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("training state: {0}")]
    Json(#[from] serde_json::Error),
    #[error("training data: {0}")]
    Data(String),
    #[error("{0}")]
    Config(String),
    #[error("cancelled (checkpoint saved; run the same command again to resume)")]
    Cancelled,
}

/// Progress callbacks (a progress bar in the CLI, a job in the GUI).
pub trait TrainObserver: Sync {
    /// Data generation: `done` of `total` simulated images.
    fn data(&self, label: &str, done: usize, total: usize);
    fn step(&self, epoch: usize, step: usize, steps: usize, loss: &LossParts);
    fn epoch(&self, record: &EpochRecord);
    fn message(&self, text: &str);
}

/// Trains as `config` says, resuming from `config.work_dir` when it holds a run of the same recipe.
pub fn train_calc(
    config: &TrainConfig,
    device: &Device,
    observer: &dyn TrainObserver,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<TrainSummary, TrainError> {
    if !(0.0..=1.0).contains(&config.film_artefacts) {
        return Err(TrainError::Config(format!("--film-artefacts is a probability in [0, 1], got {}", config.film_artefacts)));
    }
    std::fs::create_dir_all(&config.work_dir)?;
    if let Some(parent) = config.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let recipe_path = config.work_dir.join("config.json");
    if recipe_path.exists() {
        let previous: TrainConfig = serde_json::from_slice(&std::fs::read(&recipe_path)?)?;
        let comparable = TrainConfig { epochs: config.epochs, out: config.out.clone(), ..previous.clone() };
        if &comparable != config {
            return Err(TrainError::Config(format!(
                "{} holds a run with another recipe; pass a new --work-dir or delete it",
                config.work_dir.display()
            )));
        }
    } else {
        std::fs::write(&recipe_path, serde_json::to_vec_pretty(config)?)?;
    }
    // Validation patches stay as drawn, so validation AUCs of runs with and without near-threshold or linear positives
    // compare.
    let train = dataset(
        config,
        "train",
        (config.seed, config.train_images, config.near_threshold_fraction, config.linear_fraction),
        observer,
        cancelled,
    )?;
    let val = dataset(config, "validation", (config.seed ^ 0x0005_eed0_f7a1, config.val_images, 0.0, 0.0), observer, cancelled)?;
    let train = match &config.hard_negatives {
        Some(h) => {
            let mined = hard_negatives(config, h, device, observer, cancelled)?;
            observer.message(&format!("{} hard negatives mined by {} from {} images", mined.len(), h.from.display(), h.images));
            train.concat(&mined).ok_or_else(|| TrainError::Data("mined patches have another size".into()))?
        }
        None => train,
    };
    observer.message(&format!(
        "{} training patches ({} with calcifications), {} validation patches",
        train.len(),
        train.positives(),
        val.len()
    ));
    train_loop::run(config, &train, &val, device, observer, cancelled)
}

/// The mined negatives, cached in the work directory like the simulated sets.
fn hard_negatives(
    config: &TrainConfig,
    params: &mining::HardNegatives,
    device: &Device,
    observer: &dyn TrainObserver,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<PatchSet, TrainError> {
    let path = config.work_dir.join("hard-negatives.safetensors");
    if path.exists() {
        return Ok(PatchSet::load(&path)?);
    }
    let (net, _) = crate::models::checkpoint::build_from_file(&params.from, device)?;
    // A seed of their own: neither the training nor the validation images, nor any evaluation seed.
    let seed = splitmix64(config.seed ^ 0x4d16_ed00);
    let set = mining::mine(&net, params, seed, device, &|done, total| observer.data("hard negatives", done, total), cancelled)?;
    set.save(&path)?;
    Ok(set)
}

fn dataset(
    config: &TrainConfig,
    name: &str,
    (seed, images, near_threshold_fraction, linear_fraction): (u64, usize, f64, f64),
    observer: &dyn TrainObserver,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<PatchSet, TrainError> {
    let path = config.work_dir.join(format!("{name}-patches.safetensors"));
    if path.exists() {
        return Ok(PatchSet::load(&path)?);
    }
    let params = CalcDataParams {
        seed,
        images,
        positives_per_image: config.positives_per_image,
        negatives_per_image: config.negatives_per_image,
        near_threshold_fraction,
        linear_fraction,
        ..CalcDataParams::training(seed, images)
    };
    let data = calc_patches::generate(&params, &|done, total| observer.data(name, done, total), cancelled)
        .map_err(|e| TrainError::Data(e.to_string()))?;
    let set = PatchSet::from_dataset(&data);
    set.save(&path)?;
    Ok(set)
}
