//! Tests of the CDMAM simulator as a whole: counts, determinism, gold mass, noise statistics, heel, contrast,
//! the ideal observer and parameter checks. Small images (0.2–0.3 mm pixels) keep them fast in the dev profile.

use super::{
    attenuation::Material,
    field::Field,
    grid::Grid,
    scene::{expected_quanta, paint_discs},
    spectrum::{PMMA_MM, RHODIUM_FILTER_MM},
    supersample::paint_shape,
    text::phantom_text,
    *,
};
use crate::phantom::cdmam::{
    geometry::{Cell, PhantomPose},
    layout::Layout,
    tables::{ALUMINIUM_MM, CELL_PITCH_MM, GRID_LINE_WIDTH_MM},
};

/// Quiet, small settings: no electronic noise, no blur, no heel, no text.
fn plain(pixel_mm: f64) -> CdmamParams {
    CdmamParams { pixel_mm, margin_mm: 0.0, noise: 0.0, blur_mm: 0.0, heel: 0.0, text: false, ..CdmamParams::default() }
}

fn expected_map(params: &CdmamParams, seed: u64, index: u32) -> (Field, PhantomPose, Beam, Vec<f32>) {
    let field = Field::new(params);
    let pose = field.exposure_pose(params, seed, index);
    let beam = Beam::new(params);
    let quanta = expected_quanta(params, &Layout::standard(), &beam, &pose, [field.width, field.height]);
    (field, pose, beam, quanta)
}

#[test]
fn truth_has_205_cells_and_410_discs_inside_the_image() {
    let params = CdmamParams { pixel_mm: 0.3, ..CdmamParams::default() };
    let layout = Layout::standard();
    let exposure = simulate(&params, &layout, 11, 3).unwrap();
    let t = truth(&params, &layout, &exposure, 11, 3);
    assert_eq!(t.cells.len(), 205);
    assert_eq!(t.disc_count(), 410);
    for c in &t.cells {
        assert_eq!(Some(c.corner), layout.corner(Cell { row: c.row, col: c.col }));
        for [x, y] in [c.centre_px, c.corner_px] {
            assert!(x > 0.0 && y > 0.0 && x < t.width as f64 && y < t.height as f64);
        }
    }
    let json = serde_json::to_string(&t).unwrap();
    let back: Truth = serde_json::from_str(&json).unwrap();
    // serde_json parses floats to within an ulp or so (no `float_roundtrip` feature).
    assert!((back.cells.len(), back.seed, back.index, back.width) == (205, 11, 3, t.width));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    assert!(back.cells.iter().zip(&t.cells).all(|(a, b)| close(a.corner_px[0], b.corner_px[0]) && close(a.centre_px[1], b.centre_px[1])));
    assert!(close(back.params.blur_mm, params.blur_mm) && close(back.gain, t.gain));
}

#[test]
fn exposures_are_seeded_and_differ_in_pose_and_noise() {
    let params = CdmamParams { pixel_mm: 0.3, margin_mm: 2.0, ..CdmamParams::default() };
    let layout = Layout::standard();
    let a = simulate(&params, &layout, 5, 0).unwrap();
    assert_eq!(a, simulate(&params, &layout, 5, 0).unwrap());
    let b = simulate(&params, &layout, 5, 1).unwrap();
    assert_eq!([a.image.width, a.image.height], [b.image.width, b.image.height], "the field is fixed");
    let moved = (a.pose.centre_px[0] - b.pose.centre_px[0]).hypot(a.pose.centre_px[1] - b.pose.centre_px[1]);
    assert!(moved > 1e-6 && (a.pose.angle_rad - b.pose.angle_rad).abs() > 1e-9);
    assert_ne!(a.image.data, b.image.data);
    for e in [&a, &b] {
        let nominal = Field::new(&params).nominal;
        let shift_mm = (e.pose.centre_px[0] - nominal.centre_px[0]).abs().max((e.pose.centre_px[1] - nominal.centre_px[1]).abs()) * 0.3;
        assert!(shift_mm <= 3.0 + 1e-9);
        assert!((e.pose.angle_rad - std::f64::consts::FRAC_PI_4).abs() <= 1.5f64.to_radians() + 1e-12);
    }
    assert_ne!(a.image.data, simulate(&params, &layout, 6, 0).unwrap().image.data);
}

