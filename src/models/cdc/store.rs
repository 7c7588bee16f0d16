//! An ensemble on disk: a folder with one safetensors file per member (`member-00.safetensors`, …; f16 to ship, f32
//! to keep exact) and `ensemble.json`, the manifest: preset, member count, input size, normalisation, the 12
//! diameters, the target (`ln_um`) and the SHA-256 of every member file. The manifest is written last, so a folder
//! whose writing was interrupted is refused on load rather than half used.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use super::ensemble::CdcEnsemble;
use super::net::CdcNet;
use super::normalisation::Normalisation;
use super::preset::CdcPreset;
use crate::models::checkpoint::{parse_weights, save_weights, sha256_hex, write_atomically};
use crate::models::error::ModelError;
use crate::synth::cdc_data::cdc_diameters_mm;

/// The `format` of `ensemble.json`.
pub const ENSEMBLE_FORMAT: &str = "mammoscope-cdc-ensemble-v1";
/// The `format` metadata of a member's weights file.
pub const MEMBER_FORMAT: &str = "mammoscope-cdc-v1";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "ensemble.json";
/// What the networks predict: the natural log of the threshold gold thickness in µm.
pub const TARGET: &str = "ln_um";

/// The manifest metadata key of the σ calibration factor (see [`CdcEnsemble::sigma_scale`]).
pub const SIGMA_SCALE_KEY: &str = "sigma_scale";

/// Writes `manifest` as `dir/ensemble.json`, atomically.
///
/// # Errors
/// Serialisation or I/O errors.
pub fn write_manifest(dir: &Path, manifest: &EnsembleManifest) -> Result<(), ModelError> {
    let bytes = serde_json::to_vec_pretty(manifest).map_err(|e| ModelError::Format(format!("cannot write the manifest: {e}")))?;
    let path = dir.join(MANIFEST_FILE);
    crate::dicom::atomic::write_file_atomically(&path, &bytes).map_err(|e| ModelError::io(e, &path))
}

/// The weights file of member `m`.
pub fn member_file_name(m: usize) -> String {
    format!("member-{m:02}.safetensors")
}

/// One member's file in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFile {
    /// File name inside the ensemble folder.
    pub file: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// `ensemble.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnsembleManifest {
    pub format: String,
    pub preset: CdcPreset,
    pub members: usize,
    pub input_side: usize,
    pub normalisation: Normalisation,
    /// The 12 diameters of the outputs, in order (1.00 … 0.08 mm).
    pub diameters_mm: Vec<f64>,
    /// Always [`TARGET`].
    pub target: String,
    pub files: Vec<MemberFile>,
    /// Free-form notes from the trainer (seed, epochs, …).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// Writes the members' `VarMap`s (networks built by [`CdcNet::new`] of `preset`) as `dtype` (F16 or F32) and the
/// manifest into `dir` (created if needed), atomically file by file, manifest last.
pub fn save_ensemble(
    dir: &Path,
    preset: CdcPreset,
    input_side: usize,
    norm: Normalisation,
    members: &[VarMap],
    dtype: DType,
    metadata: &BTreeMap<String, String>,
) -> Result<EnsembleManifest, ModelError> {
    if members.is_empty() {
        return Err(ModelError::Input("an ensemble needs at least one member".to_owned()));
    }
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(e, dir))?;
    let mut files = Vec::with_capacity(members.len());
    for (m, varmap) in members.iter().enumerate() {
        let file = member_file_name(m);
        let path = dir.join(&file);
        let file_metadata = BTreeMap::from([
            ("format".to_owned(), MEMBER_FORMAT.to_owned()),
            ("preset".to_owned(), preset.name().to_owned()),
            ("member".to_owned(), m.to_string()),
            ("target".to_owned(), TARGET.to_owned()),
        ]);
        save_weights(varmap, &path, dtype, &file_metadata)?;
        let bytes = std::fs::read(&path).map_err(|e| ModelError::io(e, &path))?;
        files.push(MemberFile { file, sha256: sha256_hex(&bytes) });
    }
    let manifest = EnsembleManifest {
        format: ENSEMBLE_FORMAT.to_owned(),
        preset,
        members: members.len(),
        input_side,
        normalisation: norm,
        diameters_mm: cdc_diameters_mm().to_vec(),
        target: TARGET.to_owned(),
        files,
        metadata: metadata.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| ModelError::Format(format!("cannot write the manifest: {e}")))?;
    write_atomically(&dir.join(MANIFEST_FILE), &json)?;
    Ok(manifest)
}

