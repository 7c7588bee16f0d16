//! `mammoscope bench lowpass FILE [--runs N] [--cutoff R]`: full-resolution Fourier low-pass timings beside `SciPy`.
//!
//! Per run: forward + ideal low-pass + inverse ([`Spectrum::forward`] then [`Spectrum::filtered`]), and a new R on
//! the cached spectrum (mask + inverse only). The `SciPy` reference (`scripts/bench_lowpass_scipy.py`: `rfft2` +
//! mask + `irfft2`, `workers=2`, same image and R) runs on a raw f32 copy of the image in the temporary folder.

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::{display_name, median};
use crate::cli::args::BenchLowpassArgs;
use crate::dicom::{self, OpenOptions};
use crate::imaging::Image;
use crate::imaging::fourier::{RadialFilter, Spectrum, feature_size_mm, nyquist_cycles_per_mm};

/// The reference script, run from `scripts/` when present there, else from this embedded copy.
const SCIPY_SCRIPT: &str = include_str!("../../../scripts/bench_lowpass_scipy.py");
const SCIPY_SCRIPT_PATH: &str = "scripts/bench_lowpass_scipy.py";

/// What the `SciPy` script prints.
#[derive(Debug, serde::Deserialize)]
struct ScipyTimes {
    scipy: String,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

pub(super) fn lowpass(args: &BenchLowpassArgs) -> anyhow::Result<()> {
    let loaded = dicom::open(&args.file, &OpenOptions { user_spacing_mm: args.spacing_mm })?;
    let image = loaded.frames.first().with_context(|| format!("no frames ({})", args.file.display()))?;
    // --spacing-mm when the file has none (research images, digitised film such as CBIS-DDSM).
    let spacing = loaded
        .meta
        .spacing_mm_or(args.spacing_mm)
        .with_context(|| format!("the image has no pixel spacing; pass --spacing-mm ({})", args.file.display()))?;
    let filter = RadialFilter::ideal_low_pass(args.cutoff);
    let never = || false;

    let (mut full, mut new_r) = (Vec::new(), Vec::new());
    let mut padded = (0, 0);
    for _ in 0..args.runs {
        let start = Instant::now();
        let spectrum = Spectrum::forward(image, spacing, &never)?;
        std::hint::black_box(spectrum.filtered(&filter, &never)?);
        full.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(spectrum.filtered(&filter, &never)?);
        new_r.push(start.elapsed());
        padded = spectrum.padded_size();
    }

    let preview = preview_times(image, spacing, args.cutoff, args.runs)?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "{}: {}×{} px (columns×rows), padded to {}×{}", display_name(&args.file), image.width, image.height, padded.0, padded.1)?;
    writeln!(
        out,
        "spacing {:.4}×{:.4} mm, Nyquist {:.2} cycles/mm, ideal low-pass R = {:.2} cycles/mm (features ≥ {:.3} mm), {} rayon thread(s), {} run(s)",
        spacing[0],
        spacing[1],
        nyquist_cycles_per_mm(spacing),
        args.cutoff,
        feature_size_mm(args.cutoff),
        rayon::current_num_threads(),
        args.runs
    )?;
    let (full_ms, new_r_ms) = (stats_ms(&full), stats_ms(&new_r));
    writeln!(out, "{:<48} {:>22}", "", "median ms (min-max)")?;
    writeln!(out, "{:<48} {:>22}", "mammoscope new R (mask + inverse, cached)", fmt_ms(new_r_ms))?;
    writeln!(out, "{:<48} {:>22}", "mammoscope forward + filter + inverse", fmt_ms(full_ms))?;
    writeln!(out, "{:<48} {:>22}", format!("viewer preview, new R (1/{} res, all steps)", preview.1), fmt_ms(preview.0))?;
    out.flush()?;
    match scipy_times(image, spacing, args.cutoff, args.runs) {
        Ok(scipy) => {
            let label = format!("scipy {} rfft2 + mask + irfft2 (workers=2)", scipy.scipy);
            writeln!(out, "{label:<48} {:>22}", fmt_ms((scipy.median_ms, scipy.min_ms, scipy.max_ms)))?;
            writeln!(
                out,
                "ratio SciPy / mammoscope (medians): {:.2}× for forward + filter + inverse, {:.2}× for a new R",
                scipy.median_ms / full_ms.0,
                scipy.median_ms / new_r_ms.0
            )?;
        }
        Err(err) => {
            writeln!(out, "SciPy reference not run ({}); install it with `pip install scipy numpy`", super::super::error_chain(&err))?;
        }
    }
    Ok(())
}

