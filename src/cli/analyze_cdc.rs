//! `mammoscope analyze cdc FILE [--json]` (the contrast-detail curve predicted from one CDMAM image by the deep
//! ensemble) and `mammoscope analyze omig FILE --draws N [--method omig|sensitivity|occlusion] --out MAP.tiff
//! [--json]` (the explainability map upsampled to the image's size by Algorithm 2, as a 32-bit float TIFF).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::dicom::{self, OpenOptions};
use crate::explain::{EnsembleModel, Method, OcclusionParams, OmigParams, Upsampler};
use crate::imaging::Image;
use crate::models::catalog::cdc_ensemble_path;
use crate::models::cdc::CdcEnsemble;
use crate::models::cdc_image::{DEFAULT_DRAWS, at_training_level, predict_image};
use crate::models::device::{best_device, device_name};
use crate::phantom::cdmam::tables::{EUREF_LIMITS, HUMAN_FACTOR};
use crate::synth::cdc_data::cdc_diameters_mm;

/// Which ensemble.
#[derive(Debug, clap::Args)]
pub struct EnsembleArgs {
    /// An ensemble folder written by `mammoscope train cdc` instead of the shipped one.
    #[arg(long, value_name = "DIR")]
    pub ensemble: Option<PathBuf>,
    /// Seed of the random row/column draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, clap::Args)]
pub struct CdcArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub model: EnsembleArgs,
    /// Random 250 × 250 downsamplings averaged (1 = the paper's single draw).
    #[arg(long, default_value_t = DEFAULT_DRAWS as u32, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub draws: u32,
    #[arg(long)]
    pub json: bool,
}

/// The explainability method on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum MethodArg {
    Omig,
    Sensitivity,
    Occlusion,
}

#[derive(Debug, clap::Args)]
pub struct OmigArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub model: EnsembleArgs,
    /// Downsampling draws N of Algorithm 2 (the paper: 5000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub draws: u32,
    #[arg(long, value_enum, default_value = "omig")]
    pub method: MethodArg,
    /// The map: 32-bit float TIFF at the image's size (written atomically; never one of the inputs).
    #[arg(long, value_name = "MAP.tiff")]
    pub out: PathBuf,
    /// OMIG steps L.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// OMIG path length c (step ε = c/L).
    #[arg(long, default_value_t = 1.0)]
    pub c: f64,
    /// OMIG z-score threshold t for the gradient's outlier components.
    #[arg(long, default_value_t = 3.0)]
    pub t: f64,
    /// Occlusion block side in downsampled pixels (1 = the paper's single pixel).
    #[arg(long, default_value_t = 1)]
    pub occlusion_patch: usize,
    /// Draws per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long)]
    pub json: bool,
}

fn load_ensemble(args: &EnsembleArgs) -> anyhow::Result<(CdcEnsemble, PathBuf)> {
    let dir = match &args.ensemble {
        Some(d) => d.clone(),
        None => cdc_ensemble_path()
            .context("the CDC ensemble (assets/models/cdc-compact) is not installed; set MAMMOSCOPE_MODELS or pass --ensemble DIR")?,
    };
    let device = best_device()?;
    let ensemble = CdcEnsemble::load(&dir, &device).with_context(|| format!("cannot load the CDC ensemble in {}", dir.display()))?;
    Ok((ensemble, dir))
}

/// Opens `file` (first frame).
fn open(file: &Path) -> anyhow::Result<(Image, Option<String>)> {
    let loaded = dicom::open(file, &OpenOptions::default())?;
    let image = super::frame(&loaded, 0)?.clone();
    if loaded.meta.is_monochrome1() {
        bail!(
            "{} is MONOCHROME1 (For Presentation); the CDC ensemble reads For Processing (linear, MONOCHROME2) CDMAM images",
            file.display()
        );
    }
    Ok((image, loaded.meta.sop_instance_uid.clone()))
}

