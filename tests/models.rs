//! The shipped calcification models on held-out simulated mammograms and on real digitised film.
//!
//! Missing fixtures fail with instructions (see `common`), never skip.
#![allow(clippy::unwrap_used)]

mod common;

use candle_core::Device;
use mammoscope::dicom::{self, OpenOptions};
use mammoscope::models::catalog::{CALC_MODELS, calc_model_path};
use mammoscope::models::checkpoint::build_from_file;
use mammoscope::models::detector::{CalcDetector, DetectorOptions};
use mammoscope::models::training::evaluate::{TestSet, detection_stats};
use mammoscope::synth::calc_patches::generate_eval_images;

/// Held-out images: a seed no training or card evaluation uses.
const TEST_SEED: u64 = 31_337;

/// The acceptance bar, on the detector's default half-overlapping tiles and the marks the viewer outlines, at
/// each model's whole-image operating point (its `detection_threshold`, chosen on validation mammograms). Ignored
/// because the shipped models do not reach it reliably: at those thresholds they find 91.5% of the 47 clusters of
/// the card's 60 test images at 1.2–1.3 false marks per calcification-free image, and 91–93% of the 163 clusters of
/// 240 further images at 0.98 (plain) and 1.03 (robust) (`assets/models/CALC_MODEL_CARD.md`). Here, on 16 images
/// with 12 clusters (2 of them with three or more visible specks), both find 9, at 1.4–1.6 false marks. Every cluster
/// with three or more visible specks is found on every set; the misses are one- or two-speck clusters. The two film
/// models, trained with film artefacts, find fewer (80–85 % of the 163 at about one false mark). Issue 4 is blocked
/// on this: a larger network trained from scratch needs a GPU. Run with `--ignored`.
#[test]
#[ignore = "the shipped calcification models do not meet the 90% / ≤ 1 false mark bar reliably yet (model card)"]
fn shipped_models_find_the_clusters_with_few_false_patches() {
    let images = generate_eval_images(TEST_SEED, 16, &|_, _| {}, &|| false).unwrap();
    let set = TestSet::new(images, TEST_SEED);
    for model in CALC_MODELS {
        let path = calc_model_path(model).unwrap_or_else(|| panic!("shipped model {} missing (assets/models/{})", model.id, model.file));
        let (net, info) = build_from_file(&path, &Device::Cpu).unwrap();
        // The whole-image operating point, chosen on validation mammograms (seed 1234) when the model was trained.
        let op: f32 = info.metadata["detection_threshold"].parse().unwrap();
        let stats = detection_stats(&net, &set, op, DetectorOptions::default().stride, &Device::Cpu, &|| false).unwrap();
        assert!(stats.clusters >= 8, "{}: only {} visible clusters in the test images", model.id, stats.clusters);
        assert!(
            stats.sensitivity >= 0.9,
            "{}: found {}/{} clusters at the operating point {op}",
            model.id,
            stats.clusters_found,
            stats.clusters
        );
        assert!(stats.calc_free_images >= 3);
        // "Few": at most one false mark (what the viewer outlines) per calcification-free image on average.
        assert!(stats.false_marks_per_calc_free_image <= 1.0, "{}: {:?}", model.id, stats);
    }
}

#[test]
fn detector_runs_on_real_film_at_the_fixed_physical_scale() {
    let files = common::cbis_ddsm();
    let model = CALC_MODELS[0];
    let detector = CalcDetector::load(&calc_model_path(model).unwrap(), &Device::Cpu).unwrap();
    // CBIS-DDSM scans carry no pixel spacing; about 0.05 mm is assumed, as the model card does.
    let loaded = dicom::open(&files[0], &OpenOptions { user_spacing_mm: Some(0.05) }).unwrap();
    let image = &loaded.frames[0];
    let d = detector.detect(image, 0.05, loaded.meta.is_monochrome1(), &DetectorOptions::default(), &|_, _| {}, &|| false).unwrap();
    assert!((d.patch_size_mm - 15.68).abs() < 1e-9 && (d.patch_size_px - 313.6).abs() < 1e-6);
    // The breast covers 20–40% of these films: tiles over the background and the film labels are skipped.
    assert!(d.patches.len() > 20 && d.skipped > d.patches.len() / 2, "{} scored, {} skipped", d.patches.len(), d.skipped);
    assert!(d.patches.iter().all(|p| (0.0..=1.0).contains(&p.prob) && p.x + p.w <= image.width as f64 + 1e-6));
}

