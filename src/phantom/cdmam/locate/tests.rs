//! End-to-end tests on images from the test renderer.

use super::render::{Scene, render};
use super::*;
use crate::phantom::cdmam::geometry::Cell;
use crate::phantom::cdmam::layout::Layout;

/// The largest distance between found and true cell centres, pixels.
pub(super) fn worst_centre_error(found: &PhantomPose, truth: &PhantomPose) -> f64 {
    Cell::all()
        .map(|cell| {
            let (a, b) = (found.cell_centre_px(cell), truth.cell_centre_px(cell));
            (a[0] - b[0]).hypot(a[1] - b[1])
        })
        .fold(0.0, f64::max)
}

#[test]
fn locates_a_noisy_phantom_with_margins_and_text() {
    let mut scene = Scene::new(200.0, 280.0, 0.25, 3.0, 7);
    scene.open_field = Some(1600.0);
    scene.text = true;
    let image = render(&scene);
    let located = locate(&image, &LocateOptions::with_hint(0.25)).unwrap();
    let error = worst_centre_error(&located.pose, &scene.pose);
    assert!(error < 0.3, "worst cell centre {error:.3} px, {located:?}");
    assert!(located.cells_found >= 195, "{located:?}");
    assert!(located.discs_dark && located.fit_residual_px < 0.3, "{located:?}");
    assert!((located.grid_contrast - 0.09).abs() < 0.03, "{located:?}");
}

#[test]
fn finds_the_pitch_without_a_hint_and_gold_brighter_than_the_plate() {
    let mut scene = Scene::new(190.0, 260.0, 0.25, -4.0, 8);
    scene.bright_gold = true;
    scene.pose.pixel_mm = 0.23; // magnified: the phantom is larger than the detector pixel says
    let image = render(&scene);
    let located = locate(&image, &LocateOptions::default()).unwrap();
    let error = worst_centre_error(&located.pose, &scene.pose);
    assert!(error < 0.3, "worst cell centre {error:.3} px, {located:?}");
    assert!(!located.discs_dark);
    let with_hint = locate(&image, &LocateOptions::with_hint(0.25)).unwrap();
    assert!(worst_centre_error(&with_hint.pose, &scene.pose) < 0.3);
}

#[test]
fn recovers_all_eight_orientations() {
    for k in 0..8u32 {
        let mut scene = Scene::new(250.0, 250.0, 0.3, 2.0 - f64::from(k), 20 + u64::from(k));
        scene.pose.angle_rad += f64::from(k % 4) * std::f64::consts::FRAC_PI_2;
        scene.pose.mirrored = k >= 4;
        let image = render(&scene);
        let located = locate(&image, &LocateOptions::with_hint(0.3)).unwrap();
        let error = worst_centre_error(&located.pose, &scene.pose);
        assert!(error < 0.3, "orientation {k}: worst cell centre {error:.3} px, {located:?}");
        assert_eq!(located.pose.mirrored, scene.pose.mirrored);
    }
}

#[test]
fn scores_pick_the_corner_of_visible_discs() {
    let scene = Scene::new(190.0, 260.0, 0.2, 1.0, 9);
    let image = render(&scene);
    let located = locate(&image, &LocateOptions::with_hint(0.2)).unwrap();
    let scores = score(&image, &located);
    assert_eq!(scores.scored(), 205);
    let layout = Layout::standard();
    let visible: Vec<Cell> = Cell::all().filter(|c| c.thickness_um() >= 0.5 && c.diameter_mm() >= 0.5).collect();
    let right = visible.iter().filter(|&&c| scores.choice(c) == layout.corner(c)).count();
    assert_eq!(right, visible.len(), "{right} of {}", visible.len());
    // The true corner of a thick large disc stands far above the noise; the others near 0.
    let cell = Cell { row: 4, col: 12 };
    let s = scores.get(cell).unwrap();
    let truth = layout.corner(cell).unwrap().index();
    assert!(s[truth] > 20.0, "{s:?}");
    assert!((0..4).filter(|&i| i != truth).all(|i| s[i].abs() < 5.0), "{s:?}");
    assert!(located.cells_refined > 20, "{located:?}");
}

