//! `mammoscope bench cdmam`: validates the automated CDMAM readout on simulated sets and prints the figures.
//!
//! For each setting (a dose sweep, a blur sweep, the OMIG paper's scenarios, and repeated independent sets of the
//! default setting) it simulates `--images` exposures in memory, runs the readout exactly as `readout cdmam` does
//! (standard layout, located from the image alone) and prints: the automated and predicted human thresholds at the
//! EUREF diameters, the ideal-observer threshold of the simulator's physics and the ratio automated / ideal
//! (median over the 12 readout diameters), the corner choice against the simulator's truth on clearly visible discs,
//! the EUREF verdict, and seconds per image (simulation, readout).

use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;

use crate::phantom::cdmam::{
    Cell, Layout,
    analysis::ReadoutOptions,
    readout::{Exposure, read_set},
    tables::{DIAMETERS_MM, READOUT_ROWS},
};
use crate::report::cdmam::level_text;
use crate::synth::cdmam::{CdmamParams, SCENARIOS, ideal_observer_d_prime, ideal_observer_threshold_um, scenario, simulate};

/// `bench cdmam` arguments.
#[derive(Debug, clap::Args)]
pub struct BenchCdmamArgs {
    /// Exposures per set.
    #[arg(long, default_value_t = 16)]
    pub images: u32,
    /// Independent sets of the default setting (threshold repeatability).
    #[arg(long, default_value_t = 3)]
    pub repeats: u32,
    /// Pixel size of the simulated detector, mm.
    #[arg(long, default_value_t = 0.07)]
    pub pixel_mm: f64,
    /// Which groups to run: dose, blur, scenarios, repeat (default: all).
    #[arg(long = "only")]
    pub only: Vec<String>,
    /// Also write every row as JSON here.
    #[arg(long, value_name = "OUT.json")]
    pub json: Option<std::path::PathBuf>,
}

/// One validation row.
#[derive(Clone, Debug, serde::Serialize)]
struct Row {
    group: &'static str,
    setting: String,
    seed: u64,
    used: usize,
    /// `name: reason` of the exposures the readout left out.
    left_out: Vec<String>,
    /// `(diameter, automated, human, ideal observer)` at 1.0, 0.5, 0.25, 0.1 mm.
    at_limits: Vec<(f64, Option<f64>, Option<f64>, f64)>,
    /// Median over the readout diameters of automated / ideal-observer threshold.
    auto_over_ideal: Option<f64>,
    /// Fraction of clearly visible discs (ideal d' ≥ 5) whose corner was chosen right, over all images.
    visible_correct: f64,
    visible_cells: usize,
    verdict: String,
    iqf: Option<f64>,
    sim_seconds_per_image: f64,
    read_seconds_per_image: f64,
}

fn settings(args: &BenchCdmamArgs) -> Vec<(&'static str, String, CdmamParams, u64)> {
    let want = |g: &str| args.only.is_empty() || args.only.iter().any(|o| o == g);
    let base = CdmamParams { pixel_mm: args.pixel_mm, ..CdmamParams::default() };
    let mut out = Vec::new();
    if want("dose") {
        for mas in [10.0, 25.0, 50.0, 100.0, 200.0, 400.0] {
            out.push(("dose", format!("{mas} mAs"), CdmamParams { mas, ..base.clone() }, 11));
        }
    }
    if want("blur") {
        for blur_mm in [0.03, 0.06, 0.1, 0.15, 0.25] {
            out.push(("blur", format!("blur {blur_mm} mm"), CdmamParams { blur_mm, ..base.clone() }, 12));
        }
    }
    if want("scenarios") {
        for name in SCENARIOS {
            let p = scenario(name).unwrap_or_default();
            out.push(("scenario", format!("scenario {name}"), CdmamParams { pixel_mm: args.pixel_mm, ..p }, 13));
        }
    }
    if want("repeat") {
        for seed in 0..u64::from(args.repeats) {
            out.push(("repeat", "default (100 mAs)".to_owned(), base.clone(), 100 + seed));
        }
    }
    out
}

