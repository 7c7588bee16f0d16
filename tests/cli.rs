//! The command line end to end: runs the real `mammoscope` binary on the shared fixtures.
//!
//! Missing fixtures fail with instructions (see `common`), never skip.
// The helpers below are test code too; clippy's `allow-unwrap-in-tests` only covers `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mammoscope::dicom::{self, LoadedImage, OpenOptions};
use mammoscope::imaging::cpu_render::{output_height, render_grey8};
use mammoscope::imaging::histogram::robust_window;
use mammoscope::imaging::voi::{Display, VoiFunction, Window};
use serde_json::Value;

fn mammoscope<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mammoscope"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run mammoscope")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(out.status.success(), "exit {:?}, stderr:\n{}", out.status.code(), stderr(out));
}

/// Exit status 2, exactly one stderr line `mammoscope: ...`, and no panic text.
#[track_caller]
fn assert_one_line_error(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got:\n{err}");
    assert!(lines[0].starts_with("mammoscope: "), "{err}");
    for bad in ["panicked", "RUST_BACKTRACE", "internal error"] {
        assert!(!err.contains(bad), "{err}");
    }
    lines[0].to_owned()
}

fn info_json(path: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&OsStr> = vec!["info".as_ref(), "--json".as_ref(), path.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let out = mammoscope(&args);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).expect("info --json prints JSON")
}

/// The display `render` uses by default: first preset, the file's VOI function, MONOCHROME1 inverted.
fn default_display(loaded: &LoadedImage) -> Display {
    let window = loaded.meta.voi.presets.first().map_or_else(|| robust_window(&loaded.frames[0]), |p| p.window);
    Display { window, function: loaded.meta.voi.function, inverted: loaded.meta.is_monochrome1(), ..Display::default() }
}

/// Render with the CLI and return the PNG's (width, height, grey levels); checks the input is unchanged.
fn render_cli(input: &Path, extra: &[&str]) -> (u32, u32, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.png");
    let before = std::fs::read(input).unwrap();
    let mut args: Vec<&OsStr> = vec!["render".as_ref(), input.as_os_str(), "--out".as_ref(), out_path.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let out = mammoscope(&args);
    assert_ok(&out);
    assert_eq!(std::fs::read(input).unwrap(), before, "render changed its input");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["out.png"], "temporary files left behind");
    let png = image::open(&out_path).expect("a valid PNG");
    assert_eq!(png.color(), image::ColorType::L8, "8-bit grey");
    let png = png.into_luma8();
    (png.width(), png.height(), png.into_raw())
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = common::shared_dicom("MGIMAGEA.dcm").parent().unwrap().to_path_buf();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension() == Some(OsStr::new("dcm"))).collect();
    files.sort();
    assert!(files.len() >= 5, "expected the five DICOM fixtures in {}", dir.display());
    files
}

#[test]
fn info_json_on_every_fixture() {
    for path in fixture_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "MG1_JPLY.dcm" {
            // JPEG Extended 12-bit with an invalid scan header: a clear one-line error, never a panic.
            let line = assert_one_line_error(&mammoscope(&["info".as_ref(), "--json".as_ref(), path.as_os_str()]));
            assert!(line.contains("MG1_JPLY.dcm"), "the error names the file: {line}");
            continue;
        }
        let v = info_json(&path, &[]);
        for key in ["rows", "columns", "bits_stored", "photometric", "transfer_syntax_uid", "pixel_spacing_mm", "pixel_spacing_source"] {
            assert!(v.get(key).is_some(), "{name}: missing key {key}");
        }
        for key in ["window_presets", "voi_function", "laterality", "view_position", "presentation_intent", "pixel_min", "pixel_max"] {
            assert!(v.get(key).is_some(), "{name}: missing key {key}");
        }
        assert!(v["pixel_min"].as_f64().unwrap() <= v["pixel_mean"].as_f64().unwrap(), "{name}");
        assert!(v["pixel_mean"].as_f64().unwrap() <= v["pixel_max"].as_f64().unwrap(), "{name}");
        assert!(!v["window_presets"].as_array().unwrap().is_empty(), "{name}: a default window is always listed");
        let human = mammoscope(&["info".as_ref(), path.as_os_str()]);
        assert_ok(&human);
        assert!(stdout(&human).contains("Window presets"), "{name}");
        match name.as_str() {
            "MGIMAGEA.dcm" => {
                // Calibrated Pixel Spacing wins over Imager Pixel Spacing (0.5) and ImagerPixelSpacing / ERMF.
                assert_eq!(v["pixel_spacing_mm"], serde_json::json!([0.25, 0.25]), "{v:#}");
                assert_eq!(v["pixel_spacing_source"], "CalibratedPixelSpacing");
                assert_eq!((v["columns"].as_u64(), v["rows"].as_u64()), (Some(512), Some(512)));
                assert_eq!(v["laterality"], "R");
            }
            "MG1_J2KI.dcm" => {
                assert_eq!(v["columns"], 3064);
                assert_eq!(v["rows"], 4664);
                assert_eq!(v["bits_stored"], 12);
                assert_eq!(v["photometric"], "MONOCHROME2");
                assert_eq!(v["transfer_syntax_uid"], "1.2.840.10008.1.2.4.91");
                assert_eq!(v["pixel_spacing_mm"], Value::Null);
                let first = &v["window_presets"][0];
                assert_eq!((first["center"].as_f64(), first["width"].as_f64()), (Some(2047.0), Some(4095.0)));
                assert_eq!(v["laterality"], "L");
                assert_eq!(v["view_position"], "MLO");
                assert!(v["pixel_max"].as_f64().unwrap() <= 4095.0);
            }
            "vlut_04.dcm" => {
                let luts = v["voi_luts"].as_array().unwrap();
                assert!(!luts.is_empty(), "{v:#}");
                assert_eq!(luts[0]["entries"], 256);
            }
            "mlut_18.dcm" => assert_eq!(v["modality_lut_used"], true),
            _ => {}
        }
    }
}