#[test]
fn painted_gold_mass_is_area_times_thickness() {
    // Every disc, on a turned grid of 0.07 mm pixels.
    let pose = PhantomPose { centre_px: [1100.0, 1700.0], angle_rad: 0.8, pixel_mm: 0.07, mirrored: false };
    let size = [2200, 3400];
    let mut gold = vec![0.0f32; size[0] * size[1]];
    paint_discs(&mut gold, size, &pose, &Layout::standard(), Cell::thickness_um);
    let mass: f64 = gold.iter().map(|&g| f64::from(g)).sum::<f64>() * 0.07 * 0.07;
    let want: f64 = Cell::all().map(|c| 2.0 * std::f64::consts::PI * (c.diameter_mm() / 2.0).powi(2) * c.thickness_um()).sum();
    assert!((mass / want - 1.0).abs() < 0.02, "{mass} vs {want} mm²·µm");
    // The smallest disc (0.06 mm) alone, anywhere on the pixel grid.
    for offset in [[0.0, 0.0], [0.31, 0.77], [0.5, 0.5], [0.93, 0.12]] {
        let pose = PhantomPose { centre_px: [10.0 + offset[0], 10.0 + offset[1]], ..pose };
        let mut one = vec![0.0f32; 20 * 20];
        super::coverage::paint_disc(&mut one, [20, 20], pose.centre_px, 0.03 / 0.07, 1.42);
        let mass: f64 = one.iter().map(|&g| f64::from(g)).sum::<f64>() * 0.07 * 0.07;
        let want = std::f64::consts::PI * 0.03 * 0.03 * 1.42;
        assert!((mass / want - 1.0).abs() < 0.02, "{offset:?}: {mass} vs {want}");
    }
}

#[test]
fn grid_lines_cover_their_length_times_width() {
    let pose = PhantomPose { centre_px: [600.0, 1000.0], angle_rad: 0.77, pixel_mm: 0.12, mirrored: false };
    let size = [1200, 2000];
    let mut cover = vec![0.0f32; size[0] * size[1]];
    paint_shape(&mut cover, size[0], [0..size[1], 0..size[0]], &pose, 1.0, &Grid::new());
    let area: f64 = cover.iter().map(|&c| f64::from(c)).sum::<f64>() * 0.12 * 0.12;
    // Unit segments bordering an existing cell, each pitch × width, less one width² per crossing counted twice.
    let exists = |r: i32, c: i32| r >= 0 && c >= 0 && Cell::exists(r as usize, c as usize);
    let mut segments = 0;
    for r in 0..17 {
        for c in 0..17 {
            segments += i32::from(r < 16 && (exists(r, c - 1) || exists(r, c)));
            segments += i32::from(c < 16 && (exists(r - 1, c) || exists(r, c)));
        }
    }
    let want = f64::from(segments) * CELL_PITCH_MM * GRID_LINE_WIDTH_MM;
    assert!((area / want - 1.0).abs() < 0.03, "{area} vs {want} mm² ({segments} segments)");
    assert!(cover.iter().all(|&c| (0.0..=1.0 + 1e-6).contains(&c)));
}

#[test]
fn text_prints_its_dots_without_overlaps() {
    let pose = PhantomPose { centre_px: [1000.0, 1500.0], angle_rad: 0.8, pixel_mm: 0.1, mirrored: false };
    let size = [2000, 3000];
    let mut cover = vec![0.0f32; size[0] * size[1]];
    let lines = phantom_text();
    for line in &lines {
        let bounds = super::supersample::pixel_bounds(&pose, &line.corners_mm(), size);
        paint_shape(&mut cover, size[0], bounds, &pose, 1.0, line);
    }
    let area: f64 = cover.iter().map(|&c| f64::from(c)).sum::<f64>() * 0.01;
    let want: f64 = lines.iter().map(super::text::TextLine::dot_area_mm2).sum();
    assert!((area / want - 1.0).abs() < 0.03, "{area} vs {want}");
    assert!(cover.iter().all(|&c| c <= 1.0 + 1e-6), "no two lines overlap");
    // No text on the matrix: the gold of every pixel whose centre lies inside the cells is zero.
    let half = 8.0 * CELL_PITCH_MM;
    for (i, &c) in cover.iter().enumerate() {
        let [u, v] = pose.to_phantom([(i % size[0]) as f64, (i / size[0]) as f64]);
        let (row, col) = ((v + half) / CELL_PITCH_MM, (u + half) / CELL_PITCH_MM);
        if row >= 0.0 && col >= 0.0 && Cell::exists(row as usize, col as usize) {
            assert!(c.abs() < 1e-6, "text on cell ({row}, {col})");
        }
    }
}

