//! The command line, declared with clap. `main.rs` parses it; each subcommand lives in its own file.
//!
//! Paths and subcommands coexist: `mammoscope a.dcm b.dcm` opens the viewer, `mammoscope info a.dcm`
//! runs a subcommand. Once a path is given, later words are paths too, so a file literally named
//! `info` opens with `mammoscope ./info` (or `mammoscope a.dcm info`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cli::synth::SynthCommand;
use crate::imaging::voi::{VoiFunction, Window};

/// Native desktop viewer for mammography: 16-bit DICOM on the GPU. Research software, not for clinical use.
#[derive(Debug, Parser)]
#[command(name = "mammoscope", version, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Images to open in the viewer (DICOM, PNG, TIFF, PGM); the built-in sample exam when none.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Pixel spacing in mm for research images (PNG/TIFF/PGM), which carry none.
    #[arg(long, value_name = "MM", value_parser = parse_spacing_mm)]
    pub pixel_spacing: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an image's header facts, display presets and pixel statistics.
    Info(InfoArgs),
    /// Render an image to an 8-bit grey PNG with the viewer's VOI (CPU reference renderer).
    Render(RenderArgs),
    /// Write simulated images.
    #[command(subcommand)]
    Synth(SynthCommand),
    /// Measure how fast images open.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Apply perturbations (dose, noise, Fourier filter, patch shuffle) and write a derived DICOM or a 16-bit PNG/TIFF.
    Perturb(crate::cli::perturb::PerturbArgs),
    /// Run a model on images: calcification patches, the detector's robustness curve.
    #[command(subcommand)]
    Analyze(crate::cli::analyze::AnalyzeCommand),
    /// Train a model from the project's own simulators.
    #[command(subcommand)]
    Train(crate::cli::train::TrainCommand),
    /// Evaluate trained models on held-out simulated data (the model card's numbers).
    #[command(subcommand)]
    Evaluate(crate::cli::evaluate::EvaluateCommand),
    /// Read phantom images for QA: the CDMAM 3.4 contrast-detail curve against the EUREF limits.
    #[command(subcommand)]
    Readout(crate::cli::readout::ReadoutCommand),
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The image file.
    pub file: PathBuf,
    /// Print a JSON object (stable keys) instead of aligned text.
    #[arg(long)]
    pub json: bool,
    /// Include patient identifiers (name, ID, birth date). Off by default.
    #[arg(long)]
    pub phi: bool,
    /// Frame index (0-based) for the pixel statistics.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub frame: usize,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The image file.
    pub file: PathBuf,
    /// Output PNG (written atomically: a temporary file in the same folder, then renamed).
    #[arg(long, value_name = "OUT.png")]
    pub out: PathBuf,
    /// Window centre and width in modality units, e.g. `2047,4095` (default: the file's first preset).
    #[arg(long, value_name = "C,W", value_parser = parse_window, allow_hyphen_values = true, conflicts_with_all = ["preset", "lut"])]
    pub window: Option<Window>,
    /// A window preset by name (case-insensitive) or 0-based index, as listed by `info`.
    #[arg(long, value_name = "NAME|INDEX", conflicts_with = "lut")]
    pub preset: Option<String>,
    /// VOI LUT function (default: the file's VOI LUT Function, else linear).
    #[arg(long, value_enum)]
    pub function: Option<FunctionArg>,
    /// Invert grey levels (combines with MONOCHROME1 by XOR).
    #[arg(long)]
    pub invert: bool,
    /// Output width in pixels (area-average resampling; the height keeps the aspect ratio).
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(1..=65_535))]
    pub width: Option<u32>,
    /// Frame index (0-based).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub frame: usize,
    /// Use the file's first VOI LUT instead of a window (the default, as in the viewer, when the file has VOI LUTs
    /// but no window and neither --window nor --preset is given).
    #[arg(long)]
    pub lut: bool,
}

/// `--function` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FunctionArg {
    Linear,
    LinearExact,
    Sigmoid,
}

