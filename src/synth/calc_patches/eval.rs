//! Whole simulated images for evaluating a patch classifier as it runs at inference: tile, classify, count.
//!
//! Even-indexed images have 1–6 calcification clusters, odd-indexed ones none (false positives on
//! calcification-free images). Images are resampled to `MODEL_SPACING_MM` but not normalised: the caller does
//! that as inference would.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::{
    CalcDataError,
    labels::Rule,
    params::{CLEARANCE_MM, EDGE_MARGIN_PX, MIN_CNR},
    scene::{self, Calcs, Speck},
};
use crate::imaging::{Image, resample::MODEL_SPACING_MM, tiling::Tile};
use crate::synth::mammogram::{CalcificationShape, Density, View};

/// Keeps evaluation images apart from training images of the same seed.
const EVAL_SALT: u64 = 0xE7A1_0000_0000_0001;

/// One calcification cluster in the resampled image.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalCluster {
    pub center_px: [f64; 2],
    /// Distance from the centre to the farthest speck's edge.
    pub radius_px: f64,
    pub specks: usize,
    pub max_cnr: f64,
    /// The cluster's morphology (all its specks share it).
    pub shape: CalcificationShape,
}

/// A whole simulated image at `MODEL_SPACING_MM` with its calcification truth.
#[derive(Clone, Debug)]
pub struct EvalImage {
    /// For Presentation values (brighter = denser, 0 outside the breast), not normalised.
    pub image: Image,
    pub density: Density,
    pub view: View,
    pub source_spacing_mm: f64,
    pub clusters: Vec<EvalCluster>,
    /// Every speck: centre (resampled pixels) and CNR.
    pub specks: Vec<([f64; 2], f64)>,
    /// Radius of each speck in `specks`, in pixels.
    pub speck_radii_px: Vec<f64>,
}

/// Generates `n` evaluation images from `seed` in parallel (same progress and cancellation as `generate`).
pub fn generate_eval_images(
    seed: u64,
    n: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<EvalImage>, CalcDataError> {
    generate_eval_range(seed, 0..n, progress, cancelled)
}

/// Images `indices` of the sequence [`generate_eval_images`] draws from `seed` (the first `n` of it are
/// `generate_eval_images(seed, n)`), so a long sequence can be generated a few images at a time.
pub fn generate_eval_range(
    seed: u64,
    indices: Range<usize>,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<EvalImage>, CalcDataError> {
    eval_images_with(seed, indices, (0.05, 0.2), 0.85, progress, cancelled)
}

/// [`generate_eval_range`] with a spacing range and breast scale (small, fast images for tests).
pub fn eval_images_with(
    seed: u64,
    indices: Range<usize>,
    spacing_mm: (f64, f64),
    breast_scale: f64,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<EvalImage>, CalcDataError> {
    let done = AtomicUsize::new(0);
    let n = indices.len();
    indices
        .into_par_iter()
        .map(|index| {
            if cancelled() {
                return Err(CalcDataError::Cancelled);
            }
            let calcs = if index % 2 == 0 { Calcs::Always } else { Calcs::Never };
            let (params, mirrored) = scene::draw(seed ^ EVAL_SALT, index, calcs, spacing_mm, breast_scale);
            let scene = scene::build(&params, mirrored)?;
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, n);
            Ok(EvalImage {
                clusters: clusters(&scene.specks, &scene.cluster_centers),
                specks: scene.specks.iter().map(|s| (s.center_px, s.cnr)).collect(),
                speck_radii_px: scene.specks.iter().map(|s| s.radius_px).collect(),
                density: scene.density,
                view: scene.view,
                source_spacing_mm: scene.source_spacing_mm,
                image: scene.image,
            })
        })
        .collect()
}

/// The clusters that kept at least one speck.
fn clusters(specks: &[Speck], centers: &[[f64; 2]]) -> Vec<EvalCluster> {
    let mut by_id: BTreeMap<u32, Vec<&Speck>> = BTreeMap::new();
    for s in specks {
        by_id.entry(s.cluster).or_default().push(s);
    }
    by_id
        .into_iter()
        .filter_map(|(id, members)| {
            let center_px = *centers.get(id as usize)?;
            let radius_px = members
                .iter()
                .map(|s| (s.center_px[0] - center_px[0]).hypot(s.center_px[1] - center_px[1]) + s.radius_px)
                .fold(0.0, f64::max);
            let max_cnr = members.iter().map(|s| s.cnr).fold(0.0, f64::max);
            Some(EvalCluster { center_px, radius_px, specks: members.len(), max_cnr, shape: members[0].shape })
        })
        .collect()
}

/// Labels tiles of `image` by the training rule (CNR ≥ `MIN_CNR` = 5, 8 px margin, 1 mm clearance): `Some(true)` positive,
/// `Some(false)` negative, `None` when only faint specks or specks at the edge make it ambiguous.
pub fn label_tiles(image: &EvalImage, tiles: &[Tile]) -> Vec<Option<bool>> {
    let rule = Rule { min_cnr: MIN_CNR, edge_margin_px: EDGE_MARGIN_PX, clearance_px: CLEARANCE_MM / MODEL_SPACING_MM };
    let specks: Vec<Speck> = image
        .specks
        .iter()
        .enumerate()
        .map(|(i, &(center_px, cnr))| Speck {
            center_px,
            radius_px: image.speck_radii_px.get(i).copied().unwrap_or(1.0),
            cnr,
            cluster: 0,
            shape: CalcificationShape::Punctate,
        })
        .collect();
    tiles.iter().map(|t| rule.label(t, &specks).as_target()).collect()
}
