//! `mammoscope analyze calc FILE... [--json]` (calcification patches per image) and
//! `mammoscope analyze robustness FILE [--json]` (the detector's output against low-pass R and noise σ).
//! Progress goes to stderr; results to stdout.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::dicom::source::ImageSource;
use crate::dicom::{self, OpenOptions};
use crate::models::catalog::{self, CALC_MODELS, CalcModelChoice};
use crate::models::detector::{CalcDetector, DEFAULT_STRIDE, DetectorOptions, PatchScore, ValueKind};
use crate::models::device::best_device;
use crate::models::preset::PATCH_SIZE;
use crate::models::robustness::{self, RobustnessCurve, SweepRegion};

/// `analyze` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AnalyzeCommand {
    /// Score every breast patch of each image for microcalcifications.
    Calc(CalcArgs),
    /// Sweep the Fourier low-pass radius and the noise level and report the detector's max/mean probability.
    Robustness(RobustnessArgs),
    /// Predict the CDMAM contrast-detail curve from one image with the deep ensemble (95 % band, epistemic and
    /// aleatoric uncertainty).
    Cdc(crate::cli::analyze_cdc::CdcArgs),
    /// Explainability map of the CDC prediction (OMIG, sensitivity or occlusion), upsampled to the image's size
    /// (Algorithm 2) and written as a 32-bit float TIFF.
    Omig(crate::cli::analyze_cdc::OmigArgs),
    /// Denoise one image with the Anscombe-domain residual network (optionally after simulating a lower dose; then
    /// PSNR/SSIM against the original).
    Denoise(crate::cli::analyze_denoise::DenoiseArgs),
}

/// Which network and how to tile.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// A shipped model: auto (the default: compact-film for digitised film, compact-robust for every other image),
    /// compact-robust, compact, compact-film-robust or compact-film.
    #[arg(long, value_name = "ID", conflicts_with = "weights")]
    pub model: Option<String>,
    /// A weights file written by `mammoscope train calc` instead of a shipped model.
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: Option<PathBuf>,
    /// Tile stride in model pixels (224 = non-overlapping patches, the paper's; 112 = half overlap). Default:
    /// 112 for `analyze calc`; 224 for `analyze robustness`, whose max and mean over the breast need no overlap.
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(28..=224))]
    pub stride: Option<u32>,
    /// Pixel spacing in mm for files that carry none (research images; digitised film such as CBIS-DDSM gets 0.05 mm
    /// unless given).
    #[arg(long, value_name = "MM")]
    pub spacing_mm: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct CalcArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print JSON (every patch with its probability) instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RobustnessArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: &AnalyzeCommand) -> anyhow::Result<()> {
    match command {
        AnalyzeCommand::Calc(a) => calc(a),
        AnalyzeCommand::Robustness(a) => robustness_cmd(a),
        AnalyzeCommand::Cdc(a) => crate::cli::analyze_cdc::run_cdc(a),
        AnalyzeCommand::Omig(a) => crate::cli::analyze_cdc::run_omig(a),
        AnalyzeCommand::Denoise(a) => crate::cli::analyze_denoise::run(a),
    }
}

/// What `args` ask to run: a weights file, or shipped models (chosen per image unless one is named).
#[derive(Clone, Debug)]
enum Wanted {
    File(PathBuf),
    Shipped(CalcModelChoice),
}

fn wanted(args: &ModelArgs) -> anyhow::Result<Wanted> {
    Ok(match (&args.weights, args.model.as_deref()) {
        (Some(path), _) => Wanted::File(path.clone()),
        (None, None | Some("auto")) => Wanted::Shipped(CalcModelChoice::Auto),
        (None, Some(id)) => {
            let index = CALC_MODELS.iter().position(|m| m.id == id).with_context(|| {
                format!("unknown model {id:?}; shipped: auto, {}", CALC_MODELS.iter().map(|m| m.id).collect::<Vec<_>>().join(", "))
            })?;
            Wanted::Shipped(CalcModelChoice::Fixed(index))
        }
    })
}