#[test]
fn flat_regions_follow_poisson_statistics() {
    let params = CdmamParams { max_shift_mm: 0.0, max_rotation_deg: 0.0, ..plain(0.2) };
    let exposure = simulate(&params, &Layout::standard(), 21, 0).unwrap();
    // Pixels of each cell's free quarter (no disc, no line): the centre disc ≤ 1 mm and corner disc ≤ 3.6 mm from
    // the centre along each axis; keep 0.5 mm from both.
    let (mut n, mut sum, mut sum2) = (0.0, 0.0, 0.0);
    let img = &exposure.image;
    for y in 0..img.height {
        for x in 0..img.width {
            let [u, v] = exposure.pose.to_phantom([x as f64, y as f64]);
            let (cu, cv) = ((u / CELL_PITCH_MM).floor(), (v / CELL_PITCH_MM).floor());
            let (row, col) = (cv + 8.0, cu + 8.0);
            if !(0.0..16.0).contains(&row) || !(0.0..16.0).contains(&col) || !Cell::exists(row as usize, col as usize) {
                continue;
            }
            let cell = Cell { row: row as usize, col: col as usize };
            let [du, dv] = [u - cell.centre_mm()[0], v - cell.centre_mm()[1]];
            let corner = Layout::standard().corner(cell).unwrap().direction();
            let free =
                du.abs() > 1.5 && dv.abs() > 1.5 && du.abs() < 4.4 && dv.abs() < 4.4 && (du * corner[0] < 0.0 || dv * corner[1] < 0.0);
            if free {
                let s = f64::from(img.data[y * img.width + x]) - exposure.offset;
                (n, sum, sum2) = (n + 1.0, sum + s, sum2 + s * s);
            }
        }
    }
    let mean = sum / n;
    let var = sum2 / n - mean * mean;
    assert!(n > 50_000.0, "{n} pixels");
    assert!((mean / (exposure.gain * exposure.background_quanta) - 1.0).abs() < 0.01, "mean {mean}");
    assert!((var / mean / exposure.gain - 1.0).abs() < 0.05, "variance/mean {} vs gain {}", var / mean, exposure.gain);
    assert!((4000.0..8000.0).contains(&mean));
}

#[test]
fn heel_darkens_the_anode_side() {
    let params = CdmamParams { heel: 0.2, ..plain(0.3) };
    let (field, _, beam, quanta) = expected_map(&params, 1, 0);
    let median_row = |y: usize| {
        let mut row = quanta[y * field.width..(y + 1) * field.width].to_vec();
        row.sort_by(f32::total_cmp);
        f64::from(row[row.len() / 2])
    };
    let (top, bottom) = (median_row(0), median_row(field.height - 1));
    let want = super::scene::heel_factor(0.2, 0, field.height) / super::scene::heel_factor(0.2, field.height - 1, field.height);
    assert!(top > bottom && (top / bottom / want - 1.0).abs() < 0.01, "{top} / {bottom} vs {want}");
    assert!((top / beam.background_quanta - 1.1).abs() < 0.01);
}

#[test]
fn outside_the_plate_the_open_field_shows() {
    let params = CdmamParams { margin_mm: 30.0, max_shift_mm: 0.0, max_rotation_deg: 0.0, ..plain(0.5) };
    let (field, pose, beam, quanta) = expected_map(&params, 1, 0);
    let at = |x: usize, y: usize| f64::from(quanta[y * field.width + x]);
    // The field reaches past the plate's 160 mm width at its left and right edges, not above or below.
    assert!((at(0, field.height / 2) / beam.open_quanta - 1.0).abs() < 1e-4);
    assert!((at(field.width - 1, field.height / 2) / beam.open_quanta - 1.0).abs() < 1e-4);
    // A point on the plate, off the matrix (plate frame (0, −110) mm), sees the background.
    let [x, y] = pose.to_image(super::plate::Plate::to_phantom([0.0, -110.0])).map(|c| c.round() as usize);
    assert!((at(x, y) / beam.background_quanta - 1.0).abs() < 1e-4);
    assert!(beam.open_quanta > 1.4 * beam.background_quanta);
}