impl From<FunctionArg> for VoiFunction {
    fn from(f: FunctionArg) -> Self {
        match f {
            FunctionArg::Linear => Self::Linear,
            FunctionArg::LinearExact => Self::LinearExact,
            FunctionArg::Sigmoid => Self::Sigmoid,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time decoding and time to first frame (decode + default VOI + 1024-px CPU render) per file.
    Open(BenchOpenArgs),
    /// Time the Fourier low-pass at full resolution (new R; forward + filter + inverse) against `SciPy` (scipy.fft, 2 workers).
    Lowpass(BenchLowpassArgs),
    /// Seconds per full 4096 × 3328 mammogram for each calcification preset; `--export` for the `PyTorch` comparison.
    Calc(crate::cli::bench::calc::BenchCalcArgs),
    /// Validate the CDMAM readout on simulated sets: thresholds against dose, blur and scenario, repeatability,
    /// agreement with the ideal observer, timings.
    Cdmam(crate::cli::bench::cdmam::BenchCdmamArgs),
    /// Time the single-image CDC prediction and the explainability maps (draws per second, time to N = 5000).
    Cdc(crate::cli::bench::cdc::BenchCdcArgs),
    /// The denoising paper's Table 1: PSNR, SSIM, `σ_image` of Gaussian, BM3D and each denoiser preset, simulated and
    /// real images, a sweep of doses.
    Denoise(crate::cli::bench::denoise::BenchDenoiseArgs),
}

#[derive(Debug, Args)]
pub struct BenchLowpassArgs {
    /// The image file (DICOM, or PNG/TIFF/PGM with --spacing-mm).
    pub file: PathBuf,
    /// Runs; the table shows the median, minimum and maximum.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// Low-pass cut-off R in cycles/mm (the paper's default is 2.0).
    #[arg(long, value_name = "R", default_value_t = 2.0, value_parser = parse_cutoff)]
    pub cutoff: f64,
    /// Pixel spacing in mm for images that carry none (research images, digitised film); the file's own wins.
    #[arg(long, value_name = "MM", value_parser = parse_spacing_mm)]
    pub spacing_mm: Option<f64>,
}

fn parse_cutoff(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("the cut-off must be a positive number of cycles/mm".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Debug, Args)]
pub struct BenchOpenArgs {
    /// Image files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Runs per file; the table shows the median, minimum and maximum.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
}

fn parse_spacing_mm(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 100.0 => Ok(v),
        Ok(_) => Err("pixel spacing must be a positive number of mm below 100".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Parse `C,W` (centre, width) into a window; the width must be at least 1.
pub fn parse_window(s: &str) -> Result<Window, String> {
    let (c, w) = s.split_once(',').ok_or_else(|| format!("expected CENTER,WIDTH, got {s:?}"))?;
    let center: f64 = c.trim().parse().map_err(|e| format!("bad window centre {c:?}: {e}"))?;
    let width: f64 = w.trim().parse().map_err(|e| format!("bad window width {w:?}: {e}"))?;
    if !center.is_finite() || !width.is_finite() || width < 1.0 {
        return Err(format!("window centre must be finite and width at least 1, got {s:?}"));
    }
    Ok(Window { center, width })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn paths_and_subcommands_coexist() {
        let cli = Cli::try_parse_from(["mammoscope", "./info", "b.dcm"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.paths, [PathBuf::from("./info"), PathBuf::from("b.dcm")]);
        let cli = Cli::try_parse_from(["mammoscope", "a.dcm", "info"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.paths.len(), 2);
        let cli = Cli::try_parse_from(["mammoscope", "info", "a.dcm", "--json"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Info(InfoArgs { json: true, .. }))));
        let cli = Cli::try_parse_from(["mammoscope", "--pixel-spacing", "0.07", "a.png"]).unwrap();
        assert_eq!(cli.pixel_spacing, Some(0.07));
        assert!(Cli::try_parse_from(["mammoscope", "--pixel-spacing", "-1", "a.png"]).is_err());
    }

    #[test]
    fn bench_lowpass_parsing() {
        let cli = Cli::try_parse_from(["mammoscope", "bench", "lowpass", "a.dcm", "--runs", "3", "--cutoff", "1.5"]).unwrap();
        let Some(Command::Bench(BenchCommand::Lowpass(a))) = cli.command else { panic!("not bench lowpass") };
        assert_eq!((a.runs, a.cutoff, a.spacing_mm), (3, 1.5, None));
        assert!(Cli::try_parse_from(["mammoscope", "bench", "lowpass", "a.dcm", "--cutoff", "0"]).is_err());
    }

    #[test]
    fn window_parsing() {
        assert_eq!(parse_window("-100, 400"), Ok(Window { center: -100.0, width: 400.0 }));
        assert!(parse_window("100").is_err());
        assert!(parse_window("100,0").is_err());
        let cli = Cli::try_parse_from(["mammoscope", "render", "a.dcm", "--out", "o.png", "--window", "-5,10"]).unwrap();
        let Some(Command::Render(r)) = cli.command else { panic!("not render") };
        assert_eq!(r.window, Some(Window { center: -5.0, width: 10.0 }));
    }
}
