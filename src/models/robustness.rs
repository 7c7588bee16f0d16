//! The robustness curve of one image (the low-pass paper's Fig. 2/4 for a single image): the detector's maximum
//! and mean calcification probability against the Fourier low-pass radius R and against Gaussian noise σ.
//!
//! Each point perturbs the full-resolution source image with [`crate::imaging::perturb::apply`] (the forward FFT is
//! computed once and reused for every R), resamples it to the model's scale and scores the same tiles as the clean
//! image (the breast mask of the clean image, so the tiles do not move). With `only` the sweep scores a chosen
//! subset of tiles (a selected patch) and is correspondingly faster.

use serde::Serialize;

use crate::imaging::Image;
use crate::imaging::model_input::InputScaling;
use crate::imaging::perturb::{self, FilterKind, FourierCache, PerturbParams};
use crate::imaging::resample::{MODEL_SPACING_MM, resample};
use crate::imaging::tiling::{Tile, tiles};
use crate::models::detector::{CalcDetector, DetectorOptions, Prepared, mirror_values, prepare};
use crate::models::error::ModelError;
use crate::models::preset::PATCH_SIZE;

/// Low-pass radii of the sweep, cycles/mm (the paper's range; `None` = unfiltered).
pub const SWEEP_RADII: [f64; 10] = [7.0, 5.0, 4.0, 3.0, 2.5, 2.0, 1.5, 1.0, 0.75, 0.5];
/// Noise levels of the sweep as fractions of the breast's grey-level range (p1–p99).
pub const SWEEP_NOISE_FRACTIONS: [f64; 7] = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4];

/// One point of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// R in cycles/mm, or σ in modality units.
    pub x: f64,
    pub max_prob: f32,
    pub mean_prob: f32,
}

/// Both curves of one image.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RobustnessCurve {
    /// Without any perturbation.
    pub clean_max: f32,
    pub clean_mean: f32,
    pub lowpass: Vec<CurvePoint>,
    pub noise: Vec<CurvePoint>,
    /// Tiles scored per point.
    pub tiles: usize,
}

/// Which tiles the sweep scores.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepRegion {
    /// Every breast tile of the image.
    Breast,
    /// The tiles overlapping this rectangle in source pixels `[x, y, w, h]` (a selected patch).
    Rect([f64; 4]),
}