fn run_setting(group: &'static str, setting: String, params: &CdmamParams, seed: u64, images: u32) -> anyhow::Result<Row> {
    let layout = Layout::standard();
    let start = Instant::now();
    let mut exposures = Vec::new();
    for index in 0..images {
        let e = simulate(params, &layout, seed, index).with_context(|| format!("simulating {setting}"))?;
        exposures.push(Exposure { name: format!("{index:02}"), image: std::sync::Arc::new(e.image), pixel_mm: Some(params.pixel_mm) });
    }
    let sim = start.elapsed().as_secs_f64() / f64::from(images.max(1));
    let start = Instant::now();
    let set = read_set(&exposures, Some(&layout), &ReadoutOptions::default(), &|_, _| {}, &|| false)
        .with_context(|| format!("reading {setting}"))?;
    let read = start.elapsed().as_secs_f64() / f64::from(images.max(1));
    let cdc = &set.cdc;
    let at = |d: f64| cdc.diameters.iter().find(|r| (r.diameter_mm - d).abs() < 1e-6);
    let at_limits = [1.0, 0.5, 0.25, 0.1]
        .into_iter()
        .map(|d| (d, at(d).and_then(|r| r.fitted_um), at(d).and_then(|r| r.human_um), ideal_observer_threshold_um(params, d)))
        .collect();
    let mut ratios: Vec<f64> = READOUT_ROWS
        .filter_map(|row| {
            let d = DIAMETERS_MM[row];
            Some(at(d)?.fitted_um? / ideal_observer_threshold_um(params, d))
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let auto_over_ideal = (!ratios.is_empty()).then(|| ratios[ratios.len() / 2]);
    let visible: Vec<Cell> = Cell::all().filter(|c| ideal_observer_d_prime(params, c.diameter_mm(), c.thickness_um()) >= 5.0).collect();
    let (mut right, mut total) = (0usize, 0usize);
    for e in &set.exposures {
        for &cell in &visible {
            if let (Some(picked), Some(truth)) = (e.scores.choice(cell), layout.corner(cell)) {
                total += 1;
                right += usize::from(picked == truth);
            }
        }
    }
    Ok(Row {
        group,
        setting,
        seed,
        used: set.exposures.len(),
        left_out: set.failures.iter().map(|(n, why)| format!("{n}: {why}")).collect(),
        at_limits,
        auto_over_ideal,
        visible_correct: if total > 0 { right as f64 / total as f64 } else { 0.0 },
        visible_cells: visible.len(),
        verdict: level_text(cdc.overall).to_owned(),
        iqf: cdc.iqf,
        sim_seconds_per_image: sim,
        read_seconds_per_image: read,
    })
}

pub fn cdmam(args: &BenchCdmamArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let f = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    writeln!(
        out,
        "{:<22} {:>4} {:>5} | {:>23} | {:>23} | {:>23} | {:>23} | {:>6} {:>8} {:>13} {:>6} {:>10}",
        "setting",
        "seed",
        "used",
        "1.00 mm auto/hum/ideal",
        "0.50 mm auto/hum/ideal",
        "0.25 mm auto/hum/ideal",
        "0.10 mm auto/hum/ideal",
        "a/ideal",
        "visible",
        "verdict",
        "IQF",
        "s/img s+r"
    )?;
    let mut rows = Vec::new();
    for (group, setting, params, seed) in settings(args) {
        let row = match run_setting(group, setting.clone(), &params, seed, args.images) {
            Ok(row) => row,
            Err(e) => {
                writeln!(out, "{setting:<22} {seed:>4} failed: {}", crate::cli::error_chain(&e))?;
                continue;
            }
        };
        let cells: Vec<String> = row.at_limits.iter().map(|(_, a, h, i)| format!("{}/{}/{:.3}", f(*a), f(*h), i)).collect();
        writeln!(
            out,
            "{:<22} {:>4} {:>5} | {:>23} | {:>23} | {:>23} | {:>23} | {:>6} {:>7.1}% {:>13} {:>6} {:>4.1}+{:.1}",
            row.setting,
            row.seed,
            row.used,
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            row.auto_over_ideal.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
            100.0 * row.visible_correct,
            row.verdict,
            f(row.iqf),
            row.sim_seconds_per_image,
            row.read_seconds_per_image
        )?;
        for why in &row.left_out {
            writeln!(out, "    left out {why}")?;
        }
        out.flush()?;
        rows.push(row);
    }
    if let Some(path) = &args.json {
        crate::dicom::atomic::write_file_atomically(path, serde_json::to_string_pretty(&rows)?.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
