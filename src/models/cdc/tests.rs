//! Cross-cutting tests of the CDC predictor: input gradients against finite differences (candle's max-pool gradient
//! is wrong, so this guards the explanation maps), save/load, and a short training run.

use std::sync::atomic::{AtomicUsize, Ordering};

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::*;
use crate::imaging::downsample::Selection;
use crate::models::error::ModelError;
use crate::models::pool::fd::{relative_gradient_error, seeded_init};
use crate::synth::cdc_data::{SettingData, StoredImage, training_settings};

/// A member built into a fresh `VarMap` with seeded, non-trivial values (running statistics included).
fn seeded_member(preset: CdcPreset, side: usize, dtype: DType, seed: u64) -> (VarMap, CdcNet) {
    let varmap = VarMap::new();
    let net = CdcNet::with_input_side(preset, side, &VarBuilder::from_varmap(&varmap, dtype, &Device::Cpu)).unwrap();
    seeded_init(&varmap, seed).unwrap();
    (varmap, net)
}

fn random_input(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| rng.random_range(-1.5..1.5)).collect::<Vec<f64>>(), shape, &Device::Cpu).unwrap()
}

/// Pixels to check: both corners, the pixels with the largest gradients, a pixel whose gradient is exactly zero (it
/// lost every max-pool decision: candle's buggy pool would give it a share), and a few random ones.
fn probe_pixels(grad: &[f64], seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..grad.len()).collect();
    order.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()));
    let mut rng = StdRng::seed_from_u64(seed);
    let mut picks = vec![0, grad.len() - 1, order[0], order[1], order[2]];
    picks.extend(grad.iter().position(|&g| g == 0.0));
    picks.extend((0..4).map(|_| rng.random_range(0..grad.len())));
    picks
}