#[allow(clippy::too_many_arguments)]
/// Runs the sweep; `progress(done, total)` counts points, `partial` receives the curve after every point.
pub fn sweep(
    detector: &CalcDetector,
    image: &Image,
    spacing_mm: [f64; 2],
    invert: bool,
    region: &SweepRegion,
    options: &DetectorOptions,
    progress: &dyn Fn(usize, usize, &RobustnessCurve),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<RobustnessCurve, ModelError> {
    let spacing = spacing_mm[0].max(spacing_mm[1]);
    let clean = prepare(image, spacing, invert)?;
    let chosen = region_tiles(&clean, region, options);
    let total = 1 + SWEEP_RADII.len() + SWEEP_NOISE_FRACTIONS.len() - 1;
    let mut curve = RobustnessCurve { tiles: chosen.len(), ..RobustnessCurve::default() };
    let none = || false;
    let score = |prepared: &Prepared| -> Result<(f32, f32), ModelError> {
        let (probs, _) = detector.score_tiles(prepared, &chosen, options.batch, &|_, _| {}, &|| cancelled())?;
        let max = probs.iter().copied().fold(0.0, f32::max);
        let mean = if probs.is_empty() { 0.0 } else { probs.iter().sum::<f32>() / probs.len() as f32 };
        Ok((max, mean))
    };
    (curve.clean_max, curve.clean_mean) = score(&clean)?;
    let mut done = 1;
    progress(done, total, &curve);
    let mut cache = FourierCache::default();
    for &r in &SWEEP_RADII {
        let params = PerturbParams { lowpass_cycles_per_mm: Some(r), filter: FilterKind::Ideal, ..PerturbParams::default() };
        let perturbed = perturb::apply(image, spacing_mm, &params, &mut cache, cancelled).map_err(perturb_error)?;
        let (max_prob, mean_prob) = score(&reprepare(&perturbed, spacing, &clean)?)?;
        curve.lowpass.push(CurvePoint { x: r, max_prob, mean_prob });
        done += 1;
        progress(done, total, &curve);
    }
    let range = f64::from(clean.scaling.hi - clean.scaling.lo).abs().max(1e-6);
    curve.noise.push(CurvePoint { x: 0.0, max_prob: curve.clean_max, mean_prob: curve.clean_mean });
    for (k, &f) in SWEEP_NOISE_FRACTIONS.iter().enumerate().skip(1) {
        let sigma = f * range;
        let params = PerturbParams { noise_sigma: Some(sigma), seed: 0x5eed + k as u64, ..PerturbParams::default() };
        let perturbed = perturb::apply(image, spacing_mm, &params, &mut FourierCache::default(), &none).map_err(perturb_error)?;
        let (max_prob, mean_prob) = score(&reprepare(&perturbed, spacing, &clean)?)?;
        curve.noise.push(CurvePoint { x: sigma, max_prob, mean_prob });
        done += 1;
        progress(done, total, &curve);
        if cancelled() {
            return Err(ModelError::Cancelled);
        }
    }
    Ok(curve)
}

/// A perturbation failure as a model error (cancellation stays cancellation).
pub(crate) fn perturb_error(e: perturb::PerturbError) -> ModelError {
    match e {
        perturb::PerturbError::Cancelled => ModelError::Cancelled,
        e => ModelError::Input(e.to_string()),
    }
}

/// The perturbed image at the model's scale, with the clean image's breast mask (so the tiles stay put).
fn reprepare(perturbed: &Image, spacing: f64, clean: &Prepared) -> Result<Prepared, ModelError> {
    let resampled = resample(perturbed, spacing, MODEL_SPACING_MM).map_err(|e| ModelError::Input(e.to_string()))?;
    let mut image = resampled.image;
    if clean.invert {
        mirror_values(&mut image);
    }
    let scaling = InputScaling::from_image(&image, &clean.mask, false);
    Ok(Prepared { image, mask: clean.mask.clone(), scaling, scale: resampled.scale, invert: clean.invert, source_size: clean.source_size })
}

fn region_tiles(prepared: &Prepared, region: &SweepRegion, options: &DetectorOptions) -> Vec<Tile> {
    let (w, h) = (prepared.image.width, prepared.image.height);
    let stride = options.stride.clamp(PATCH_SIZE / 8, PATCH_SIZE);
    let breast = tiles(w, h, PATCH_SIZE, stride, Some(&prepared.mask), options.min_breast_fraction);
    match region {
        SweepRegion::Breast => breast,
        SweepRegion::Rect([x, y, rw, rh]) => {
            let s = prepared.scale;
            // one model pixel of tolerance, so a patch's own box does not pick up the neighbours sharing its edges
            let (x0, y0, x1, y1) = (x * s + 1.0, y * s + 1.0, (x + rw) * s - 1.0, (y + rh) * s - 1.0);
            let all = tiles(w, h, PATCH_SIZE, stride, None, 0.0);
            // The selected patch itself when it is one of the tiles (a patch of the overlay, same stride); otherwise
            // every tile overlapping the rectangle.
            let inside: Vec<Tile> = all
                .iter()
                .copied()
                .filter(|t| {
                    let (tx, ty, ts) = (t.x as f64, t.y as f64, t.size as f64);
                    tx >= x0 - 2.0 && ty >= y0 - 2.0 && tx + ts <= x1 + 2.0 && ty + ts <= y1 + 2.0
                })
                .collect();
            if !inside.is_empty() {
                return inside;
            }
            all.into_iter()
                .filter(|t| {
                    let (tx, ty, ts) = (t.x as f64, t.y as f64, t.size as f64);
                    tx < x1 && tx + ts > x0 && ty < y1 && ty + ts > y0
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selected_patch_is_swept_alone_at_its_stride_and_a_box_by_its_overlapping_tiles() {
        let mut image = Image::filled(800, 600, 0.0);
        for y in 100..500 {
            for x in 100..700 {
                image.data[y * 800 + x] = 1.0;
            }
        }
        // Source spacing = model spacing: model pixels are source pixels.
        let prepared = prepare(&image, MODEL_SPACING_MM, false).unwrap();
        let half = DetectorOptions { stride: PATCH_SIZE / 2, ..DetectorOptions::default() };
        let patch = SweepRegion::Rect([112.0, 224.0, PATCH_SIZE as f64, PATCH_SIZE as f64]);
        assert_eq!(region_tiles(&prepared, &patch, &half), vec![Tile { x: 112, y: 224, size: PATCH_SIZE }]);
        // A box that is no tile of this stride: every tile overlapping it.
        let grid = DetectorOptions { stride: PATCH_SIZE, ..DetectorOptions::default() };
        let off = SweepRegion::Rect([200.0, 200.0, 50.0, 50.0]);
        assert_eq!(region_tiles(&prepared, &off, &grid).len(), 4);
        assert!(!region_tiles(&prepared, &SweepRegion::Breast, &half).is_empty());
    }
}
