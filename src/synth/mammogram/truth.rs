//! Ground truth of a simulated mammogram (serialised to the JSON sidecar) and the run-length breast mask.
//!
//! Pixel coordinates are `[x, y]` = `[column, row]` of the written image (chest wall at column 0), pixel centres at
//! `+0.5`; mm coordinates are the same point times the pixel spacing.

use serde::Serialize;

use super::params::MammogramParams;

/// BI-RADS calcification morphology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CalcificationShape {
    /// Round or oval, < 0.5 mm.
    Punctate,
    /// Small, hazy, low contrast.
    Amorphous,
    /// Irregular, varying in size and shape.
    Pleomorphic,
    /// Thin linear or branching (casting) specks aligned along a duct.
    LinearBranching,
}

/// One calcification speck.
#[derive(Clone, Debug, Serialize)]
pub struct Calcification {
    pub cluster_id: u32,
    pub center_px: [f64; 2],
    pub center_mm: [f64; 2],
    /// Largest extent (diameter or length) in mm.
    pub size_mm: f64,
    /// Peak added log attenuation `Δ(μt)` at the speck before blur and noise (0.02 faint … 1 obvious).
    pub contrast: f64,
    pub shape: CalcificationShape,
}

/// A cluster (one to many specks).
#[derive(Clone, Debug, Serialize)]
pub struct Cluster {
    pub id: u32,
    pub center_px: [f64; 2],
    pub center_mm: [f64; 2],
    pub radius_mm: f64,
    pub shape: CalcificationShape,
    pub specks: usize,
}

/// An optional mass.
#[derive(Clone, Debug, Serialize)]
pub struct Mass {
    pub center_px: [f64; 2],
    pub center_mm: [f64; 2],
    pub radius_mm: f64,
    pub spiculated: bool,
    /// Peak added log attenuation at the centre.
    pub contrast: f64,
}

/// A binary mask, downsampled by `downsample` (a cell is set when its centre pixel is inside), as run lengths
/// in row-major order, alternating outside/inside and starting with outside (the first run may be 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MaskRle {
    pub width: usize,
    pub height: usize,
    pub downsample: usize,
    pub runs: Vec<u32>,
}

impl MaskRle {
    /// Encodes `mask` (row-major, `width × height`) downsampled by `downsample`.
    pub fn encode(mask: &[bool], width: usize, height: usize, downsample: usize) -> Self {
        let f = downsample.max(1);
        let (w, h) = (width.div_ceil(f), height.div_ceil(f));
        let mut runs = Vec::new();
        let (mut current, mut length) = (false, 0u32);
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = ((x * f + f / 2).min(width - 1), (y * f + f / 2).min(height - 1));
                let v = mask.get(sy * width + sx).copied().unwrap_or(false);
                if v == current {
                    length += 1;
                } else {
                    runs.push(length);
                    (current, length) = (v, 1);
                }
            }
        }
        runs.push(length);
        Self { width: w, height: h, downsample: f, runs }
    }

    /// The downsampled mask, row-major `width × height`.
    pub fn decode(&self) -> Vec<bool> {
        let mut out = Vec::with_capacity(self.width * self.height);
        for (i, &run) in self.runs.iter().enumerate() {
            out.extend(std::iter::repeat_n(i % 2 == 1, run as usize));
        }
        out
    }

    /// Whether the full-resolution pixel `(x, y)` lies in the mask.
    pub fn contains(&self, x: usize, y: usize, decoded: &[bool]) -> bool {
        let (cx, cy) = (x / self.downsample, y / self.downsample);
        cx < self.width && cy < self.height && decoded.get(cy * self.width + cx).copied().unwrap_or(false)
    }
}

/// The exact For Presentation processing of this image (see `processing.rs`).
#[derive(Clone, Debug, Serialize)]
pub struct ProcessingTruth {
    /// Mean detector quanta per pixel without the breast (flat field).
    pub flat_field_quanta: f64,
    /// Raw detector value per quantum: `raw = gain · quanta + offset` (the `k` of var/mean).
    pub gain: f64,
    pub offset: f64,
    /// Peripheral equalisation strength α and its low-pass σ (mm).
    pub equalization_alpha: f64,
    pub equalization_sigma_mm: f64,
    pub equalization_reference: f64,
    /// Log-attenuation values mapped to 0 and 16383.
    pub log_black: f64,
    pub log_white: f64,
}

/// Everything known about a simulated image.
#[derive(Clone, Debug, Serialize)]
pub struct MammogramTruth {
    pub params: MammogramParams,
    pub width: usize,
    pub height: usize,
    pub pixel_spacing_mm: f64,
    pub nipple_px: [f64; 2],
    /// The pectoral muscle edge as a polyline in pixels (MLO only), top to chest wall.
    pub pectoral_edge_px: Vec<[f64; 2]>,
    pub clusters: Vec<Cluster>,
    pub calcifications: Vec<Calcification>,
    pub mass: Option<Mass>,
    pub breast_mask: MaskRle,
    pub processing: ProcessingTruth,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rle_round_trips() {
        let mask: Vec<bool> = (0..35).map(|i| (i % 7) > 2 || i > 30).collect();
        let rle = MaskRle::encode(&mask, 7, 5, 1);
        assert_eq!(rle.decode(), mask);
        assert_eq!(rle.runs.iter().map(|&r| r as usize).sum::<usize>(), 35);
        let coarse = MaskRle::encode(&mask, 7, 5, 2);
        assert_eq!((coarse.width, coarse.height), (4, 3));
    }
}
