//! The microcalcification detector over a whole mammogram: resample to the model's scale, find the breast,
//! normalise, tile (the paper: non-overlapping 224 px patches; a stride option), skip background tiles, and run
//! the patches through the network in batches. Patch boxes come back in the source image's pixels.

use std::borrow::Cow;
use std::path::Path;

use candle_core::{Device, Tensor};

use crate::dicom::ImageMeta;
use crate::imaging::Image;
use crate::imaging::breast_mask::BreastMask;
use crate::imaging::model_input::{InputScaling, log_attenuation};
use crate::imaging::resample::{MODEL_SPACING_MM, resample};
use crate::imaging::tiling::{SAME_FINDING_MM, Tile, boxes_overlap, same_finding, suppress_overlaps, tiles};
use crate::models::calc_net::CalcNet;
use crate::models::checkpoint::{WeightsInfo, build_from_file};
use crate::models::error::ModelError;
use crate::models::preset::PATCH_SIZE;

/// The default tile stride: half a patch. On held-out simulated mammograms it finds more clusters at the same false
/// marks per image than the paper's non-overlapping grid (the calcification model card); it scores about 4× the tiles.
pub const DEFAULT_STRIDE: usize = PATCH_SIZE / 2;

/// Weights metadata: the whole-image operating point, chosen on validation mammograms for a budget of false marks
/// per calcification-free image (`models::training::calibrate`).
pub const DETECTION_THRESHOLD_KEY: &str = "detection_threshold";
/// Weights metadata: how the detection threshold was chosen, in words.
pub const DETECTION_CALIBRATION_KEY: &str = "detection_calibration";

/// A weights file's thresholds: the paper's operating point (0.5 when it has none) and the whole-image detection
/// threshold, if any; values outside [0, 1] are ignored.
pub fn thresholds(info: &WeightsInfo) -> (f32, Option<f32>) {
    let number = |key: &str| info.metadata.get(key).and_then(|v| v.parse::<f32>().ok()).filter(|t| (0.0..=1.0).contains(t));
    (number("operating_point").unwrap_or(0.5), number(DETECTION_THRESHOLD_KEY))
}

/// How the image is tiled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorOptions {
    /// Tile stride in model pixels (224 = non-overlapping, the paper's; 112 = half overlap, the default: every point
    /// lies in up to four tiles, so a cluster on a grid line is whole in one of them).
    pub stride: usize,
    /// Tiles with less breast than this fraction are skipped as background.
    pub min_breast_fraction: f32,
    /// Patches per forward pass.
    pub batch: usize,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        Self { stride: DEFAULT_STRIDE, min_breast_fraction: 0.2, batch: 16 }
    }
}

/// One scored patch, in source image pixels.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct PatchScore {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub prob: f32,
    /// Where in the image the model's calcification evidence peaks (`[x, y]`, source pixels, inside the patch):
    /// the peak of the positive class activation map (`models::evidence`).
    pub evidence: [f64; 2],
}

impl PatchScore {
    /// Whether the source pixel `(x, y)` lies in the patch.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && y >= self.y && x < self.x + self.w && y < self.y + self.h
    }

    /// Whether the two patches share an area; patches that only touch (grid neighbours, up to rounding of a
    /// millionth of their side) do not.
    pub fn overlaps(&self, other: &PatchScore) -> bool {
        boxes_overlap(self.bounds(), other.bounds())
    }

    /// The patch as `[x, y, w, h]`.
    pub fn bounds(&self) -> [f64; 4] {
        [self.x, self.y, self.w, self.h]
    }
}

/// The detector's output for one image.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Detection {
    pub patches: Vec<PatchScore>,
    /// Patch side in source pixels and in mm.
    pub patch_size_px: f64,
    pub patch_size_mm: f64,
    /// Tiles skipped as background.
    pub skipped: usize,
}

