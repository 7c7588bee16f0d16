//! End-to-end tests of the readout on synthetic corner scores from a known visibility model.

use super::detection::DetectionMatrix;
use super::synthetic::{Visibility, synthetic_images};
use super::truth::consensus_truth;
use super::*;
use crate::phantom::cdmam::geometry::{Cell, Corner};
use crate::phantom::cdmam::layout::Layout;
use crate::phantom::cdmam::scores::ImageScores;

fn options(bootstrap: usize) -> ReadoutOptions {
    ReadoutOptions { bootstrap, ..ReadoutOptions::default() }
}

/// The 4-AFC sensitivity index at which a single image is correct 62.5 % of the time (`∫ φ(x − d′) Φ(x)³ dx =
/// 0.625`, solved numerically).
const D_PRIME_AT_THRESHOLD: f64 = 1.235;

fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values.into_iter().fold((0.0, 0.0), |(s, n), v| (s + v, n + 1.0));
    sum / n
}

#[test]
fn the_leave_one_out_consensus_does_not_inflate_detection_on_pure_noise() {
    let layout = Layout::standard();
    let (mut raw, mut corrected_interior, mut own_included) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 0..5 {
        let images = synthetic_images(&layout, 16, Visibility::none(), seed);
        let truths = consensus_truth(&images);
        for (image, truth) in images.iter().zip(&truths) {
            let m = DetectionMatrix::new(image, truth);
            raw.extend(m.raw.values().map(|(_, c)| f64::from(u8::from(c))));
            corrected_interior
                .extend(m.corrected.values().filter(|(cell, _)| cell.neighbours().count() == 4).map(|(_, c)| f64::from(u8::from(c))));
            // For contrast: a consensus that includes the image itself agrees with it far more often than chance.
            for cell in Cell::all() {
                let sum: [f32; 4] = std::array::from_fn(|k| images.iter().map(|im| im.get(cell).unwrap()[k]).sum());
                let best = (0..4).fold(0, |b, k| if sum[k] > sum[b] { k } else { b });
                own_included.push(f64::from(u8::from(image.choice(cell) == Some(Corner::ALL[best]))));
            }
        }
    }
    // 16 400 choices: the standard error of a 25 % rate is 0.0034.
    let raw_rate = mean(raw);
    assert!((raw_rate - 0.25).abs() < 0.015, "leave-one-out agreement on noise {raw_rate:.4}");
    // Interior cells after the correction: 0.25 · P(Bin(4, ¼) ≥ 2) + 0.75 · P(Bin(4, ¼) ≥ 3) = 0.1035.
    let corrected_rate = mean(corrected_interior);
    assert!((corrected_rate - 0.1035).abs() < 0.015, "corrected agreement on noise {corrected_rate:.4}");
    let biased = mean(own_included);
    assert!(biased > 0.3, "including the image itself inflates agreement: {biased:.3}");

    // The whole readout on noise: nothing in range, no curve, and every assessed limit fails (lower bounds).
    let images = synthetic_images(&layout, 16, Visibility::none(), 9);
    let r = analyse(&images, None, &options(20)).unwrap();
    assert_eq!(r.truth_source, TruthSource::Consensus);
    assert!(r.curve.is_none() && r.iqf.is_none());
    assert!(r.diameters.iter().all(|d| d.flags.contains(&RowFlag::AboveRange)), "{:?}", r.diameters);
    assert_eq!(r.overall, VerdictLevel::Fail);
    assert!(r.warnings.iter().any(|w| matches!(w, ReadoutWarning::NoCurve { rows_in_range: 0 })));
}

#[test]
fn the_leave_one_out_consensus_recovers_the_truth_where_discs_are_visible() {
    let layout = Layout::standard();
    let visibility = Visibility::typical();
    let images = synthetic_images(&layout, 16, visibility, 2);
    let truths = consensus_truth(&images);
    let visible: Vec<Cell> = Cell::all().filter(|&c| visibility.signal(c) >= 3.0).collect();
    assert!(visible.len() > 60, "{}", visible.len());
    let agree = mean(truths.iter().flat_map(|t| visible.iter().map(|&c| f64::from(u8::from(t.get(c) == layout.corner(c))))));
    assert!(agree > 0.995, "consensus = layout on {:.1} % of visible cells", 100.0 * agree);

    // Scoring against the consensus gives nearly the thresholds of scoring against the layout.
    let with_layout = analyse(&images, Some(&layout), &options(0)).unwrap();
    let with_consensus = analyse(&images, None, &options(0)).unwrap();
    assert_eq!(with_layout.truth_source, TruthSource::Layout);
    for (a, b) in with_layout.diameters.iter().zip(&with_consensus.diameters) {
        let (d, a, b) = (a.diameter_mm, a.fitted_um.unwrap(), b.fitted_um.unwrap());
        assert!((b / a - 1.0).abs() < 0.15, "d {d}: layout {a:.4}, consensus {b:.4}");
    }
}