#[test]
fn a_2um_disc_has_the_spectrum_weighted_contrast() {
    let params = CdmamParams { max_shift_mm: 0.0, max_rotation_deg: 0.0, ..plain(0.1) };
    let (field, pose, beam, quanta) = expected_map(&params, 3, 0);
    let cell = Cell { row: 6, col: 15 }; // 0.50 mm, 2.00 µm
    let [x, y] = pose.cell_centre_px(cell).map(|c| c.round() as usize);
    let ratio = f64::from(quanta[y * field.width + x]) / beam.background_quanta;
    // The same transmission summed here directly over a 0.1 keV grid: W Kramers × Rh, energy-weighted.
    let (mut with, mut without) = (0.0, 0.0);
    for i in 0..180 {
        let e = 10.05 + 0.1 * f64::from(i);
        let path = Material::Rhodium.mu_per_mm(e) * RHODIUM_FILTER_MM
            + Material::Pmma.mu_per_mm(e) * PMMA_MM
            + Material::Aluminium.mu_per_mm(e) * ALUMINIUM_MM;
        let w = (28.0 - e) / e * e * (-path).exp();
        with += w * (-Material::Gold.mu_per_mm(e) * 2e-3).exp();
        without += w;
    }
    assert!((ratio / (with / without) - 1.0).abs() < 0.005, "{ratio} vs {}", with / without);
    assert!((0.6..0.85).contains(&ratio), "{ratio}");
    // On a noisy, blurred image the disc's inner pixels average to the same contrast.
    let params = CdmamParams { mas: 400.0, blur_mm: 0.03, noise: 3.0, ..params };
    let e = simulate(&params, &Layout::standard(), 3, 0).unwrap();
    let mean_in = |r: f64, c: [f64; 2]| {
        let (mut s, mut n) = (0.0, 0.0);
        for y in (c[1] - 12.0) as usize..(c[1] + 12.0) as usize {
            for x in (c[0] - 12.0) as usize..(c[0] + 12.0) as usize {
                let d = ((x as f64 - c[0]).powi(2) + (y as f64 - c[1]).powi(2)).sqrt();
                if d <= r {
                    s += f64::from(e.image.data[y * e.image.width + x]) - e.offset;
                    n += 1.0;
                }
            }
        }
        s / n
    };
    let centre = e.pose.cell_centre_px(cell);
    let inside = mean_in(1.0, centre);
    // The cell's free top-left quarter (its corner disc is at the bottom right).
    let background = mean_in(10.0, e.pose.to_image([cell.centre_mm()[0] - 2.6, cell.centre_mm()[1] - 2.6]));
    assert!((inside / background / ratio - 1.0).abs() < 0.02, "{} vs {ratio}", inside / background);
}

#[test]
fn ideal_observer_thresholds_fall_with_dose_and_rise_with_blur_and_noise() {
    let base = scenario("1").unwrap();
    for d in [1.0, 0.25, 0.1] {
        let t = ideal_observer_threshold_um(&base, d);
        assert!(t > THICKNESS_RANGE_UM[0] && t < THICKNESS_RANGE_UM[1], "{d}: {t}");
        assert!(ideal_observer_threshold_um(&CdmamParams { mas: 2.0 * base.mas, ..base.clone() }, d) < t);
        assert!(ideal_observer_threshold_um(&CdmamParams { blur_mm: 0.12, ..base.clone() }, d) > t);
        assert!(ideal_observer_threshold_um(&CdmamParams { noise: 40.0, ..base.clone() }, d) > t);
        // At the threshold, 62.5 % correct.
        let pc = four_afc_fraction_correct(ideal_observer_d_prime(&base, d, t));
        assert!((pc - 0.625).abs() < 1e-6, "{pc}");
    }
    // Smaller discs need more gold; quadrupling the dose halves a thin-gold threshold (d' ∝ √dose, contrast ≈ μt).
    let t = [1.0, 0.5, 0.25, 0.1].map(|d| ideal_observer_threshold_um(&base, d));
    assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
    let quiet = CdmamParams { noise: 0.0, ..base.clone() };
    let ratio = ideal_observer_threshold_um(&quiet, 1.0) / ideal_observer_threshold_um(&CdmamParams { mas: 4.0 * base.mas, ..quiet }, 1.0);
    assert!((ratio - 2.0).abs() < 0.05, "{ratio}");
}