#[derive(Serialize)]
struct Point {
    diameter_mm: f64,
    /// Ensemble mean of ln(threshold / µm).
    mu_ln_um: f64,
    threshold_um: f64,
    band_95_um: [f64; 2],
    sigma_total: f64,
    sigma_epistemic: f64,
    sigma_aleatoric: f64,
    /// Human-equivalent threshold (× the EUREF human factor) and band.
    human_um: f64,
    human_band_95_um: [f64; 2],
}

#[derive(Serialize)]
struct Verdict {
    diameter_mm: f64,
    human_um: f64,
    acceptable_um: f64,
    achievable_um: f64,
    level: &'static str,
}

#[derive(Serialize)]
struct CdcReport {
    file: String,
    sop_instance_uid: Option<String>,
    ensemble: String,
    preset: String,
    members: usize,
    weights_sha256: Vec<String>,
    draws: u32,
    /// The factor the pixel values were scaled by to reach the training images' level (absent: not scaled).
    #[serde(skip_serializing_if = "Option::is_none")]
    level_factor: Option<f64>,
    /// σ are standard deviations of ln(threshold / µm); bands are exp(µ ± 1.96 `σ_total`).
    units: &'static str,
    points: Vec<Point>,
    midpoint_ln_um: f64,
    euref: Vec<Verdict>,
    seconds: f64,
    not_for_clinical_use: bool,
}

fn cdc(args: &CdcArgs) -> anyhow::Result<()> {
    let (ensemble, dir) = load_ensemble(&args.model)?;
    let (image, uid) = open(&args.file)?;
    let started = Instant::now();
    let (image, level_factor) = at_training_level(&ensemble, &image);
    if let Some(f) = level_factor {
        eprintln!("note: the image's level differs from the training images'; values scaled by {f:.3} first");
    }
    let p = predict_image(&ensemble, &image, args.draws as usize, args.model.seed, &|| false)
        .with_context(|| format!("cannot predict the CDC of {}", args.file.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let points: Vec<Point> = cdc_diameters_mm()
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            let band = p.band_um(k);
            Point {
                diameter_mm: d,
                mu_ln_um: p.mean[k],
                threshold_um: p.threshold_um(k),
                band_95_um: band,
                sigma_total: p.total[k],
                sigma_epistemic: p.epistemic[k],
                sigma_aleatoric: p.aleatoric[k],
                human_um: HUMAN_FACTOR[k] * p.threshold_um(k),
                human_band_95_um: band.map(|b| HUMAN_FACTOR[k] * b),
            }
        })
        .collect();
    let euref = EUREF_LIMITS
        .iter()
        .filter_map(|l| {
            let point = points.iter().find(|pt| (pt.diameter_mm - l.diameter_mm).abs() < 1e-9)?;
            let level = if point.human_um <= l.achievable_um {
                "achievable"
            } else if point.human_um <= l.acceptable_um {
                "acceptable"
            } else {
                "fail"
            };
            Some(Verdict {
                diameter_mm: l.diameter_mm,
                human_um: point.human_um,
                acceptable_um: l.acceptable_um,
                achievable_um: l.achievable_um,
                level,
            })
        })
        .collect();
    let report = CdcReport {
        file: args.file.display().to_string(),
        sop_instance_uid: uid,
        ensemble: dir.display().to_string(),
        preset: ensemble.preset().name().to_owned(),
        members: ensemble.members().len(),
        weights_sha256: ensemble.weights_sha256().to_vec(),
        draws: args.draws,
        level_factor,
        units: "thresholds in µm of gold; sigma of ln(threshold/µm)",
        points,
        midpoint_ln_um: p.midpoint(),
        euref,
        seconds,
        not_for_clinical_use: true,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}: predicted CDC ({} members, {} draws, {:.1} s) — not for clinical use",
        report.file, report.members, report.draws, seconds
    );
    println!("{:>8} {:>10} {:>19} {:>8} {:>8} {:>8} {:>10}", "d (mm)", "auto µm", "95 % band µm", "σ tot", "σ epi", "σ ale", "human µm");
    for pt in &report.points {
        println!(
            "{:>8.2} {:>10.3} {:>8.3} – {:<8.3} {:>8.3} {:>8.3} {:>8.3} {:>10.3}",
            pt.diameter_mm,
            pt.threshold_um,
            pt.band_95_um[0],
            pt.band_95_um[1],
            pt.sigma_total,
            pt.sigma_epistemic,
            pt.sigma_aleatoric,
            pt.human_um
        );
    }
    for v in &report.euref {
        println!("EUREF {:.2} mm: {:.3} µm human-equivalent → {}", v.diameter_mm, v.human_um, v.level);
    }
    Ok(())
}

