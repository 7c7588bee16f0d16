use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use super::*;

fn trained_compact(with_decoder: bool) -> (VarMap, CalcNet) {
    let varmap = VarMap::new();
    let net = CalcNet::new(CalcPreset::Compact, with_decoder, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
    // Move the batch-norm statistics off their initial values so that the round trip has to carry them.
    net.forward_all(&Tensor::randn(0f32, 1.0, (2, 1, 64, 64), &Device::Cpu).unwrap(), true).unwrap();
    (varmap, net)
}

fn values(tensor: &Tensor) -> Vec<f32> {
    tensor.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn f32_round_trip_is_exact_and_builds_the_same_network() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calc.safetensors");
    let (varmap, net) = trained_compact(true);
    let mut metadata = calc_metadata(CalcPreset::Compact);
    metadata.insert("epochs".to_owned(), "3".to_owned());
    save_weights(&varmap, &path, DType::F32, &metadata).unwrap();
    assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1, "the temporary file is gone");

    let (tensors, read_metadata) = load_weights(&path, &Device::Cpu).unwrap();
    assert_eq!(read_metadata, metadata);
    for (name, var) in varmap.data().lock().unwrap().iter() {
        assert_eq!(values(&tensors[name]), values(var.as_tensor()), "{name}");
    }

    let (loaded, info) = build_from_file(&path, &Device::Cpu).unwrap();
    assert_eq!(info.preset, CalcPreset::Compact);
    assert_eq!(info.sha256, sha256_hex(&std::fs::read(&path).unwrap()));
    assert_eq!(info.metadata["epochs"], "3");
    assert!(loaded.has_decoder());
    let x = Tensor::randn(0f32, 1.0, (2, 1, 64, 64), &Device::Cpu).unwrap();
    assert_eq!(values(&loaded.logits(&x).unwrap()), values(&net.logits(&x).unwrap()));

    // A fresh VarMap filled from the file reproduces the network too (resuming training).
    let (resumed_map, resumed) = trained_compact(true);
    fill_varmap(&resumed_map, &tensors).unwrap();
    assert_eq!(values(&resumed.logits(&x).unwrap()), values(&net.logits(&x).unwrap()));
}

#[test]
fn f16_round_trip_is_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calc-f16.safetensors");
    let (varmap, _) = trained_compact(false);
    save_weights(&varmap, &path, DType::F16, &calc_metadata(CalcPreset::Compact)).unwrap();
    let f32_size = varmap.all_vars().iter().map(|v| v.elem_count() * 4).sum::<usize>();
    assert!(std::fs::metadata(&path).unwrap().len() < (f32_size as u64) * 6 / 10);
    let (tensors, _) = load_weights(&path, &Device::Cpu).unwrap();
    for (name, var) in varmap.data().lock().unwrap().iter() {
        assert_eq!(tensors[name].dtype(), DType::F32);
        for (a, b) in values(var.as_tensor()).iter().zip(values(&tensors[name])) {
            assert!((a - b).abs() <= 1e-3 * a.abs() + 1e-7, "{name}: {a} vs {b}");
        }
    }
    let (net, _) = build_from_file(&path, &Device::Cpu).unwrap();
    assert!(!net.has_decoder());
}

#[test]
fn bad_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calc.safetensors");
    let (varmap, _) = trained_compact(false);
    save_weights(&varmap, &path, DType::F32, &calc_metadata(CalcPreset::Compact)).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let broken = dir.path().join("broken.safetensors");
    for corrupt in [bytes[..bytes.len() / 2].to_vec(), bytes[..5].to_vec(), b"garbage garbage garbage".to_vec(), Vec::new()] {
        std::fs::write(&broken, &corrupt).unwrap();
        assert!(matches!(build_from_file(&broken, &Device::Cpu), Err(ModelError::Format(_))));
        assert!(load_weights(&broken, &Device::Cpu).is_err());
    }
    assert!(matches!(build_from_file(&dir.path().join("missing.safetensors"), &Device::Cpu), Err(ModelError::Io { .. })));

    // Wrong preset: the compact tensors do not fit resnet18.
    save_weights(&varmap, &broken, DType::F32, &calc_metadata(CalcPreset::Resnet18)).unwrap();
    let Err(ModelError::Format(msg)) = build_from_file(&broken, &Device::Cpu) else { panic!("expected a format error") };
    assert!(msg.contains("missing tensor conv1.weight") && msg.contains("unexpected tensor enc.0.conv.weight"), "{msg}");

    // Missing or foreign metadata.
    save_weights(&varmap, &broken, DType::F32, &BTreeMap::new()).unwrap();
    assert!(matches!(build_from_file(&broken, &Device::Cpu), Err(ModelError::Format(_))));
    let mut metadata = calc_metadata(CalcPreset::Compact);
    metadata.insert("preset".to_owned(), "vgg16".to_owned());
    save_weights(&varmap, &broken, DType::F32, &metadata).unwrap();
    assert!(matches!(build_from_file(&broken, &Device::Cpu), Err(ModelError::UnknownPreset(_))));

    // A wrong shape.
    let (mut tensors, metadata) = load_weights(&path, &Device::Cpu).unwrap();
    tensors.insert("fc.weight".to_owned(), Tensor::zeros((1, 256), DType::F32, &Device::Cpu).unwrap());
    let bad_map = VarMap::new();
    for (name, tensor) in &tensors {
        bad_map.get(tensor.dims(), name, candle_nn::Init::Const(0.0), DType::F32, &Device::Cpu).unwrap();
    }
    save_weights(&bad_map, &broken, DType::F32, &metadata).unwrap();
    let Err(ModelError::Format(msg)) = build_from_file(&broken, &Device::Cpu) else { panic!("expected a format error") };
    assert!(msg.contains("fc.weight has shape [1, 256]"), "{msg}");
    assert!(fill_varmap(&varmap, &tensors).is_err());
}

#[test]
fn sha256_of_known_input() {
    assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn added_metadata_keeps_the_tensors_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calc-f16.safetensors");
    let (varmap, _) = trained_compact(false);
    save_weights(&varmap, &path, DType::F16, &calc_metadata(CalcPreset::Compact)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let entries = BTreeMap::from([("detection_threshold".to_owned(), "0.52".to_owned()), ("preset".to_owned(), "compact".to_owned())]);
    add_metadata(&path, &entries).unwrap();
    let after = std::fs::read(&path).unwrap();
    let (old, new) = (safetensors::SafeTensors::deserialize(&before).unwrap(), safetensors::SafeTensors::deserialize(&after).unwrap());
    assert_eq!(old.len(), new.len());
    for (name, view) in old.tensors() {
        let again = new.tensor(&name).unwrap();
        assert_eq!((again.dtype(), again.shape(), again.data()), (view.dtype(), view.shape(), view.data()), "{name}");
    }
    let (_, info) = build_from_file(&path, &Device::Cpu).unwrap();
    assert_eq!(info.metadata["detection_threshold"], "0.52");
    assert_eq!(info.metadata["format"], calc_metadata(CalcPreset::Compact)["format"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is gone");
    // Not a weights file: an error, and the file stays as it was.
    let text = dir.path().join("notes.safetensors");
    std::fs::write(&text, b"not weights").unwrap();
    assert!(add_metadata(&text, &entries).is_err());
    assert_eq!(std::fs::read(&text).unwrap(), b"not weights");
}