#[test]
fn correlated_and_white_noise_agree_when_the_filter_vanishes() {
    let white = CdmamParams { noise: 30.0, noise_corr_mm: 0.0, ..CdmamParams::default() };
    let narrow = CdmamParams { noise_corr_mm: 0.002, ..white.clone() };
    let (a, b) = (ideal_observer_d_prime(&white, 0.25, 0.2), ideal_observer_d_prime(&narrow, 0.25, 0.2));
    assert!((a / b - 1.0).abs() < 1e-3, "{a} vs {b}");
    // A wide filter moves electronic noise power to low frequencies, away from a small disc's signal.
    let wide = CdmamParams { noise_corr_mm: 0.3, ..white };
    assert!(ideal_observer_d_prime(&wide, 0.1, 0.5) > a.min(ideal_observer_d_prime(&narrow, 0.1, 0.5)));
}

#[test]
fn raw_values_stay_in_range_for_every_scenario() {
    for name in SCENARIOS {
        let params = CdmamParams { pixel_mm: 0.3, ..scenario(name).unwrap() };
        let beam = Beam::new(&params);
        let gain = BACKGROUND_RAW / beam.background_quanta;
        assert!(RAW_OFFSET + gain * beam.open_quanta * (1.0 + params.heel / 2.0) < 15_000.0, "{name}");
        let e = simulate(&params, &Layout::standard(), 2, 0).unwrap();
        assert!(e.image.data.iter().all(|&v| (0.0..=16383.0).contains(&v) && v.fract() == 0.0));
    }
    let s1 = Beam::new(&scenario("1").unwrap()).background_quanta;
    assert!((1500.0..3000.0).contains(&s1), "{s1}");
}

#[test]
fn validate_rejects_nonsense() {
    let ok = CdmamParams::default();
    assert_eq!(ok.validate(), Ok(()));
    for (bad, name) in [
        (CdmamParams { mas: -1.0, ..ok.clone() }, "mas"),
        (CdmamParams { mas: f64::NAN, ..ok.clone() }, "mas"),
        (CdmamParams { pixel_mm: 0.0, ..ok.clone() }, "pixel_mm"),
        (CdmamParams { pixel_mm: 0.6, ..ok.clone() }, "pixel_mm"),
        (CdmamParams { kvp: 50.0, ..ok.clone() }, "kvp"),
        (CdmamParams { heel: 1.0, ..ok.clone() }, "heel"),
        (CdmamParams { detector_efficiency: 0.0, ..ok.clone() }, "detector_efficiency"),
    ] {
        match bad.validate() {
            Err(CdmamError::OutOfRange { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let huge = CdmamParams { pixel_mm: 0.01, ..ok.clone() };
    assert!(matches!(huge.validate(), Err(CdmamError::TooLarge { .. })));
    assert!(huge.validate().unwrap_err().to_string().contains("pixel_mm"));
    let mut layout = Layout::standard();
    layout.corners[7][7] = None;
    assert_eq!(simulate(&CdmamParams { pixel_mm: 0.4, ..ok }, &layout, 0, 0).unwrap_err(), CdmamError::IncompleteLayout);
    assert!(scenario("5").is_none() && scenario("OOD").is_some() && scenario("#1").is_some());
}

/// `cargo test --release --lib synth::cdmam -- --ignored --nocapture`: timing of a full 0.07 mm exposure and the
/// numbers of every scenario.
#[test]
#[ignore = "timing and report; run in release"]
fn full_field_timing_and_scenario_report() {
    for name in SCENARIOS {
        let p = scenario(name).unwrap();
        let b = Beam::new(&p);
        let t = [1.0, 0.5, 0.25, 0.1].map(|d| ideal_observer_threshold_um(&p, d));
        println!(
            "scenario {name}: open {:.0}, background {:.0} quanta/pixel, gain {:.3}, ideal-observer thresholds (µm) at 1.0/0.5/0.25/0.1 mm: {:.3} {:.3} {:.3} {:.3}",
            b.open_quanta,
            b.background_quanta,
            BACKGROUND_RAW / b.background_quanta,
            t[0],
            t[1],
            t[2],
            t[3]
        );
    }
    let params = scenario("1").unwrap();
    let start = std::time::Instant::now();
    let e = simulate(&params, &Layout::standard(), 1, 0).unwrap();
    println!(
        "full field {} × {} px at 0.07 mm: {:.2} s on {} threads",
        e.image.width,
        e.image.height,
        start.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
}