#[test]
fn member_input_gradients_match_finite_differences() {
    let side = INPUT_SIDE;
    for (seed, preset) in [(11, CdcPreset::Compact), (12, CdcPreset::Compact)] {
        let (_, net) = seeded_member(preset, side, DType::F64, seed);
        let x = random_input(&[1, 1, side, side], seed);
        let f = |x: &Tensor| net.midpoint(x)?.sum_all();
        let var = candle_core::Var::from_tensor(&x).unwrap();
        let grad: Vec<f64> =
            f(var.as_tensor()).unwrap().backward().unwrap().get(var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let at = probe_pixels(&grad, seed);
        let err = relative_gradient_error(f, &x, Some(&at), 1e-6).unwrap();
        assert!(err < 1e-6, "member {seed}: relative gradient error {err}");
    }
}

#[test]
fn ensemble_midpoint_gradient_matches_finite_differences_per_sample() {
    let side = INPUT_SIDE;
    let members = (0..2).map(|m| seeded_member(CdcPreset::Compact, side, DType::F64, 20 + m).1).collect();
    let ensemble = CdcEnsemble::new(members, Normalisation::new(0.0, 1.0).unwrap(), &Device::Cpu).unwrap();
    let x = random_input(&[2, 1, side, side], 3);
    let (midpoint, grad) = ensemble.midpoint_and_grad(&x).unwrap();
    assert_eq!(midpoint.dims(), [2]);
    assert_eq!(grad.dims(), [2, 1, side, side]);
    let base: Vec<f64> = midpoint.to_vec1().unwrap();
    let grad: Vec<f64> = grad.flatten_all().unwrap().to_vec1().unwrap();
    let values: Vec<f64> = x.flatten_all().unwrap().to_vec1().unwrap();
    let per_image = side * side;
    let step = 1e-6;
    for (image, offset) in [(0usize, 0usize), (1, per_image)] {
        let local = &grad[offset..offset + per_image];
        let scale = local.iter().fold(1e-12f64, |m, g| m.max(g.abs()));
        for pixel in probe_pixels(local, 7 + image as u64) {
            let eval = |delta: f64| -> Vec<f64> {
                let mut v = values.clone();
                v[offset + pixel] += delta;
                ensemble.midpoint(&Tensor::from_vec(v, x.shape(), &Device::Cpu).unwrap()).unwrap().to_vec1().unwrap()
            };
            let (plus, minus) = (eval(step), eval(-step));
            let numeric = (plus[image] - minus[image]) / (2.0 * step);
            assert!((numeric - local[pixel]).abs() / scale < 1e-6, "image {image} pixel {pixel}: {numeric} vs {}", local[pixel]);
            // The other image's midpoint does not move: samples are independent in evaluation mode.
            assert!((plus[1 - image] - base[1 - image]).abs() < 1e-12);
        }
    }
}

#[test]
fn predictions_combine_members() {
    let side = 32;
    let members: Vec<CdcNet> = (0..3).map(|m| seeded_member(CdcPreset::Compact, side, DType::F32, 30 + m).1).collect();
    let x = random_input(&[2, 1, side, side], 4).to_dtype(DType::F32).unwrap();
    let ensemble = CdcEnsemble::new(members.clone(), Normalisation::new(0.0, 1.0).unwrap(), &Device::Cpu).unwrap();
    let predictions = ensemble.predict(&x).unwrap();
    assert_eq!(predictions.len(), 2);
    let mus: Vec<Vec<Vec<f32>>> = members.iter().map(|m| m.forward_t(&x, false).unwrap().0.to_vec2().unwrap()).collect();
    let mean_0_0 = mus.iter().map(|mu| f64::from(mu[1][0])).sum::<f64>() / 3.0;
    assert!((predictions[1].mean[0] - mean_0_0).abs() < 1e-6);
    assert!(predictions.iter().all(|p| p.epistemic.iter().all(|&e| e > 0.0) && p.total[5] > p.aleatoric[5]));
    let midpoint: Vec<f32> = ensemble.midpoint(&x).unwrap().to_vec1().unwrap();
    assert!((f64::from(midpoint[1]) - predictions[1].midpoint()).abs() < 1e-5);
    assert!(CdcEnsemble::new(Vec::new(), ensemble.normalisation(), &Device::Cpu).is_err());
}

#[test]
fn save_and_load_round_trip_and_refuse_damaged_folders() {
    let side = 32;
    let dir = tempfile::tempdir().unwrap();
    let built: Vec<(VarMap, CdcNet)> = (0..2).map(|m| seeded_member(CdcPreset::Compact, side, DType::F32, 40 + m)).collect();
    let varmaps: Vec<VarMap> = built.iter().map(|(v, _)| v.clone()).collect();
    let norm = Normalisation::new(6000.0, 120.0).unwrap();
    let original = CdcEnsemble::new(built.into_iter().map(|(_, n)| n).collect(), norm, &Device::Cpu).unwrap();
    let x = random_input(&[2, 1, side, side], 5).to_dtype(DType::F32).unwrap();
    let expected = original.predict(&x).unwrap();
    for (dtype, tolerance) in [(DType::F32, 0.0), (DType::F16, 2e-2)] {
        let out = dir.path().join(format!("{dtype:?}"));
        let manifest = save_ensemble(&out, CdcPreset::Compact, side, norm, &varmaps, dtype, &std::collections::BTreeMap::new()).unwrap();
        let loaded = CdcEnsemble::load(&out, &Device::Cpu).unwrap();
        assert_eq!(loaded.members().len(), 2);
        assert_eq!(loaded.normalisation(), norm);
        assert_eq!(loaded.weights_sha256(), manifest.files.iter().map(|f| f.sha256.clone()).collect::<Vec<_>>());
        for (a, b) in loaded.predict(&x).unwrap().iter().zip(&expected) {
            for k in 0..12 {
                assert!((a.mean[k] - b.mean[k]).abs() <= tolerance && (a.total[k] - b.total[k]).abs() <= tolerance, "{dtype:?}");
            }
        }
    }
    let out = dir.path().join("F16");
    assert!(matches!(CdcEnsemble::load(&dir.path().join("missing"), &Device::Cpu), Err(ModelError::Io { .. })));
    // A damaged member file: its hash no longer matches.
    let member = out.join(member_file_name(1));
    let mut bytes = std::fs::read(&member).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&member, &bytes).unwrap();
    assert!(matches!(CdcEnsemble::load(&out, &Device::Cpu), Err(ModelError::Format(m)) if m.contains("SHA-256")));
    std::fs::remove_file(&member).unwrap();
    assert!(matches!(CdcEnsemble::load(&out, &Device::Cpu), Err(ModelError::Io { .. })));
    std::fs::write(out.join(MANIFEST_FILE), b"{ not json").unwrap();
    assert!(matches!(CdcEnsemble::load(&out, &Device::Cpu), Err(ModelError::Format(_))));
}

