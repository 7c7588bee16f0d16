//! Tests of the whole simulator on small breasts (fast in the dev profile).

use super::*;
use crate::imaging::spectrum::{RadialSpectrum, fit_beta, radial_power_spectrum};

fn small(seed: u64, view: View) -> SimulatedMammogram {
    simulate(&MammogramParams::small_for_tests(seed, view)).unwrap()
}

#[test]
fn same_seed_same_image_other_seed_other_image() {
    let params = MammogramParams::small_for_tests(11, View::Cc);
    let (a, b) = (simulate(&params).unwrap(), simulate(&params).unwrap());
    assert_eq!(a.image, b.image);
    assert_eq!(a.raw, b.raw);
    assert_eq!(serde_json::to_string(&a.truth).unwrap(), serde_json::to_string(&b.truth).unwrap());
    let c = simulate(&MammogramParams { seed: 12, ..params }).unwrap();
    assert_ne!(a.image, c.image);
}

#[test]
fn output_is_14_bit_and_black_outside_the_breast() {
    let sim = small(2, View::Mlo);
    assert!(sim.image.data.iter().all(|&v| (0.0..=16383.0).contains(&v) && v.fract() == 0.0));
    assert!(sim.raw.data.iter().all(|&v| (0.0..=16383.0).contains(&v)));
    // Air beyond the nipple at mid-height is 0, the breast centre is well above it.
    let (w, h) = (sim.image.width, sim.image.height);
    assert_eq!(sim.image.get(w - 2, h / 2), Some(0.0));
    let nipple = sim.truth.nipple_px;
    assert!(sim.image.get((nipple[0] * 0.5) as usize, nipple[1] as usize).unwrap() > 1000.0);
}

#[test]
fn calcifications_lie_inside_the_breast_mask() {
    for seed in 0..4 {
        let sim = small(seed, if seed % 2 == 0 { View::Cc } else { View::Mlo });
        let mask = &sim.truth.breast_mask;
        let decoded = mask.decode();
        assert!(!sim.truth.calcifications.is_empty());
        for c in &sim.truth.calcifications {
            assert!(mask.contains(c.center_px[0] as usize, c.center_px[1] as usize, &decoded), "{c:?}");
            assert!((0.05..=1.0).contains(&c.size_mm) && c.contrast > 0.0);
            assert!((c.center_mm[0] - c.center_px[0] * 0.1).abs() < 1e-9);
        }
    }
}

#[test]
fn clusters_are_placed_apart_in_every_view() {
    // Cluster centres are drawn inside the glandular tissue; they must not collapse onto one fallback point.
    for (seed, view) in [(6, View::Cc), (3, View::Cc), (6, View::Mlo), (5, View::Mlo)] {
        let sim = small(seed, view);
        let centres: Vec<[f64; 2]> = sim.truth.clusters.iter().map(|c| c.center_px).collect();
        for (i, a) in centres.iter().enumerate() {
            for b in &centres[i + 1..] {
                assert!((a[0] - b[0]).hypot(a[1] - b[1]) > 1e-6, "seed {seed} {view:?}: clusters share a centre {a:?}");
            }
        }
    }
}

#[test]
fn calcifications_are_brighter_before_noise() {
    // Compare the noise-free images in the log-attenuation domain: each image's own black/white points (which
    // depend on its content) are undone, so only the added attenuation of the calcifications remains.
    let mut params = MammogramParams::small_for_tests(5, View::Cc);
    params.lesions.mass = false;
    let with = simulate(&params).unwrap();
    let lesions = LesionParams { calcification_clusters: 0, ..params.lesions.clone() };
    let without = simulate(&MammogramParams { lesions, ..params }).unwrap();
    let log_at = |sim: &SimulatedMammogram, x: usize, y: usize| {
        let p = &sim.truth.processing;
        p.log_black + f64::from(sim.clean.get(x, y).unwrap()) / 16383.0 * (p.log_white - p.log_black)
    };
    assert!(!with.truth.calcifications.is_empty());
    for c in &with.truth.calcifications {
        let (x, y) = (c.center_px[0] as usize, c.center_px[1] as usize);
        let diff = log_at(&with, x, y) - log_at(&without, x, y);
        assert!(diff > 0.0, "{c:?}: {diff}");
    }
}

#[test]
fn texture_has_a_power_law_spectrum() {
    let sim = small(7, View::Cc);
    let size = 128;
    let cx = (sim.truth.nipple_px[0] * 0.45) as usize;
    let cy = sim.truth.nipple_px[1] as usize;
    let spectra: Vec<RadialSpectrum> = [[-1, -1], [-1, 0], [0, -1], [0, 0]]
        .iter()
        .map(|d: &[i64; 2]| {
            let x = (cx as i64 + d[0] * size as i64 / 2 - size as i64 / 4).max(0) as usize;
            let y = (cy as i64 + d[1] * size as i64 / 2).max(0) as usize;
            radial_power_spectrum(&sim.clean, [x, y], size, 0.1).unwrap()
        })
        .collect();
    let beta = fit_beta(&RadialSpectrum::average(&spectra).unwrap(), 0.15, 1.0).unwrap();
    assert!((2.0..4.0).contains(&beta), "β = {beta}");
}

#[test]
fn mlo_has_a_bright_pectoral_muscle_and_cc_has_none() {
    let sim = small(8, View::Mlo);
    assert!(sim.truth.pectoral_edge_px.len() > 2);
    let edge = sim.truth.pectoral_edge_px[0];
    // Inside the muscle near the top of the chest wall vs the fatty breast near the nipple.
    let muscle = sim.image.get((edge[0] * 0.3) as usize, 5).unwrap();
    let nipple = sim.truth.nipple_px;
    let front = sim.image.get((nipple[0] - 40.0) as usize, nipple[1] as usize).unwrap();
    assert!(muscle > front, "muscle {muscle} vs front {front}");
    assert!(small(8, View::Cc).truth.pectoral_edge_px.is_empty());
}

#[test]
fn exam_has_four_views_with_orientations() {
    let exam = screening_exam(42, 0.1, Some(Density::C));
    let stems: Vec<_> = exam.iter().map(|v| v.stem.as_str()).collect();
    assert_eq!(stems, ["R_CC", "L_CC", "R_MLO", "L_MLO"]);
    let cols: Vec<_> = exam.iter().map(|v| v.patient_orientation.1.as_str()).collect();
    assert_eq!(cols, ["L", "R", "F", "F"]);
    assert!(exam.iter().all(|v| v.params.density == Density::C));
    assert_eq!(exam[0].params.anatomy_seed, exam[2].params.anatomy_seed);
}
