//! `mammoscope train cdc`: the single-image CDC predictor's data (simulated settings, each read as a 16-image set),
//! then the deep ensemble. Data and checkpoints live in `--data` / `--work-dir`; rerunning the command resumes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use crate::models::cdc::{CdcEnsemble, SIGMA_SCALE_KEY, read_manifest, write_manifest};
use crate::models::cdc::{CdcEpochRecord, CdcPreset, CdcStepProgress, CdcTrainObserver, TrainCdcConfig, train_ensemble};
use crate::models::cdc_eval::{evaluate, sigma_scale_for, summarise};
use crate::models::device::{best_device, device_name};
use crate::synth::cdc_data::{
    KEEP_SIDE, SettingData, SettingSpec, build_setting, load_setting, save_setting, setting_file_name, test_settings, training_settings,
};

#[derive(Debug, clap::Args)]
pub struct TrainCdcArgs {
    /// Output folder for the members' weights and the model card, e.g. assets/models/cdc-compact.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Network: compact (default; shipped) or paper (the paper's 123008 × 512 dense layer; for GPUs).
    #[arg(long, default_value = "compact")]
    pub preset: String,
    /// Ensemble members.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Training settings (each: 16 simulated exposures read as a set).
    #[arg(long, value_name = "N", default_value_t = 72)]
    pub train_settings: usize,
    /// Where the simulated settings are cached (one file per setting; reused and extended).
    #[arg(long, value_name = "DIR", default_value = ".cache/cdc-data")]
    pub data: PathBuf,
    /// Build the data and stop.
    #[arg(long)]
    pub data_only: bool,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Epochs of the three incremental stages (no margins; margins up to 10 mm; all), comma-separated.
    #[arg(long, value_name = "A,B,C", default_value = "1,1,2", value_delimiter = ',')]
    pub epochs: Vec<usize>,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, value_name = "LR", default_value_t = 1e-3)]
    pub lr: f64,
    /// L2 regularisation weight (the paper: 1e-4).
    #[arg(long, default_value_t = 1e-4)]
    pub l2: f64,
    /// Training settings held out for validation (by setting, never by image).
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub val_settings: usize,
    /// At most this many steps per epoch.
    #[arg(long, value_name = "N")]
    pub max_steps_per_epoch: Option<usize>,
    /// Checkpoints (default: .cache/train/<OUT folder name>); rerun the same command to resume.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

pub fn run(a: &TrainCdcArgs) -> anyhow::Result<()> {
    let (train, test) = build_data(&a.data, a.train_settings, a.seed)?;
    eprintln!("data: {} training settings, {} test settings in {}", train.len(), test.len(), a.data.display());
    if a.data_only {
        return Ok(());
    }
    let preset: CdcPreset = a.preset.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    // Validation: the last settings of the training list (by setting).
    let n_val = a.val_settings.min(train.len().saturating_sub(1));
    let (fit, val) = train.split_at(train.len() - n_val);
    let name = a.out.file_name().map(|s| s.to_string_lossy().into_owned()).context("--out must name a folder")?;
    let work_dir = a.work_dir.clone().unwrap_or_else(|| PathBuf::from(".cache/train").join(&name));
    let [e0, e1, e2] = a.epochs[..] else { anyhow::bail!("--epochs takes three numbers") };
    let config = TrainCdcConfig {
        preset,
        members: a.members,
        epochs_per_stage: [e0, e1, e2],
        batch_size: a.batch,
        lr: a.lr,
        l2: a.l2,
        seed: a.seed,
        max_steps_per_epoch: a.max_steps_per_epoch,
        ..TrainCdcConfig::compact_default(work_dir, a.out.clone())
    };
    let device = best_device()?;
    eprintln!(
        "training {} × {} on {} ({} settings / {} images; {} validation settings)",
        config.members,
        preset.name(),
        device_name(&device),
        fit.len(),
        fit.iter().map(|s| s.images.len()).sum::<usize>(),
        val.len()
    );
    let observer = LineObserver::default();
    let summary = train_ensemble(&config, fit, val, &device, &observer, &|| false)?;
    calibrate(&a.out, val, a.seed, &device)?;
    let log = a.out.join("train.json");
    let bytes = serde_json::to_vec_pretty(&summary)?;
    crate::dicom::atomic::write_file_atomically(&log, &bytes)?;
    println!("wrote {} ({} members, {:.0} s)", a.out.display(), summary.members.len(), summary.seconds);
    Ok(())
}

