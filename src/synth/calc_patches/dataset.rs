//! The generated patches, their labels and where each came from.

use std::collections::BTreeMap;

use half::f16;
use serde::Serialize;

use crate::synth::mammogram::{CalcificationShape, Density, View};

/// Why a patch was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum PatchKind {
    /// A visible speck (CNR ≥ the threshold) at least the margin inside; `specks` counts every speck centre inside.
    Positive { specks: usize, max_cnr: f32, shape: CalcificationShape },
    /// Only faint specks (kept out of training, in [`CalcDataset::faint`]).
    Faint { specks: usize, max_cnr: f32, shape: CalcificationShape },
    /// A random breast patch (at least half breast).
    Random,
    /// Centred on the skin line.
    Skin,
    /// Centred on the pectoral muscle edge (MLO).
    Pectoral,
    /// Among the densest patches of the image.
    Dense,
    /// On the mass.
    Mass,
    /// Among the patches with the strongest small-scale ridge response (vessels, ducts).
    Vessel,
}

impl PatchKind {
    /// A short lowercase name, e.g. for counts and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Positive { .. } => "positive",
            Self::Faint { .. } => "faint",
            Self::Random => "random",
            Self::Skin => "skin",
            Self::Pectoral => "pectoral",
            Self::Dense => "dense",
            Self::Mass => "mass",
            Self::Vessel => "vessel",
        }
    }

    pub fn is_positive(&self) -> bool {
        matches!(self, Self::Positive { .. })
    }
}

/// Where one patch came from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PatchInfo {
    pub image_index: usize,
    pub kind: PatchKind,
    pub density: Density,
    pub view: View,
    /// Pixel spacing the image was simulated at, before resampling to `MODEL_SPACING_MM`.
    pub source_spacing_mm: f64,
    /// Top-left pixel in the resampled image.
    pub x: usize,
    pub y: usize,
}

/// Normalised patches (`N × patch_size × patch_size`, row-major, see `imaging::model_input`) with labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CalcDataset {
    pub patch_size: usize,
    pub patches: Vec<f16>,
    /// 1 = calcification, 0 = normal.
    pub labels: Vec<u8>,
    pub info: Vec<PatchInfo>,
    /// Patches whose only specks are faint: not for training, for reporting. Same layout as `patches`.
    pub faint_patches: Vec<f16>,
    pub faint: Vec<PatchInfo>,
}

impl CalcDataset {
    /// Number of training patches.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn slice(data: &[f16], size: usize, i: usize) -> Vec<f32> {
        let n = size * size;
        data.get(i * n..(i + 1) * n).map_or_else(Vec::new, |p| p.iter().map(|v| v.to_f32()).collect())
    }

    /// Training patch `i` as `f32` (empty when out of range).
    pub fn patch_f32(&self, i: usize) -> Vec<f32> {
        Self::slice(&self.patches, self.patch_size, i)
    }

    /// Faint patch `i` as `f32` (empty when out of range).
    pub fn faint_patch_f32(&self, i: usize) -> Vec<f32> {
        Self::slice(&self.faint_patches, self.patch_size, i)
    }

    /// Number of positive training patches.
    pub fn positives(&self) -> usize {
        self.labels.iter().map(|&l| usize::from(l)).sum()
    }

    /// Training patches by [`PatchKind::name`].
    pub fn counts_by_kind(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for info in &self.info {
            *counts.entry(info.kind.name()).or_insert(0) += 1;
        }
        counts
    }

    /// Appends one training patch.
    pub(super) fn push(&mut self, patch: &[f32], info: PatchInfo) {
        self.patches.extend(patch.iter().map(|&v| f16::from_f32(v)));
        self.labels.push(u8::from(info.kind.is_positive()));
        self.info.push(info);
    }

    /// Appends one faint patch.
    pub(super) fn push_faint(&mut self, patch: &[f32], info: PatchInfo) {
        self.faint_patches.extend(patch.iter().map(|&v| f16::from_f32(v)));
        self.faint.push(info);
    }

    /// Keeps only the training patches whose index `keep` accepts, in order.
    pub(super) fn retain(&mut self, keep: impl Fn(usize) -> bool) {
        let n = self.patch_size * self.patch_size;
        let kept: Vec<usize> = (0..self.len()).filter(|&i| keep(i)).collect();
        self.patches = kept.iter().flat_map(|&i| self.patches[i * n..(i + 1) * n].iter().copied()).collect();
        self.labels = kept.iter().map(|&i| self.labels[i]).collect();
        self.info = kept.iter().map(|&i| self.info[i]).collect();
    }
}
