//! `mammoscope bench open FILE... [--runs N]`: how long until the viewer can show an image.
//! `mammoscope bench lowpass FILE [--runs N] [--cutoff R]`: Fourier low-pass timings beside `SciPy` (`bench/lowpass.rs`).
//! `mammoscope bench cdmam`: the CDMAM readout validated on simulated sets (`bench/cdmam.rs`).
//! `mammoscope bench cdc`: single-image CDC prediction and explainability timings (`bench/cdc.rs`).
//! `mammoscope bench denoise`: the denoising paper's Table 1 against BM3D (`bench/denoise.rs`).
//!
//! Per file and run: decode time ([`dicom::open`]) and time to first frame (decode + default VOI +
//! CPU render of a 1024-px-wide display image). Prints the median and the range over the runs.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::args::{BenchCommand, BenchOpenArgs};
use crate::dicom::{self, OpenOptions};
use crate::imaging::{cpu_render, voi::Display};

pub mod calc;
pub mod cdc;
pub mod cdmam;
pub mod denoise;
mod lowpass;
mod npy;

/// Width of the display image rendered for "first frame" (narrower images render at their own width).
pub const FIRST_FRAME_WIDTH: usize = 1024;

pub fn run(cmd: &BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Open(args) => open(args),
        BenchCommand::Lowpass(args) => lowpass::lowpass(args),
        BenchCommand::Calc(args) => calc::calc(args),
        BenchCommand::Cdmam(args) => cdmam::cdmam(args),
        BenchCommand::Cdc(args) => cdc::cdc(args),
        BenchCommand::Denoise(args) => denoise::denoise(args),
    }
}

/// Timings of one run.
#[derive(Clone, Copy, Debug)]
struct Run {
    decode: Duration,
    first_frame: Duration,
}

fn open(args: &BenchOpenArgs) -> anyhow::Result<()> {
    let names: Vec<String> = args.files.iter().map(|p| display_name(p)).collect();
    let name_w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max("file".len());
    let mut stdout = std::io::stdout().lock();
    let header = format!("{:<name_w$}  {:>11}  {:>24}  {:>24}", "file", "size", "decode ms (min-max)", "first frame ms (min-max)");
    writeln!(stdout, "{header}")?;
    writeln!(stdout, "{}", "-".repeat(header.chars().count()))?;
    for (path, name) in args.files.iter().zip(&names) {
        let mut runs = Vec::with_capacity(args.runs as usize);
        let mut size = (0, 0);
        for _ in 0..args.runs {
            let (run, dims) = time_once(path)?;
            runs.push(run);
            size = dims;
        }
        let decode = summary(runs.iter().map(|r| r.decode));
        let first = summary(runs.iter().map(|r| r.first_frame));
        let size = format!("{}×{}", size.0, size.1);
        writeln!(stdout, "{name:<name_w$}  {size:>11}  {decode:>24}  {first:>24}")?;
        stdout.flush()?;
    }
    writeln!(
        stdout,
        "{} run(s) per file; size is columns×rows; first frame = decode + default VOI + {FIRST_FRAME_WIDTH}-px CPU render",
        args.runs
    )?;
    Ok(())
}

/// Open and render `path` once; returns the timings and the image size (columns, rows).
fn time_once(path: &Path) -> anyhow::Result<(Run, (usize, usize))> {
    let start = Instant::now();
    let loaded = dicom::open(path, &OpenOptions::default())?;
    let decode = start.elapsed();
    let image = loaded.frames.first().with_context(|| format!("no frames ({})", path.display()))?;
    let display = Display {
        window: super::default_window(&loaded, image),
        function: loaded.meta.voi.function,
        inverted: loaded.meta.is_monochrome1(),
        use_lut: loaded.meta.voi.initial_lut().is_some(),
        ..Display::default()
    };
    let out_width = FIRST_FRAME_WIDTH.min(image.width);
    let lut = loaded.meta.voi.initial_lut().and_then(|i| loaded.meta.voi.luts.get(i));
    let (w, h, grey) = cpu_render::render_grey8(image, &display, lut, Some(out_width));
    let first_frame = start.elapsed();
    std::hint::black_box((w, h, grey));
    Ok((Run { decode, first_frame }, (image.width, image.height)))
}

/// `median (min-max)` in milliseconds.
fn summary(durations: impl Iterator<Item = Duration>) -> String {
    let mut ms: Vec<f64> = durations.map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let Some((&min, &max)) = ms.first().zip(ms.last()) else { return "-".to_owned() };
    format!("{:.1} ({:.1}-{:.1})", median(&ms), min, max)
}

/// Median of sorted values (mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// The file name plus its parent folder, enough to tell the CBIS-DDSM files apart.
fn display_name(path: &Path) -> String {
    let file = path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
    match path.parent().and_then(Path::file_name) {
        Some(parent) => format!("{}/{file}", parent.to_string_lossy()),
        None => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_summary() {
        assert!((median(&[1.0, 2.0, 10.0]) - 2.0).abs() < 1e-12);
        assert!((median(&[1.0, 2.0, 4.0, 10.0]) - 3.0).abs() < 1e-12);
        let s = summary([3, 1, 2].into_iter().map(Duration::from_millis));
        assert_eq!(s, "2.0 (1.0-3.0)");
        assert_eq!(display_name(Path::new("/a/sfm-benign-0/1-130.dcm")), "sfm-benign-0/1-130.dcm");
    }
}
