//! GUI tests: WGSL validation, the GPU image path against the CPU reference, the app in an `egui_kittest` harness
//! (wgpu on Mesa's CPU Vulkan adapter), and the real binary in a real window under Xvfb.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions may unwrap

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::{Harness, kittest::Queryable as _};
use mammoscope::app::{Command, Layout};
use mammoscope::dicom::OpenOptions;
use mammoscope::gui::MammoscopeApp;
use mammoscope::imaging::{
    Image,
    pyramid::Pyramid,
    voi::{Display, VoiFunction, VoiLut, Window},
};
use mammoscope::render::{ImageCallback, ImageRenderer, ScreenMapping};

// ---------------------------------------------------------------- shaders

#[test]
fn every_wgsl_file_validates_with_naga() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            let source = std::fs::read_to_string(&path).unwrap();
            let module =
                naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
                .validate(&module)
                .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            count += 1;
        }
    }
    assert!(count >= 1, "no WGSL files in {dir:?}");
}

// ---------------------------------------------------------------- GPU vs CPU

/// A `w × h` test image: a ramp over 0..4095 with a fine checkerboard.
fn test_image(w: usize, h: usize) -> Image {
    let data = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let ramp = (x * 16 + y * 5) as f32;
            let checker = if (x / 3 + y / 3) % 2 == 0 { 37.0 } else { 0.0 };
            (ramp + checker).min(4095.0) - 20.0
        })
        .collect();
    Image::new(w, h, data).unwrap()
}

fn render_with_gpu(image: &Image, display: Display, lut: Option<Arc<VoiLut>>, max_tile_side: u32) -> image::RgbaImage {
    let render_state =
        egui_kittest::wgpu::create_render_state(egui_kittest::wgpu::default_wgpu_setup(), egui_wgpu::RendererOptions::PREDICTABLE);
    ImageRenderer::install(&render_state);
    if let Some(r) = render_state.renderer.write().callback_resources.get_mut::<ImageRenderer>() {
        r.set_max_tile_side(max_tile_side);
    }
    let pyramid = Pyramid::build(Arc::new(image.clone()), 16);
    let (w, h) = (image.width as f32, image.height as f32);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(w, h))
        .with_pixels_per_point(1.0)
        .renderer(egui_kittest::wgpu::WgpuTestRenderer::from_render_state(render_state))
        .build_ui(move |ui| {
            let rect = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(w, h));
            let callback = ImageCallback {
                draw: 0,
                key: (1, 0, 0),
                pyramid: pyramid.clone(),
                lut: lut.clone().map(|l| (0, l)),
                display,
                mapping: ScreenMapping {
                    rect_center_in_ui: [w / 2.0, h / 2.0],
                    center_in_image: [w / 2.0, h / 2.0],
                    zoom: 1.0,
                    flip_x: false,
                    flip_y: false,
                },
                smooth: false,
            };
            ui.painter().add(egui_wgpu::Callback::new_paint_callback(rect, callback));
        });
    harness.run_steps(2);
    harness.render().expect("render")
}

fn assert_gpu_matches_cpu(display: Display, lut: Option<&Arc<VoiLut>>) {
    assert_gpu_matches_cpu_tiled(&test_image(256, 192), display, lut, u32::MAX);
}

fn assert_gpu_matches_cpu_tiled(image: &Image, display: Display, lut: Option<&Arc<VoiLut>>, max_tile_side: u32) {
    let gpu = render_with_gpu(image, display, lut.cloned(), max_tile_side);
    let mut worst = 0i32;
    for y in 0..image.height {
        for x in 0..image.width {
            let cpu = i32::from(display.grey8(image.data[y * image.width + x], lut.map(AsRef::as_ref)));
            let px = gpu.get_pixel(x as u32, y as u32);
            let g = i32::from(px[0]);
            assert_eq!((px[0], px[1]), (px[1], px[2]), "grey expected at ({x}, {y})");
            worst = worst.max((g - cpu).abs());
        }
    }
    assert!(worst <= 1, "GPU and CPU differ by {worst} grey levels for {display:?}");
}

