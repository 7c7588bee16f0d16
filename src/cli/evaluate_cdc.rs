//! `mammoscope evaluate cdc`: the CDC ensemble on the held-out test settings (the paper's scenarios #1–#4 at six
//! margins, and the OOD scenario), as the model card's table: error against the 16-image readout (the label), 95 %
//! band coverage, mean σ, and errors of the prediction and of the readout against the ideal observer.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::models::cdc::CdcEnsemble;
use crate::models::cdc_eval::{evaluate, summarise};
use crate::models::device::best_device;
use crate::synth::cdc_data::{load_setting, setting_file_name, test_settings};

#[derive(Debug, clap::Args)]
pub struct EvaluateCdcArgs {
    /// The ensemble folder (e.g. assets/models/cdc-compact).
    #[arg(long, value_name = "DIR")]
    pub ensemble: PathBuf,
    /// The settings cache written by `train cdc` (test settings are built there by it).
    #[arg(long, value_name = "DIR", default_value = ".cache/cdc-data")]
    pub data: PathBuf,
    /// Random 250 × 250 draws averaged per image.
    #[arg(long, default_value_t = 1)]
    pub draws: usize,
    /// The seed `train cdc` used (test settings derive from it).
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Write the per-image results and summaries here (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
}

pub fn run(a: &EvaluateCdcArgs) -> anyhow::Result<()> {
    let device = best_device()?;
    let ensemble = CdcEnsemble::load(&a.ensemble, &device).with_context(|| format!("cannot load {}", a.ensemble.display()))?;
    let mut settings = Vec::new();
    for spec in test_settings(a.seed) {
        let path = a.data.join(setting_file_name(&spec));
        match load_setting(&path) {
            Ok(s) => settings.push(s),
            Err(e) => eprintln!("{}: left out ({e}); build it with `mammoscope train cdc --data-only`", path.display()),
        }
    }
    anyhow::ensure!(!settings.is_empty(), "no test settings in {}", a.data.display());
    let started = std::time::Instant::now();
    let evals = evaluate(
        &ensemble,
        &settings,
        a.draws,
        a.seed,
        &|done, total| {
            if done % 48 == 0 || done == total {
                eprintln!("{done}/{total} images");
            }
        },
        &|| false,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let summaries = summarise(&evals);
    println!(
        "| group | settings | images | mean abs error (ln µm) | median abs error | 95 % coverage (points) | whole curve covered | mean σ total (epi / ale) | prediction vs ideal | readout vs ideal |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for s in &summaries {
        println!(
            "| {} | {} | {} | {:.3} | {:.1} % | {:.1} % | {:.1} % | {:.3} ({:.3} / {:.3}) | {:.3} | {:.3} |",
            s.group,
            s.settings,
            s.images,
            s.mae_ln,
            s.median_abs_error_pct,
            100.0 * s.coverage_95,
            100.0 * s.coverage_95_whole_curve,
            s.mean_sigma_total,
            s.mean_sigma_epistemic,
            s.mean_sigma_aleatoric,
            s.mae_ln_vs_ideal_prediction,
            s.mae_ln_vs_ideal_readout
        );
    }
    eprintln!("{} images, {} draws each, {:.0} s ({:.2} s per image)", evals.len(), a.draws, seconds, seconds / evals.len().max(1) as f64);
    if let Some(path) = &a.json {
        let value = serde_json::json!({ "draws": a.draws, "seconds": seconds, "summaries": summaries, "images": evals, "ensemble_sha256": ensemble.weights_sha256() });
        crate::dicom::atomic::write_file_atomically(path, &serde_json::to_vec_pretty(&value)?)?;
    }
    Ok(())
}
