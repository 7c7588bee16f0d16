//! `mammoscope evaluate calc --weights A [--weights B] --out DIR`: the model card's numbers. On held-out simulated
//! mammograms (seeds never used in training): the balanced patch test set's ROC, AUC and accuracy / sensitivity /
//! specificity at the accuracy-maximising operating point (the paper's method), the robustness table (noise, dose,
//! low-pass R, FGSM) at each model's patch operating point, whole-image cluster detection at its detection threshold
//! (the whole-image operating point, `models::training::calibrate`) and over a sweep; and, with `--real`, what each
//! model marks on real mammograms. Writes `calc-eval.json`, `calc-roc.png`, `calc-errors-<model>.png` (what it
//! gets wrong on the test images), `calc-real-<model>.png` and prints
//! Markdown tables.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::dicom::{self, OpenOptions};
use crate::models::checkpoint::build_from_file;
use crate::models::detector::{CalcDetector, DetectorOptions, ValueKind, thresholds};
use crate::models::device::best_device;
use crate::models::preset::PATCH_SIZE;
use crate::models::training::evaluate::{
    CleanResult, Condition, ConditionResult, DetectionStats, TestSet, TileScores, detection_at, evaluate_clean, evaluate_condition,
    lowest_threshold_within, tile_scores,
};
use crate::report::canvas::encode_png;
use crate::report::patch_sheet::{sheet, thumbnail, tile_thumbnail};
use crate::report::roc::{RocSeries, write_roc_png};
use crate::synth::calc_patches::generate_eval_images;