#[test]
fn gpu_voi_matches_cpu_reference_within_one_grey_level() {
    let base = Display {
        window: Window { center: 1500.0, width: 2500.0 },
        function: VoiFunction::Linear,
        inverted: false,
        gamma: 1.0,
        use_lut: false,
    };
    assert_gpu_matches_cpu(base, None);
    assert_gpu_matches_cpu(Display { function: VoiFunction::LinearExact, inverted: true, ..base }, None);
    assert_gpu_matches_cpu(Display { function: VoiFunction::Sigmoid, gamma: 1.8, ..base }, None);
    assert_gpu_matches_cpu(Display { window: Window { center: 100.0, width: 1.0 }, ..base }, None);
    // A VOI LUT (12-bit output) over part of the range: clamped below and above, as PS3.3 C.11.2.1.1.
    let lut = VoiLut {
        explanation: "test".into(),
        first_mapped: 500.0,
        bits: 12,
        data: (0..3000u32).map(|i| ((i * 4095) / 2999) as u16).collect(),
    };
    assert_gpu_matches_cpu(Display { use_lut: true, ..base }, Some(&Arc::new(lut)));
}

#[test]
fn tiled_upload_renders_without_seams() {
    // 64-pixel tiles: a 4 × 3 grid for a 256 × 192 image, and one with 2-pixel edge tiles (fewer mip levels than
    // the full tiles) for 194 × 130; both drawn exactly like one texture.
    let display = Display {
        window: Window { center: 2000.0, width: 3000.0 },
        function: VoiFunction::Linear,
        inverted: false,
        gamma: 1.0,
        use_lut: false,
    };
    assert_gpu_matches_cpu_tiled(&test_image(256, 192), display, None, 64);
    assert_gpu_matches_cpu_tiled(&test_image(194, 130), display, None, 64);
}

// ---------------------------------------------------------------- the app in a harness

fn sample_dir() -> PathBuf {
    let dir = mammoscope::app::loader::sample_exam_dir().expect("the built-in sample exam (assets/samples) is missing");
    assert!(dir.read_dir().unwrap().count() >= 4, "sample exam incomplete in {}", dir.display());
    dir
}

fn app_harness(paths: Vec<PathBuf>) -> Harness<'static, MammoscopeApp> {
    if paths.is_empty() {
        sample_dir();
    }
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_pixels_per_point(1.0)
        .with_accessibility_check(false)
        .wgpu()
        .build_eframe(move |cc| MammoscopeApp::new(cc, paths, OpenOptions::default()));
    wait_until(&mut harness, "loading to finish", |app| !app.is_loading());
    harness
}

fn wait_until(harness: &mut Harness<'_, MammoscopeApp>, what: &str, done: impl Fn(&MammoscopeApp) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < Duration::from_mins(4), "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.run_steps(3);
}

fn region_differs(a: &image::RgbaImage, b: &image::RgbaImage, rect: egui::Rect) -> usize {
    let mut changed = 0;
    for y in rect.min.y as u32..rect.max.y as u32 {
        for x in rect.min.x as u32..rect.max.x as u32 {
            if a.get_pixel(x, y) != b.get_pixel(x, y) {
                changed += 1;
            }
        }
    }
    changed
}

#[test]
fn sample_exam_opens_hung_four_up() {
    let mut harness = app_harness(Vec::new());
    let app = harness.state();
    assert_eq!(app.state.images.len(), 4, "the sample exam has four views");
    assert_eq!(app.state.layout, Layout::Four);
    let labels: Vec<String> = (0..4).map(|s| app.state.slot_image(s).unwrap().meta.view_label()).collect();
    assert_eq!(labels, ["R CC", "L CC", "R MLO", "L MLO"]);
    // The simulator writes every view chest wall left: the right breast is mirrored so both chest walls meet.
    for s in 0..4 {
        let image = app.state.slot_image(s).unwrap();
        assert_eq!(image.orientation.flip_x, s % 2 == 0, "{} mirroring", image.meta.view_label());
    }
    harness.snapshot("sample_exam_four_up");
}

