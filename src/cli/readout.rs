//! `mammoscope readout cdmam DIR|FILES [--json] [--report OUT.html]`: the automated CDMAM 3.4 readout of a set of
//! exposures (EUREF protocol): the contrast-detail curve, predicted human thresholds, EUREF verdicts, IQF.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::app::loader::expand_paths;
use crate::dicom::{
    self, OpenOptions,
    atomic::{same_file, write_file_atomically},
};
use crate::phantom::cdmam::{
    Layout,
    analysis::ReadoutOptions,
    readout::{ExposureReadout, SetReadout, finish_set, read_image},
    tables,
};
use crate::report::cdmam::{ReportContext, level_text, render_html};

#[derive(Debug, clap::Subcommand)]
pub enum ReadoutCommand {
    /// Read a set of CDMAM 3.4 exposures (a folder or files; at least 8, the protocol asks for 16).
    Cdmam(CdmamReadoutArgs),
}

#[derive(Debug, clap::Args)]
pub struct CdmamReadoutArgs {
    /// DICOM files or folders (searched recursively; JSON sidecars are skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the full result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write the one-page HTML report (plot embedded as PNG).
    #[arg(long, value_name = "OUT.html")]
    pub report: Option<PathBuf>,
    /// Where the true corners come from: the standard CDMAM 3.4 layout chart (checked against the images; the
    /// leave-one-out consensus is used when they disagree) or the consensus alone.
    #[arg(long, default_value = "standard", value_parser = ["standard", "consensus"])]
    pub layout: String,
    /// Score against the true corners in a `mammoscope synth cdmam` sidecar (for a phantom with another layout).
    #[arg(long, value_name = "SIDECAR.json", conflicts_with = "layout")]
    pub truth: Option<PathBuf>,
    /// Bootstrap replicates for the confidence intervals.
    #[arg(long, default_value_t = 200)]
    pub bootstrap: usize,
    /// The fewest images accepted.
    #[arg(long, default_value_t = tables::MIN_IMAGES)]
    pub min_images: usize,
}

pub fn run(command: &ReadoutCommand) -> anyhow::Result<()> {
    match command {
        ReadoutCommand::Cdmam(args) => cdmam(args),
    }
}

