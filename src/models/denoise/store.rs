//! Denoiser weights files: safetensors with `format = mammoscope-denoise-v1`, `preset`, and the training record in the
//! metadata; f16 for shipping, f32 for resuming; SHA-256 reported.

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};

use super::net::DenoiseNet;
use super::preset::DenoisePreset;
use crate::models::checkpoint::{Metadata, fill_varmap, parse_weights, save_weights, sha256_hex};
use crate::models::error::ModelError;

/// The `format` metadata of a denoiser weights file.
pub const DENOISE_FORMAT: &str = "mammoscope-denoise-v1";

/// A loaded denoiser with what its file says.
#[derive(Debug)]
pub struct LoadedDenoiser {
    pub net: DenoiseNet,
    pub sha256: String,
    pub metadata: Metadata,
}

/// The metadata every denoiser file carries; add your own entries.
pub fn denoise_metadata(preset: DenoisePreset) -> BTreeMap<String, String> {
    BTreeMap::from([("format".to_owned(), DENOISE_FORMAT.to_owned()), ("preset".to_owned(), preset.name().to_owned())])
}

/// Saves the network's variables (atomically).
pub fn save_denoiser(varmap: &VarMap, path: &Path, dtype: DType, metadata: &BTreeMap<String, String>) -> Result<(), ModelError> {
    save_weights(varmap, path, dtype, metadata)
}

/// Builds the network a weights file describes.
pub fn load_denoiser(path: &Path, device: &Device) -> Result<LoadedDenoiser, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
    load_denoiser_bytes(&bytes, device)
}

/// [`load_denoiser`] from the file's bytes.
pub fn load_denoiser_bytes(bytes: &[u8], device: &Device) -> Result<LoadedDenoiser, ModelError> {
    let (tensors, metadata) = parse_weights(bytes, device)?;
    if metadata.get("format").map(String::as_str) != Some(DENOISE_FORMAT) {
        return Err(ModelError::Format(format!("not a denoiser weights file (format {:?})", metadata.get("format"))));
    }
    let preset = DenoisePreset::from_name(metadata.get("preset").map_or("", String::as_str))?;
    let varmap = VarMap::new();
    let net = DenoiseNet::new(preset, &VarBuilder::from_varmap(&varmap, DType::F32, device))?;
    fill_varmap(&varmap, &tensors)?;
    Ok(LoadedDenoiser { net, sha256: sha256_hex(bytes), metadata })
}

#[cfg(test)]
mod tests {
    use candle_core::Tensor;

    use super::*;

    #[test]
    fn save_load_round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let varmap = VarMap::new();
        let net = DenoiseNet::new(DenoisePreset::Fast, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        crate::models::init::seeded_init(&varmap, 9).unwrap();
        let path = dir.path().join("d.safetensors");
        save_denoiser(&varmap, &path, DType::F32, &denoise_metadata(DenoisePreset::Fast)).unwrap();
        let loaded = load_denoiser(&path, &Device::Cpu).unwrap();
        assert_eq!(loaded.net.preset(), DenoisePreset::Fast);
        assert_eq!(loaded.sha256.len(), 64);
        let x = Tensor::from_vec((0..400).map(|i| (i as f32 * 0.37).sin()).collect(), (1, 1, 20, 20), &Device::Cpu).unwrap();
        let a: Vec<f32> = net.forward_t(&x, false).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = loaded.net.forward_t(&x, false).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a, b);
        // A file of another kind, and garbage, are refused with a message.
        let other = dir.path().join("o.safetensors");
        save_denoiser(&varmap, &other, DType::F32, &BTreeMap::from([("format".to_owned(), "x".to_owned())])).unwrap();
        assert!(matches!(load_denoiser(&other, &Device::Cpu), Err(ModelError::Format(_))));
        std::fs::write(&other, b"not safetensors").unwrap();
        assert!(load_denoiser(&other, &Device::Cpu).is_err());
    }
}