#[derive(Serialize)]
struct OmigReport {
    file: String,
    sop_instance_uid: Option<String>,
    out: String,
    method: String,
    draws: usize,
    width: usize,
    height: usize,
    steps: usize,
    c: f64,
    t: f64,
    /// Mean over draws of `midpoint(x_L) − midpoint(x)`, ln µm (OMIG only; negative: the predicted CDC was lowered).
    mean_midpoint_change: Option<f64>,
    /// Pixels chosen by at least one draw.
    covered_fraction: f64,
    map_min: f32,
    map_max: f32,
    seconds: f64,
    draws_per_second: f64,
    device: String,
    units: &'static str,
}

fn omig_cmd(args: &OmigArgs) -> anyhow::Result<()> {
    if dicom::atomic::same_file(&args.file, &args.out) {
        bail!("--out {} is the input image: inputs are never overwritten", args.out.display());
    }
    let (ensemble, _) = load_ensemble(&args.model)?;
    let (image, uid) = open(&args.file)?;
    let method = match args.method {
        MethodArg::Omig => Method::Omig(OmigParams { steps: args.steps, c: args.c, z_threshold: args.t }),
        MethodArg::Sensitivity => Method::Sensitivity,
        MethodArg::Occlusion => Method::Occlusion(OcclusionParams { patch: args.occlusion_patch.max(1), batch: 64 }),
    };
    let (image, level_factor) = at_training_level(&ensemble, &image);
    if let Some(f) = level_factor {
        eprintln!("note: the image's level differs from the training images'; values scaled by {f:.3} first");
    }
    let model = EnsembleModel(std::sync::Arc::new(ensemble));
    let target = args.draws as usize;
    let bar = indicatif::ProgressBar::new(target as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} draws ({elapsed}, eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(method.label());
    let mut up = Upsampler::new(image.width, image.height, args.model.seed);
    let started = Instant::now();
    while up.draws() < target {
        let n = args.batch.max(1).min(target - up.draws());
        up.run_batch(&model, &image.data, &method, n, &|| false).context("the explainability map failed")?;
        bar.set_position(up.draws() as u64);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let map = up.map();
    let bytes = dicom::float_tiff::encode_f32_tiff(image.width, image.height, &map)?;
    dicom::atomic::write_file_atomically(&args.out, &bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    let covered = up.coverage().iter().filter(|&&c| c > 0).count() as f64 / map.len().max(1) as f64;
    let report = OmigReport {
        file: args.file.display().to_string(),
        sop_instance_uid: uid,
        out: args.out.display().to_string(),
        method: method.label().to_owned(),
        draws: up.draws(),
        width: image.width,
        height: image.height,
        steps: args.steps,
        c: args.c,
        t: args.t,
        mean_midpoint_change: up.mean_midpoint_change(),
        covered_fraction: covered,
        map_min: map.iter().copied().fold(f32::INFINITY, f32::min),
        map_max: map.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        seconds,
        draws_per_second: up.draws() as f64 / seconds.max(1e-9),
        device: device_name(model.0.device()),
        units: "Δx in the network's normalised input units, averaged over N draws (Algorithm 2); > 0: raising the intensity lowers the predicted CDC",
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "wrote {} ({} × {}, {} {} draws in {:.1} s, {:.2} draws/s, {:.1} % of pixels covered)",
            report.out,
            report.width,
            report.height,
            report.draws,
            report.method,
            seconds,
            report.draws_per_second,
            100.0 * covered
        );
    }
    Ok(())
}

pub fn run_cdc(args: &CdcArgs) -> anyhow::Result<()> {
    cdc(args)
}

pub fn run_omig(args: &OmigArgs) -> anyhow::Result<()> {
    omig_cmd(args)
}