/// `evaluate` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum EvaluateCommand {
    /// Evaluate calcification models for the model card.
    Calc(EvaluateCalcArgs),
    /// Evaluate the CDC deep ensemble on the held-out test settings (error, coverage per scenario).
    Cdc(crate::cli::evaluate_cdc::EvaluateCdcArgs),
    /// How often calcification-free simulated tissue reads as a visible speck (the labels' CNR, no model).
    Background(crate::cli::evaluate_background::EvaluateBackgroundArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvaluateCalcArgs {
    /// Weights files to compare (e.g. the plain and the robust model).
    #[arg(long = "weights", required = true)]
    pub weights: Vec<PathBuf>,
    /// Held-out simulated mammograms.
    #[arg(long, default_value_t = 60)]
    pub test_images: usize,
    /// Seed of the test images (training uses 2026 and its derivations).
    #[arg(long, default_value_t = 777)]
    pub seed: u64,
    /// Folder of real mammograms (DICOM) to run the models on, e.g. .cache/mammograms.
    #[arg(long, value_name = "DIR")]
    pub real: Option<PathBuf>,
    /// Pixel spacing assumed for real files without one (CBIS-DDSM scans: about 0.05 mm).
    #[arg(long, value_name = "MM", default_value_t = 0.05)]
    pub real_spacing_mm: f64,
    /// Output folder for calc-eval.json and the figures.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only the clean patch scores and whole-image detection (skips the robustness table), e.g. while training.
    #[arg(long)]
    pub quick: bool,
    /// Tile stride of whole-image detection in model pixels: 112 (half-overlapping tiles, as the viewer and
    /// `analyze calc` tile by default) or 224 (the paper's non-overlapping grid). With overlap, the marks are one tile
    /// per finding (a weaker overlapping tile whose evidence lies in a stronger one is dropped): clusters must be in a
    /// mark, false marks are counted.
    #[arg(long, value_name = "PX", default_value_t = 112)]
    pub stride: usize,
    /// Whole-image detection scores each tile in this many of its 8 flips/rotations and averages (1: as it is).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub views: u8,
    /// Also report whole-image detection of the ensemble: the mean probability of all `--weights`.
    #[arg(long)]
    pub ensemble: bool,
    /// Choose a detection threshold on these images: the lowest (steps of 0.005) with at most this many false marks
    /// per calcification-free image. Run it on validation images (a seed other than the test seed), then evaluate the
    /// test images at the chosen threshold with `--detection-threshold`.
    #[arg(long, value_name = "N")]
    pub max_false_marks: Option<f64>,
    /// Report whole-image detection at this threshold too (e.g. one chosen on validation images); repeatable.
    #[arg(long, value_name = "P")]
    pub detection_threshold: Vec<f32>,
}

#[derive(Serialize)]
struct ModelEval {
    weights: PathBuf,
    preset: String,
    sha256: String,
    shipped_operating_point: f32,
    /// The whole-image operating point (the weights' detection threshold, else the operating point).
    detection_threshold: f32,
    clean: CleanResult,
    conditions: Vec<ConditionResult>,
    detection: DetectionStats,
    /// Detection at the thresholds of [`SWEEP`].
    sweep: Vec<DetectionStats>,
    real: Vec<RealResult>,
}

/// Thresholds of the free-response sweep in the model card.
const SWEEP: [f32; 15] = [0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.825, 0.85, 0.875, 0.9, 0.925, 0.95, 0.98];

#[derive(Clone, Serialize)]
struct RealResult {
    file: String,
    patches: usize,
    above_detection_threshold: usize,
    marks_at_detection_threshold: usize,
    max_prob: f32,
}

pub fn run(command: EvaluateCommand) -> anyhow::Result<()> {
    match command {
        EvaluateCommand::Calc(a) => calc(&a),
        EvaluateCommand::Cdc(a) => crate::cli::evaluate_cdc::run(&a),
        EvaluateCommand::Background(a) => crate::cli::evaluate_background::run(&a),
    }
}

fn calc(a: &EvaluateCalcArgs) -> anyhow::Result<()> {
    anyhow::ensure!((1..=PATCH_SIZE).contains(&a.stride), "--stride must be between 1 and {PATCH_SIZE} px");
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let device = best_device()?;
    eprintln!("simulating {} test mammograms (seed {})…", a.test_images, a.seed);
    let images = generate_eval_images(a.seed, a.test_images, &|d, t| eprint!("\r  {d}/{t}"), &|| false)?;
    eprintln!();
    let set = TestSet::new(images, a.seed);
    eprintln!("test set: {} balanced patches ({} with calcifications)", set.balanced.len(), set.positives());
    let none = || false;
    let mut evals = Vec::new();
    let mut all_scores = Vec::new();
    for path in &a.weights {
        let (net, info) = build_from_file(path, &device).with_context(|| format!("cannot load {}", path.display()))?;
        let (op, detection_threshold) = thresholds(&info);
        let detection_threshold = detection_threshold.unwrap_or(op);
        eprintln!("{}: clean", path.display());
        let clean = evaluate_clean(&net, &set, &device, &none)?;
        let mut conditions = Vec::new();
        for condition in Condition::TABLE.into_iter().filter(|_| !a.quick) {
            eprintln!("  {}", condition.label());
            conditions.push(evaluate_condition(&net, &set, condition, op, &device, &none)?);
        }
        let scored = tile_scores(&net, &set, a.stride, a.views, &device, &none)?;
        let detection = detection_at(&set, &scored, detection_threshold);
        // The free-response curve: clusters found against false marks per calcification-free image.
        let sweep = sweep(&set, &scored, a);
        println!("{}", misses_line(&stem(path), &detection));
        report_detection_choice(&stem(path), &set, &scored, a);
        all_scores.push(scored);
        write_error_sheet(path, &set, &detection, &a.out)?;
        let real = match &a.real {
            Some(dir) => real_results(path, dir, a.real_spacing_mm, &device, &a.out)?,
            None => Vec::new(),
        };
        evals.push(ModelEval {
            weights: path.clone(),
            preset: info.preset.name().to_owned(),
            sha256: info.sha256.clone(),
            shipped_operating_point: op,
            detection_threshold,
            clean,
            conditions,
            detection,
            sweep,
            real,
        });
    }
    write_outputs(&evals, &a.out)?;
    println!("{}", markdown(&evals, &set, a.stride));
    if a.ensemble {
        let mean = TileScores::mean(&all_scores).context("the models were not scored on the same tiles")?;
        println!("{}", ensemble_markdown(&sweep(&set, &mean, a)));
        report_detection_choice("ensemble (mean probability)", &set, &mean, a);
    }
    Ok(())
}

/// Detection at the sweep's thresholds, then at `--detection-threshold` when given.
fn sweep(set: &TestSet, scored: &TileScores, a: &EvaluateCalcArgs) -> Vec<DetectionStats> {
    SWEEP.iter().copied().chain(a.detection_threshold.iter().copied()).map(|t| detection_at(set, scored, t)).collect()
}

/// The visible clusters `d` misses: how many show one, two or more visible specks, the range of their strongest
/// speck's CNR and their faint specks (what a detector could add up besides the visible ones).
fn misses_line(model: &str, d: &DetectionStats) -> String {
    let shapes: Vec<String> = d.by_shape.iter().map(|b| format!("{:?} {}/{}", b.shape, b.found, b.clusters)).collect();
    let shapes = format!("; found by morphology: {}", shapes.join(", "));
    let m = &d.missed;
    if m.is_empty() {
        return format!("{model} at {:.3}: no visible cluster missed{shapes}", d.threshold);
    }
    let with = |n: usize| m.iter().filter(|c| c.visible_specks == n).count();
    let (lo, hi) = m.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), c| (lo.min(c.max_cnr), hi.max(c.max_cnr)));
    let faint = m.iter().map(|c| c.faint_specks).sum::<usize>() as f64 / m.len() as f64;
    let lone = m.iter().filter(|c| c.visible_specks == 1 && c.faint_specks == 0).count();
    format!(
        "{model} at {:.3}: {} visible clusters missed ({} with one visible speck, {} with two, {} with more; strongest speck CNR {lo:.2}–{hi:.2}; {faint:.1} faint specks each on average; {lone} a lone speck with no faint one){shapes}",
        d.threshold,
        m.len(),
        with(1),
        with(2),
        m.len() - with(1) - with(2)
    )
}