/// Fits the σ calibration factor on the validation settings (one draw per image, as the evaluation) so the 95 % band
/// covers 95 % of their points, and records it in the ensemble's manifest.
fn calibrate(out: &Path, val: &[SettingData], seed: u64, device: &candle_core::Device) -> anyhow::Result<()> {
    if val.is_empty() {
        eprintln!("no validation settings: σ left uncalibrated");
        return Ok(());
    }
    let ensemble = CdcEnsemble::load(out, device)?.with_sigma_scale(1.0);
    let evals = evaluate(&ensemble, val, 1, seed, &|_, _| {}, &|| false)?;
    let before = summarise(&evals).first().map_or(f64::NAN, |s| s.coverage_95);
    let scale = sigma_scale_for(&evals, 0.95).context("cannot calibrate σ: no finite errors")?;
    let mut manifest = read_manifest(out)?;
    manifest.metadata.insert(SIGMA_SCALE_KEY.to_owned(), format!("{scale:.6}"));
    write_manifest(out, &manifest)?;
    eprintln!(
        "σ calibration on {} validation settings ({} images): coverage {:.1} % uncalibrated → σ × {scale:.3}",
        val.len(),
        evals.len(),
        100.0 * before
    );
    Ok(())
}

/// Progress lines on stderr (training runs for tens of minutes, usually into a log file).
#[derive(Default)]
struct LineObserver {
    last: parking_lot::Mutex<Option<Instant>>,
}

impl CdcTrainObserver for LineObserver {
    fn step(&self, p: &CdcStepProgress) {
        let mut last = self.last.lock();
        if last.is_none_or(|t| t.elapsed().as_secs() >= 30) {
            eprintln!("member {} epoch {} (stage {}) step {}/{}: NLL {:.3}", p.member, p.epoch, p.stage, p.step, p.steps, p.loss);
            *last = Some(Instant::now());
        }
    }

    fn epoch(&self, r: &CdcEpochRecord) {
        eprintln!(
            "member {} epoch {} (stage {}): train NLL {:.3}, val NLL {}, val |error| {} ln µm, lr {:.2e}, {:.0} s",
            r.member,
            r.epoch,
            r.stage,
            r.train_nll,
            r.val_nll.map_or("-".into(), |v| format!("{v:.3}")),
            r.val_mae_ln.map_or("-".into(), |v| format!("{v:.3}")),
            r.learning_rate,
            r.seconds
        );
    }

    fn message(&self, text: &str) {
        eprintln!("{text}");
    }
}

/// Builds (or reuses) every training and test setting's file; returns the loaded settings (those that failed are
/// reported and left out).
pub fn build_data(dir: &Path, train_settings: usize, seed: u64) -> anyhow::Result<(Vec<SettingData>, Vec<SettingData>)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let train = build_group(dir, &training_settings(train_settings, seed))?;
    let test = build_group(dir, &test_settings(seed))?;
    Ok((train, test))
}

/// The stored spec is the one asked for (JSON float round trips may differ in the last bit).
fn same_setting(stored: &SettingSpec, wanted: &SettingSpec) -> bool {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let (p, q) = (&stored.params, &wanted.params);
    stored.name == wanted.name
        && stored.group == wanted.group
        && stored.seed == wanted.seed
        && [
            (p.kvp, q.kvp),
            (p.mas, q.mas),
            (p.noise, q.noise),
            (p.noise_corr_mm, q.noise_corr_mm),
            (p.blur_mm, q.blur_mm),
            (p.margin_mm, q.margin_mm),
            (p.heel, q.heel),
            (p.pixel_mm, q.pixel_mm),
        ]
        .iter()
        .all(|&(a, b)| close(a, b))
        && p.text == q.text
}

fn build_group(dir: &Path, specs: &[SettingSpec]) -> anyhow::Result<Vec<SettingData>> {
    let mut out = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let path = dir.join(setting_file_name(spec));
        let failed = path.with_extension("failed");
        if failed.exists() {
            continue;
        }
        if path.exists() {
            match load_setting(&path) {
                Ok(d) if same_setting(&d.spec, spec) => {
                    out.push(d);
                    continue;
                }
                Ok(_) => eprintln!("{}: settings changed, rebuilding", path.display()),
                Err(e) => eprintln!("{}: {e}, rebuilding", path.display()),
            }
        }
        let start = Instant::now();
        match build_setting(spec, KEEP_SIDE, &|| false) {
            Ok(d) => {
                save_setting(&d, &path)?;
                eprintln!(
                    "[{}/{}] {} ({} read, {:.0} s): label {:.3} µm at 0.10 mm, {:.3} µm at 0.50 mm",
                    i + 1,
                    specs.len(),
                    spec.name,
                    d.images_read,
                    start.elapsed().as_secs_f64(),
                    d.label_um[10],
                    d.label_um[3]
                );
                out.push(d);
            }
            Err(e) => {
                eprintln!("[{}/{}] {}: left out: {e}", i + 1, specs.len(), spec.name);
                crate::dicom::atomic::write_file_atomically(&failed, e.to_string().as_bytes())?;
            }
        }
    }
    Ok(out)
}
