//! `mammoscope evaluate background`: how often calcification-free tissue reads as a visible speck by the
//! labels' own measure (`synth::calc_patches::background_peaks`), on the same simulated test images as
//! `evaluate calc` (same `--seed`, same images). For each CNR level it prints the distinct background peaks per
//! calcification-free image and the share of visible clusters whose strongest speck reaches that level: the
//! free-response curve of a detector that knew every location's CNR exactly. No model is involved.

use std::path::PathBuf;

use anyhow::Context as _;
use rayon::prelude::*;
use serde::Serialize;

use crate::imaging::resample::MODEL_SPACING_MM;
use crate::models::preset::PATCH_SIZE;
use crate::models::training::evaluate::ClusterRecord;
use crate::synth::calc_patches::{EvalImage, MIN_CNR, background_peaks, distinct, generate_eval_range};

/// CNR levels of the printed table.
const LEVELS: [f64; 11] = [4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 8.0, 9.0, 10.0, 12.0];
/// Background peaks are collected from this CNR up.
const LOWEST: f64 = 4.0;
/// Peaks closer than this are one finding, as the detector's marks merge evidence within 5 mm.
const FINDING_MM: f64 = 5.0;
/// Images simulated at a time.
const CHUNK: usize = 8;

#[derive(Debug, clap::Args)]
pub struct EvaluateBackgroundArgs {
    /// Simulated mammograms (even indices have clusters, odd ones none), as `evaluate calc --test-images`.
    #[arg(long, default_value_t = 60)]
    pub test_images: usize,
    /// Seed of the images, as `evaluate calc --seed` (777: the model card's test set).
    #[arg(long, default_value_t = 777)]
    pub seed: u64,
    /// Write every peak and cluster here (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
}

/// One calcification-free image's peaks at or above [`LOWEST`].
#[derive(Serialize)]
struct FreeImage {
    index: usize,
    density: String,
    /// CNR of each distinct peak (5 mm apart), strongest first.
    distinct_5mm: Vec<f64>,
    /// CNR of each distinct peak one patch (15.68 mm) apart: at most one false mark each.
    distinct_patch: Vec<f64>,
    /// Every peak (1 px maxima).
    peaks: usize,
}

#[derive(Serialize)]
struct LevelRow {
    cnr: f64,
    distinct_per_free_image: f64,
    patch_findings_per_free_image: f64,
    free_images_with_one: f64,
    clusters_reaching: f64,
}

pub fn run(a: &EvaluateBackgroundArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.test_images >= 2, "--test-images must be at least 2 (one with clusters, one without)");
    let started = std::time::Instant::now();
    let (mut free, mut clusters) = (Vec::new(), Vec::new());
    for start in (0..a.test_images).step_by(CHUNK) {
        let end = (start + CHUNK).min(a.test_images);
        let images = generate_eval_range(a.seed, start..end, &|_, _| {}, &|| false)?;
        let measured: Vec<Option<FreeImage>> =
            images.par_iter().enumerate().map(|(i, img)| img.clusters.is_empty().then(|| free_image(start + i, img))).collect();
        free.extend(measured.into_iter().flatten());
        for (i, img) in images.iter().enumerate() {
            clusters.extend(visible_clusters(start + i, img));
        }
        eprintln!("{end}/{} images ({:.0} s)", a.test_images, started.elapsed().as_secs_f64());
    }
    anyhow::ensure!(!free.is_empty() && !clusters.is_empty(), "no calcification-free image or no visible cluster");
    let rows: Vec<LevelRow> = LEVELS.iter().map(|&c| level_row(c, &free, &clusters)).collect();
    println!("{}", markdown(a, &rows, &free, &clusters));
    if let Some(path) = &a.json {
        let value = serde_json::json!({
            "seed": a.seed, "test_images": a.test_images, "finding_mm": FINDING_MM,
            "levels": rows, "calcification_free_images": free, "visible_clusters": clusters,
        });
        crate::dicom::atomic::write_file_atomically(path, &serde_json::to_vec_pretty(&value)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn free_image(index: usize, img: &EvalImage) -> FreeImage {
    let peaks = background_peaks(&img.image, LOWEST);
    let cnrs = |distance_mm: f64| distinct(&peaks, distance_mm / MODEL_SPACING_MM).iter().map(|p| p.cnr).collect();
    FreeImage {
        index,
        density: format!("{:?}", img.density),
        distinct_5mm: cnrs(FINDING_MM),
        distinct_patch: cnrs(PATCH_SIZE as f64 * MODEL_SPACING_MM),
        peaks: peaks.len(),
    }
}

/// The clusters `evaluate calc` counts: strongest speck at CNR ≥ [`MIN_CNR`].
fn visible_clusters(index: usize, img: &EvalImage) -> Vec<ClusterRecord> {
    img.clusters.iter().filter(|c| c.max_cnr >= MIN_CNR).map(|c| ClusterRecord::new(index, c, img)).collect()
}

fn level_row(cnr: f64, free: &[FreeImage], clusters: &[ClusterRecord]) -> LevelRow {
    let n = free.len() as f64;
    let count = |v: &[f64]| v.iter().filter(|&&c| c >= cnr).count() as f64;
    LevelRow {
        cnr,
        distinct_per_free_image: free.iter().map(|f| count(&f.distinct_5mm)).sum::<f64>() / n,
        patch_findings_per_free_image: free.iter().map(|f| count(&f.distinct_patch)).sum::<f64>() / n,
        free_images_with_one: free.iter().filter(|f| count(&f.distinct_5mm) > 0.0).count() as f64 / n,
        clusters_reaching: clusters.iter().filter(|c| c.max_cnr >= cnr).count() as f64 / clusters.len() as f64,
    }
}

/// The lowest level (steps of 0.05 from [`LOWEST`]) with at most `budget` patch-sized findings per
/// calcification-free image, and its row.
fn level_within(budget: f64, free: &[FreeImage], clusters: &[ClusterRecord]) -> Option<LevelRow> {
    (0..=400)
        .map(|i| LOWEST + 0.05 * f64::from(i))
        .map(|c| level_row(c, free, clusters))
        .find(|r| r.patch_findings_per_free_image <= budget)
}

fn markdown(a: &EvaluateBackgroundArgs, rows: &[LevelRow], free: &[FreeImage], clusters: &[ClusterRecord]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "Seed {}, {} images: {} calcification-free, {} visible clusters (CNR ≥ {MIN_CNR}; {} with one visible speck)\n\n",
        a.seed,
        a.test_images,
        free.len(),
        clusters.len(),
        clusters.iter().filter(|c| c.visible_specks <= 1).count()
    );
    s.push_str("| CNR level | background findings per calcification-free image (5 mm / one patch apart) | images with one or more | visible clusters reaching it |\n|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| {:.1} | {:.2} / {:.2} | {:.0}% | {:.1}% |",
            r.cnr,
            r.distinct_per_free_image,
            r.patch_findings_per_free_image,
            100.0 * r.free_images_with_one,
            100.0 * r.clusters_reaching
        );
    }
    for budget in [1.0, 2.0] {
        if let Some(r) = level_within(budget, free, clusters) {
            let _ = writeln!(
                s,
                "\nContrast-only reference at <= {budget} patch-sized finding per calcification-free image: CNR >= {:.2}, {:.1}% of the visible clusters ({:.2} findings)",
                r.cnr,
                100.0 * r.clusters_reaching,
                r.patch_findings_per_free_image
            );
        }
    }
    s
}