/// The detectors `args` ask for, loaded on first use.
struct Detectors {
    wanted: Wanted,
    device: candle_core::Device,
    /// (catalogue index, or `None` for a weights file; the detector; its name).
    loaded: Vec<(Option<usize>, CalcDetector, String)>,
}

impl Detectors {
    fn new(args: &ModelArgs) -> anyhow::Result<Self> {
        Ok(Self { wanted: wanted(args)?, device: best_device()?, loaded: Vec::new() })
    }

    /// True when the model follows each image's source.
    fn auto(&self) -> bool {
        matches!(self.wanted, Wanted::Shipped(CalcModelChoice::Auto))
    }

    /// "auto", the shipped model's id, or the weights file.
    fn choice_label(&self) -> String {
        match &self.wanted {
            Wanted::File(p) => p.display().to_string(),
            Wanted::Shipped(CalcModelChoice::Auto) => "auto".to_owned(),
            Wanted::Shipped(CalcModelChoice::Fixed(i)) => CALC_MODELS[*i].id.to_owned(),
        }
    }

    /// The detector and its name for an image from `source`.
    fn for_source(&mut self, source: ImageSource) -> anyhow::Result<(&CalcDetector, &str)> {
        let (key, path, name) = match &self.wanted {
            Wanted::File(p) => (None, p.clone(), p.display().to_string()),
            Wanted::Shipped(choice) => {
                let index = choice.resolve(source);
                let model = CALC_MODELS[index];
                let path = catalog::calc_model_path(model).with_context(|| {
                    format!("the shipped model {} ({}) is not installed; set MAMMOSCOPE_MODELS or pass --weights", model.id, model.file)
                })?;
                (Some(index), path, model.id.to_owned())
            }
        };
        if !self.loaded.iter().any(|(k, ..)| *k == key) {
            let detector = CalcDetector::load(&path, &self.device).with_context(|| format!("cannot load {}", path.display()))?;
            self.loaded.push((key, detector, name));
        }
        let (_, detector, name) = self.loaded.iter().find(|(k, ..)| *k == key).expect("loaded above");
        Ok((detector, name))
    }
}

/// The detector's options: `--stride`, else `default_stride`.
fn options(args: &ModelArgs, default_stride: usize) -> DetectorOptions {
    DetectorOptions { stride: args.stride.map_or(default_stride, |s| s as usize), ..DetectorOptions::default() }
}

/// The model that scored an image.
#[derive(Clone, Serialize)]
struct ModelUsed {
    model: String,
    preset: String,
    weights_sha256: String,
    /// The paper's operating point: accuracy-maximising on balanced validation patches.
    operating_point: f32,
    /// The whole-image operating point (the viewer's default threshold): chosen on validation mammograms for at most
    /// one false mark per calcification-free image; the operating point when the weights carry none.
    detection_threshold: f32,
}

impl ModelUsed {
    fn new(detector: &CalcDetector, name: &str) -> Self {
        Self {
            model: name.to_owned(),
            preset: detector.net().preset().name().to_owned(),
            weights_sha256: detector.info.sha256.clone(),
            operating_point: detector.operating_point,
            detection_threshold: detector.default_threshold(),
        }
    }
}

#[derive(Serialize)]
struct ImageResult {
    file: PathBuf,
    sop_instance_uid: Option<String>,
    width: usize,
    height: usize,
    pixel_spacing_mm: f64,
    spacing_assumed: bool,
    /// Digital, digitised film or unknown, from the header ([`ImageSource`]); `auto` picks the model from it.
    image_source: ImageSource,
    /// The model that scored this image, with its thresholds.
    #[serde(flatten)]
    model: ModelUsed,
    patch_size_px: f64,
    patch_size_mm: f64,
    skipped_background_tiles: usize,
    max_prob: f32,
    above_operating_point: usize,
    /// Patches at or above the detection threshold.
    above_detection_threshold: usize,
    /// What the viewer outlines by default: the patches at or above the detection threshold, less those overlapping
    /// a more probable one.
    marks_at_detection_threshold: usize,
    patches: Vec<PatchScore>,
}