/// With `--max-false-marks B`: prints the lowest threshold (steps of 0.005 from 0.3) with at most `B` false marks per
/// calcification-free image on these images, and the clusters it finds.
fn report_detection_choice(model: &str, set: &TestSet, scored: &TileScores, a: &EvaluateCalcArgs) {
    let Some(budget) = a.max_false_marks else { return };
    let chosen = lowest_threshold_within(budget, |t| detection_at(set, scored, t));
    match chosen {
        Some(d) => println!(
            "{model}: lowest threshold with <= {budget} false marks per calcification-free image: {:.3} ({}/{} clusters, {:.1}%; {}/{} with >= 3 visible specks; {:.2} false marks)",
            d.threshold,
            d.clusters_found,
            d.clusters,
            100.0 * d.sensitivity,
            d.clusters_of_3_found,
            d.clusters_of_3,
            d.false_marks_per_calc_free_image
        ),
        None => println!("{model}: no threshold up to 0.995 has <= {budget} false marks per calcification-free image"),
    }
}

fn ensemble_markdown(sweep: &[DetectionStats]) -> String {
    let mut s = String::from("\nEnsemble (mean probability of the models), clusters found / false marks per calcification-free image:\n\n");
    table_header(&mut s, "threshold", &["marks".to_owned(), "overlapping tiles joined".to_owned()]);
    for d in sweep {
        let _ = writeln!(
            s,
            "| {} | {:.1}% / {:.2} | {:.1}% / {:.2} |",
            d.threshold,
            100.0 * d.sensitivity,
            d.false_marks_per_calc_free_image,
            100.0 * d.clusters_found_by_groups as f64 / d.clusters as f64,
            d.false_groups_per_calc_free_image
        );
    }
    s
}

/// Writes `calc-errors-<weights stem>.png`: the false tiles on calcification-free test images (most confident first, at
/// most 24), then the tile of each missed cluster (at most 16), each in its own window.
fn write_error_sheet(weights: &Path, set: &TestSet, detection: &DetectionStats, out_dir: &Path) -> anyhow::Result<()> {
    let mut false_tiles: Vec<_> = detection.errors.iter().filter(|e| !e.missed_cluster).collect();
    false_tiles.sort_by(|a, b| b.prob.total_cmp(&a.prob));
    let missed = detection.errors.iter().filter(|e| e.missed_cluster);
    let thumbnails: Vec<_> = false_tiles
        .into_iter()
        .take(24)
        .chain(missed.take(16))
        .map(|e| {
            let what = if e.missed_cluster { "missed" } else { "false" };
            let caption = format!("{what} p={:.2} #{}", e.prob, e.image);
            tile_thumbnail(&set.images[e.image].image.image, e.tile.x, e.tile.y, e.tile.size, &caption, 224)
        })
        .collect();
    if thumbnails.is_empty() {
        return Ok(());
    }
    write_sheet(&out_dir.join(format!("calc-errors-{}.png", stem(weights))), &thumbnails, 8)
}

/// A contact sheet of `thumbnails` in rows of `columns`, written atomically as a PNG.
fn write_sheet(path: &Path, thumbnails: &[image::RgbImage], columns: usize) -> anyhow::Result<()> {
    let png = encode_png(&sheet(thumbnails, columns))?;
    super::write_atomically(path, |w| Ok(std::io::Write::write_all(w, &png)?))
}