#[test]
fn cbis_ddsm_info() {
    for path in common::cbis_ddsm() {
        let v = info_json(&path, &[]);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(v["bits_allocated"], 16, "{stem}");
        assert!((2576..=2920).contains(&v["columns"].as_u64().unwrap()), "{stem}: {v:#}");
        assert!((4432..=4736).contains(&v["rows"].as_u64().unwrap()), "{stem}: {v:#}");
        let left = ["1-130", "1-131", "1-280", "1-281"].contains(&stem.as_str());
        assert_eq!(v["laterality"], if left { "L" } else { "R" }, "{stem}");
    }
}

#[test]
fn patient_identifiers_only_with_phi() {
    let cases =
        [(common::shared_dicom("MGIMAGEA.dcm"), "62354PQGRRST", "PixelSpacing"), (common::cbis_ddsm()[0].clone(), "P_00173", "P_00173")];
    for (path, id, name_part) in cases {
        for args in [vec!["info".as_ref(), path.as_os_str()], vec!["info".as_ref(), "--json".as_ref(), path.as_os_str()]] {
            let out = mammoscope(&args);
            assert_ok(&out);
            let text = stdout(&out) + &stderr(&out);
            assert!(!text.contains(id), "patient ID printed without --phi:\n{text}");
            assert!(!text.contains("Test^PixelSpacing") && !text.contains("Mass-Test"), "patient name printed without --phi:\n{text}");
        }
        let v = info_json(&path, &["--phi"]);
        assert!(v["patient"]["id"].as_str().unwrap().contains(id), "{v:#}");
        assert!(v["patient"]["name"].as_str().unwrap().contains(name_part), "{v:#}");
        assert!(info_json(&path, &[]).get("patient").is_none());
        let human = mammoscope(&["info".as_ref(), "--phi".as_ref(), path.as_os_str()]);
        assert!(stdout(&human).contains(id));
    }
}

#[test]
fn render_matches_cpu_reference() {
    // Default window, downsampled: MG1_J2KI at 512 px wide.
    let path = common::shared_dicom("MG1_J2KI.dcm");
    let loaded = dicom::open(&path, &OpenOptions::default()).unwrap();
    let (w, h, grey) = render_cli(&path, &["--width", "512"]);
    assert_eq!((w, h), (512, output_height(3064, 4664, 512) as u32));
    let (ew, eh, expected) = render_grey8(&loaded.frames[0], &default_display(&loaded), None, Some(512));
    assert_eq!((ew, eh), (w as usize, h as usize));
    assert_eq!(grey, expected);

    // Explicit window, function and inversion at full size.
    let path = common::shared_dicom("MGIMAGEA.dcm");
    let loaded = dicom::open(&path, &OpenOptions::default()).unwrap();
    let (w, h, grey) = render_cli(&path, &["--window", "100,50", "--function", "sigmoid", "--invert"]);
    assert_eq!((w, h), (512, 512));
    let display = Display {
        window: Window { center: 100.0, width: 50.0 },
        function: VoiFunction::Sigmoid,
        inverted: !loaded.meta.is_monochrome1(),
        ..Display::default()
    };
    assert_eq!(grey, render_grey8(&loaded.frames[0], &display, None, None).2);
    assert!(grey.iter().any(|&g| g != grey[0]), "not a flat image");

    // The VOI LUT.
    let path = common::shared_dicom("vlut_04.dcm");
    let loaded = dicom::open(&path, &OpenOptions::default()).unwrap();
    let (_, _, grey) = render_cli(&path, &["--lut", "--width", "100"]);
    let display = Display { use_lut: true, ..default_display(&loaded) };
    assert_eq!(grey, render_grey8(&loaded.frames[0], &display, loaded.meta.voi.luts.first(), Some(100)).2);
    // vlut_04 has a VOI LUT and no window: like the viewer, the default rendering uses the LUT.
    assert_eq!(loaded.meta.voi.initial_lut(), Some(0));
    let (_, _, default) = render_cli(&path, &["--width", "100"]);
    assert_eq!(default, grey);

    // Presets by index; an unknown preset is a one-line error.
    let (_, _, by_index) = render_cli(&common::shared_dicom("MGIMAGEA.dcm"), &["--preset", "0"]);
    let (_, _, default) = render_cli(&common::shared_dicom("MGIMAGEA.dcm"), &[]);
    assert_eq!(by_index, default);
}

#[test]
fn render_never_overwrites_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.dcm");
    std::fs::copy(common::shared_dicom("MGIMAGEA.dcm"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    assert_one_line_error(&mammoscope(&["render".as_ref(), input.as_os_str(), "--out".as_ref(), input.as_os_str()]));
    let unknown = mammoscope(&[
        "render".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        dir.path().join("b.png").as_os_str(),
        "--preset".as_ref(),
        "nope".as_ref(),
    ]);
    assert_one_line_error(&unknown);
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["a.dcm"], "nothing else written");
}