#[test]
fn right_drag_changes_window_and_pixels_and_loupe_appears() {
    let mut harness = app_harness(Vec::new());
    let before = harness.render().unwrap();
    let id = harness.state().state.slot_image(0).unwrap().id;
    let window_before = harness.state().state.image(id).unwrap().voi.window;
    // Right-drag in the first viewport (the R CC, upper left of the viewer).
    let start = egui::pos2(450.0, 250.0);
    harness.event(egui::Event::PointerMoved(start));
    harness.step();
    harness.event(egui::Event::PointerButton {
        pos: start,
        button: egui::PointerButton::Secondary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    for i in 1..=10 {
        harness.event(egui::Event::PointerMoved(start + egui::vec2(12.0 * i as f32, 6.0 * i as f32)));
        harness.step();
    }
    let end = start + egui::vec2(120.0, 60.0);
    harness.event(egui::Event::PointerButton {
        pos: end,
        button: egui::PointerButton::Secondary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.run_steps(3);
    let window_after = harness.state().state.image(id).unwrap().voi.window;
    assert!(window_after.width > window_before.width && window_after.center > window_before.center, "{window_before:?} → {window_after:?}");
    let after = harness.render().unwrap();
    let viewer = egui::Rect::from_min_max(egui::pos2(200.0, 60.0), egui::pos2(900.0, 700.0));
    assert!(region_differs(&before, &after, viewer) > 5000, "window/level drag did not change the rendered image");

    // The loupe: toggled with L, drawn around the pointer with raw pixels.
    harness.key_press(egui::Key::L);
    let at = egui::pos2(560.0, 330.0);
    harness.event(egui::Event::PointerMoved(at));
    harness.run_steps(3);
    assert!(harness.state().view.loupe);
    let with_loupe = harness.render().unwrap();
    let around = egui::Rect::from_center_size(at, egui::vec2(200.0, 200.0));
    assert!(region_differs(&after, &with_loupe, around) > 5000, "the loupe did not appear");
}

fn drag(harness: &mut Harness<'_, MammoscopeApp>, button: egui::PointerButton, from: egui::Pos2, to: egui::Pos2) {
    harness.event(egui::Event::PointerMoved(from));
    harness.step();
    harness.event(egui::Event::PointerButton { pos: from, button, pressed: true, modifiers: egui::Modifiers::NONE });
    for i in 1..=10 {
        harness.event(egui::Event::PointerMoved(from + (to - from) * (i as f32 / 10.0)));
        harness.step();
    }
    harness.event(egui::Event::PointerButton { pos: to, button, pressed: false, modifiers: egui::Modifiers::NONE });
    harness.run_steps(3);
}

#[test]
fn measurement_in_the_first_viewport_is_stored_on_its_image() {
    let mut harness = app_harness(Vec::new());
    harness.state_mut().view.tool = mammoscope::app::Tool::Measure;
    drag(&mut harness, egui::PointerButton::Primary, egui::pos2(420.0, 200.0), egui::pos2(500.0, 260.0));
    let app = harness.state();
    let first = app.state.slot_image(0).unwrap();
    assert_eq!(first.measurements.len(), 1, "the measurement belongs to the R CC in the first viewport");
    let m = first.measurements[0];
    let spacing = first.meta.spacing.expect("the sample has a pixel spacing");
    // An 80 × 60 point drag at the fitted zoom, in mm through the image's spacing.
    let expected_mm = (80.0f64.hypot(60.0) / f64::from(app.view.slots[0].zoom)) * spacing.col_mm;
    assert!((spacing.distance_mm(m.a_in_image, m.b_in_image) - expected_mm).abs() < 0.05 * expected_mm);
    for slot in 1..4 {
        assert!(app.state.slot_image(slot).unwrap().measurements.is_empty(), "slot {slot} got a measurement");
    }
}

#[test]
fn lowpass_slider_changes_pixels_and_spectrum_and_original_restores() {
    let mut harness = app_harness(Vec::new());
    harness.state_mut().send(Command::SetLayout(Layout::One));
    harness.run_steps(3);
    let original = harness.render().unwrap();
    let id = harness.state().state.slot_image(0).unwrap().id;
    let viewer = egui::Rect::from_min_max(egui::pos2(200.0, 60.0), egui::pos2(780.0, 740.0));
    // The preview shows first; wait for the full-resolution result of the current parameters.
    let settle = |harness: &mut Harness<'_, MammoscopeApp>| {
        harness.run_steps(2);
        wait_until(harness, "the full-resolution perturbation", |app| {
            app.state.image(id).is_some_and(|i| i.perturb.current().is_some_and(|r| r.downsample == 1)) && !app.is_perturbing()
        });
    };

    // Open the lab and switch the low-pass on in the panel (R = 2 cycles/mm by default).
    harness.get_by_label("Perturbation lab").click();
    harness.run_steps(2);
    harness.get_by_label("Low-pass R").click();
    settle(&mut harness);
    let image = harness.state().state.image(id).unwrap();
    assert_eq!(image.perturb.params.lowpass_cycles_per_mm, Some(2.0));
    assert!(
        image.perturb.current().is_some_and(|r| r.downsample == 1),
        "the full-resolution result did not replace the preview (error: {:?})",
        image.perturb.error
    );
    let spectrum_at_2 = image.perturb.current().and_then(|r| r.spectra.clone()).expect("spectra").1;
    let at_2 = harness.render().unwrap();
    at_2.save(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/lab-lowpass-2.png")).ok(); // for a human look
    assert!(region_differs(&original, &at_2, viewer) > 2000, "the low-pass did not change the displayed image");

    // Move R down (what the slider sends): the pixels and the perturbed spectrum change again.
    let mut params = harness.state().state.image(id).unwrap().perturb.params;
    params.lowpass_cycles_per_mm = Some(0.5);
    harness.state_mut().send(Command::SetPerturb { image: id, params });
    settle(&mut harness);
    let at_half = harness.render().unwrap();
    assert!(region_differs(&at_2, &at_half, viewer) > 2000, "a lower R did not change the image");
    let spectrum_at_half = harness.state().state.image(id).unwrap().perturb.current().and_then(|r| r.spectra.clone()).expect("spectra").1;
    assert_ne!(spectrum_at_2.power, spectrum_at_half.power, "the spectrum plot's data did not change");

    // "Original" shows the unperturbed frame again, pixel for pixel.
    harness.get_by_label("Original").click();
    harness.run_steps(3);
    let restored = harness.render().unwrap();
    assert_eq!(region_differs(&original, &restored, viewer), 0, "the A/B toggle did not restore the original");
}

#[test]
fn bad_file_shows_notification_and_keeps_images_open() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.dcm");
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    bytes.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I', 0xff, 0x7f]); // lying length
    std::fs::write(&bad, &bytes).unwrap();
    let mut harness = app_harness(Vec::new());
    assert_eq!(harness.state().state.images.len(), 4);
    harness.state_mut().send(Command::Open(vec![bad.clone()]));
    wait_until(&mut harness, "the bad file to be processed", |app| !app.is_loading());
    assert_eq!(harness.state().state.images.len(), 4, "images already open stay open");
    let text = &harness.state().state.notifications.last().expect("a notification").text;
    assert!(text.contains("broken.dcm"), "{text}");
    harness.get_by_label_contains("Could not open broken.dcm");
    assert_eq!(std::fs::read(&bad).unwrap(), bytes, "input files are never modified");
}

// ---------------------------------------------------------------- the real binary under Xvfb

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn require_tool(name: &str) {
    let found = std::process::Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "`{name}` is needed for the real-window test: run scripts/test.sh (it installs xvfb, imagemagick, mesa-vulkan-drivers)");
}

#[test]
fn real_window_under_xvfb_shows_the_exam() {
    for tool in ["Xvfb", "import", "xdotool"] {
        require_tool(tool);
    }
    let display = format!(":{}", 90 + std::process::id() % 500);
    let _xvfb = Killed(
        std::process::Command::new("Xvfb").args([display.as_str(), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"]).spawn().unwrap(),
    );
    std::thread::sleep(Duration::from_secs_f32(0.8));
    let app = Killed(
        std::process::Command::new(env!("CARGO_BIN_EXE_mammoscope"))
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("RUST_LOG", "warn")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let shot = std::env::temp_dir().join(format!("mammoscope-xvfb-{}.png", std::process::id()));
    // Wait for the window, then for the four views to load and draw.
    let start = Instant::now();
    let mut good = None;
    while start.elapsed() < Duration::from_mins(3) {
        std::thread::sleep(Duration::from_secs(3));
        let ok = std::process::Command::new("import")
            .args(["-display", &display, "-window", "root"])
            .arg(&shot)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            continue;
        }
        let img = image::open(&shot).unwrap().to_luma8();
        if let Some(verdict) = exam_verdict(&img) {
            good = Some(verdict);
            break;
        }
    }
    drop(app);
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/xvfb-screenshot.png");
    std::fs::copy(&shot, &out).ok();
    assert!(good.is_some(), "the real window never showed a 4-view exam with chest walls at the midline; last screenshot: {out:?}");
}

/// `Some` when the screenshot shows four breasts hung 2 × 2 with the chest walls at the midline: in each row, the
/// columns next to the midline are tissue over (almost) the whole height on both sides, and the tissue narrows
/// (toward the nipple) moving outwards until background is reached.
fn exam_verdict(img: &image::GrayImage) -> Option<()> {
    let (w, h) = img.dimensions();
    let rows = [(h * 5 / 100, h * 48 / 100), (h * 53 / 100, h * 94 / 100)];
    let coverage = |x: u32, (ya, yb): (u32, u32)| -> f64 {
        let bright = (ya..yb).filter(|&y| img.get_pixel(x, y)[0] > 60).count();
        bright as f64 / f64::from(yb - ya)
    };
    // The midline: the column whose neighbours on both sides are most covered by tissue in both rows.
    let score = |x: u32| rows.iter().map(|&r| coverage(x - 12, r).min(coverage(x + 12, r))).fold(f64::INFINITY, f64::min);
    let mid = (w * 15 / 100..w * 75 / 100).max_by(|&a, &b| score(a).total_cmp(&score(b)))?;
    if score(mid) < 0.6 {
        return None;
    }
    for row in rows {
        for dir in [-1i64, 1] {
            let at = |d: u32| (i64::from(mid) + dir * i64::from(d)).clamp(0, i64::from(w) - 1) as u32;
            let near = coverage(at(12), row);
            // Walk outwards to the background.
            let extent = (12..w / 2).find(|&d| coverage(at(d), row) < 0.03)?;
            if !(60..=800).contains(&extent) {
                return None;
            }
            let toward_nipple = coverage(at(extent * 85 / 100), row);
            if !(near > 0.6 && toward_nipple < near - 0.2) {
                return None;
            }
        }
    }
    Some(())
}

// ---------------------------------------------------------------- calcification overlay

#[test]
fn calcification_overlay_toggles_and_threshold_changes_the_patches_drawn() {
    let mut harness = app_harness(Vec::new());
    harness.state_mut().send(Command::SetLayout(Layout::One));
    harness.run_steps(3);
    let id = harness.state().state.slot_image(0).unwrap().id;
    let before = harness.render().unwrap();
    harness.state_mut().send(Command::SetCalc { image: id, enabled: true });
    wait_until(&mut harness, "the calcification detection", |app| {
        let img = app.state.image(id).unwrap();
        img.calc.result.is_some() || img.calc.error.is_some()
    });
    let calc = &harness.state().state.image(id).unwrap().calc;
    assert!(calc.error.is_none(), "{:?}", calc.error);
    let result = calc.result.as_ref().unwrap();
    let patches = result.detection.patches.clone();
    let scored = patches.len();
    assert!(scored > 10, "only {scored} breast patches scored");
    // Threshold 0 outlines the whole breast: every scored patch is drawn, or overlaps a more probable drawn one that
    // shows the same finding (one mark per finding); 1 draws fewer; the default is the model's operating point.
    assert!((calc.threshold_or_default() - result.default_threshold).abs() < f32::EPSILON);
    harness.state_mut().send(Command::SetCalcThreshold { image: id, threshold: 0.0 });
    harness.run_steps(3);
    let drawn = harness.state().state.image(id).unwrap().calc.visible();
    assert!(drawn.len() > 10 && drawn.len() <= scored, "{} of {scored} drawn", drawn.len());
    for p in &patches {
        assert!(drawn.iter().any(|m| m == p || (m.overlaps(p) && m.prob >= p.prob)), "{p:?} neither drawn nor covered");
    }
    let all_drawn = harness.render().unwrap();
    let viewport = egui::Rect::from_min_max(egui::pos2(140.0, 40.0), egui::pos2(900.0, 760.0));
    assert!(region_differs(&before, &all_drawn, viewport) > 2000, "no patch outlines drawn");
    harness.state_mut().send(Command::SetCalcThreshold { image: id, threshold: 1.0 });
    harness.run_steps(3);
    let none = harness.state().state.image(id).unwrap().calc.visible().len();
    assert!(none < scored, "threshold 1 still draws {none} of {scored}");
    // Switching the overlay off removes the outlines.
    harness.state_mut().send(Command::SetCalc { image: id, enabled: false });
    harness.run_steps(3);
    let off = harness.render().unwrap();
    assert!(region_differs(&all_drawn, &off, viewport) > 2000, "outlines stayed after switching off");
}

/// The model selector's default, auto, runs the film model on a digitised film and the default model on the digital
/// sample, and the panel says which; a model chosen by hand runs on both.
#[test]
fn calcification_model_follows_the_image_source_until_one_is_chosen() {
    use mammoscope::models::catalog::{CALC_MODELS, CalcModelChoice, FILM_CALC_MODEL};
    let film = common::cbis_ddsm()[6].clone();
    let mut harness = app_harness(vec![film.clone(), sample_dir().join("R_CC.dcm")]);
    let ids: Vec<u64> = harness.state().state.images.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 2);
    for &id in &ids {
        harness.state_mut().send(Command::SetCalc { image: id, enabled: true });
    }
    let models = |app: &MammoscopeApp| -> Vec<Option<usize>> {
        ids.iter().map(|&id| app.state.image(id).unwrap().calc.result.as_ref().map(|r| r.input.model)).collect()
    };
    let film_id = harness.state().state.images.iter().find(|i| i.path == film).unwrap().id;
    let expected = |film_model: usize, other: usize| -> Vec<Option<usize>> {
        ids.iter().map(|&id| Some(if id == film_id { film_model } else { other })).collect()
    };
    let auto = expected(FILM_CALC_MODEL, 0);
    wait_until(&mut harness, "detection with the auto models", |app| {
        models(app) == auto || app.state.images.iter().any(|i| i.calc.error.is_some())
    });
    for img in &harness.state().state.images {
        assert!(img.calc.error.is_none(), "{:?}", img.calc.error);
    }
    // The panel shows the active image's source and the model auto picked for it.
    let active = harness.state().state.active_image().unwrap();
    let source = active.meta.image_source().label();
    let used = CALC_MODELS[if active.id == film_id { FILM_CALC_MODEL } else { 0 }].id;
    harness.get_by_label(&format!("Auto for this image ({source}): {used}"));
    harness.state_mut().send(Command::SetCalcModel(CalcModelChoice::Fixed(0)));
    let fixed = expected(0, 0);
    wait_until(&mut harness, "detection with the chosen model", |app| models(app) == fixed);
    assert!(harness.query_by_label_contains("Auto for this image").is_none(), "a chosen model shows no auto line");
}

// ---------------------------------------------------------------- CDMAM mode

#[test]
fn cdmam_readout_draws_lattice_marks_and_the_cdc_plot() {
    let dir = tempfile::tempdir().unwrap();
    let args = mammoscope::cli::synth_cdmam::CdmamArgs {
        out: dir.path().to_path_buf(),
        n: 8,
        scenario: None,
        dose: None,
        kvp: None,
        blur: None,
        noise: None,
        noise_corr: None,
        margin: Some(5.0),
        pixel_mm: Some(0.1),
        no_text: false,
        random_layout: false,
        seed: 21,
        uncompressed: false,
    };
    mammoscope::cli::synth_cdmam::run(&args).unwrap();
    let mut harness = app_harness(vec![dir.path().to_path_buf()]);
    assert_eq!(harness.state().state.images.len(), 8);
    harness.state_mut().send(Command::SetLayout(Layout::One));
    harness.run_steps(3);
    let id = harness.state().state.slot_image(0).unwrap().id;
    let before = harness.render().unwrap();
    harness.state_mut().send(Command::RunCdmamReadout(mammoscope::app::cdmam::TruthChoice::Standard));
    wait_until(&mut harness, "the CDMAM readout", |app| {
        let c = &app.state.cdmam;
        !c.running && !c.requested && (c.result.is_some() || c.error.is_some())
    });
    let cdmam = &harness.state().state.cdmam;
    assert!(cdmam.error.is_none(), "{:?}", cdmam.error);
    let result = cdmam.result.as_ref().unwrap();
    assert_eq!(result.readout.exposures.len(), 8, "left out: {:?}", result.readout.failures);
    let marks = result.marks_of(id).expect("the shown image was read");
    assert_eq!(marks.len(), 205);
    let found = marks.iter().filter(|m| m.correct()).count();
    assert!(found > 60, "only {found} of 205 corners found");
    // The lattice and marks are drawn over the image, the plot and the verdict appear in the panel.
    harness.run_steps(3);
    let after = harness.render().unwrap();
    if let Ok(path) = std::env::var("MAMMOSCOPE_SAVE_SCREENSHOT") {
        after.save(path).unwrap();
    }
    let viewport = egui::Rect::from_min_max(egui::pos2(140.0, 40.0), egui::pos2(900.0, 760.0));
    assert!(region_differs(&before, &after, viewport) > 2000, "no lattice or marks drawn");
    harness.get_by_label("Thresholds and verdicts");
    // Switching the overlay off removes them again.
    harness.state_mut().send(Command::SetCdmamOverlay { lattice: false, marks: false });
    harness.run_steps(3);
    let off = harness.render().unwrap();
    assert!(region_differs(&after, &off, viewport) > 2000, "overlay stayed after switching off");
}

// ---------------------------------------------------------------- single-image CDC and heatmap

#[test]
fn cdc_prediction_plots_and_the_heatmap_overlay_toggles_and_refines() {
    use mammoscope::app::cdc::{CdcSettings, HeatmapMethod};
    let dir = tempfile::tempdir().unwrap();
    let args = mammoscope::cli::synth_cdmam::CdmamArgs {
        out: dir.path().to_path_buf(),
        n: 1,
        scenario: Some("1".into()),
        dose: None,
        kvp: None,
        blur: None,
        noise: None,
        noise_corr: None,
        margin: Some(5.0),
        pixel_mm: None,
        no_text: false,
        random_layout: false,
        seed: 5,
        uncompressed: false,
    };
    mammoscope::cli::synth_cdmam::run(&args).unwrap();
    let mut harness = app_harness(vec![dir.path().to_path_buf()]);
    harness.state_mut().send(Command::SetLayout(Layout::One));
    harness.run_steps(3);
    let id = harness.state().state.slot_image(0).unwrap().id;
    let before = harness.render().unwrap();
    // Prediction: the shipped ensemble, plotted with its band in the panel.
    let predict = CdcSettings { predict: true, ..CdcSettings::default() };
    harness.state_mut().send(Command::SetCdcSettings { image: id, settings: predict });
    wait_until(&mut harness, "the CDC prediction", |app| {
        let c = &app.state.image(id).unwrap().cdc;
        !c.predicting && (c.prediction.is_some() || c.prediction_error.is_some())
    });
    let cdc = &harness.state().state.image(id).unwrap().cdc;
    assert!(cdc.prediction_error.is_none(), "{:?}", cdc.prediction_error);
    let p = cdc.prediction.as_ref().unwrap().prediction;
    assert!(p.mean.iter().all(|m| m.is_finite()) && p.total.iter().all(|s| *s > 0.0));
    // Thresholds rise as the discs shrink (1.00 mm → 0.08 mm).
    assert!(p.threshold_um(11) > p.threshold_um(0), "{p:?}");
    // Heatmap (sensitivity analysis: one gradient per draw, quick enough for a test): it appears, refines, toggles off.
    let heat = CdcSettings { heatmap: true, method: HeatmapMethod::Sensitivity, draws: 16, opacity: 1.0, ..predict };
    harness.state_mut().send(Command::SetCdcSettings { image: id, settings: heat });
    wait_until(&mut harness, "a first heatmap snapshot", |app| app.state.image(id).unwrap().cdc.heatmap.is_some());
    let first = harness.state().state.image(id).unwrap().cdc.heatmap.as_ref().map(|h| (h.draws, h.version)).unwrap();
    wait_until(&mut harness, "the heatmap to finish", |app| {
        let c = &app.state.image(id).unwrap().cdc;
        !c.heatmap_running || c.heatmap_error.is_some()
    });
    let cdc = &harness.state().state.image(id).unwrap().cdc;
    assert!(cdc.heatmap_error.is_none(), "{:?}", cdc.heatmap_error);
    let snap = cdc.heatmap.as_ref().unwrap();
    assert_eq!(snap.draws, 16);
    assert!(snap.draws > first.0 && snap.version > first.1, "the map did not refine: {first:?} → {}", snap.draws);
    assert!(snap.map.iter().any(|v| *v != 0.0));
    // The panel section shows the prediction (table and plot) and the heatmap's progress.
    harness.get_by_label("CDMAM: single-image CDC and heatmap").click();
    harness.run_steps(3);
    harness.get_by_label("auto µm");
    let on = harness.render().unwrap();
    if let Ok(path) = std::env::var("MAMMOSCOPE_SAVE_SCREENSHOT") {
        on.save(path).unwrap();
    }
    let viewport = egui::Rect::from_min_max(egui::pos2(140.0, 40.0), egui::pos2(800.0, 760.0));
    assert!(region_differs(&before, &on, viewport) > 5000, "no heatmap drawn");
    harness.state_mut().send(Command::SetCdcSettings { image: id, settings: CdcSettings { heatmap: false, ..heat } });
    harness.run_steps(3);
    let off = harness.render().unwrap();
    assert!(region_differs(&on, &off, viewport) > 5000, "the heatmap stayed after switching off");
}

// ---------------------------------------------------------------- denoising

#[test]
fn denoised_and_difference_views_toggle_and_the_split_moves() {
    use mammoscope::app::denoise::{DenoiseSettings, DenoiseView};
    use mammoscope::models::denoise::pipeline::Estimate;
    let mut harness = app_harness(Vec::new());
    harness.state_mut().send(Command::SetLayout(Layout::One));
    harness.run_steps(3);
    let id = harness.state().state.slot_image(0).unwrap().id;
    let original = harness.render().unwrap();
    let viewport = egui::Rect::from_min_max(egui::pos2(200.0, 60.0), egui::pos2(780.0, 740.0));
    // Simulate 20 % of the dose with the lab's dose slider.
    let params = mammoscope::imaging::perturb::PerturbParams { dose_fraction: Some(0.2), seed: 3, ..Default::default() };
    harness.state_mut().send(Command::SetPerturb { image: id, params });
    harness.run_steps(2);
    wait_until(&mut harness, "the dose-reduced image", |app| {
        app.state.image(id).is_some_and(|i| i.perturb.current().is_some_and(|r| r.downsample == 1)) && !app.is_perturbing()
    });
    let noisy = harness.render().unwrap();

    let on = DenoiseSettings { enabled: true, ..DenoiseSettings::default() };
    harness.state_mut().send(Command::SetDenoiseSettings { image: id, settings: on });
    wait_until(&mut harness, "the denoised image", |app| {
        let d = &app.state.image(id).unwrap().denoise;
        d.error.is_some() || d.result.as_ref().is_some_and(|r| r.complete() && r.input.alpha < 1.0)
    });
    let d = &harness.state().state.image(id).unwrap().denoise;
    assert!(d.error.is_none(), "{:?}", d.error);
    let scores = d.result.as_ref().unwrap().scores.expect("PSNR/SSIM against the full-dose original");
    assert!(scores.psnr_output > scores.psnr_input + 3.0 && scores.ssim_output > scores.ssim_input, "{scores:?}");
    let denoised = harness.render().unwrap();
    denoised.save(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/denoised.png")).ok(); // for a human look
    assert!(region_differs(&noisy, &denoised, viewport) > 5000, "the denoised view looks like the noisy input");

    // The full-dose estimate scores higher against the full-dose original than the noise-free one.
    let full = DenoiseSettings { estimate: Estimate::FullDose, ..on };
    harness.state_mut().send(Command::SetDenoiseSettings { image: id, settings: full });
    wait_until(&mut harness, "the full-dose estimate", |app| {
        let d = &app.state.image(id).unwrap().denoise;
        d.error.is_some() || d.result.as_ref().is_some_and(|r| r.complete() && r.input.estimate == Estimate::FullDose)
    });
    let d = &harness.state().state.image(id).unwrap().denoise;
    let full_scores = d.result.as_ref().unwrap().scores.unwrap();
    assert!(full_scores.psnr_output > scores.psnr_output && full_scores.ssim_output > scores.ssim_output, "{full_scores:?} {scores:?}");
    harness.state_mut().send(Command::SetDenoiseSettings { image: id, settings: on });
    harness.run_steps(3);

    // The difference view draws a diverging colour map: coloured (not grey) pixels appear.
    harness.state_mut().send(Command::SetDenoiseSettings { image: id, settings: DenoiseSettings { view: DenoiseView::Difference, ..on } });
    harness.run_steps(3);
    let difference = harness.render().unwrap();
    difference.save(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/denoise-difference.png")).ok();
    let coloured = |img: &image::RgbaImage| {
        (viewport.min.y as u32..viewport.max.y as u32)
            .flat_map(|y| (viewport.min.x as u32..viewport.max.x as u32).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let p = img.get_pixel(x, y);
                p[0].abs_diff(p[2]) > 40
            })
            .count()
    };
    assert!(coloured(&difference) > 2000, "no diverging colours in the difference view");
    assert!(coloured(&denoised) < 100);

    // Split compare: the full-dose original left of the line; moving the line right shows more of it.
    let left_equal = |harness: &mut Harness<'_, MammoscopeApp>, split: f32| {
        let settings = DenoiseSettings { split: Some(split), ..on };
        harness.state_mut().send(Command::SetDenoiseSettings { image: id, settings });
        harness.run_steps(3);
        let shot = harness.render().unwrap();
        let total = region_differs(&original, &shot, viewport);
        (total, shot)
    };
    let (at_30, _) = left_equal(&mut harness, 0.3);
    let (at_70, shot) = left_equal(&mut harness, 0.7);
    shot.save(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/denoise-split.png")).ok();
    assert!(at_70 < at_30, "moving the split right did not show more of the original ({at_30} → {at_70} differing pixels)");

    // Off: the lab's dose-reduced image again, pixel for pixel.
    harness.state_mut().send(Command::SetDenoiseSettings { image: id, settings: DenoiseSettings::default() });
    harness.run_steps(3);
    assert_eq!(region_differs(&noisy, &harness.render().unwrap(), viewport), 0, "switching off did not restore the input");
}