/// The evidence point (where the model's calcification evidence peaks) of a patch that holds a cluster lies on the
/// cluster: within 3 mm of one of its visible specks, for the default model on the first simulated mammograms with
/// calcifications of the test seed; and the CPU's fast NHWC path and the plain NCHW path agree on it.
#[test]
fn evidence_points_sit_on_the_calcifications() {
    use mammoscope::imaging::resample::MODEL_SPACING_MM;
    use mammoscope::synth::calc_patches::{MIN_CNR, generate_eval_range};

    let images = generate_eval_range(TEST_SEED, 0..3, &|_, _| {}, &|| false).unwrap();
    let model = CALC_MODELS[0];
    let detector = CalcDetector::load(&calc_model_path(model).unwrap(), &Device::Cpu).unwrap();
    let (mut checked, mut on_cluster) = (0, 0);
    for img in images.iter().filter(|i| !i.specks.is_empty()) {
        let d = detector.detect(&img.image, MODEL_SPACING_MM, false, &DetectorOptions::default(), &|_, _| {}, &|| false).unwrap();
        let visible: Vec<[f64; 2]> = img.specks.iter().filter(|s| s.1 >= MIN_CNR).map(|s| s.0).collect();
        for p in d.patches.iter().filter(|p| p.prob >= 0.9) {
            if !visible.iter().any(|s| p.contains(s[0], s[1])) {
                continue;
            }
            checked += 1;
            let nearest = visible.iter().map(|s| (s[0] - p.evidence[0]).hypot(s[1] - p.evidence[1])).fold(f64::INFINITY, f64::min);
            on_cluster += usize::from(nearest * MODEL_SPACING_MM <= 3.0);
        }
    }
    assert!(checked >= 5, "only {checked} confident patches hold a visible speck");
    assert!(on_cluster * 10 >= checked * 9, "{on_cluster} of {checked} confident patches with specks have their evidence on them");

    // Both inference paths give the same point on the most probable patches of the first image (at the model's scale
    // the detector's boxes are the tiles).
    let img = &images[0];
    let prepared = mammoscope::models::detector::prepare(&img.image, MODEL_SPACING_MM, false).unwrap();
    let mut top =
        detector.detect_prepared(&prepared, MODEL_SPACING_MM, &DetectorOptions::default(), &|_, _| {}, &|| false).unwrap().patches;
    top.sort_by(|a, b| b.prob.total_cmp(&a.prob));
    top.truncate(6);
    assert!(top[0].prob > 0.5, "{top:?}");
    let data: Vec<f32> = top.iter().flat_map(|p| prepared.scaling.patch(&prepared.image, p.x as usize, p.y as usize, 224)).collect();
    let x = candle_core::Tensor::from_vec(data, (top.len(), 1, 224, 224), &Device::Cpu).unwrap();
    let (fast_p, fast_e) = detector.net().probabilities_and_evidence(&x).unwrap();
    // A tracked input takes the layer-by-layer path.
    let var = candle_core::Var::from_tensor(&x).unwrap();
    let (slow_p, slow_e) = detector.net().probabilities_and_evidence(var.as_tensor()).unwrap();
    for (k, p) in top.iter().enumerate() {
        assert!(
            (fast_p[k] - p.prob).abs() < 1e-4 && (fast_p[k] - slow_p[k]).abs() < 1e-3,
            "patch {k}: {} {} {}",
            p.prob,
            fast_p[k],
            slow_p[k]
        );
        // The same cell (points are cell centres, 16 px apart).
        let apart = (fast_e[k][0] - slow_e[k][0]).abs().max((fast_e[k][1] - slow_e[k][1]).abs());
        assert!(apart < 1.0, "patch {k} (p = {}): {:?} vs {:?}", fast_p[k], fast_e[k], slow_e[k]);
        assert!((p.x + f64::from(fast_e[k][0]) - p.evidence[0]).abs() < 1e-6, "the detector reports the point in image pixels");
    }
}