/// A weights file's stem (`calc-compact-robust`): the model's name in tables and file names.
fn stem(weights: &Path) -> String {
    weights.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Runs the model on every DICOM file under `dir`; writes `calc-real-<weights stem>.png` (the marked patches) to `out`.
fn real_results(
    weights: &Path,
    dir: &Path,
    spacing_mm: f64,
    device: &candle_core::Device,
    out_dir: &Path,
) -> anyhow::Result<Vec<RealResult>> {
    let detector = CalcDetector::load(weights, device)?;
    let mut files = Vec::new();
    dicom_files(dir, &mut files, 0);
    files.sort();
    let mut out = Vec::new();
    let mut thumbnails = Vec::new();
    for file in files {
        let loaded = dicom::open(&file, &OpenOptions { user_spacing_mm: Some(spacing_mm) })?;
        let Some(image) = loaded.frames.first() else { continue };
        let spacing = loaded.meta.spacing_mm_or(Some(spacing_mm)).map_or(spacing_mm, |s| s[0].max(s[1]));
        let (view, invert) = ValueKind::of(&loaded.meta).model_view(image);
        let d = detector.detect(&view, spacing, invert, &DetectorOptions::default(), &|_, _| {}, &|| false)?;
        let name = file.strip_prefix(dir).unwrap_or(&file).display().to_string();
        thumbnails.push(thumbnail(image, loaded.meta.is_monochrome1(), &d.patches, detector.default_threshold(), &name, 420));
        out.push(RealResult {
            file: name,
            patches: d.patches.len(),
            above_detection_threshold: d.above(detector.default_threshold()).len(),
            marks_at_detection_threshold: d.marks(detector.default_threshold()).len(),
            max_prob: d.max_prob(),
        });
    }
    if !thumbnails.is_empty() {
        write_sheet(&out_dir.join(format!("calc-real-{}.png", stem(weights))), &thumbnails, 4)?;
    }
    Ok(out)
}

const COLORS: [[u8; 3]; 4] = [[200, 60, 40], [40, 90, 200], [40, 160, 80], [150, 80, 180]];

fn write_outputs(evals: &[ModelEval], out: &Path) -> anyhow::Result<()> {
    let json = out.join("calc-eval.json");
    let bytes = serde_json::to_vec_pretty(evals)?;
    super::write_atomically(&json, |w| Ok(std::io::Write::write_all(w, &bytes)?))?;
    let points: Vec<Vec<(f64, f64)>> = evals.iter().map(|e| e.clean.roc.iter().map(|p| (p.fpr, p.tpr)).collect()).collect();
    let labels: Vec<String> = evals.iter().map(|e| format!("{}, AUC {:.3}", name(e), e.clean.auc)).collect();
    let series: Vec<RocSeries<'_>> = evals
        .iter()
        .enumerate()
        .map(|(i, e)| RocSeries {
            label: &labels[i],
            points: &points[i],
            color: COLORS[i % COLORS.len()],
            operating_point: Some((1.0 - e.clean.best.specificity, e.clean.best.sensitivity)),
        })
        .collect();
    write_roc_png(&out.join("calc-roc.png"), "Calcification patches, held-out simulated test set", &series)?;
    Ok(())
}

/// The model's name in the tables.
fn name(e: &ModelEval) -> String {
    stem(&e.weights)
}

fn markdown(evals: &[ModelEval], set: &TestSet, stride: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Test set: {} images, {} balanced patches ({} with calcifications).\n",
        set.images.len(),
        set.balanced.len(),
        set.positives()
    );
    let _ = writeln!(s, "| model | AUC | accuracy | sensitivity | specificity | threshold (accuracy-max) |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for e in evals {
        let b = &e.clean.best;
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} |",
            name(e),
            e.clean.auc,
            b.accuracy,
            b.sensitivity,
            b.specificity,
            b.threshold
        );
    }
    if evals.iter().all(|e| !e.conditions.is_empty()) {
        robustness_table(&mut s, evals);
    }
    detection_table(&mut s, evals, stride);
    if evals.iter().any(|e| !e.real.is_empty()) {
        real_table(&mut s, evals);
    }
    s
}

/// The header and separator rows of a Markdown table: `first`, then one column per entry of `columns`.
fn table_header(s: &mut String, first: &str, columns: &[String]) {
    let _ = write!(s, "| {first} |");
    for c in columns {
        let _ = write!(s, " {c} |");
    }
    let _ = write!(s, "\n|---|");
    for _ in columns {
        let _ = write!(s, "---|");
    }
    let _ = writeln!(s);
}