/// Median, minimum and maximum in milliseconds.
/// What the viewer does on the UI thread while the R slider moves: perturb the display-resolution copy with its
/// cached forward transform, difference, pyramids and the spectra for the plot. Returns the times and the factor.
fn preview_times(image: &Image, spacing: [f64; 2], cutoff: f64, runs: u32) -> anyhow::Result<((f64, f64, f64), usize)> {
    use crate::app::perturbation::{compute, preview_factor};
    use crate::imaging::perturb::{FourierCache, PerturbParams};
    let factor = preview_factor(image.width, image.height);
    let source = image.downsample(factor);
    let cache = parking_lot::Mutex::new(FourierCache::default());
    let params = |r: f64| PerturbParams { lowpass_cycles_per_mm: Some(r), ..PerturbParams::default() };
    compute(&source, spacing, factor, &params(cutoff), &cache, 0, &|| false)?; // first call fills the cache
    let mut times = Vec::new();
    for run in 0..runs {
        let r = cutoff * if run % 2 == 0 { 0.9 } else { 1.0 };
        let start = Instant::now();
        std::hint::black_box(compute(&source, spacing, factor, &params(r), &cache, run, &|| false)?);
        times.push(start.elapsed());
    }
    Ok((stats_ms(&times), factor))
}

fn stats_ms(durations: &[Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = durations.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    (median(&ms), ms.first().copied().unwrap_or(0.0), ms.last().copied().unwrap_or(0.0))
}

fn fmt_ms((median, min, max): (f64, f64, f64)) -> String {
    format!("{median:.1} ({min:.1}-{max:.1})")
}

/// Run the `SciPy` script on a raw little-endian f32 copy of `image`.
fn scipy_times(image: &Image, spacing: [f64; 2], cutoff: f64, runs: u32) -> anyhow::Result<ScipyTimes> {
    let raw = std::env::temp_dir().join(format!("mammoscope-bench-lowpass-{}.f32", std::process::id()));
    let result = write_raw(&raw, image).and_then(|()| run_script(&raw, image, spacing, cutoff, runs));
    std::fs::remove_file(&raw).ok();
    result
}

fn write_raw(path: &Path, image: &Image) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    for v in &image.data {
        writer.write_all(&v.to_le_bytes())?;
    }
    writer.flush().with_context(|| format!("cannot write {}", path.display()))
}

fn run_script(raw: &Path, image: &Image, spacing: [f64; 2], cutoff: f64, runs: u32) -> anyhow::Result<ScipyTimes> {
    let mut command = Command::new("python3");
    if Path::new(SCIPY_SCRIPT_PATH).is_file() {
        command.arg(SCIPY_SCRIPT_PATH);
    } else {
        command.arg("-c").arg(SCIPY_SCRIPT);
    }
    let output = command
        .arg(PathBuf::from(raw))
        .arg(image.height.to_string())
        .arg(image.width.to_string())
        .arg(format!("{},{}", spacing[0], spacing[1]))
        .arg(cutoff.to_string())
        .arg(runs.to_string())
        .output()
        .context("cannot run python3")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        anyhow::bail!("python3 failed: {last}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).context("no JSON line from the SciPy script")?;
    serde_json::from_str(line).context("cannot parse the SciPy script's JSON")
}
