use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use super::super::losses::{bce_with_logits, neighbor_loss, reconstruction_loss};
use super::super::pool::fd::{relative_gradient_error, seeded_init, spread};
use super::super::preset::PATCH_SIZE;
use super::*;

fn fresh(preset: CalcPreset, with_decoder: bool, dtype: DType) -> (VarMap, CalcNet) {
    let varmap = VarMap::new();
    let net = CalcNet::new(preset, with_decoder, VarBuilder::from_varmap(&varmap, dtype, &Device::Cpu)).unwrap();
    (varmap, net)
}

fn patches(batch: usize) -> Tensor {
    Tensor::randn(0f32, 1.0, (batch, 1, PATCH_SIZE, PATCH_SIZE), &Device::Cpu).unwrap()
}

#[test]
fn compact_and_resnet18_shapes() {
    for (preset, enc, feat, side) in [(CalcPreset::Compact, 64, 128, 14), (CalcPreset::Resnet18, 128, 512, 7)] {
        let (_, net) = fresh(preset, true, DType::F32);
        assert!(net.has_decoder());
        assert_eq!(net.preset(), preset);
        let x = patches(2);
        for train in [true, false] {
            let out = net.forward_all(&x, train).unwrap();
            assert_eq!(out.encoded.dims(), [2, enc, 28, 28], "{preset}");
            assert_eq!(out.features.dims(), [2, feat, side, side], "{preset}");
            assert_eq!(out.logits.dims(), [2], "{preset}");
            assert_eq!(net.reconstruct(&out.encoded, train).unwrap().unwrap().dims(), [2, 1, PATCH_SIZE, PATCH_SIZE]);
        }
        let p: Vec<f32> = net.probabilities(&x).unwrap().to_vec1().unwrap();
        assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}

#[test]
fn resnet50_shapes() {
    let (_, net) = fresh(CalcPreset::Resnet50, true, DType::F32);
    let out = net.forward_all(&patches(1), false).unwrap();
    assert_eq!(out.encoded.dims(), [1, 512, 28, 28]);
    assert_eq!(out.features.dims(), [1, 2048, 7, 7]);
    assert_eq!(out.logits.dims(), [1]);
    assert_eq!(net.reconstruct(&out.encoded, false).unwrap().unwrap().dims(), [1, 1, PATCH_SIZE, PATCH_SIZE]);
}

#[test]
fn without_decoder_there_is_no_reconstruction() {
    let (varmap, net) = fresh(CalcPreset::Compact, false, DType::F32);
    assert!(!net.has_decoder());
    assert!(varmap.data().lock().unwrap().keys().all(|name| !name.starts_with("dec.")));
    let out = net.forward_all(&patches(1), false).unwrap();
    assert!(net.reconstruct(&out.encoded, false).unwrap().is_none());
}

#[test]
fn rejects_bad_inputs() {
    let (_, net) = fresh(CalcPreset::Compact, false, DType::F32);
    let rgb = Tensor::zeros((1, 3, 64, 64), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(net.logits(&rgb), Err(ModelError::Input(_))));
    let flat = Tensor::zeros((1, 64, 64), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(net.logits(&flat), Err(ModelError::Input(_))));
}

#[test]
fn train_mode_updates_running_statistics_only_in_train_mode() {
    let (varmap, net) = fresh(CalcPreset::Compact, false, DType::F32);
    let mean = || varmap.data().lock().unwrap()["enc.0.bn.running_mean"].as_tensor().to_vec1::<f32>().unwrap();
    let before = mean();
    net.forward_all(&patches(2), false).unwrap();
    assert_eq!(mean(), before);
    net.forward_all(&patches(2), true).unwrap();
    assert_ne!(mean(), before);
}

/// The whole training loss (BCE + neighbour + reconstruction) in train mode, differentiated with respect to conv and
/// linear weights, against central differences (f64).
#[test]
fn train_mode_weight_gradients_match_finite_differences() {
    let (varmap, _) = fresh(CalcPreset::Compact, true, DType::F64);
    seeded_init(&varmap, 11).unwrap();
    let base: HashMap<String, Tensor> =
        varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.as_tensor().copy().unwrap())).collect();
    let x = spread(&[2, 1, 32, 32], 1).unwrap();
    let noisy = (&x + spread(&[2, 1, 32, 32], 2).unwrap().affine(0.05, 0.0).unwrap()).unwrap();
    let targets = Tensor::new(&[1.0f64, 0.0], &Device::Cpu).unwrap();
    for (name, positions) in [
        ("enc.1.conv.weight", vec![0, 7, 1000, 4607]),
        ("head.2.bn.weight", vec![3, 100]),
        ("fc.weight", vec![0, 127]),
        ("enc.0.conv.weight", vec![0, 30, 799]),
        ("dec.1.conv.bias", vec![5]),
    ] {
        // Rebuild the network around the probed tensor so that its gradient is tracked.
        let loss = |w: &Tensor| -> candle_core::Result<Tensor> {
            let mut tensors = base.clone();
            tensors.insert(name.to_owned(), w.clone());
            let msg = |e: ModelError| candle_core::Error::Msg(e.to_string());
            let net = CalcNet::new(CalcPreset::Compact, true, VarBuilder::from_tensors(tensors, DType::F64, &Device::Cpu)).map_err(msg)?;
            let clean = net.forward_all(&x, true).map_err(msg)?;
            let dirty = net.forward_all(&noisy, true).map_err(msg)?;
            let rec_clean = net.reconstruct(&clean.encoded, true).map_err(msg)?.expect("decoder");
            let rec_noisy = net.reconstruct(&dirty.encoded, true).map_err(msg)?.expect("decoder");
            let bce = bce_with_logits(&clean.logits, &targets).map_err(msg)?;
            let neighbor = neighbor_loss(&clean.features, &dirty.features).map_err(msg)?;
            let reconstruction = reconstruction_loss(&x, &rec_clean, &rec_noisy).map_err(msg)?;
            (bce + neighbor)? + reconstruction
        };
        let err = relative_gradient_error(loss, &base[name], Some(&positions), 1e-6).unwrap();
        assert!(err < 1e-3, "{name}: relative error {err}");
    }
}