#[test]
fn bad_inputs_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.dcm");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.dcm");
    std::fs::write(&text, "This is a text file, not an image.\n".repeat(20)).unwrap();
    let missing = dir.path().join("missing.dcm");
    let out_png = dir.path().join("o.png");
    for input in [&missing, &empty, &text] {
        assert_one_line_error(&mammoscope(&["info".as_ref(), input.as_os_str()]));
        assert_one_line_error(&mammoscope(&["info".as_ref(), "--json".as_ref(), input.as_os_str()]));
        assert_one_line_error(&mammoscope(&["render".as_ref(), input.as_os_str(), "--out".as_ref(), out_png.as_os_str()]));
    }
    assert!(!out_png.exists());
    let frame = mammoscope(&["info", "--frame", "3", common::shared_dicom("MGIMAGEA.dcm").to_str().unwrap()]);
    assert!(assert_one_line_error(&frame).contains("frame 3"));
    // Argument errors are clap's: exit status 2.
    assert_eq!(mammoscope(&["render"]).status.code(), Some(2));
    assert_eq!(mammoscope(&["info", "a.dcm", "--bogus"]).status.code(), Some(2));
}

/// Files are recognised by content, not by extension: a PNG named `.dcm` opens as a PNG.
#[test]
fn png_renamed_dcm_opens_as_png() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("scan.dcm");
    let img = image::GrayImage::from_fn(8, 4, |x, y| image::Luma([(x * 30 + y) as u8]));
    img.save_with_format(&fake, image::ImageFormat::Png).unwrap();
    let v = info_json(&fake, &[]);
    assert_eq!(v["format"], "PNG");
    assert_eq!((v["columns"].as_u64(), v["rows"].as_u64()), (Some(8), Some(4)));
    assert_eq!(v["pixel_max"], 213.0);
    let (w, h, _) = render_cli(&fake, &[]);
    assert_eq!((w, h), (8, 4));
}

#[test]
fn bench_open_prints_figures() {
    let small = common::shared_dicom("MGIMAGEA.dcm");
    let big = common::shared_dicom("MG1_J2KI.dcm");
    let out = mammoscope(&["bench".as_ref(), "open".as_ref(), small.as_os_str(), big.as_os_str(), "--runs".as_ref(), "2".as_ref()]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("decode ms") && text.contains("first frame ms"), "{text}");
    let row = |name: &str| text.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no row for {name}:\n{text}")).to_owned();
    for (name, size) in [("MGIMAGEA.dcm", "512×512"), ("MG1_J2KI.dcm", "3064×4664")] {
        let line = row(name);
        assert!(line.contains(size), "{line}");
        let numbers: Vec<f64> = line.split(|c: char| !(c.is_ascii_digit() || c == '.')).filter_map(|s| s.parse().ok()).collect();
        assert!(numbers.len() >= 6, "median, min and max for both timings: {line}");
    }
    assert_one_line_error(&mammoscope(&["bench", "open", "/nonexistent/x.dcm"]));
}

/// `perturb`: a derived DICOM (new SOP Instance UID, Derivation Description, same spacing) and a 16-bit PNG; the input
/// is never changed or overwritten.
#[test]
fn perturb_writes_derived_dicom_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.dcm");
    std::fs::copy(common::shared_dicom("MGIMAGEA.dcm"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let out_dcm = dir.path().join("out.dcm");
    let args = ["--lowpass", "1.5", "--noise", "4", "--shuffle", "8", "--seed", "7", "--out"];
    let mut cmd: Vec<&OsStr> = vec!["perturb".as_ref(), input.as_os_str()];
    cmd.extend(args.iter().map(OsStr::new));
    cmd.push(out_dcm.as_os_str());
    assert_ok(&mammoscope(&cmd));

    let source = dicom::open(&input, &OpenOptions::default()).unwrap();
    let derived = dicom::open(&out_dcm, &OpenOptions::default()).unwrap();
    assert_ne!(derived.meta.sop_instance_uid, source.meta.sop_instance_uid);
    assert!(derived.meta.sop_instance_uid.as_deref().unwrap().starts_with("2.25."));
    assert_eq!(derived.meta.spacing, source.meta.spacing);
    assert_eq!(derived.meta.mammo.laterality, source.meta.mammo.laterality);
    assert_eq!((derived.meta.rows, derived.meta.columns), (source.meta.rows, source.meta.columns));
    assert_ne!(derived.frames[0], source.frames[0]);
    let obj = dicom_object::open_file(&out_dcm).unwrap();
    let text = |tag| obj.element(tag).unwrap().to_str().unwrap().trim().to_owned();
    let description = text(dicom_dictionary_std::tags::DERIVATION_DESCRIPTION);
    for part in ["low-pass 1.5 cycles/mm", "Gaussian noise sigma 4", "patch shuffle 8x8", "seed 7"] {
        assert!(description.contains(part), "{description}");
    }
    assert!(text(dicom_dictionary_std::tags::IMAGE_TYPE).starts_with("DERIVED\\SECONDARY"));

    let out_png = dir.path().join("out.png");
    assert_ok(&mammoscope(&[
        "perturb".as_ref(),
        input.as_os_str(),
        "--lowpass".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        out_png.as_os_str(),
    ]));
    let png = image::open(&out_png).unwrap();
    assert_eq!(png.color(), image::ColorType::L16);
    assert_eq!((png.width(), png.height()), (512, 512));

    // Never over the input; bad parameters are one-line errors.
    assert_one_line_error(&mammoscope(&[
        "perturb".as_ref(),
        input.as_os_str(),
        "--noise".as_ref(),
        "3".as_ref(),
        "--out".as_ref(),
        input.as_os_str(),
    ]));
    assert_one_line_error(&mammoscope(&[
        "perturb".as_ref(),
        input.as_os_str(),
        "--dose".as_ref(),
        "2".as_ref(),
        "--out".as_ref(),
        out_png.as_os_str(),
    ]));
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["in.dcm", "out.dcm", "out.png"], "no temporary files left");
}