impl Detection {
    /// Patches at or above `threshold`, most probable first.
    pub fn above(&self, threshold: f32) -> Vec<PatchScore> {
        let mut hits: Vec<PatchScore> = self.patches.iter().copied().filter(|p| p.prob >= threshold).collect();
        hits.sort_by(|a, b| b.prob.total_cmp(&a.prob));
        hits
    }

    /// What the overlay outlines, one mark per finding, most probable first: the patches at or above `threshold`,
    /// each dropped when it overlaps a more probable one already kept and shows the same finding (its evidence point
    /// lies in that patch or within [`SAME_FINDING_MM`] of that patch's evidence; `imaging::tiling::same_finding`).
    /// A cluster whose own patch overlaps a stronger patch that does not hold it keeps its mark. On the
    /// non-overlapping grid this is [`Self::above`] less shifted edge tiles that repeat a stronger neighbour's finding.
    /// The model card's whole-image detection counts these marks.
    pub fn marks(&self, threshold: f32) -> Vec<PatchScore> {
        let scores: Vec<f32> = self.patches.iter().map(|p| p.prob).collect();
        let merge = SAME_FINDING_MM * self.patch_size_px / self.patch_size_mm.max(f64::MIN_POSITIVE);
        suppress_overlaps(&scores, threshold, |a, b| {
            let (kept, other) = (&self.patches[a], &self.patches[b]);
            same_finding(kept.bounds(), kept.evidence, other.bounds(), other.evidence, merge)
        })
        .into_iter()
        .map(|i| self.patches[i])
        .collect()
    }

    pub fn max_prob(&self) -> f32 {
        self.patches.iter().map(|p| p.prob).fold(0.0, f32::max)
    }

    pub fn mean_prob(&self) -> f32 {
        if self.patches.is_empty() { 0.0 } else { self.patches.iter().map(|p| p.prob).sum::<f32>() / self.patches.len() as f32 }
    }
}

/// The model-scale image prepared for tiling: resampled, normalised, with its breast mask.
pub struct Prepared {
    pub image: Image,
    pub mask: BreastMask,
    pub scaling: InputScaling,
    /// Model pixels per source pixel.
    pub scale: f64,
    /// Whether the source values were mirrored (MONOCHROME1).
    pub invert: bool,
    /// The source image's width and height in pixels.
    pub source_size: [usize; 2],
}

/// Resamples `image` (pixel spacing `spacing_mm`) to the model's scale and finds the breast.
/// `invert` is true for MONOCHROME1 images (the network sees "brighter = denser").
pub fn prepare(image: &Image, spacing_mm: f64, invert: bool) -> Result<Prepared, ModelError> {
    if !(spacing_mm.is_finite() && spacing_mm > 0.0) {
        return Err(ModelError::Input(format!("pixel spacing {spacing_mm} mm is not a positive number")));
    }
    let resampled = resample(image, spacing_mm, MODEL_SPACING_MM).map_err(|e| ModelError::Input(e.to_string()))?;
    let source_size = [image.width, image.height];
    let mut image = resampled.image;
    if invert {
        mirror_values(&mut image);
    }
    let mask = BreastMask::from_image(&image, MODEL_SPACING_MM);
    let scaling = InputScaling::from_image(&image, &mask, false);
    Ok(Prepared { image, mask, scaling, scale: resampled.scale, invert, source_size })
}

/// How a file's values relate to tissue density, from its header: what the detector must do to see "brighter =
/// denser".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Brighter is denser (MONOCHROME2 For Presentation, simulated images).
    Density,
    /// Darker is denser (MONOCHROME1): mirrored.
    Mirrored,
    /// Linear in the X-ray intensity (For Processing, [`ImageMeta::is_linear_raw`]): its log attenuation.
    LinearRaw,
}

impl ValueKind {
    pub fn of(meta: &ImageMeta) -> Self {
        if meta.is_linear_raw() {
            Self::LinearRaw
        } else if meta.is_monochrome1() {
            Self::Mirrored
        } else {
            Self::Density
        }
    }

