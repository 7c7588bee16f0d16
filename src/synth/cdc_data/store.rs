//! One safetensors file per setting: the kept pixels (u16), the selections (u32) and, as metadata, the spec and the
//! labels. Written atomically, so an interrupted build leaves whole files only.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::build::{CdcDataError, SettingData, StoredImage};
use super::settings::SettingSpec;
use crate::dicom::atomic::write_file_atomically;
use crate::imaging::downsample::Selection;

/// The cache file of a setting.
pub fn setting_file_name(spec: &SettingSpec) -> String {
    format!("{}.safetensors", spec.name)
}

fn fmt_err(e: impl std::fmt::Display) -> CdcDataError {
    CdcDataError::Format(e.to_string())
}

/// Writes `data` to `path` atomically.
///
/// # Errors
/// Serialisation or I/O errors.
pub fn save_setting(data: &SettingData, path: &Path) -> Result<(), CdcDataError> {
    let n = data.images.len();
    let side = data.images.first().map_or(0, |i| i.selection.height());
    if data.images.iter().any(|i| i.selection.height() != side || i.selection.width() != side) {
        return Err(CdcDataError::Format("every kept selection must have the same square size".into()));
    }
    let pixels: Vec<u8> = data.images.iter().flat_map(|i| i.pixels.iter().flat_map(|v| v.to_le_bytes())).collect();
    let index_bytes = |f: &dyn Fn(&StoredImage) -> &Vec<usize>| -> Vec<u8> {
        data.images.iter().flat_map(|i| f(i).iter().flat_map(|&v| u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes())).collect()
    };
    let rows = index_bytes(&|i| &i.selection.rows);
    let cols = index_bytes(&|i| &i.selection.cols);
    let sizes: Vec<[usize; 2]> = data.images.iter().map(|i| [i.width, i.height]).collect();
    let metadata: HashMap<String, String> = [
        ("spec", serde_json::to_string(&data.spec).map_err(fmt_err)?),
        ("label_um", serde_json::to_string(&data.label_um.to_vec()).map_err(fmt_err)?),
        ("ideal_um", serde_json::to_string(&data.ideal_um.to_vec()).map_err(fmt_err)?),
        ("images_read", data.images_read.to_string()),
        ("sizes", serde_json::to_string(&sizes).map_err(fmt_err)?),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let views = [
        ("pixels", TensorView::new(Dtype::U16, vec![n, side, side], &pixels).map_err(fmt_err)?),
        ("rows", TensorView::new(Dtype::U32, vec![n, side], &rows).map_err(fmt_err)?),
        ("cols", TensorView::new(Dtype::U32, vec![n, side], &cols).map_err(fmt_err)?),
    ];
    let bytes = safetensors::serialize(views, Some(metadata)).map_err(fmt_err)?;
    write_file_atomically(path, &bytes).map_err(|source| CdcDataError::Io { path: path.display().to_string(), source })
}

/// Reads a file written by [`save_setting`].
///
/// # Errors
/// I/O errors, or a file that is not a setting file.
pub fn load_setting(path: &Path) -> Result<SettingData, CdcDataError> {
    let bytes = std::fs::read(path).map_err(|source| CdcDataError::Io { path: path.display().to_string(), source })?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(fmt_err)?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |k: &str| meta.get(k).ok_or_else(|| CdcDataError::Format(format!("{}: no {k} in the metadata", path.display())));
    let spec: SettingSpec = serde_json::from_str(get("spec")?).map_err(fmt_err)?;
    let to12 = |v: Vec<f64>| -> Result<[f64; 12], CdcDataError> {
        v.try_into().map_err(|_| CdcDataError::Format("expected 12 thresholds".into()))
    };
    let label_um = to12(serde_json::from_str(get("label_um")?).map_err(fmt_err)?)?;
    let ideal_um = to12(serde_json::from_str(get("ideal_um")?).map_err(fmt_err)?)?;
    let images_read = get("images_read")?.parse().map_err(fmt_err)?;
    let sizes: Vec<[usize; 2]> = serde_json::from_str(get("sizes")?).map_err(fmt_err)?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(fmt_err)?;
    let tensor = |name: &str, dtype: Dtype| {
        let t = tensors.tensor(name).map_err(fmt_err)?;
        if t.dtype() == dtype { Ok(t) } else { Err(CdcDataError::Format(format!("{name}: expected {dtype:?}"))) }
    };
    let (pixels, rows, cols) = (tensor("pixels", Dtype::U16)?, tensor("rows", Dtype::U32)?, tensor("cols", Dtype::U32)?);
    let shape = pixels.shape().to_vec();
    let [n, side, side_w] = shape[..] else { return Err(CdcDataError::Format("pixels must be (n, side, side)".into())) };
    if side != side_w || sizes.len() != n || rows.shape() != [n, side] || cols.shape() != [n, side] {
        return Err(CdcDataError::Format(format!("{}: inconsistent shapes", path.display())));
    }
    let u16s: Vec<u16> = pixels.data().chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let idx = |t: &TensorView| -> Vec<usize> {
        t.data().chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize).collect()
    };
    let (all_rows, all_cols) = (idx(&rows), idx(&cols));
    let images = (0..n)
        .map(|i| StoredImage {
            width: sizes[i][0],
            height: sizes[i][1],
            selection: Selection { rows: all_rows[i * side..(i + 1) * side].to_vec(), cols: all_cols[i * side..(i + 1) * side].to_vec() },
            pixels: u16s[i * side * side..(i + 1) * side * side].to_vec(),
        })
        .collect();
    Ok(SettingData { spec, label_um, ideal_um, images_read, images })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::cdc_data::training_settings;

    #[test]
    fn round_trip() {
        let spec = training_settings(1, 5).remove(0);
        let images = (0..3)
            .map(|i| StoredImage {
                width: 40 + i,
                height: 50,
                selection: Selection { rows: (0..4).map(|r| r * 3 + i).collect(), cols: (0..4).map(|c| c * 2).collect() },
                pixels: (0..16).map(|v| u16::try_from(v * 1000 + i).unwrap()).collect(),
            })
            .collect();
        let data = SettingData { spec, label_um: [0.5; 12], ideal_um: [0.25; 12], images_read: 3, images };
        let dir = std::env::temp_dir().join(format!("mammoscope-cdc-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.safetensors");
        save_setting(&data, &path).unwrap();
        assert_eq!(load_setting(&path).unwrap(), data);
        std::fs::remove_dir_all(&dir).ok();
    }
}