// ---------------------------------------------------------------- calcification model

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples").join(name)
}

#[test]
fn analyze_calc_json_lists_patches_in_image_pixels() {
    let file = sample("R_CC.dcm");
    let out = mammoscope(&[OsStr::new("analyze"), OsStr::new("calc"), file.as_os_str(), OsStr::new("--json")]);
    assert_ok(&out);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["weights_sha256"].as_str().unwrap().len(), 64);
    let op = v["operating_point"].as_f64().unwrap();
    assert!(op > 0.0 && op < 1.0, "operating point {op}");
    let image = &v["images"][0];
    let (w, h) = (image["width"].as_f64().unwrap(), image["height"].as_f64().unwrap());
    // 224 px at 0.07 mm = 15.68 mm, i.e. 156.8 px at the sample's 0.1 mm.
    assert!((image["patch_size_mm"].as_f64().unwrap() - 15.68).abs() < 1e-6);
    assert!((image["patch_size_px"].as_f64().unwrap() - 156.8).abs() < 1e-6);
    let patches = image["patches"].as_array().unwrap();
    assert!(patches.len() > 20, "{} patches", patches.len());
    for p in patches {
        let (x, y, pw, ph, prob) = (
            p["x"].as_f64().unwrap(),
            p["y"].as_f64().unwrap(),
            p["w"].as_f64().unwrap(),
            p["h"].as_f64().unwrap(),
            p["prob"].as_f64().unwrap(),
        );
        assert!(x >= 0.0 && y >= 0.0 && x + pw <= w + 1e-6 && y + ph <= h + 1e-6, "patch outside the image: {p}");
        assert!((0.0..=1.0).contains(&prob));
        // Where the model's evidence peaks: a point inside the patch, in image pixels.
        let (ex, ey) = (p["evidence"][0].as_f64().unwrap(), p["evidence"][1].as_f64().unwrap());
        assert!(ex >= x && ex <= x + pw && ey >= y && ey <= y + ph, "evidence outside its patch: {p}");
    }
    assert!(!stdout(&out).contains("PatientName"));
}

/// The built-in sample exam's truth: every cluster of 9 or more specks lies in a patch marked at the operating point,
/// and the view without calcifications (L MLO) has at most two marked patches.
#[test]
fn analyze_calc_marks_the_sample_clusters_and_little_else() {
    for view in ["R_CC", "R_MLO", "L_CC", "L_MLO"] {
        let out =
            mammoscope(&[OsStr::new("analyze"), OsStr::new("calc"), sample(&format!("{view}.dcm")).as_os_str(), OsStr::new("--json")]);
        assert_ok(&out);
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        // What the viewer outlines by default: the marks at the whole-image operating point.
        let op = v["detection_threshold"].as_f64().unwrap();
        assert!(op >= v["operating_point"].as_f64().unwrap() - 1e-6, "the shipped detection threshold is the higher one");
        let patches = v["images"][0]["patches"].as_array().unwrap().clone();
        let prob_at = |x: f64, y: f64| {
            patches
                .iter()
                .filter(|p| {
                    let (px, py, pw) = (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap(), p["w"].as_f64().unwrap());
                    x >= px && y >= py && x < px + pw && y < py + pw
                })
                .map(|p| p["prob"].as_f64().unwrap())
                .fold(0.0, f64::max)
        };
        let truth: Value = serde_json::from_str(&std::fs::read_to_string(sample(&format!("{view}.json"))).unwrap()).unwrap();
        let clusters = truth["truth"]["clusters"].as_array().unwrap();
        for c in clusters.iter().filter(|c| c["specks"].as_u64().unwrap() >= 9) {
            let (x, y) = (c["center_px"][0].as_f64().unwrap(), c["center_px"][1].as_f64().unwrap());
            let p = prob_at(x, y);
            assert!(p >= op, "{view}: the {}-speck cluster at ({x:.0}, {y:.0}) scores {p:.3} < {op:.3}", c["specks"]);
        }
        let above = patches.iter().filter(|p| p["prob"].as_f64().unwrap() >= op).count();
        assert_eq!(above, v["images"][0]["above_detection_threshold"].as_u64().unwrap() as usize, "{view}");
        let marks = v["images"][0]["marks_at_detection_threshold"].as_u64().unwrap() as usize;
        assert!(marks <= above && (marks > 0) == (above > 0), "{view}: {marks} marks from {above} patches at the detection threshold");
        if clusters.is_empty() {
            assert!(marks <= 2, "{view} has no calcifications but {marks} marks ({above} of {} patches) are outlined", patches.len());
        }
    }
}

