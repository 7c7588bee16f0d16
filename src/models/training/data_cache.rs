//! Simulated patch sets cached in the work directory, so a resumed run does not simulate them again.
//! The cache is a safetensors file: `patches` f16 `(N, S, S)` and `labels` u8 `(N)`; nothing here is committed.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::models::checkpoint::write_atomically;
use crate::models::error::ModelError;
use crate::synth::calc_patches::CalcDataset;

/// Patches and labels, as training needs them.
#[derive(Clone, Debug)]
pub struct PatchSet {
    pub size: usize,
    pub patches: Vec<half::f16>,
    pub labels: Vec<u8>,
}

impl PatchSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Patch `i` as f32, row-major.
    pub fn patch(&self, i: usize) -> Vec<f32> {
        let n = self.size * self.size;
        self.patches[i * n..(i + 1) * n].iter().map(|v| v.to_f32()).collect()
    }

    pub fn positives(&self) -> usize {
        self.labels.iter().map(|&l| usize::from(l == 1)).sum()
    }

    /// This set followed by `other`; `None` when the patch sizes differ.
    pub fn concat(&self, other: &Self) -> Option<Self> {
        (self.size == other.size || other.is_empty()).then(|| Self {
            size: self.size,
            patches: [self.patches.as_slice(), &other.patches].concat(),
            labels: [self.labels.as_slice(), &other.labels].concat(),
        })
    }

    pub fn from_dataset(d: &CalcDataset) -> Self {
        Self { size: d.patch_size, patches: d.patches.clone(), labels: d.labels.clone() }
    }

    /// Writes the set atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let bytes: Vec<u8> = self.patches.iter().flat_map(|v| v.to_le_bytes()).collect();
        let n = self.len();
        let patches = TensorView::new(Dtype::F16, vec![n, self.size, self.size], &bytes).map_err(fmt)?;
        let labels = TensorView::new(Dtype::U8, vec![n], &self.labels).map_err(fmt)?;
        let data: HashMap<String, TensorView<'_>> = [("patches".to_owned(), patches), ("labels".to_owned(), labels)].into();
        let encoded = safetensors::serialize(data, None).map_err(fmt)?;
        write_atomically(path, &encoded)
    }

    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
        let st = SafeTensors::deserialize(&bytes).map_err(fmt)?;
        let patches = st.tensor("patches").map_err(fmt)?;
        let labels = st.tensor("labels").map_err(fmt)?;
        let shape = patches.shape();
        if patches.dtype() != Dtype::F16 || shape.len() != 3 || shape[1] != shape[2] || labels.shape() != [shape[0]] {
            return Err(ModelError::Format(format!("{}: not a patch set", path.display())));
        }
        let patches = patches.data().chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]])).collect();
        Ok(Self { size: shape[1], patches, labels: labels.data().to_vec() })
    }
}

#[allow(clippy::needless_pass_by_value)] // used as map_err(fmt)
fn fmt(e: safetensors::SafeTensorError) -> ModelError {
    ModelError::Format(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let set = PatchSet { size: 2, patches: (0..8).map(|v| half::f16::from_f32(v as f32 * 0.5)).collect(), labels: vec![0, 1] };
        let path = dir.path().join("set.safetensors");
        set.save(&path).unwrap();
        let back = PatchSet::load(&path).unwrap();
        assert_eq!(back.patches, set.patches);
        assert_eq!(back.labels, set.labels);
        assert_eq!(back.patch(1), vec![2.0, 2.5, 3.0, 3.5]);
        let both = set.concat(&back).unwrap();
        assert_eq!((both.len(), both.patch(3)), (4, back.patch(1)));
        assert!(set.concat(&PatchSet { size: 3, patches: vec![half::f16::ZERO; 9], labels: vec![0] }).is_none());
        std::fs::write(&path, b"garbage").unwrap();
        assert!(PatchSet::load(&path).is_err());
    }
}
