//! `mammoscope analyze denoise FILE [--dose ALPHA] [--preset P] --out OUT [--json]`: the Anscombe-domain denoiser on
//! one image. With `--dose α < 1` the image is first dose-reduced as the paper does (gain from the image,
//! Poisson thinning) and the original is the reference: PSNR and SSIM of the input and of the output are reported.
//! Without it the image is denoised as acquired (α = 1) and there is no reference. With `--dose` the output is by
//! default the estimate of the original (`--estimate full-dose`, the paper's target), or the network's noise-free
//! estimate (`--estimate noise-free`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::perturb::{OutputFormat, same_file, write_dicom, write_grey16};
use crate::dicom::{self, OpenOptions};
use crate::imaging::perturb::{count_scale::CountScale, dose::reduce_dose, gain::estimate_gain_or_ratio};
use crate::imaging::quality;
use crate::models::catalog::denoise_model_path;
use crate::models::denoise::pipeline::{Estimate, blend_input, denoise_image};
use crate::models::denoise::{DenoisePreset, load_denoiser};
use crate::models::device::{best_device, device_name};

#[derive(Debug, clap::Args)]
pub struct DenoiseArgs {
    /// The image (DICOM, or PNG/TIFF/PGM).
    pub file: PathBuf,
    /// Simulate this fraction α of the acquired dose first (0.2 = the paper's 80 % reduction); the original is then
    /// the reference for PSNR/SSIM.
    #[arg(long, value_name = "ALPHA")]
    pub dose: Option<f64>,
    /// With --dose: what the output estimates. `full-dose` (default): the original image the dose was reduced from, the
    /// paper's training target and what PSNR/SSIM against the original score (the posterior mean: w·input +
    /// (1 − w)·noise-free estimate, w = α when the image's noise matches its gain, less for a quieter original, measured
    /// on the input and reported as `full_dose_weight`); `noise-free`: the network's noise-free estimate. Without
    /// --dose the output is always the noise-free estimate.
    #[arg(long, value_name = "full-dose|noise-free", default_value = "full-dose")]
    pub estimate: String,
    /// Shipped preset: unet (default), fast, wide or paper (when installed).
    #[arg(long, default_value = "unet", conflicts_with = "weights")]
    pub preset: String,
    /// A weights file written by `mammoscope train denoise` instead of a shipped preset.
    #[arg(long, value_name = "W.safetensors")]
    pub weights: Option<PathBuf>,
    /// Output: `.dcm` (derived DICOM; DICOM input only), `.png` / `.tif` (16-bit).
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// Also write the dose-reduced input here (same formats).
    #[arg(long, value_name = "FILE")]
    pub noisy_out: Option<PathBuf>,
    /// Seed of the dose reduction.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print a JSON report on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report {
    file: String,
    sop_instance_uid: Option<String>,
    width: usize,
    height: usize,
    preset: String,
    weights_sha256: String,
    device: String,
    dose_fraction: f64,
    /// What the output estimates: "noise-free" or "full-dose" (with --dose).
    estimate: Estimate,
    /// With the full-dose estimate: the weight of the dose-reduced input, α when the image's noise is what its gain
    /// says, less when the original was quieter (film).
    full_dose_weight: Option<f64>,
    gain: f64,
    offset: f64,
    /// True when the gain came from the paper's var/mean ratio because the regression failed (e.g. film).
    gain_from_ratio: bool,
    seconds: f64,
    out: String,
    /// Scores against the original (only with --dose).
    reference: Option<Scores>,
}

#[derive(Serialize)]
struct Scores {
    data_range: f64,
    psnr_input: f64,
    ssim_input: f64,
    psnr_output: f64,
    ssim_output: f64,
}