/// By default (`auto`) each image gets the model for its source: the film model for a CBIS-DDSM film (a secondary
/// capture of a mammogram without pixel spacing, which gets 0.05 mm), the default model for the digital sample; each
/// image names its model and the report's top-level model is `null` when they differ. On the film, the film model makes fewer marks
/// than the default one (the model card's real-film table).
#[test]
fn analyze_calc_picks_the_model_from_the_image_source() {
    let film = common::cbis_ddsm()[1].clone();
    let digital = sample("R_CC.dcm");
    let run = |files: &[&Path], model: Option<&str>| {
        let mut args = vec![OsStr::new("analyze"), OsStr::new("calc")];
        args.extend(files.iter().map(|f| f.as_os_str()));
        args.push(OsStr::new("--json"));
        args.extend(model.map(|m| [OsStr::new("--model"), OsStr::new(m)]).into_iter().flatten());
        let out = mammoscope(&args);
        assert_ok(&out);
        (stderr(&out), serde_json::from_str::<Value>(&stdout(&out)).unwrap())
    };
    let (note, v) = run(&[&digital, &film], None);
    assert_eq!(v["model_choice"], "auto");
    assert!(v["model"].is_null() && v["weights_sha256"].is_null(), "mixed models have no top-level model: {}", v["model"]);
    let (d, f) = (&v["images"][0], &v["images"][1]);
    assert_eq!((d["image_source"].as_str(), d["model"].as_str()), (Some("digital"), Some("compact-robust")));
    assert_eq!((f["image_source"].as_str(), f["model"].as_str()), (Some("digitised_film"), Some("compact-film")));
    assert_ne!(d["weights_sha256"], f["weights_sha256"]);
    assert!(f["detection_threshold"].as_f64().unwrap() > 0.0);
    assert!(note.contains("is digitised film") && note.contains("compact-film"), "{note}");
    // Film without a pixel spacing gets a film digitiser's 0.05 mm, and says so.
    assert!(note.contains("0.05 mm assumed"), "{note}");
    assert_eq!((f["pixel_spacing_mm"].as_f64(), f["spacing_assumed"].as_bool()), (Some(0.05), Some(true)));
    assert_eq!((d["pixel_spacing_mm"].as_f64(), d["spacing_assumed"].as_bool()), (Some(0.1), Some(false)));
    let film_marks = f["marks_at_detection_threshold"].as_u64().unwrap();

    let (note, v) = run(&[&film], Some("compact-robust"));
    assert!(!note.contains("compact-film"), "a chosen model gets no model note: {note}");
    assert_eq!((v["model_choice"].as_str(), v["model"].as_str()), (Some("compact-robust"), Some("compact-robust")));
    let default_marks = v["images"][0]["marks_at_detection_threshold"].as_u64().unwrap();
    assert!(film_marks < default_marks, "film model {film_marks} marks, default {default_marks}");
}

/// `analyze calc` on a For Processing file (linear raw values) scores its log attenuation: the large cluster of the
/// simulated view is in a patch at or above the detection threshold (the models test shows the raw values lose it).
#[test]
fn analyze_calc_scores_for_processing_files() {
    use mammoscope::dicom::write::{MammogramObject, PresentationIntent, write_mammogram};
    use mammoscope::synth::mammogram::{screening_exam, simulate};

    let view = screening_exam(1, 0.1, None).into_iter().find(|v| v.stem == "L_MLO").unwrap();
    let sim = simulate(&view.params).unwrap();
    let cluster = sim.truth.clusters.iter().find(|c| c.specks >= 9).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.dcm");
    write_mammogram(&path, &MammogramObject { intent: PresentationIntent::ForProcessing, ..MammogramObject::simulated(&sim.raw, 1, 0) })
        .unwrap();
    let out = mammoscope(&[OsStr::new("analyze"), OsStr::new("calc"), path.as_os_str(), OsStr::new("--json")]);
    assert_ok(&out);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let threshold = v["detection_threshold"].as_f64().unwrap();
    let [cx, cy] = cluster.center_px;
    let at_cluster = v["images"][0]["patches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            let (x, y, w) = (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap(), p["w"].as_f64().unwrap());
            cx >= x && cy >= y && cx < x + w && cy < y + w
        })
        .map(|p| p["prob"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(at_cluster >= threshold, "the cluster scores {at_cluster} < {threshold}");
}

#[test]
fn analyze_calc_refuses_bad_input_and_unknown_models() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.dcm");
    std::fs::write(&text, "not an image").unwrap();
    let out = mammoscope(&[OsStr::new("analyze"), OsStr::new("calc"), text.as_os_str()]);
    assert_one_line_error(&out);
    let out =
        mammoscope(&[OsStr::new("analyze"), OsStr::new("calc"), sample("R_CC.dcm").as_os_str(), OsStr::new("--model"), OsStr::new("nope")]);
    assert!(assert_one_line_error(&out).contains("unknown model"));
    let garbage = dir.path().join("w.safetensors");
    std::fs::write(&garbage, [0u8; 100]).unwrap();
    let out = mammoscope(&[
        OsStr::new("analyze"),
        OsStr::new("calc"),
        sample("R_CC.dcm").as_os_str(),
        OsStr::new("--weights"),
        garbage.as_os_str(),
    ]);
    assert_one_line_error(&out);
    // A research image without a pixel spacing (not known to be film) needs one.
    let png = dir.path().join("crop.png");
    image::GrayImage::from_fn(64, 64, |x, _| image::Luma([u8::try_from(x).unwrap()])).save(&png).unwrap();
    let out = mammoscope(&[OsStr::new("analyze"), OsStr::new("calc"), png.as_os_str()]);
    assert!(assert_one_line_error(&out).contains("has no pixel spacing; pass --spacing-mm"));
}