/// The layout from a sidecar: `{"truth": {"cells": [{"row", "col", "corner"}, …]}}` or the `truth` object itself.
pub fn layout_from_sidecar(path: &Path) -> anyhow::Result<Layout> {
    #[derive(serde::Deserialize)]
    struct CellCorner {
        row: usize,
        col: usize,
        corner: crate::phantom::cdmam::Corner,
    }
    #[derive(serde::Deserialize)]
    struct Cells {
        cells: Vec<CellCorner>,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let truth = value.get("truth").cloned().unwrap_or(value);
    let cells: Cells =
        serde_json::from_value(truth).with_context(|| format!("{} has no CDMAM truth (cells with row, col, corner)", path.display()))?;
    let mut layout = Layout { corners: [[None; 16]; 16] };
    for c in cells.cells {
        if c.row < 16 && c.col < 16 {
            layout.corners[c.row][c.col] = Some(c.corner);
        }
    }
    if !layout.is_complete() {
        bail!("{} does not give a corner for every one of the 205 cells", path.display());
    }
    Ok(layout)
}

/// What [`read_files`] returns: the reads, the files left out (`name`, reason) and the report's header facts.
pub type ReadFiles = (Vec<ExposureReadout>, Vec<(String, String)>, ReportContext);

/// Opens each file, reads it (locate + score) and drops its pixels before the next, so a set of full-field images
/// never sits in memory at once; returns the reads, the files left out and why, and the report's header facts.
/// A file that cannot be opened is an error (a typo in a path should not silently shrink the set).
pub fn read_files(paths: &[PathBuf]) -> anyhow::Result<ReadFiles> {
    let files = expand_paths(paths);
    if files.is_empty() {
        bail!("no files found in {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (mut read, mut failures, mut metas) = (Vec::new(), Vec::new(), Vec::new());
    for (index, file) in files.iter().enumerate() {
        let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
        if tty {
            eprintln!("locating the phantom: image {}/{} ({name})", index + 1, files.len());
        }
        let loaded = dicom::open(file, &OpenOptions::default()).with_context(|| format!("cannot open {name}"))?;
        let Some(image) = loaded.frames.first() else { bail!("{name} has no frames") };
        let pixel_mm = loaded.meta.spacing.map(|s| 0.5 * (s.row_mm + s.col_mm));
        match read_image(&name, image, pixel_mm) {
            Ok(r) => read.push(ExposureReadout { index, ..r }),
            Err(e) => failures.push((name.clone(), e.to_string())),
        }
        metas.push((name, loaded.meta));
    }
    let ctx = ReportContext::from_metas(metas.iter().map(|(n, m)| (n.clone(), m)));
    Ok((read, failures, ctx))
}

fn cdmam(args: &CdmamReadoutArgs) -> anyhow::Result<()> {
    let layout = match (&args.truth, args.layout.as_str()) {
        (Some(path), _) => Some(layout_from_sidecar(path)?),
        (None, "consensus") => None,
        _ => Some(Layout::standard()),
    };
    let inputs = expand_paths(&args.paths);
    if let Some(out) = &args.report
        && inputs.iter().any(|input| same_file(input, out))
    {
        bail!("--report {} is one of the input images: inputs are never overwritten", out.display());
    }
    let given = inputs.len();
    if given < args.min_images {
        bail!(
            "{given} image(s) given: the CDMAM readout needs at least {} exposures of the phantom (the protocol asks for {})",
            args.min_images,
            tables::RECOMMENDED_IMAGES
        );
    }
    let options = ReadoutOptions { bootstrap: args.bootstrap, min_images: args.min_images, ..ReadoutOptions::default() };
    let (read, failures, ctx) = read_files(&args.paths)?;
    let set = finish_set(read, failures, layout.as_ref(), &options).context("CDMAM readout failed")?;
    if let Some(out) = &args.report {
        let html = render_html(&set, &ctx).context("cannot draw the report figure")?;
        write_file_atomically(out, html.as_bytes()).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("report written to {}", out.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json(&set))?);
    } else {
        print_text(&set);
    }
    Ok(())
}

/// The JSON document: a compact thresholds table first, then everything the readout computed.
pub fn json(set: &SetReadout) -> serde_json::Value {
    let cdc = &set.cdc;
    serde_json::json!({
        "phantom": "CDMAM 3.4",
        "images_used": set.exposures.iter().map(|e| &e.name).collect::<Vec<_>>(),
        "images_left_out": set.failures.iter().map(|(n, why)| serde_json::json!({"name": n, "reason": why})).collect::<Vec<_>>(),
        "truth_source": cdc.truth_source,
        "overall": cdc.overall,
        "iqf": cdc.iqf,
        "iqf_inv": cdc.iqf_inv,
        "thresholds": cdc.diameters.iter().map(|d| serde_json::json!({
            "diameter_mm": d.diameter_mm,
            "automated_um": d.fitted_um,
            "automated_row_fit_um": d.automated_um,
            "automated_ci95_um": d.ci_automated,
            "human_um": d.human_um,
            "human_ci95_um": d.ci_human,
            "human_factor": d.human_factor,
            "flags": d.flags,
        })).collect::<Vec<_>>(),
        "verdicts": cdc.verdicts,
        "exposures": set.exposures,
        "readout": cdc,
    })
}

fn print_text(set: &SetReadout) {
    let cdc = &set.cdc;
    println!("CDMAM 3.4 automated readout: {} image(s) used, {} left out", set.exposures.len(), set.failures.len());
    for (name, why) in &set.failures {
        println!("  left out {name}: {why}");
    }
    for w in &cdc.warnings {
        println!("  note: {w}");
    }
    println!("{:>10} {:>12} {:>19} {:>11} {:>19}", "d (mm)", "auto (um)", "auto 95% CI", "human (um)", "human 95% CI");
    let f = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    let c = |v: Option<[f64; 2]>| v.map_or_else(|| "-".to_owned(), |[a, b]| format!("{a:.3}-{b:.3}"));
    for d in &cdc.diameters {
        println!("{:>10.2} {:>12} {:>19} {:>11} {:>19}", d.diameter_mm, f(d.fitted_um), c(d.ci_automated), f(d.human_um), c(d.ci_human));
    }
    for v in &cdc.verdicts {
        println!("EUREF {:.2} mm: {}", v.diameter_mm, level_text(v.level));
    }
    println!("overall: {}; IQF {}; IQF_inv {}", level_text(cdc.overall), f(cdc.iqf), f(cdc.iqf_inv));
}