#[test]
fn thresholds_fall_as_the_signal_rises_and_track_the_model() {
    let layout = Layout::standard();
    let readouts: Vec<(Visibility, CdcReadout)> = [80.0, 130.0, 250.0]
        .into_iter()
        .map(|k| (Visibility { k }, analyse(&synthetic_images(&layout, 16, Visibility { k }, 3), Some(&layout), &options(0)).unwrap()))
        .collect();
    for pair in readouts.windows(2) {
        let (weak, strong) = (&pair[0].1, &pair[1].1);
        for (w, s) in weak.diameters.iter().zip(&strong.diameters) {
            assert!(s.fitted_um.unwrap() < w.fitted_um.unwrap(), "d {}: {:?} vs {:?}", w.diameter_mm, w.fitted_um, s.fitted_um);
        }
        assert!(strong.iqf.unwrap() < weak.iqf.unwrap() && strong.iqf_inv.unwrap() > weak.iqf_inv.unwrap());
    }
    // The readout's threshold sits near the single-image 62.5 % point of the model. The nearest-neighbour
    // correction (which sharpens the row's curve) and the smoothing across rows move it: over seeds 0–5 the ratio
    // fitted / model ranged 0.58–1.25 per row, its median over the rows 0.70–0.95.
    for (visibility, readout) in &readouts {
        let mut ratios: Vec<f64> = readout
            .diameters
            .iter()
            .map(|d| d.fitted_um.unwrap() / visibility.thickness_for_signal(D_PRIME_AT_THRESHOLD, d.diameter_mm).unwrap())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let median = 0.5 * (ratios[5] + ratios[6]);
        assert!((0.65..1.05).contains(&median) && ratios[0] > 0.5 && ratios[11] < 1.4, "k {}: {ratios:.2?}", visibility.k);
    }
}

#[test]
fn too_few_images_and_unscored_images_are_errors() {
    let layout = Layout::standard();
    let images = synthetic_images(&layout, 4, Visibility::typical(), 1);
    assert_eq!(analyse(&images, None, &options(0)), Err(AnalysisError::TooFewImages { got: 4, need: 8 }));
    let one = ReadoutOptions { min_images: 1, ..options(0) };
    assert_eq!(analyse(&images[..1], None, &one), Err(AnalysisError::TooFewImages { got: 1, need: 2 }));
    assert_eq!(analyse(&vec![ImageScores::default(); 10], None, &options(0)), Err(AnalysisError::NoCellsScored));
    let msg = AnalysisError::TooFewImages { got: 4, need: 8 }.to_string();
    assert!(msg.contains("got 4") && msg.contains("at least 8"), "{msg}");
}

#[test]
fn bootstrap_intervals_contain_the_estimate_and_narrow_with_more_images() {
    let layout = Layout::standard();
    let width = |n: usize| {
        let r = analyse(&synthetic_images(&layout, n, Visibility::typical(), 4), Some(&layout), &ReadoutOptions::default()).unwrap();
        for d in &r.diameters {
            let ([lo, hi], t) = (d.ci_automated.unwrap(), d.fitted_um.unwrap());
            assert!(lo <= t && t <= hi, "n {n}, d {}: {t} outside [{lo}, {hi}]", d.diameter_mm);
            let [hlo, hhi] = d.ci_human.unwrap();
            assert!((hlo / lo - d.human_factor).abs() < 1e-9 && (hhi / hi - d.human_factor).abs() < 1e-9);
            assert!(d.bootstrap_valid >= 190, "{}", d.bootstrap_valid);
        }
        mean(r.diameters.iter().map(|d| (d.ci_automated.unwrap()[1] - d.ci_automated.unwrap()[0]) / d.fitted_um.unwrap()))
    };
    let (w16, w64) = (width(16), width(64));
    // The width should roughly halve with four times the images.
    assert!(w64 < 0.7 * w16, "mean relative width {w16:.3} with 16 images, {w64:.3} with 64");
}