    /// The image the detector sees and whether to mirror its values (`invert` of [`CalcDetector::detect`]).
    pub fn model_view(self, image: &Image) -> (Cow<'_, Image>, bool) {
        match self {
            Self::LinearRaw => (Cow::Owned(log_attenuation(image)), false),
            Self::Mirrored => (Cow::Borrowed(image), true),
            Self::Density => (Cow::Borrowed(image), false),
        }
    }
}

/// MONOCHROME1: mirrors the values within their range so the mask and the network see "brighter = denser".
pub(crate) fn mirror_values(image: &mut Image) {
    let stats = image.stats();
    let sum = stats.min + stats.max;
    image.data.iter_mut().for_each(|v| *v = sum - *v);
}

/// A loaded network with its weights' identity and operating point.
pub struct CalcDetector {
    net: CalcNet,
    device: Device,
    pub info: WeightsInfo,
    /// The accuracy-maximising threshold from training (the paper's operating point, on balanced patches).
    pub operating_point: f32,
    /// The whole-image operating point, if the weights carry one ([`DETECTION_THRESHOLD_KEY`]).
    pub detection_threshold: Option<f32>,
}

impl CalcDetector {
    /// Loads a weights file written by `mammoscope train calc`.
    pub fn load(path: &Path, device: &Device) -> Result<Self, ModelError> {
        let (net, info) = build_from_file(path, device)?;
        let (operating_point, detection_threshold) = thresholds(&info);
        Ok(Self { net, device: device.clone(), info, operating_point, detection_threshold })
    }

    /// A detector around an already built network (benchmarks; random weights have no operating point: 0.5).
    pub fn from_net(net: CalcNet, device: Device) -> Self {
        let info = WeightsInfo { preset: net.preset(), sha256: String::new(), metadata: std::collections::BTreeMap::new() };
        Self { net, device, info, operating_point: 0.5, detection_threshold: None }
    }

    /// The threshold for whole images (the viewer's default, what `analyze calc` marks): the calibrated detection
    /// threshold when the weights carry one, else the paper's operating point.
    pub fn default_threshold(&self) -> f32 {
        self.detection_threshold.unwrap_or(self.operating_point)
    }