#[test]
fn analyze_robustness_json_has_both_curves() {
    let file = sample("L_CC.dcm");
    let out = mammoscope(&[OsStr::new("analyze"), OsStr::new("robustness"), file.as_os_str(), OsStr::new("--json")]);
    assert_ok(&out);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let curve = &v["curve"];
    assert_eq!(curve["lowpass"].as_array().unwrap().len(), 10);
    assert_eq!(curve["noise"].as_array().unwrap().len(), 7);
    assert!(curve["tiles"].as_u64().unwrap() > 10);
    for p in curve["lowpass"].as_array().unwrap().iter().chain(curve["noise"].as_array().unwrap()) {
        let (max, mean) = (p["max_prob"].as_f64().unwrap(), p["mean_prob"].as_f64().unwrap());
        assert!((0.0..=1.0).contains(&max) && mean <= max + 1e-6);
    }
}

#[test]
fn train_calc_smoke_run_writes_weights_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("tiny.safetensors");
    let work = dir.path().join("work");
    let args = |epochs: &str| {
        vec![
            OsStr::new("train").to_owned(),
            "calc".into(),
            "--out".into(),
            out_path.clone().into_os_string(),
            "--work-dir".into(),
            work.clone().into_os_string(),
            "--train-images".into(),
            "2".into(),
            "--val-images".into(),
            "1".into(),
            "--patches-per-class".into(),
            "4".into(),
            "--batch".into(),
            "4".into(),
            "--epochs".into(),
            epochs.into(),
            "--film-artefacts".into(),
            "0.5".into(),
        ]
    };
    let mut wrong = args("1");
    *wrong.last_mut().unwrap() = "1.5".into();
    let out = mammoscope(&wrong);
    assert!(!out.status.success() && stderr(&out).contains("--film-artefacts is a probability"), "{}", stderr(&out));
    let out = mammoscope(&args("1"));
    assert_ok(&out);
    assert!(out_path.is_file() && work.join("progress.json").is_file() && work.join("train-patches.safetensors").is_file());
    let recipe: Value = serde_json::from_slice(&std::fs::read(work.join("config.json")).unwrap()).unwrap();
    assert_eq!(recipe["film_artefacts"], 0.5);
    // A second run with more epochs resumes from the checkpoint (the cached patches are reused), then chooses the
    // whole-image threshold on two simulated mammograms (a budget no tiny model can miss).
    let mut resumed = args("2");
    resumed.extend(["--calibrate-images", "2", "--max-false-marks", "1000"].map(Into::into));
    let out = mammoscope(&resumed);
    assert_ok(&out);
    assert!(stderr(&out).contains("resumed at epoch 2"), "{}", stderr(&out));
    let log: Value = serde_json::from_slice(&std::fs::read(dir.path().join("tiny.train.json")).unwrap()).unwrap();
    assert_eq!(log["history"].as_array().unwrap().len(), 2);
    let chosen = log["detection"]["stats"]["threshold"].as_f64().unwrap();
    assert!((chosen - 0.3).abs() < 1e-6, "the lowest threshold searched is within any budget: {chosen}");
    assert_eq!(log["detection"]["params"]["images"], 2);
    let json = mammoscope(&[
        OsStr::new("analyze"),
        OsStr::new("calc"),
        sample("R_MLO.dcm").as_os_str(),
        OsStr::new("--weights"),
        out_path.as_os_str(),
        OsStr::new("--json"),
    ]);
    assert_ok(&json);
    let v: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert!((v["detection_threshold"].as_f64().unwrap() - chosen).abs() < 1e-6, "the weights carry the chosen threshold");
    // The weights load in the detector.
    let out = mammoscope(&[
        OsStr::new("analyze"),
        OsStr::new("calc"),
        sample("R_MLO.dcm").as_os_str(),
        OsStr::new("--weights"),
        out_path.as_os_str(),
    ]);
    assert_ok(&out);
}