/// [`ModelUsed`] with every field `null`able.
#[derive(Default, Serialize)]
struct SharedModel {
    model: Option<String>,
    preset: Option<String>,
    weights_sha256: Option<String>,
    operating_point: Option<f32>,
    detection_threshold: Option<f32>,
}

impl From<ModelUsed> for SharedModel {
    fn from(m: ModelUsed) -> Self {
        Self {
            model: Some(m.model),
            preset: Some(m.preset),
            weights_sha256: Some(m.weights_sha256),
            operating_point: Some(m.operating_point),
            detection_threshold: Some(m.detection_threshold),
        }
    }
}

#[derive(Serialize)]
struct CalcReport {
    /// `--model`: "auto" (per image from its source), a shipped model's id, or the `--weights` file.
    model_choice: String,
    /// The model of every image when they all used the same one, else `null` fields (each image names its own).
    #[serde(flatten)]
    model: SharedModel,
    stride_model_px: usize,
    images: Vec<ImageResult>,
}

/// An opened image for the detector.
struct Opened {
    image: crate::imaging::Image,
    /// `[row, col]` in mm: the file's, else the `--spacing-mm` given, else the film default
    /// ([`crate::dicom::ImageMeta::nominal_spacing_mm`]).
    spacing: [f64; 2],
    /// The file carries no spacing (`--spacing-mm` or the film default was used).
    assumed: bool,
    invert: bool,
    uid: Option<String>,
    source: ImageSource,
}

/// Opens `file` for the detector.
fn open(file: &Path, spacing_mm: Option<f64>) -> anyhow::Result<Opened> {
    let loaded = dicom::open(file, &OpenOptions { user_spacing_mm: spacing_mm })?;
    let frame = super::frame(&loaded, 0)?;
    let meta = &loaded.meta;
    let source = meta.image_source();
    let spacing = match (meta.spacing_mm_or(spacing_mm), meta.nominal_spacing_mm()) {
        (Some(spacing), _) => spacing,
        (None, Some(film_mm)) => {
            eprintln!(
                "note: {} is digitised film without a pixel spacing: {film_mm} mm assumed (a film digitiser's usual; \
                 --spacing-mm to change it)",
                file.display()
            );
            [film_mm; 2]
        }
        (None, None) => {
            bail!("{} has no pixel spacing; pass --spacing-mm (the model works at a fixed physical scale of 0.07 mm/px)", file.display())
        }
    };
    // A linear For Processing image is scored on its log attenuation (brighter = denser, as the models expect).
    let (view, invert) = ValueKind::of(meta).model_view(frame);
    let image = view.into_owned();
    Ok(Opened { image, spacing, assumed: meta.spacing.is_none(), invert, uid: meta.sop_instance_uid.clone(), source })
}

fn bar(len: usize, prefix: String) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>20} [{bar:30}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}

/// A note on stderr about the model `auto` picked for an image, or could not pick.
fn source_note(file: &Path, opened: &Opened, model: &str) {
    match opened.source {
        ImageSource::DigitisedFilm => eprintln!(
            "note: {} is digitised film (from its header): scored with {model}, trained with dust, lint and scanner lines \
             (`--model {}` for the default model; model card)",
            file.display(),
            catalog::default_calc_model().id
        ),
        ImageSource::Unknown if opened.assumed => eprintln!(
            "note: {} does not say whether it is digital or digitised film; if it is film, `--model {}` is trained for \
             film (dust, lint, scanner lines: far fewer false marks there; model card)",
            file.display(),
            CALC_MODELS[catalog::FILM_CALC_MODEL].id
        ),
        _ => {}
    }
}