    pub fn net(&self) -> &CalcNet {
        &self.net
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Scores every breast tile of `image`. `progress(done, total)` counts patches; `cancelled` is checked
    /// between batches.
    pub fn detect(
        &self,
        image: &Image,
        spacing_mm: f64,
        invert: bool,
        options: &DetectorOptions,
        progress: &dyn Fn(usize, usize),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Detection, ModelError> {
        let prepared = prepare(image, spacing_mm, invert)?;
        self.detect_prepared(&prepared, spacing_mm, options, progress, cancelled)
    }

    /// As [`Self::detect`], on an image already [`prepare`]d.
    pub fn detect_prepared(
        &self,
        prepared: &Prepared,
        spacing_mm: f64,
        options: &DetectorOptions,
        progress: &dyn Fn(usize, usize),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Detection, ModelError> {
        let stride = options.stride.clamp(PATCH_SIZE / 8, PATCH_SIZE);
        let (w, h) = (prepared.image.width, prepared.image.height);
        let all = tiles(w, h, PATCH_SIZE, stride, None, 0.0);
        let kept: Vec<Tile> = tiles(w, h, PATCH_SIZE, stride, Some(&prepared.mask), options.min_breast_fraction);
        let (probs, evidence) = self.score_tiles(prepared, &kept, options.batch, progress, cancelled)?;
        let s = prepared.scale;
        let side = PATCH_SIZE as f64 / s;
        let patches = kept
            .iter()
            .zip(probs.into_iter().zip(evidence))
            .map(|(t, (prob, [ex, ey]))| {
                // The model-scale image is the source size × scale, rounded: keep the boxes inside the source image.
                let x = (t.x as f64 / s).min(prepared.source_size[0] as f64 - side).max(0.0);
                let y = (t.y as f64 / s).min(prepared.source_size[1] as f64 - side).max(0.0);
                let evidence = [(x + f64::from(ex) / s).min(x + side), (y + f64::from(ey) / s).min(y + side)];
                PatchScore { x, y, w: side, h: side, prob, evidence }
            })
            .collect();
        Ok(Detection {
            patches,
            patch_size_px: PATCH_SIZE as f64 / s,
            patch_size_mm: PATCH_SIZE as f64 / s * spacing_mm,
            skipped: all.len().saturating_sub(kept.len()),
        })
    }

    /// Probabilities of `tiles` of a prepared image, in order, with each tile's evidence point `[x, y]` in tile pixels
    /// (model scale; [`crate::models::evidence`]). `progress(done, total)` counts patches; `cancelled` is checked
    /// between batches.
    pub fn score_tiles(
        &self,
        prepared: &Prepared,
        tiles: &[Tile],
        batch: usize,
        progress: &dyn Fn(usize, usize),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(Vec<f32>, Vec<[f32; 2]>), ModelError> {
        let (mut probs, mut evidence) = (Vec::with_capacity(tiles.len()), Vec::new());
        for chunk in tiles.chunks(batch.max(1)) {
            if cancelled() {
                return Err(ModelError::Cancelled);
            }
            let mut data = Vec::with_capacity(chunk.len() * PATCH_SIZE * PATCH_SIZE);
            for t in chunk {
                data.extend(prepared.scaling.masked_patch(&prepared.image, &prepared.mask, t.x, t.y, PATCH_SIZE));
            }
            let x = Tensor::from_vec(data, (chunk.len(), 1, PATCH_SIZE, PATCH_SIZE), &self.device)?;
            let (p, e) = self.net.probabilities_and_evidence(&x)?;
            probs.extend(p);
            evidence.extend(e);
            progress(probs.len(), tiles.len());
        }
        Ok((probs, evidence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(x: f64, y: f64, prob: f32) -> PatchScore {
        PatchScore { x, y, w: 100.5, h: 100.5, prob, evidence: [x + 50.25, y + 50.25] }
    }

    fn detection(patches: Vec<PatchScore>) -> Detection {
        // 100.5 px = 15.7 mm: 0.156 mm per pixel, so findings merge within 32 px.
        Detection { patches, patch_size_px: 100.5, patch_size_mm: 15.7, skipped: 0 }
    }

    #[test]
    fn marks_keep_one_patch_per_finding() {
        // Half-overlapping neighbours along x with their evidence in the middle of each (so each neighbour's evidence
        // lies in the stronger middle patch), a touching grid neighbour below the first, one below threshold.
        let d = detection(vec![
            patch(0.0, 0.0, 0.7),
            patch(50.25, 0.0, 0.9),
            patch(100.5, 0.0, 0.8),
            patch(0.0, 100.5, 0.6),
            patch(300.0, 0.0, 0.2),
        ]);
        let marks: Vec<f32> = d.marks(0.5).iter().map(|p| p.prob).collect();
        assert_eq!(marks, vec![0.9, 0.6]);
        assert_eq!(d.above(0.5).len(), 4);
        assert!(d.marks(0.95).is_empty());
        // Without overlap (touching patches only) the marks are every patch above the threshold.
        let grid = detection(vec![patch(0.0, 0.0, 0.7), patch(100.5, 0.0, 0.9)]);
        assert_eq!(grid.marks(0.5).len(), 2);
        // A weaker overlapping patch whose evidence lies outside the stronger one, far from its evidence, is a finding
        // of its own (a cluster beside a stronger false tile keeps its mark).
        let mut own = patch(100.5, 0.0, 0.8);
        own.evidence = [190.0, 40.0];
        let beside = detection(vec![patch(50.25, 0.0, 0.9), own]);
        assert_eq!(beside.marks(0.5).len(), 2);
        // Just outside the stronger patch but within 5 mm (32 px) of its evidence: the same finding.
        let mut near = own;
        near.evidence = [155.0, 50.0];
        let merged = detection(vec![PatchScore { evidence: [130.0, 50.0], ..patch(50.25, 0.0, 0.9) }, near]);
        assert_eq!(merged.marks(0.5).len(), 1);
    }
}
