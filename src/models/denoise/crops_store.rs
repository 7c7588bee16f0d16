//! The denoiser's training crops on disk (`.cache/denoise-data/*.safetensors`, never committed), with the recipe
//! that made them in the metadata so a changed recipe rebuilds instead of reusing.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::models::checkpoint::write_atomically;
use crate::models::error::ModelError;
use crate::synth::denoise_data::DenoiseCrops;

/// Writes `crops` with `recipe` in the metadata.
pub fn save_crops(crops: &DenoiseCrops, recipe: &str, path: &Path) -> Result<(), ModelError> {
    let n = crops.len();
    let dev = Device::Cpu;
    let range: Vec<f32> = crops.range.iter().flatten().copied().collect();
    let image: Vec<f32> = crops.image.iter().map(|&i| i as f32).collect();
    let tensors = vec![
        ("noisy".to_owned(), Tensor::from_vec(crops.noisy.clone(), (n, crops.side * crops.side), &dev)?),
        ("clean".to_owned(), Tensor::from_vec(crops.clean.clone(), (n, crops.side * crops.side), &dev)?),
        ("gain".to_owned(), Tensor::from_vec(crops.gain.clone(), n, &dev)?),
        ("offset".to_owned(), Tensor::from_vec(crops.offset.clone(), n, &dev)?),
        ("range".to_owned(), Tensor::from_vec(range, (n, 2), &dev)?),
        ("image".to_owned(), Tensor::from_vec(image, n, &dev)?),
    ];
    let metadata = HashMap::from([("recipe".to_owned(), recipe.to_owned())]);
    let bytes = safetensors::serialize(tensors, Some(metadata)).map_err(|e| ModelError::Format(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(e, dir))?;
    }
    write_atomically(path, &bytes)
}

/// Reads crops written with the same `recipe`; `None` when the file is missing or was made by another recipe.
pub fn load_crops(path: &Path, recipe: &str) -> Result<Option<DenoiseCrops>, ModelError> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| ModelError::Format(e.to_string()))?;
    if meta.metadata().as_ref().and_then(|m| m.get("recipe")).map(String::as_str) != Some(recipe) {
        return Ok(None);
    }
    let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)?;
    let get = |name: &str| -> Result<Vec<f32>, ModelError> {
        let t = tensors.get(name).ok_or_else(|| ModelError::Format(format!("no {name} in {}", path.display())))?;
        Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?)
    };
    let range = get("range")?;
    let pixels = tensors.get("noisy").map_or(0, |t| t.dims().last().copied().unwrap_or(0));
    let side = (pixels as f64).sqrt().round() as usize;
    if side * side != pixels {
        return Err(ModelError::Format(format!("crops in {} are not square", path.display())));
    }
    Ok(Some(DenoiseCrops {
        side,
        noisy: get("noisy")?,
        clean: get("clean")?,
        gain: get("gain")?,
        offset: get("offset")?,
        range: range.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        image: get("image")?.iter().map(|&v| v as u32).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_crop_side_and_a_changed_recipe_rebuilds() {
        let side = 96;
        let crops = DenoiseCrops {
            side,
            noisy: (0..2 * side * side).map(|v| v as f32).collect(),
            clean: vec![1.5; 2 * side * side],
            gain: vec![2.0, 3.0],
            offset: vec![10.0, 20.0],
            range: vec![[1.0, 5.0], [2.0, 6.0]],
            image: vec![0, 7],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crops.safetensors");
        save_crops(&crops, "recipe a", &path).unwrap();
        let back = load_crops(&path, "recipe a").unwrap().unwrap();
        assert_eq!(back.side, side);
        assert_eq!(back.crop(1), crops.crop(1));
        assert_eq!((back.gain, back.offset, back.range, back.image), (crops.gain, crops.offset, crops.range, crops.image));
        assert!(load_crops(&path, "recipe b").unwrap().is_none());
    }
}