#[test]
fn no_grid_is_an_error_not_a_panic() {
    let flat = Image::filled(600, 800, 1000.0);
    assert!(matches!(locate(&flat, &LocateOptions::with_hint(0.25)), Err(LocateError::Flat)));
    for (w, h) in [(0, 0), (1, 1), (3, 500), (40, 40)] {
        let tiny = Image::filled(w, h, 1.0);
        assert!(locate(&tiny, &LocateOptions::default()).is_err(), "{w}×{h}");
    }
    let mut noise = Scene::new(150.0, 200.0, 0.25, 0.0, 3);
    noise.plate_signal = 1000.0;
    noise.pose.centre_px = [1e6, 1e6]; // the phantom far outside: pure noise
    let image = render(&noise);
    let err = locate(&image, &LocateOptions::with_hint(0.25)).unwrap_err();
    assert!(matches!(err, LocateError::NoGrid(_) | LocateError::NoMatch(_)), "{err}");
    // A mammogram-like blob: a smooth bright ellipse on noise.
    let (w, h) = (600, 800);
    let blob: Vec<f32> = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f64 / w as f64 - 0.3, (i / w) as f64 / h as f64 - 0.5);
            let r = (x * x / 0.25 + y * y / 0.16).sqrt();
            let base = if r < 1.0 { 800.0 - 300.0 * r * r } else { 2000.0 };
            (base + 5.0 * ((i * 7919) % 13) as f64) as f32
        })
        .collect();
    let err = locate(&Image::new(w, h, blob).unwrap(), &LocateOptions::with_hint(0.25)).unwrap_err();
    assert!(matches!(err, LocateError::NoGrid(_) | LocateError::NoMatch(_)), "{err}");
    let nan = Image::filled(300, 300, f32::NAN);
    assert!(matches!(locate(&nan, &LocateOptions::default()), Err(LocateError::NonFinite { .. })));
    assert!(matches!(locate(&image, &LocateOptions::with_hint(-1.0)), Err(LocateError::Hint(_))));
}

#[test]
fn nan_pixels_and_scoring_garbage_do_not_panic() {
    let scene = Scene::new(190.0, 260.0, 0.25, 0.0, 11);
    let mut image = render(&scene);
    for k in (0..image.data.len()).step_by(997) {
        image.data[k] = f32::NAN;
    }
    let located = locate(&image, &LocateOptions::with_hint(0.25)).unwrap();
    assert!(worst_centre_error(&located.pose, &scene.pose) < 0.5);
    let scores = score(&image, &located);
    assert_eq!(scores.scored(), 205);
    // Scoring a pose that lies off the image gives no scores.
    let mut off = located.clone();
    off.pose.centre_px = [-5000.0, -5000.0];
    assert_eq!(score(&image, &off).scored(), 0);
    assert_eq!(score(&Image::filled(1, 1, 0.0), &located).scored(), 0);
}

/// A pattern more periodic than the grid along the image axes (here round dark dots every 8 mm, as the crossings
/// and disc columns of the diamond fold every 7.1 mm along the axes) makes the most significant lattice: it must be
/// checked against the outline and given up for the grid.
#[test]
fn a_stronger_comb_along_the_image_axes_does_not_hide_the_grid() {
    let pixel_mm = 0.4;
    let mut scene = Scene::new(200.0, 270.0, pixel_mm, 1.0, 31);
    scene.noise_sigma = 3.0;
    let mut image = render(&scene);
    let (pitch, radius) = (8.0 / pixel_mm, 1.0 / pixel_mm);
    for (i, v) in image.data.iter_mut().enumerate() {
        let (x, y) = ((i % scene.width) as f64, (i / scene.width) as f64);
        let (dx, dy) = ((x + 0.5 * pitch).rem_euclid(pitch) - 0.5 * pitch, (y + 0.5 * pitch).rem_euclid(pitch) - 0.5 * pitch);
        if dx.hypot(dy) < radius {
            *v -= 30.0;
        }
        // Collimator edges along the image axes, so that the axes are a candidate angle.
        if x < 25.0 || y < 25.0 {
            *v += 400.0;
        }
    }
    let coarse = prepare::coarse(&image, pixel_mm, 0.4).unwrap();
    let nominal = 10.0 / coarse.nominal_mm;
    let range = (nominal / 1.3, nominal * 1.3);
    let mut seen = Vec::new();
    let _ = lattices::<()>(&coarse, range, |c| {
        seen.push(c);
        None
    })
    .unwrap();
    let strongest = seen.iter().max_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
    let quarter = std::f64::consts::FRAC_PI_2;
    let off_axis = |theta: f64| (theta + quarter / 2.0).rem_euclid(quarter) - quarter / 2.0;
    assert!(off_axis(strongest.1.theta).abs() < 1f64.to_radians() && strongest.0 >= CLEAR_SIGNIFICANCE, "{seen:?}");
    let located = locate(&image, &LocateOptions::with_hint(pixel_mm)).map_err(|e| format!("{e}; lattices {seen:?}")).unwrap();
    let error = worst_centre_error(&located.pose, &scene.pose);
    assert!(error < 0.3, "worst cell centre {error:.3} px, {located:?}");
}