#[test]
fn the_bootstrap_is_seeded() {
    let layout = Layout::standard();
    let images = synthetic_images(&layout, 12, Visibility::typical(), 6);
    let run = |seed| analyse(&images, Some(&layout), &ReadoutOptions { bootstrap: 40, seed, ..ReadoutOptions::default() }).unwrap();
    let ci = |r: &CdcReadout| r.diameters.iter().map(|d| d.ci_automated).collect::<Vec<_>>();
    assert_eq!(ci(&run(1)), ci(&run(1)));
    assert_ne!(ci(&run(1)), ci(&run(2)));
    assert!(run(1).warnings.contains(&ReadoutWarning::FewImages { images: 12, recommended: 16 }));
}

#[test]
fn a_layout_that_does_not_match_the_images_falls_back_to_the_consensus() {
    let layout = Layout::standard();
    let images = synthetic_images(&layout, 16, Visibility::typical(), 7);
    let wrong = analyse(&images, Some(&Layout::random(11)), &options(0)).unwrap();
    assert_eq!(wrong.truth_source, TruthSource::Consensus);
    assert!(wrong.layout_agreement.unwrap() < 0.5);
    assert!(wrong.warnings.iter().any(|w| matches!(w, ReadoutWarning::LayoutMismatch { .. })), "{:?}", wrong.warnings);
    let right = analyse(&images, Some(&layout), &options(0)).unwrap();
    assert_eq!(right.truth_source, TruthSource::Layout);
    assert!(right.layout_agreement.unwrap() > 0.99 && right.warnings.is_empty(), "{:?}", right.warnings);

    let noise = synthetic_images(&layout, 16, Visibility::none(), 7);
    let unverified = analyse(&noise, Some(&layout), &options(0)).unwrap();
    assert_eq!(unverified.truth_source, TruthSource::Consensus);
    assert!(unverified.warnings.iter().any(|w| matches!(w, ReadoutWarning::LayoutUnverified { .. })));
}

#[test]
fn verdicts_use_the_fitted_human_thresholds() {
    let layout = Layout::standard();
    let r = analyse(&synthetic_images(&layout, 16, Visibility { k: 250.0 }, 8), Some(&layout), &options(0)).unwrap();
    assert_eq!(r.verdicts.len(), 5);
    assert_eq!((r.verdicts[0].diameter_mm, r.verdicts[0].level), (2.0, VerdictLevel::NotAssessed));
    for v in r.verdicts.iter().filter(|v| v.in_readout_range) {
        let row = r.diameters.iter().find(|d| (d.diameter_mm - v.diameter_mm).abs() < 1e-9).unwrap();
        assert_eq!(v.human, HumanThreshold::Value(row.human_um.unwrap()));
        let h = row.human_um.unwrap();
        let expected = if h <= v.achievable_um {
            VerdictLevel::Achievable
        } else if h <= v.acceptable_um {
            VerdictLevel::Acceptable
        } else {
            VerdictLevel::Fail
        };
        assert_eq!(v.level, expected);
    }
    let iqf: f64 = r.diameters.iter().map(|d| d.diameter_mm * d.human_um.unwrap()).sum();
    assert!((r.iqf.unwrap() - iqf).abs() < 1e-12);
}

#[test]
fn cells_missing_from_some_images_count_fewer_trials_and_the_readout_serialises() {
    let layout = Layout::standard();
    let mut images = synthetic_images(&layout, 10, Visibility::typical(), 10);
    let edge = Cell { row: 14, col: 15 };
    for image in &mut images[..3] {
        image.corners[edge.row][edge.col] = None;
    }
    let r = analyse(&images, Some(&layout), &options(10)).unwrap();
    assert_eq!(r.images_per_cell.get(edge), Some(7.0));
    assert_eq!(r.images_per_cell.get(Cell { row: 7, col: 7 }), Some(10.0));
    assert_eq!(r.per_image[0].raw.get(edge), None);

    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["truth_source"], "layout");
    assert_eq!(json["fraction_correct"].as_array().unwrap().len(), 16);
    assert!(json["fraction_correct"][0][0].is_null());
    assert_eq!(json["diameters"].as_array().unwrap().len(), 12);
    assert_eq!(json["curve"]["coefficients"].as_array().unwrap().len(), 4);
    assert!(json["per_image"][0]["corrected"][7][7].is_boolean());
    assert!(json["overall"].is_string() && json["warnings"][0]["kind"] == "few_images");
}
