//! `mammoscope train cdc`: the single-image CDC predictor's data (simulated settings, each read as a 16-image set),
//! then the deep ensemble. Data and checkpoints live in `--data` / `--work-dir`; rerunning the command resumes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

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
    #[arg(long, value_name = "N", default_value_t = 120)]
    pub train_settings: usize,
    /// Where the simulated settings are cached (one file per setting; reused and extended).
    #[arg(long, value_name = "DIR", default_value = ".cache/cdc-data")]
    pub data: PathBuf,
    /// Build the data and stop.
    #[arg(long)]
    pub data_only: bool,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

pub fn run(a: &TrainCdcArgs) -> anyhow::Result<()> {
    let (train, test) = build_data(&a.data, a.train_settings, a.seed)?;
    eprintln!("data: {} training settings, {} test settings in {}", train.len(), test.len(), a.data.display());
    if a.data_only {
        return Ok(());
    }
    anyhow::bail!("ensemble training is not built yet")
}

/// Builds (or reuses) every training and test setting's file; returns the loaded settings (those that failed are
/// reported and left out).
pub fn build_data(dir: &Path, train_settings: usize, seed: u64) -> anyhow::Result<(Vec<SettingData>, Vec<SettingData>)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let train = build_group(dir, &training_settings(train_settings, seed))?;
    let test = build_group(dir, &test_settings(seed))?;
    Ok((train, test))
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
                Ok(d) if d.spec == *spec => {
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