#[test]
fn evaluate_background_counts_speck_like_tissue_and_refuses_too_few_images() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("background.json");
    let out = mammoscope(&[
        OsStr::new("evaluate"),
        OsStr::new("background"),
        OsStr::new("--seed"),
        OsStr::new("777"),
        OsStr::new("--test-images"),
        OsStr::new("4"),
        OsStr::new("--json"),
        json.as_os_str(),
    ]);
    assert_ok(&out);
    assert!(stdout(&out).contains("| CNR level |"), "{}", stdout(&out));
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let levels = v["levels"].as_array().unwrap();
    let column = |key: &str| levels.iter().map(|l| l[key].as_f64().unwrap()).collect::<Vec<_>>();
    // Higher levels: no more background findings and no more clusters reaching them; every visible cluster reaches
    // the visibility level itself (CNR 5).
    for key in ["distinct_per_free_image", "patch_findings_per_free_image", "clusters_reaching"] {
        assert!(column(key).windows(2).all(|w| w[1] <= w[0]), "{key}: {:?}", column(key));
    }
    let at_5 = levels.iter().find(|l| (l["cnr"].as_f64().unwrap() - 5.0).abs() < 1e-9).unwrap();
    assert!((at_5["clusters_reaching"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!(column("patch_findings_per_free_image")[0] > 0.0, "simulated tissue has speck-like peaks at CNR 4");
    assert_eq!(v["calcification_free_images"].as_array().unwrap().len(), 2);
    let err = assert_one_line_error(&mammoscope(&["evaluate", "background", "--test-images", "1"]));
    assert!(err.contains("at least 2"), "{err}");
}

// ---------------------------------------------------------------- CDMAM

/// A small simulated CDMAM set (coarse pixels so the debug build stays quick).
fn cdmam_set(dir: &Path, n: u32, extra: &[&str]) {
    let n = n.to_string();
    let mut args = vec!["synth", "cdmam", "--n", &n, "--pixel-mm", "0.1", "--margin", "5", "--seed", "3"];
    args.extend_from_slice(extra);
    args.extend(["--out", dir.to_str().unwrap()]);
    assert_ok(&mammoscope(&args));
}

#[test]
fn synth_and_readout_cdmam_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    cdmam_set(dir.path(), 8, &[]);
    let dcms: Vec<PathBuf> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension() == Some(OsStr::new("dcm"))).collect();
    assert_eq!(dcms.len(), 8);
    // For Processing raw data, with a truth sidecar of 205 cells and the set's ideal-observer thresholds.
    let info = info_json(&dcms[0], &[]);
    assert_eq!(info["presentation_intent"], "FOR PROCESSING", "{info}");
    let sidecar: Value = serde_json::from_str(&std::fs::read_to_string(dcms[0].with_extension("json")).unwrap()).unwrap();
    assert_eq!(sidecar["truth"]["cells"].as_array().unwrap().len(), 205);
    let set: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("cdmam_set.json")).unwrap()).unwrap();
    assert_eq!(set["ideal_observer"].as_array().unwrap().len(), 12);

    let report = dir.path().join("report.html");
    let out = mammoscope(&[
        "readout",
        "cdmam",
        dir.path().to_str().unwrap(),
        "--json",
        "--bootstrap",
        "20",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_ok(&out);
    let json: Value = serde_json::from_slice(&out.stdout).expect("readout --json prints JSON");
    assert_eq!(json["images_used"].as_array().unwrap().len(), 8, "{}", stderr(&out));
    let thresholds = json["thresholds"].as_array().unwrap();
    assert_eq!(thresholds.len(), 12);
    assert!((thresholds[0]["diameter_mm"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert!(thresholds.iter().filter(|t| t["human_um"].is_number()).count() >= 8, "{thresholds:?}");
    assert_eq!(json["verdicts"].as_array().unwrap().len(), 5);
    assert_eq!(json["readout"]["per_image"].as_array().unwrap().len(), 8);
    assert!(json["iqf"].is_number());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("data:image/png;base64,") && html.contains("EUREF"), "report lacks the plot or the limits");
    assert!(!html.contains("SIMULATED^") && !html.contains("CDMAM-3\""), "no patient identifiers in the report");
}

#[test]
fn readout_cdmam_refuses_too_few_images_and_non_phantoms() {
    let dir = tempfile::tempdir().unwrap();
    cdmam_set(dir.path(), 3, &["--no-text"]);
    let line = assert_one_line_error(&mammoscope(&["readout", "cdmam", dir.path().to_str().unwrap()]));
    assert!(line.contains("at least 8"), "{line}");
    // Mammograms are not phantoms: a clear error, no panic.
    let samples = mammoscope::app::loader::sample_exam_dir().unwrap();
    let line = assert_one_line_error(&mammoscope(&["readout", "cdmam", samples.to_str().unwrap(), "--min-images", "2"]));
    assert!(line.contains("no CDMAM phantom found"), "{line}");
    // The report must not overwrite an input.
    let first = dir.path().join("cdmam_00.dcm");
    let before = std::fs::read(&first).unwrap();
    let line = assert_one_line_error(&mammoscope(&["readout", "cdmam", dir.path().to_str().unwrap(), "--report", first.to_str().unwrap()]));
    assert!(line.contains("never overwritten"), "{line}");
    assert_eq!(std::fs::read(&first).unwrap(), before);
    // A file that is not an image.
    let bogus = dir.path().join("bogus.dcm");
    std::fs::write(&bogus, b"not a dicom file at all").unwrap();
    let line = assert_one_line_error(&mammoscope(&["readout", "cdmam", bogus.to_str().unwrap(), "--min-images", "1"]));
    assert!(line.contains("bogus.dcm"), "{line}");
}

#[test]
fn readout_cdmam_notices_another_layout_and_uses_a_sidecar_truth() {
    let dir = tempfile::tempdir().unwrap();
    cdmam_set(dir.path(), 8, &["--random-layout"]);
    let path = dir.path().to_str().unwrap();
    // The standard chart does not describe this phantom: the readout says so and scores against the consensus.
    let out = mammoscope(&["readout", "cdmam", path, "--json", "--bootstrap", "0"]);
    assert_ok(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["truth_source"], "consensus", "{}", json["readout"]["warnings"]);
    // With the simulator's truth it uses that layout, and the thresholds agree with the consensus ones.
    let sidecar = dir.path().join("cdmam_00.json");
    let out = mammoscope(&["readout", "cdmam", path, "--json", "--bootstrap", "0", "--truth", sidecar.to_str().unwrap()]);
    assert_ok(&out);
    let with_truth: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(with_truth["truth_source"], "layout");
    let t = |j: &Value, i: usize| j["thresholds"][i]["automated_um"].as_f64();
    for i in [6, 9] {
        let (a, b) = (t(&json, i).unwrap(), t(&with_truth, i).unwrap());
        assert!((a / b - 1.0).abs() < 0.25, "row {i}: consensus {a} vs truth {b}");
    }
}

#[test]
fn analyze_cdc_and_omig_on_a_simulated_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let n = "1".to_string();
    let out = mammoscope(&[
        "synth",
        "cdmam",
        "--n",
        &n,
        "--scenario",
        "1",
        "--margin",
        "5",
        "--seed",
        "9",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_ok(&out);
    let file = dir.path().join("cdmam_00.dcm");
    let out = mammoscope(&["analyze", "cdc", file.to_str().unwrap(), "--json", "--draws", "2"]);
    assert_ok(&out);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 12);
    assert_eq!(v["members"], 10);
    for p in points {
        let (t, lo, hi) = (p["threshold_um"].as_f64().unwrap(), p["band_95_um"][0].as_f64().unwrap(), p["band_95_um"][1].as_f64().unwrap());
        assert!(lo < t && t < hi, "{p}");
        let (tot, epi, ale) =
            (p["sigma_total"].as_f64().unwrap(), p["sigma_epistemic"].as_f64().unwrap(), p["sigma_aleatoric"].as_f64().unwrap());
        assert!((tot * tot - epi * epi - ale * ale).abs() < 1e-9, "{p}");
    }
    assert!(!stdout(&out).contains("PatientName"));
    // The map: a 32-bit float TIFF at the image's size (sensitivity analysis: one gradient per draw, quick).
    let map = dir.path().join("map.tiff");
    let out = mammoscope(&[
        "analyze",
        "omig",
        file.to_str().unwrap(),
        "--draws",
        "4",
        "--method",
        "sensitivity",
        "--out",
        map.to_str().unwrap(),
        "--json",
    ]);
    assert_ok(&out);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut decoder = tiff::decoder::Decoder::new(std::fs::File::open(&map).unwrap()).unwrap();
    let (w, h) = decoder.dimensions().unwrap();
    assert_eq!((u64::from(w), u64::from(h)), (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap()));
    let tiff::decoder::DecodingResult::F32(values) = decoder.read_image().unwrap() else { panic!("not a float TIFF") };
    assert!(values.iter().any(|x| *x != 0.0));
    // Never onto the input; bad input fails with one line.
    let out = mammoscope(&["analyze", "omig", file.to_str().unwrap(), "--draws", "1", "--out", file.to_str().unwrap()]);
    assert!(assert_one_line_error(&out).contains("never overwritten"));
    let junk = dir.path().join("junk.dcm");
    std::fs::write(&junk, b"not an image at all").unwrap();
    assert_one_line_error(&mammoscope(&["analyze", "cdc", junk.to_str().unwrap()]));
    let small = dir.path().join("small.png");
    image::GrayImage::new(100, 100).save(&small).unwrap();
    let out = mammoscope(&["analyze", "cdc", small.to_str().unwrap()]);
    assert!(out.status.code() == Some(2), "{}", stderr(&out));
}

#[test]
fn analyze_denoise_reports_scores_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample("L_CC.dcm");
    let out = dir.path().join("denoised.dcm");
    let noisy = dir.path().join("noisy.png");
    let run = mammoscope(&[
        "analyze".as_ref(),
        "denoise".as_ref(),
        input.as_os_str(),
        "--dose".as_ref(),
        "0.2".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--noisy-out".as_ref(),
        noisy.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_ok(&run);
    let report: Value = serde_json::from_str(&stdout(&run)).unwrap();
    let r = &report["reference"];
    assert!(r["psnr_output"].as_f64().unwrap() > r["psnr_input"].as_f64().unwrap() + 2.0, "{report}");
    assert!(r["ssim_output"].as_f64().unwrap() > r["ssim_input"].as_f64().unwrap(), "{report}");
    assert_eq!(report["preset"], "unet");
    assert_eq!(report["estimate"], "full-dose");
    let weight = report["full_dose_weight"].as_f64().unwrap();
    assert!((0.0..=0.3).contains(&weight), "{report}");
    assert_eq!(report["weights_sha256"].as_str().unwrap().len(), 64);
    assert!(!stdout(&run).contains("PatientName"));
    let written = info_json(&out, &[]);
    assert_eq!(written["columns"], info_json(&input, &[])["columns"]);
    assert!(noisy.exists());
    // Without --dose: no reference, no scores.
    let plain = dir.path().join("plain.png");
    let run =
        mammoscope(&["analyze".as_ref(), "denoise".as_ref(), input.as_os_str(), "--out".as_ref(), plain.as_os_str(), "--json".as_ref()]);
    assert_ok(&run);
    let report: Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert!(report["reference"].is_null());
    assert_eq!(report["estimate"], "noise-free");
    assert!(report["full_dose_weight"].is_null());
    // Refusals: the input as output, a dose outside (0, 1], an unknown preset, a file that is not an image.
    let copy = dir.path().join("in.dcm");
    std::fs::copy(&input, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    assert_one_line_error(&mammoscope(&["analyze".as_ref(), "denoise".as_ref(), copy.as_os_str(), "--out".as_ref(), copy.as_os_str()]));
    assert_eq!(std::fs::read(&copy).unwrap(), before, "the input was modified");
    for extra in [["--dose", "0"], ["--dose", "1.5"], ["--preset", "huge"], ["--estimate", "clean"]] {
        let mut args = vec!["analyze".to_owned(), "denoise".to_owned(), copy.display().to_string(), "--out".to_owned()];
        args.extend([plain.display().to_string(), extra[0].to_owned(), extra[1].to_owned()]);
        assert_one_line_error(&mammoscope(&args));
    }
    let junk = dir.path().join("junk.dcm");
    std::fs::write(&junk, b"not an image at all").unwrap();
    assert_one_line_error(&mammoscope(&["analyze".as_ref(), "denoise".as_ref(), junk.as_os_str(), "--out".as_ref(), plain.as_os_str()]));
    // A flat image has no noise to estimate a gain from.
    let flat = dir.path().join("flat.png");
    image::GrayImage::new(100, 100).save(&flat).unwrap();
    assert_one_line_error(&mammoscope(&["analyze".as_ref(), "denoise".as_ref(), flat.as_os_str(), "--out".as_ref(), plain.as_os_str()]));
}