pub fn run(a: &DenoiseArgs) -> anyhow::Result<()> {
    for out in std::iter::once(&a.out).chain(a.noisy_out.as_ref()) {
        if same_file(&a.file, out) {
            bail!("refusing to overwrite the input file ({})", out.display());
        }
    }
    let format = OutputFormat::of(&a.out)?;
    let noisy_format = a.noisy_out.as_deref().map(OutputFormat::of).transpose()?;
    let alpha = a.dose.unwrap_or(1.0);
    if !(alpha > 0.0 && alpha <= 1.0) {
        bail!("--dose must be in (0, 1], got {alpha}");
    }
    let requested = Estimate::from_name(&a.estimate)?;
    // The full-dose estimate of an image as acquired is the image itself.
    let estimate = if alpha < 1.0 { requested } else { Estimate::NoiseFree };
    let weights = if let Some(w) = &a.weights {
        w.clone()
    } else {
        let preset = DenoisePreset::from_name(&a.preset)?;
        denoise_model_path(preset).with_context(|| format!("no shipped weights for the {} preset", preset.name()))?
    };
    let device = best_device()?;
    let model = load_denoiser(&weights, &device).with_context(|| format!("cannot load {}", weights.display()))?;
    let loaded = dicom::open(&a.file, &OpenOptions::default())?;
    let is_dicom = loaded.meta.format == "DICOM";
    if !is_dicom && (format == OutputFormat::Dicom || noisy_format == Some(OutputFormat::Dicom)) {
        bail!("a .dcm output needs a DICOM input; write .png or .tif instead ({})", a.file.display());
    }
    if loaded.meta.is_monochrome1() {
        bail!("MONOCHROME1 images are not supported by the denoiser (high values must mean more quanta)");
    }
    let original = super::frame(&loaded, 0)?;
    let (gain, from_ratio) = estimate_gain_or_ratio(original).context("cannot estimate the detector gain (var/mean)")?;
    let input = if alpha < 1.0 { reduce_dose(original, alpha, gain.gain, gain.offset, a.seed)? } else { original.clone() };
    let scale = CountScale { gain: gain.gain, offset: gain.offset, alpha };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("denoise [{bar:30}] {pos}/{len} tiles ({elapsed}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let out = denoise_image(
        &model.net,
        &input,
        scale,
        None,
        &device,
        &mut |p| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        },
        &|| false,
    )?;
    bar.finish_and_clear();
    let weight = estimate.input_weight(&input, scale);
    let out = blend_input(&input, out, scale, weight);
    let seconds = started.elapsed().as_secs_f64();
    let description = format!(
        "mammoscope analyze denoise: preset {}; dose {alpha}; {} estimate; seed {}",
        model.net.preset().name(),
        estimate.name(),
        a.seed
    );
    let write = |path: &std::path::Path, image: &crate::imaging::Image, format: OutputFormat| match format {
        OutputFormat::Dicom => write_dicom(&a.file, path, &loaded.meta, image, &description),
        OutputFormat::Png | OutputFormat::Tiff => write_grey16(path, image, format),
    };
    write(&a.out, &out, format)?;
    if let (Some(path), Some(f)) = (&a.noisy_out, noisy_format) {
        write(path, &input, f)?;
    }
    let reference = if alpha < 1.0 {
        let range = quality::data_range(original);
        Some(Scores {
            data_range: range,
            psnr_input: quality::psnr(original, &input, range)?,
            ssim_input: quality::ssim(original, &input, range)?,
            psnr_output: quality::psnr(original, &out, range)?,
            ssim_output: quality::ssim(original, &out, range)?,
        })
    } else {
        None
    };
    let report = Report {
        file: a.file.display().to_string(),
        sop_instance_uid: loaded.meta.sop_instance_uid.clone(),
        width: out.width,
        height: out.height,
        preset: model.net.preset().name().to_owned(),
        weights_sha256: model.sha256.clone(),
        device: device_name(&device),
        dose_fraction: alpha,
        estimate,
        full_dose_weight: (estimate == Estimate::FullDose).then_some(weight),
        gain: gain.gain,
        offset: gain.offset,
        gain_from_ratio: from_ratio,
        seconds,
        out: a.out.display().to_string(),
        reference,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("wrote {} ({}×{}, preset {}, {:.1} s)", a.out.display(), out.width, out.height, report.preset, seconds);
        if let Some(s) = &report.reference {
            println!(
                "against the original: input PSNR {:.2} dB SSIM {:.4} → output PSNR {:.2} dB SSIM {:.4}",
                s.psnr_input, s.ssim_input, s.psnr_output, s.ssim_output
            );
        }
    }
    Ok(())
}