/// Tiles at the skin line see only the breast: a bright film label and dust painted into the background beside a
/// simulated breast change no probability, while the same dust inside the breast does.
#[test]
fn what_lies_outside_the_breast_does_not_change_the_scores() {
    use mammoscope::imaging::resample::MODEL_SPACING_MM;
    use mammoscope::synth::calc_patches::generate_eval_range;

    let img = generate_eval_range(TEST_SEED, 0..1, &|_, _| {}, &|| false).unwrap().remove(0).image;
    let detector = CalcDetector::load(&calc_model_path(CALC_MODELS[0]).unwrap(), &Device::Cpu).unwrap();
    let options = DetectorOptions::default();
    let detect = |image: &mammoscope::imaging::Image| {
        detector.detect(image, MODEL_SPACING_MM, false, &options, &|_, _| {}, &|| false).unwrap().patches
    };
    let clean = detect(&img);
    let mask = mammoscope::models::detector::prepare(&img, MODEL_SPACING_MM, false).unwrap().mask;
    // Background pixels 4–8 mm (57–113 px) beyond the skin line, on rows that cross it: the label and specks go there,
    // beyond the 3 mm within which the mask regrows the breast (they do not change the mask), inside tiles at the edge.
    let peak = img.stats().max;
    let (mut outside, mut inside) = (img.clone(), img.clone());
    let mut painted = 0;
    for y in (0..img.height - 3).step_by(97) {
        let Some(left) = (0..img.width).find(|&x| mask.contains(x, y)) else { continue };
        let right = (0..img.width).rev().find(|&x| mask.contains(x, y)).unwrap();
        // (edge, direction away from the breast)
        let (edge, out) = if right + 114 < img.width {
            (right as isize, 1)
        } else if left >= 114 {
            (left as isize, -1)
        } else {
            continue;
        };
        for d in (57..114).step_by(7) {
            let (xo, xi) = ((edge + out * d) as usize, (edge - out * d) as usize);
            assert!(!mask.contains(xo, y));
            for dy in 0..3 {
                outside.data[(y + dy) * img.width + xo] = 3.0 * peak;
            }
            if mask.contains(xi, y) {
                inside.data[y * img.width + xi] = 3.0 * peak;
            }
        }
        painted += 1;
    }
    assert!(painted >= 5, "only {painted} rows reach the background");
    let with_label = detect(&outside);
    assert_eq!(clean.len(), with_label.len());
    for (a, b) in clean.iter().zip(&with_label) {
        assert!((a.prob - b.prob).abs() < 1e-6, "tile at ({}, {}): {} → {}", a.x, a.y, a.prob, b.prob);
    }
    let changed = clean.iter().zip(&detect(&inside)).filter(|(a, b)| (a.prob - b.prob).abs() > 1e-3).count();
    assert!(changed > 0, "specks inside the breast change nothing");
}

/// A For Processing image (raw values, linear in the X-ray intensity: dense tissue dark, air brightest) is read from
/// its header as linear and scored on its log attenuation: the simulated view's 25-speck cluster is found as on the
/// For Presentation image, with about as few marks elsewhere. Scored as it is, the raw image loses the cluster.
#[test]
fn for_processing_images_are_scored_on_their_log_attenuation() {
    use mammoscope::dicom::write::{MammogramObject, PresentationIntent, write_mammogram};
    use mammoscope::models::detector::ValueKind;
    use mammoscope::synth::mammogram::{screening_exam, simulate};

    let view = screening_exam(1, 0.1, None).into_iter().find(|v| v.stem == "L_MLO").unwrap();
    let sim = simulate(&view.params).unwrap();
    let cluster = sim.truth.clusters.iter().find(|c| c.specks >= 9).expect("a large cluster in seed 1's L MLO");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.dcm");
    write_mammogram(&path, &MammogramObject { intent: PresentationIntent::ForProcessing, ..MammogramObject::simulated(&sim.raw, 1, 0) })
        .unwrap();
    let loaded = dicom::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(ValueKind::of(&loaded.meta), ValueKind::LinearRaw);

    let detector = CalcDetector::load(&calc_model_path(CALC_MODELS[0]).unwrap(), &Device::Cpu).unwrap();
    let threshold = detector.default_threshold();
    let detect = |image: &mammoscope::imaging::Image, invert: bool| {
        let d = detector.detect(image, 0.1, invert, &DetectorOptions::default(), &|_, _| {}, &|| false).unwrap();
        let at_cluster =
            d.patches.iter().filter(|p| p.contains(cluster.center_px[0], cluster.center_px[1])).map(|p| p.prob).fold(0.0, f32::max);
        (at_cluster, d.marks(threshold).len())
    };
    let (presentation_p, presentation_marks) = detect(&sim.image, false);
    assert!(presentation_p >= threshold);
    let (view_image, invert) = ValueKind::of(&loaded.meta).model_view(&loaded.frames[0]);
    let (raw_p, raw_marks) = detect(&view_image, invert);
    assert!(raw_p >= threshold, "the cluster scores {raw_p} on the log attenuation");
    assert!(
        raw_marks <= presentation_marks + 3,
        "{raw_marks} marks on the log attenuation, {presentation_marks} on the For Presentation image"
    );
    let (as_is_p, _) = detect(&loaded.frames[0], loaded.meta.is_monochrome1());
    assert!(as_is_p < threshold, "scored as it is, the raw image's cluster scores {as_is_p}");
}
