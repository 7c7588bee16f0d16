//! `mammoscope synth ...`: write simulated images to disk.
//!
//! `mammoscope synth mammogram --out DIR --seed N [--spacing-mm 0.1] [--density a|b|c|d]` writes a 4-view exam
//! (`R_CC`, `L_CC`, `R_MLO`, `L_MLO`) as DICOM For Presentation files with a JSON ground-truth sidecar each
//! (same stem, `.json`). Every view is written as acquired: chest wall at column 0, nipple to the right.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::{
    dicom::write::{MammogramObject, NamedWindow, TransferSyntax, write_mammogram},
    imaging::{Image, voi::Window},
    synth::mammogram::{Density, ExamView, SimulatedMammogram, screening_exam, simulate},
};

/// The simulators that can be run from the command line.
#[derive(Debug, clap::Subcommand)]
pub enum SynthCommand {
    /// Write a 4-view screening exam (R CC, L CC, R MLO, L MLO) of simulated full-field digital mammograms.
    Mammogram(MammogramArgs),
    /// Write a set of simulated CDMAM 3.4 phantom exposures (For Processing) with JSON truth.
    Cdmam(super::synth_cdmam::CdmamArgs),
}

#[derive(Debug, clap::Args)]
pub struct MammogramArgs {
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same exam.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Pixel spacing in the breast plane, mm (0.05–0.1 is realistic).
    #[arg(long, default_value_t = 0.1)]
    pub spacing_mm: f64,
    /// BI-RADS density a (fatty) … d (extremely dense); drawn from the seed when absent.
    #[arg(long, value_parser = parse_density)]
    pub density: Option<Density>,
    /// Write Explicit VR Little Endian instead of Deflated Explicit VR Little Endian.
    #[arg(long)]
    pub uncompressed: bool,
    /// Also write an 8-bit PNG preview (STANDARD window, downsampled 4×) per view.
    #[arg(long)]
    pub preview_png: bool,
}

fn parse_density(s: &str) -> Result<Density, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "a" => Ok(Density::A),
        "b" => Ok(Density::B),
        "c" => Ok(Density::C),
        "d" => Ok(Density::D),
        other => Err(format!("density must be a, b, c or d, not {other:?}")),
    }
}

pub fn run(cmd: SynthCommand) -> anyhow::Result<()> {
    match cmd {
        SynthCommand::Mammogram(args) => write_exam(&args),
        SynthCommand::Cdmam(args) => super::synth_cdmam::run(&args),
    }
}

/// The `q`-quantile of the breast's (non-zero) pixels.
fn breast_quantile(image: &Image, q: f64) -> f64 {
    let mut values: Vec<f32> = image.data.iter().copied().filter(|&v| v > 0.0).collect();
    if values.is_empty() {
        return 0.0;
    }
    let k = ((q * values.len() as f64) as usize).min(values.len() - 1);
    f64::from(*values.select_nth_unstable_by(k, f32::total_cmp).1)
}

/// STANDARD shows the whole breast from the skin line to the densest tissue; DENSE narrows onto the
/// fibroglandular range (upper half) for dense breasts and calcification search.
fn windows(image: &Image) -> Vec<NamedWindow> {
    let (lo, mid, hi) = (breast_quantile(image, 0.01), breast_quantile(image, 0.5), breast_quantile(image, 0.999));
    vec![
        NamedWindow { window: Window::from_range(lo, hi).rounded(), explanation: "STANDARD".to_owned() },
        NamedWindow { window: Window::from_range(mid, hi).rounded(), explanation: "DENSE".to_owned() },
    ]
}

trait Rounded {
    fn rounded(self) -> Self;
}

impl Rounded for Window {
    fn rounded(self) -> Self {
        Self { center: self.center.round(), width: self.width.round().max(1.0) }
    }
}

fn write_preview(path: &Path, image: &Image, window: Window) -> anyhow::Result<()> {
    let small = image.downsample(4);
    let lo = window.center - 0.5 * window.width;
    let bytes: Vec<u8> = small.data.iter().map(|&v| ((f64::from(v) - lo) / window.width * 255.0).clamp(0.0, 255.0) as u8).collect();
    let buffer = image::GrayImage::from_raw(small.width as u32, small.height as u32, bytes).context("preview buffer size")?;
    buffer.save(path).with_context(|| format!("writing {}", path.display()))
}

fn write_view(args: &MammogramArgs, index: u32, view: &ExamView, sim: &SimulatedMammogram) -> anyhow::Result<()> {
    let params = &view.params;
    let mut object = MammogramObject::simulated(&sim.image, args.seed, index);
    object.laterality = params.laterality;
    params.view.code().clone_into(&mut object.view_position);
    object.patient_orientation = view.patient_orientation.clone();
    object.pixel_spacing_mm = params.pixel_spacing_mm;
    object.windows = windows(&sim.image);
    object.kvp = params.kvp;
    object.exposure_mas = params.exposure_mas;
    object.body_part_thickness_mm = params.thickness_mm.round();
    object.compression_force_n = params.compression_force_n;
    object.series_description = format!("Simulated screening mammogram, seed {}", args.seed);
    if args.uncompressed {
        object.transfer_syntax = TransferSyntax::ExplicitVrLittleEndian;
    }
    let dcm = args.out.join(format!("{}.dcm", view.stem));
    write_mammogram(&dcm, &object).with_context(|| format!("writing {}", dcm.display()))?;
    let sidecar = serde_json::json!({
        "note": "Simulated by mammoscope synth mammogram; not patient data.",
        "file": format!("{}.dcm", view.stem),
        "sop_instance_uid": object.sop_uid,
        "patient_orientation": [view.patient_orientation.0, view.patient_orientation.1],
        "windows": object.windows.iter().map(|w| serde_json::json!({
            "explanation": w.explanation, "center": w.window.center, "width": w.window.width
        })).collect::<Vec<_>>(),
        "truth": sim.truth,
    });
    let json = args.out.join(format!("{}.json", view.stem));
    crate::dicom::atomic::write_file_atomically(&json, serde_json::to_string_pretty(&sidecar)?.as_bytes())
        .with_context(|| format!("writing {}", json.display()))?;
    if args.preview_png {
        let window = object.windows.first().map_or(Window::from_range(0.0, 16383.0), |w| w.window);
        write_preview(&args.out.join(format!("{}.png", view.stem)), &sim.image, window)?;
    }
    Ok(())
}

fn write_exam(args: &MammogramArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    for (index, view) in screening_exam(args.seed, args.spacing_mm, args.density).iter().enumerate() {
        let sim = simulate(&view.params).with_context(|| format!("simulating {}", view.stem))?;
        write_view(args, index as u32, view, &sim)?;
        println!(
            "{}: {}×{} px, {} calcification(s) in {} cluster(s){}",
            view.stem,
            sim.image.width,
            sim.image.height,
            sim.truth.calcifications.len(),
            sim.truth.clusters.len(),
            if sim.truth.mass.is_some() { ", a mass" } else { "" }
        );
    }
    Ok(())
}
