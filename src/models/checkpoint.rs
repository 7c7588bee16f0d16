//! Weights files: safetensors with `format = mammoscope-calc-v1` and `preset` metadata, written atomically, stored as
//! f16 (half the size, for distribution) or f32 (exact, for resuming training), always loaded as f32.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::{VarBuilder, VarMap};
use parking_lot::Mutex;
use sha2::Digest as _;

use super::calc_net::CalcNet;
use super::error::ModelError;
use super::preset::CalcPreset;

/// The `format` metadata of a classifier weights file.
pub const CALC_FORMAT: &str = "mammoscope-calc-v1";

/// Tensors by name, as read from a weights file.
pub type NamedTensors = HashMap<String, Tensor>;
/// The string metadata of a safetensors file.
pub type Metadata = BTreeMap<String, String>;

/// What a weights file says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightsInfo {
    /// The network preset the weights are for.
    pub preset: CalcPreset,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// All the metadata of the file (`format`, `preset`, and whatever the trainer added).
    pub metadata: BTreeMap<String, String>,
}

/// The metadata every classifier weights file needs: `format` and `preset`. Add your own entries to it.
pub fn calc_metadata(preset: CalcPreset) -> BTreeMap<String, String> {
    BTreeMap::from([("format".to_owned(), CALC_FORMAT.to_owned()), ("preset".to_owned(), preset.name().to_owned())])
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for byte in sha2::Sha256::digest(bytes) {
        write!(hex, "{byte:02x}").ok();
    }
    hex
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`: readers see the old or the new
/// file, never half of one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    crate::dicom::atomic::write_file_atomically(path, bytes).map_err(|e| ModelError::io(e, path))
}

/// Saves every variable of `varmap` (network, decoder, batch-norm statistics) with `metadata`, atomically, as `dtype`:
/// `F16` (half the size, relative error ≤ 2⁻¹¹ for normal values; for distribution) or `F32` (exact; for resuming).
pub fn save_weights(varmap: &VarMap, path: &Path, dtype: DType, metadata: &BTreeMap<String, String>) -> Result<(), ModelError> {
    if !matches!(dtype, DType::F16 | DType::F32) {
        return Err(ModelError::Input(format!("weights are stored as F16 or F32, not {dtype:?}")));
    }
    let vars: Vec<(String, Tensor)> = {
        let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        data.iter().map(|(name, var)| (name.clone(), var.as_tensor().detach())).collect()
    };
    let mut tensors = Vec::with_capacity(vars.len());
    for (name, tensor) in vars {
        let stored = tensor.to_device(&Device::Cpu)?.to_dtype(dtype)?;
        let finite =
            stored.to_dtype(DType::F32)?.abs()?.flatten_all()?.max(0).and_then(|m| m.to_scalar::<f32>()).map_or(true, f32::is_finite);
        if !finite {
            return Err(ModelError::Format(format!("tensor {name} has values that are not finite in {dtype:?}")));
        }
        tensors.push((name, stored));
    }
    let metadata: HashMap<String, String> = metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let bytes =
        safetensors::serialize(tensors, Some(metadata)).map_err(|e| ModelError::Format(format!("cannot serialise the weights: {e}")))?;
    write_atomically(path, &bytes)
}

/// Adds `entries` to the metadata of the weights file at `path` (replacing keys it already has), atomically; the
/// tensors are copied byte for byte.
pub fn add_metadata(path: &Path, entries: &BTreeMap<String, String>) -> Result<(), ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
    let not_safetensors =
        |e: safetensors::SafeTensorError| ModelError::Format(format!("{} is not a safetensors file: {e}", path.display()));
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(not_safetensors)?;
    let mut metadata: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
    metadata.extend(entries.iter().map(|(k, v)| (k.clone(), v.clone())));
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(not_safetensors)?;
    let out = safetensors::serialize(file.tensors(), Some(metadata))
        .map_err(|e| ModelError::Format(format!("cannot serialise the weights: {e}")))?;
    write_atomically(path, &out)
}

/// Parses a weights file's bytes: every tensor as f32 on `device`, and the metadata.
pub fn parse_weights(bytes: &[u8], device: &Device) -> Result<(NamedTensors, Metadata), ModelError> {
    let (_, header) =
        safetensors::SafeTensors::read_metadata(bytes).map_err(|e| ModelError::Format(format!("not a safetensors file: {e}")))?;
    let metadata: BTreeMap<String, String> = header.metadata().clone().unwrap_or_default().into_iter().collect();
    let tensors = candle_core::safetensors::load_buffer(bytes, device)?
        .into_iter()
        .map(|(name, tensor)| Ok((name, tensor.to_dtype(DType::F32)?)))
        .collect::<Result<HashMap<_, _>, ModelError>>()?;
    Ok((tensors, metadata))
}

/// Reads a weights file: every tensor as f32 on `device`, and the metadata.
pub fn load_weights(path: &Path, device: &Device) -> Result<(NamedTensors, Metadata), ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
    parse_weights(&bytes, device).map_err(|e| ModelError::Format(format!("{e} ({})", path.display())))
}

/// Overwrites every variable of `varmap` with the tensor of the same name (to resume training or evaluate a trained
/// `VarMap`); tensors that match no variable are ignored, a variable without a tensor or with another shape is an error.
pub fn fill_varmap<S: BuildHasher>(varmap: &VarMap, tensors: &HashMap<String, Tensor, S>) -> Result<(), ModelError> {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (name, var) in data.iter() {
        let tensor = tensors.get(name).ok_or_else(|| ModelError::Format(format!("missing tensor {name}")))?;
        if tensor.dims() != var.dims() {
            return Err(ModelError::Format(format!("tensor {name} has shape {:?}, the network expects {:?}", tensor.dims(), var.dims())));
        }
        var.set(&tensor.to_dtype(var.dtype())?.to_device(var.device())?)?;
    }
    Ok(())
}

/// A `VarBuilder` backend over loaded tensors that notes every missing or mis-shaped tensor (and hands out zeros for
/// it) so that one error can list them all.
struct CheckedTensors {
    tensors: HashMap<String, Tensor>,
    report: Arc<Mutex<LoadReport>>,
}

/// What [`CheckedTensors`] saw while the network was built.
#[derive(Default)]
struct LoadReport {
    requested: HashSet<String>,
    problems: Vec<String>,
}

impl candle_nn::var_builder::SimpleBackend for CheckedTensors {
    fn get(&self, shape: Shape, name: &str, _: candle_nn::Init, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
        self.report.lock().requested.insert(name.to_owned());
        match self.tensors.get(name) {
            Some(tensor) if tensor.shape() == &shape => tensor.to_dtype(dtype)?.to_device(device),
            found => {
                let problem = match found {
                    Some(tensor) => format!("tensor {name} has shape {:?}, the network expects {:?}", tensor.dims(), shape.dims()),
                    None => format!("missing tensor {name}"),
                };
                self.report.lock().problems.push(problem);
                Tensor::zeros(shape, dtype, device)
            }
        }
    }

    fn get_unchecked(&self, name: &str, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
        self.report.lock().requested.insert(name.to_owned());
        self.tensors.get(name).ok_or_else(|| candle_core::Error::Msg(format!("missing tensor {name}")))?.to_dtype(dtype)?.to_device(device)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

/// Builds the classifier from a weights file's bytes (e.g. an embedded asset), checking format, preset, tensor names
/// and shapes. The decoder is built when the file holds it.
pub fn build_from_bytes(bytes: &[u8], device: &Device) -> Result<(CalcNet, WeightsInfo), ModelError> {
    let (tensors, metadata) = parse_weights(bytes, device)?;
    let format = metadata.get("format").map(String::as_str);
    if format != Some(CALC_FORMAT) {
        return Err(ModelError::Format(format!("format is {format:?}, expected {CALC_FORMAT:?}")));
    }
    let preset: CalcPreset = metadata.get("preset").ok_or_else(|| ModelError::Format("no `preset` in the metadata".to_owned()))?.parse()?;
    let with_decoder = tensors.contains_key("dec.0.conv.weight");
    let names: Vec<String> = tensors.keys().cloned().collect();
    let report = Arc::new(Mutex::new(LoadReport::default()));
    let vb = VarBuilder::from_backend(Box::new(CheckedTensors { tensors, report: Arc::clone(&report) }), DType::F32, device.clone());
    let net = CalcNet::new(preset, with_decoder, vb)?;
    let LoadReport { requested, mut problems } = std::mem::take(&mut *report.lock());
    let mut unexpected: Vec<String> =
        names.into_iter().filter(|name| !requested.contains(name) && !name.ends_with(".num_batches_tracked")).collect();
    unexpected.sort();
    problems.extend(unexpected.into_iter().map(|name| format!("unexpected tensor {name}")));
    if !problems.is_empty() {
        return Err(ModelError::Format(format!("the weights do not fit the {preset} network: {}", problems.join("; "))));
    }
    Ok((net, WeightsInfo { preset, sha256: sha256_hex(bytes), metadata }))
}

/// Builds the classifier from a weights file (see [`build_from_bytes`]).
pub fn build_from_file(path: &Path, device: &Device) -> Result<(CalcNet, WeightsInfo), ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
    build_from_bytes(&bytes, device).map_err(|e| match e {
        ModelError::Format(msg) => ModelError::Format(format!("{msg} ({})", path.display())),
        other => other,
    })
}

#[cfg(test)]
mod tests;