fn calc(args: &CalcArgs) -> anyhow::Result<()> {
    let mut detectors = Detectors::new(&args.model)?;
    let options = options(&args.model, DEFAULT_STRIDE);
    let mut images = Vec::new();
    for file in &args.files {
        let opened = open(file, args.model.spacing_mm)?;
        let auto = detectors.auto();
        let (detector, name) = detectors.for_source(opened.source)?;
        if auto {
            source_note(file, &opened, name);
        }
        let label = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let progress = bar(0, label);
        let image = &opened.image;
        let detection = detector
            .detect(
                image,
                opened.spacing[0].max(opened.spacing[1]),
                opened.invert,
                &options,
                &|done, total| {
                    progress.set_length(total as u64);
                    progress.set_position(done as u64);
                },
                &|| false,
            )
            .with_context(|| format!("detection failed on {}", file.display()))?;
        progress.finish_and_clear();
        images.push(ImageResult {
            file: file.clone(),
            sop_instance_uid: opened.uid.clone(),
            width: image.width,
            height: image.height,
            pixel_spacing_mm: opened.spacing[0].max(opened.spacing[1]),
            spacing_assumed: opened.assumed,
            image_source: opened.source,
            model: ModelUsed::new(detector, name),
            patch_size_px: detection.patch_size_px,
            patch_size_mm: detection.patch_size_mm,
            skipped_background_tiles: detection.skipped,
            max_prob: detection.max_prob(),
            above_operating_point: detection.above(detector.operating_point).len(),
            above_detection_threshold: detection.above(detector.default_threshold()).len(),
            marks_at_detection_threshold: detection.marks(detector.default_threshold()).len(),
            patches: detection.patches,
        });
    }
    let first = images.first().map(|i| i.model.clone());
    let shared = first.filter(|m| images.iter().all(|i| i.model.weights_sha256 == m.weights_sha256)).map(SharedModel::from);
    let report =
        CalcReport { model_choice: detectors.choice_label(), model: shared.unwrap_or_default(), stride_model_px: options.stride, images };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("models: {}", report.model_choice);
    for r in &report.images {
        let m = &r.model;
        println!(
            "{} ({}): model {} ({}, weights sha256 {}), detection threshold {:.3} (patch operating point {:.3})",
            r.file.display(),
            r.image_source.label(),
            m.model,
            m.preset,
            m.weights_sha256,
            m.detection_threshold,
            m.operating_point
        );
        println!(
            "    {} patches of {:.0} px ({:.1} mm), {} at or above the detection threshold ({} marks), max probability {:.3}",
            r.patches.len(),
            r.patch_size_px,
            r.patch_size_mm,
            r.above_detection_threshold,
            r.marks_at_detection_threshold,
            r.max_prob
        );
        let mut top = r.patches.clone();
        top.sort_by(|a, b| b.prob.total_cmp(&a.prob));
        for p in top.iter().take(5) {
            println!("    x {:>6.0} y {:>6.0} w {:>4.0} h {:>4.0}  p {:.3}", p.x, p.y, p.w, p.h, p.prob);
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct RobustnessReport<'a> {
    file: &'a Path,
    model: String,
    operating_point: f32,
    curve: RobustnessCurve,
}

fn robustness_cmd(args: &RobustnessArgs) -> anyhow::Result<()> {
    let mut detectors = Detectors::new(&args.model)?;
    let opened = open(&args.file, args.model.spacing_mm)?;
    let (detector, name) = detectors.for_source(opened.source)?;
    let progress = bar(0, "sweep".to_owned());
    let curve = robustness::sweep(
        detector,
        &opened.image,
        opened.spacing,
        opened.invert,
        &SweepRegion::Breast,
        &options(&args.model, PATCH_SIZE),
        &|done, total, _| {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        },
        &|| false,
    )?;
    progress.finish_and_clear();
    let report = RobustnessReport { file: &args.file, model: name.to_owned(), operating_point: detector.operating_point, curve };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let c = &report.curve;
    println!("{}: {} tiles; clean max {:.3} mean {:.3}", args.file.display(), c.tiles, c.clean_max, c.clean_mean);
    println!("  low-pass R (cycles/mm)   max    mean");
    for p in &c.lowpass {
        println!("  {:>22.2} {:>6.3} {:>7.3}", p.x, p.max_prob, p.mean_prob);
    }
    println!("  noise σ (modality)       max    mean");
    for p in &c.noise {
        println!("  {:>22.1} {:>6.3} {:>7.3}", p.x, p.max_prob, p.mean_prob);
    }
    Ok(())
}