/// Four fake settings: 500 × 500 uniform noise around 6000 whose amplitude sets the label (noisier → higher
/// thresholds), margins 0, 0, 6 and 25 mm (one setting per stage at least).
pub(super) fn fake_settings(images: usize) -> Vec<SettingData> {
    let side = 500;
    let specs = training_settings(4, 9);
    [(40.0, 0.0), (400.0, 0.0), (150.0, 6.0), (900.0, 25.0)]
        .into_iter()
        .zip(specs)
        .enumerate()
        .map(|(s, ((amplitude, margin_mm), mut spec))| {
            spec.params.margin_mm = margin_mm;
            let mut rng = StdRng::seed_from_u64(100 + s as u64);
            let images = (0..images)
                .map(|_| StoredImage {
                    width: 2000,
                    height: 2000,
                    selection: Selection { rows: (0..side).map(|r| 4 * r).collect(), cols: (0..side).map(|c| 4 * c).collect() },
                    pixels: (0..side * side).map(|_| (6000.0 + rng.random_range(-amplitude..amplitude)) as u16).collect(),
                })
                .collect();
            let scale: f64 = amplitude / 200.0;
            let label_um = std::array::from_fn(|k| 0.05 * 1.35f64.powi(k as i32) * scale);
            SettingData { spec, label_um, ideal_um: label_um, images_read: 16, images }
        })
        .collect()
}

/// Counts the observer's calls.
#[derive(Default)]
struct Counting {
    steps: AtomicUsize,
    epochs: AtomicUsize,
}

impl CdcTrainObserver for Counting {
    fn step(&self, _: &CdcStepProgress) {
        self.steps.fetch_add(1, Ordering::Relaxed);
    }
    fn epoch(&self, _: &CdcEpochRecord) {
        self.epochs.fetch_add(1, Ordering::Relaxed);
    }
    fn message(&self, _: &str) {}
}

#[test]
fn a_short_training_run_lowers_the_nll_and_resumes() {
    let data = fake_settings(4);
    let dir = tempfile::tempdir().unwrap();
    let config = TrainCdcConfig {
        members: 1,
        epochs_per_stage: [2, 2, 3],
        batch_size: 4,
        warmup_steps: 10,
        lr: 1e-3,
        max_steps_per_epoch: Some(3),
        val_images_per_setting: 2,
        ..TrainCdcConfig::compact_default(dir.path().join("work"), dir.path().join("out"))
    };
    let observer = Counting::default();
    let summary = train_ensemble(&config, &data, &data, &Device::Cpu, &observer, &|| false).unwrap();
    // Stage 0 has 8 images (2 steps of 4), stages 1 and 2 have 12 and 16 (capped at 3 steps).
    assert_eq!(observer.steps.load(Ordering::Relaxed), 2 * 2 + 2 * 3 + 3 * 3);
    assert_eq!(observer.epochs.load(Ordering::Relaxed), 7);
    let member = &summary.members[0];
    let initial = member.initial_val_nll.unwrap();
    let last = member.history.last().unwrap().val_nll.unwrap();
    assert!(last < initial - 0.1, "validation NLL {initial} → {last}");
    assert_eq!(summary.train_images, 16);

    // The saved ensemble loads; a rerun reuses the finished member and rewrites the same ensemble.
    let ensemble = CdcEnsemble::load(&config.out, &Device::Cpu).unwrap();
    let x = ensemble.input_tensor(&vec![6000.0; 2 * INPUT_SIDE * INPUT_SIDE]).unwrap();
    let before = ensemble.predict(&x).unwrap();
    let rerun = train_ensemble(&config, &data, &data, &Device::Cpu, &SilentObserver, &|| false).unwrap();
    assert_eq!(rerun.members_reused, 1);
    assert_eq!(rerun.members[0].history.len(), member.history.len());
    assert!((rerun.members[0].history[6].val_nll.unwrap() - last).abs() < 1e-12);
    // (The files' bytes may differ: the metadata is written in hash-map order.)
    assert_eq!(CdcEnsemble::load(&config.out, &Device::Cpu).unwrap().predict(&x).unwrap(), before);

    // Another recipe in the same work directory is refused; cancelling stops at once.
    let other = TrainCdcConfig { lr: 1e-2, ..config.clone() };
    assert!(matches!(train_ensemble(&other, &data, &data, &Device::Cpu, &SilentObserver, &|| false), Err(ModelError::Input(_))));
    let fresh = TrainCdcConfig { members: 2, work_dir: dir.path().join("work2"), ..config };
    assert!(matches!(train_ensemble(&fresh, &data, &[], &Device::Cpu, &SilentObserver, &|| true), Err(ModelError::Cancelled)));
}