/// Reads and checks `dir/ensemble.json`.
pub fn read_manifest(dir: &Path) -> Result<EnsembleManifest, ModelError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(|e| ModelError::io(e, &path))?;
    let manifest: EnsembleManifest =
        serde_json::from_slice(&bytes).map_err(|e| ModelError::Format(format!("not a CDC ensemble manifest: {e} ({})", path.display())))?;
    let problem = if manifest.format != ENSEMBLE_FORMAT {
        Some(format!("format is {:?}, expected {ENSEMBLE_FORMAT:?}", manifest.format))
    } else if manifest.target != TARGET {
        Some(format!("target is {:?}, expected {TARGET:?}", manifest.target))
    } else if manifest.members == 0 || manifest.files.len() != manifest.members {
        Some(format!("{} members but {} files", manifest.members, manifest.files.len()))
    } else if manifest.diameters_mm.len() != 12 || manifest.diameters_mm.iter().zip(cdc_diameters_mm()).any(|(a, b)| (a - b).abs() > 1e-9) {
        Some(format!("diameters {:?} are not the CDC's", manifest.diameters_mm))
    } else if manifest.preset.feature_side(manifest.input_side) == 0 {
        Some(format!("input side {} is too small", manifest.input_side))
    } else {
        manifest
            .files
            .iter()
            .find(|f| Path::new(&f.file).file_name().and_then(|n| n.to_str()) != Some(f.file.as_str()))
            .map(|f| format!("member file {:?} is not a plain file name", f.file))
    };
    match problem {
        Some(problem) => Err(ModelError::Format(format!("{problem} ({})", path.display()))),
        None => Ok(manifest),
    }
}

impl CdcEnsemble {
    /// Loads the ensemble that [`save_ensemble`] wrote into `dir`, as f32 on `device`, checking the manifest, every
    /// file's SHA-256, format, preset, tensor names and shapes.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        let manifest = read_manifest(dir)?;
        let expected: BTreeSet<String> = CdcNet::tensor_names().into_iter().collect();
        let mut members = Vec::with_capacity(manifest.members);
        for entry in &manifest.files {
            let path = dir.join(&entry.file);
            let in_file = |msg: String| ModelError::Format(format!("{msg} ({})", path.display()));
            let bytes = std::fs::read(&path).map_err(|e| ModelError::io(e, &path))?;
            if sha256_hex(&bytes) != entry.sha256 {
                return Err(in_file("the file is corrupt or was replaced: its SHA-256 differs from ensemble.json".to_owned()));
            }
            let (tensors, metadata) = parse_weights(&bytes, device).map_err(|e| in_file(e.to_string()))?;
            if metadata.get("format").map(String::as_str) != Some(MEMBER_FORMAT) {
                return Err(in_file(format!("format is {:?}, expected {MEMBER_FORMAT:?}", metadata.get("format"))));
            }
            if metadata.get("preset").map(String::as_str) != Some(manifest.preset.name()) {
                return Err(in_file(format!("preset is {:?}, the manifest says {}", metadata.get("preset"), manifest.preset)));
            }
            let found: BTreeSet<String> = tensors.keys().filter(|n| !n.ends_with(".num_batches_tracked")).cloned().collect();
            if found != expected {
                let missing: Vec<&String> = expected.difference(&found).collect();
                let unexpected: Vec<&String> = found.difference(&expected).collect();
                return Err(in_file(format!("tensors do not fit the network: missing {missing:?}, unexpected {unexpected:?}")));
            }
            let tensors: HashMap<_, _> = tensors.into_iter().collect();
            let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
            let net = CdcNet::with_input_side(manifest.preset, manifest.input_side, &vb).map_err(|e| in_file(e.to_string()))?;
            members.push(net);
        }
        let sha256 = manifest.files.iter().map(|f| f.sha256.clone()).collect();
        let sigma_scale = match manifest.metadata.get(SIGMA_SCALE_KEY) {
            None => 1.0,
            Some(text) => text.parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0).ok_or_else(|| {
                ModelError::Format(format!("{SIGMA_SCALE_KEY} {text:?} in {} is not a positive number", dir.join(MANIFEST_FILE).display()))
            })?,
        };
        Ok(Self::new(members, Normalisation::new(manifest.normalisation.mean, manifest.normalisation.std)?, device)?
            .with_sha256(sha256)
            .with_sigma_scale(sigma_scale))
    }
}