fn robustness_table(s: &mut String, evals: &[ModelEval]) {
    let _ = writeln!(s, "\nRobustness (AUC / accuracy at each model's patch operating point):\n");
    let columns: Vec<String> = evals.iter().map(|e| format!("{} (op {:.3})", name(e), e.shipped_operating_point)).collect();
    table_header(s, "condition", &columns);
    for (k, c) in Condition::TABLE.iter().enumerate() {
        let _ = write!(s, "| {} |", c.label());
        for e in evals {
            let r = &e.conditions[k];
            let _ = write!(s, " {:.3} / {:.3} |", r.auc, r.at_operating_point.accuracy);
        }
        let _ = writeln!(s);
    }
}

/// Clusters found and findings per calcification-free image under one way of counting findings.
type FoundAndPerImage = fn(&DetectionStats) -> (usize, f64);

fn detection_table(s: &mut String, evals: &[ModelEval], stride: usize) {
    let _ = writeln!(s, "\nWhole-image detection at each model's detection threshold, tile stride {stride} px:\n");
    let _ = writeln!(
        s,
        "| model | threshold | clusters found | of them with ≥ 3 visible specks | false patches per calcification-free image (of tiles) | false marks per image |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for e in evals {
        let d = &e.detection;
        let _ = writeln!(
            s,
            "| {} | {:.3} | {}/{} ({:.1}%) | {}/{} | {:.2} (of {:.0}) | {:.2} |",
            name(e),
            e.detection_threshold,
            d.clusters_found,
            d.clusters,
            100.0 * d.sensitivity,
            d.clusters_of_3_found,
            d.clusters_of_3,
            d.false_tiles_per_calc_free_image,
            d.tiles_per_calc_free_image,
            d.false_marks_per_calc_free_image
        );
    }
    let thresholds = evals.first().map(|e| e.sweep.iter().map(|d| d.threshold).collect::<Vec<_>>()).unwrap_or_default();
    let tables: [(&str, FoundAndPerImage); 3] = [
        (
            "Free-response sweep (clusters found / false marks per calcification-free image; one mark per finding: a weaker overlapping tile is dropped when its evidence lies in the stronger one or within 5 mm of its evidence)",
            |d| (d.clusters_found, d.false_marks_per_calc_free_image),
        ),
        ("The previous mark rule, the strongest non-overlapping tiles (clusters found / marks per calcification-free image)", |d| {
            (d.clusters_found_by_non_overlapping, d.false_non_overlapping_per_calc_free_image)
        }),
        (
            "Overlapping tiles at or above the threshold joined into one finding (clusters in any such tile / findings per calcification-free image)",
            |d| (d.clusters_found_by_groups, d.false_groups_per_calc_free_image),
        ),
    ];
    for (title, numbers) in tables {
        let _ = writeln!(s, "\n{title}:\n");
        table_header(s, "threshold", &evals.iter().map(name).collect::<Vec<_>>());
        for (k, t) in thresholds.iter().enumerate() {
            let _ = write!(s, "| {t} |");
            for e in evals {
                let (found, per_image) = numbers(&e.sweep[k]);
                let _ = write!(s, " {:.1}% / {:.2} |", 100.0 * found as f64 / e.sweep[k].clusters as f64, per_image);
            }
            let _ = writeln!(s);
        }
    }
}

fn real_table(s: &mut String, evals: &[ModelEval]) {
    let _ = writeln!(s, "\nReal mammograms (patches ≥ detection threshold / scored, marks, max probability):\n");
    table_header(s, "file", &evals.iter().map(name).collect::<Vec<_>>());
    for (k, r) in evals[0].real.iter().enumerate() {
        let _ = write!(s, "| {} |", r.file);
        for e in evals {
            if let Some(x) = e.real.get(k) {
                let _ = write!(
                    s,
                    " {}/{}, {} marks, max {:.3} |",
                    x.above_detection_threshold, x.patches, x.marks_at_detection_threshold, x.max_prob
                );
            }
        }
        let _ = writeln!(s);
    }
}

/// `*.dcm` files under `dir` (4 levels deep at most).
fn dicom_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth < 4 {
            dicom_files(&path, out, depth + 1);
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dcm")) {
            out.push(path);
        }
    }
}
