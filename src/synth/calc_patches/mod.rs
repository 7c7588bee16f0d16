//! Training and test data for the microcalcification patch classifier: simulated mammograms cut into
//! normalised 224 × 224 patches at [`MODEL_SPACING_MM`], with balanced classes (the patch learning approach of
//! the paper in `shared/papers/microcalcification-patch-detection.txt`).
//!
//! Each image draws its own settings from `(seed, index)` (spacing 0.05–0.2 mm, BI-RADS a–d, CC/MLO, left/right,
//! breast size and thickness, dose, electronic noise, PSF, scatter, 0–6 calcification clusters of 1–30 specks,
//! sometimes a mass), is simulated at that spacing, resampled to 0.07 mm and normalised exactly as inference does
//! it ([`BreastMask`](crate::imaging::breast_mask::BreastMask) +
//! [`InputScaling::from_image`](crate::imaging::model_input::InputScaling::from_image) + `patch`). Every speck's
//! visibility is its measured CNR (`cnr`); the labelling rule is in `labels`. Positives put a visible speck at a
//! uniformly random place in the patch (on request a share of them only specks just over the visibility rule:
//! `near_threshold_fraction`); negatives are random breast patches and hard ones (skin line, pectoral
//! edge, dense tissue, mass, vessels), all clear of every speck by 1 mm. Images run in parallel (rayon) and the
//! result does not depend on the number of threads.
//!
//! ```no_run
//! use mammoscope::synth::calc_patches::{CalcDataParams, generate};
//! let data = generate(&CalcDataParams::training(7, 100), &|done, total| println!("{done}/{total}"), &|| false).unwrap();
//! assert_eq!(data.positives() * 2, data.len());
//! ```

mod background;
mod cnr;
mod crops;
mod dataset;
mod eval;
pub mod film_artefacts;
mod labels;
mod params;
mod ridge;
mod scene;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicUsize, Ordering};

use rand::seq::SliceRandom;
use rayon::prelude::*;

pub use background::{BackgroundPeak, background_peaks, distinct};
pub use dataset::{CalcDataset, PatchInfo, PatchKind};
pub use eval::{EvalCluster, EvalImage, eval_images_with, generate_eval_images, generate_eval_range, label_tiles};
pub use params::{CLEARANCE_MM, CalcDataParams, EDGE_MARGIN_PX, FAINT_CNR, MIN_CNR, NEAR_THRESHOLD_CNR_BAND};

use crate::imaging::{
    resample::{MODEL_SPACING_MM, ResampleError},
    tiling::Tile,
};
use crate::synth::mammogram::{CalcificationShape, MammogramError};
use crops::{Cropper, Specks};
use labels::Rule;
use scene::{Calcs, Scene};

/// Why no data set was generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalcDataError {
    #[error("invalid parameters: {0}")]
    Params(String),
    #[error("simulation failed: {0}")]
    Simulate(#[from] MammogramError),
    #[error("resampling failed: {0}")]
    Resample(#[from] ResampleError),
    #[error("cancelled")]
    Cancelled,
}

fn check(params: &CalcDataParams) -> Result<(), CalcDataError> {
    let (lo, hi) = params.spacing_mm;
    let problem = if !(16..=2048).contains(&params.patch_size) {
        Some(format!("patch_size {} is outside 16..=2048", params.patch_size))
    } else if !(0.02..=0.5).contains(&lo) || !(0.02..=0.5).contains(&hi) {
        Some(format!("spacing range {lo}..{hi} mm is outside 0.02..=0.5"))
    } else if !(0.2..=2.0).contains(&params.breast_scale) {
        Some(format!("breast_scale {} is outside 0.2..=2", params.breast_scale))
    } else if !params.min_cnr.is_finite() || !params.edge_margin_px.is_finite() || !params.clearance_mm.is_finite() {
        Some("min_cnr, edge_margin_px and clearance_mm must be finite".to_owned())
    } else if !(0.0..=1.0).contains(&params.near_threshold_fraction) {
        Some(format!("near_threshold_fraction {} is outside 0..=1", params.near_threshold_fraction))
    } else if !(0.0..=1.0).contains(&params.linear_fraction) {
        Some(format!("linear_fraction {} is outside 0..=1", params.linear_fraction))
    } else {
        None
    };
    problem.map_or(Ok(()), |p| Err(CalcDataError::Params(p)))
}

fn rule(params: &CalcDataParams) -> Rule {
    Rule { min_cnr: params.min_cnr, edge_margin_px: params.edge_margin_px, clearance_px: params.clearance_mm / MODEL_SPACING_MM }
}

/// Generates the data set: images in parallel, `progress(done, total)` after each image (from worker threads),
/// `cancelled()` checked before each image.
pub fn generate(
    params: &CalcDataParams,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<CalcDataset, CalcDataError> {
    check(params)?;
    let done = AtomicUsize::new(0);
    let parts = (0..params.images)
        .into_par_iter()
        .map(|index| {
            if cancelled() {
                return Err(CalcDataError::Cancelled);
            }
            let part = image_patches(params, index)?;
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, params.images);
            Ok(part)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut data = CalcDataset { patch_size: params.patch_size, ..CalcDataset::default() };
    for (index, mut part) in parts.into_iter().enumerate() {
        // Balance within each image (an image without visible calcifications contributes no negatives): otherwise
        // image-level cues (spacing, density, dose) separate the classes and the network learns those instead of the
        // specks (the first training run's validation AUC fell while its training loss fell).
        if params.balance && part.positives() > 0 {
            balance(&mut part, params.seed ^ index as u64);
        } else if params.balance {
            part.retain(|_| false);
        }
        data.patches.extend(part.patches);
        data.labels.extend(part.labels);
        data.info.extend(part.info);
        data.faint_patches.extend(part.faint_patches);
        data.faint.extend(part.faint);
    }
    Ok(data)
}

/// Drops randomly chosen (seeded) patches of the larger class until both classes have the same count.
fn balance(data: &mut CalcDataset, seed: u64) {
    let positives = data.positives();
    let negatives = data.len() - positives;
    let drop_positive = positives > negatives;
    let mut larger: Vec<usize> = (0..data.len()).filter(|&i| (data.labels[i] == 1) == drop_positive).collect();
    larger.shuffle(&mut scene::image_rng(seed, usize::MAX, 9));
    let mut dropped = vec![false; data.len()];
    for &i in larger.iter().take(positives.abs_diff(negatives)) {
        dropped[i] = true;
    }
    data.retain(|i| !dropped[i]);
}

/// The patches of image `index`, unbalanced.
fn image_patches(params: &CalcDataParams, index: usize) -> Result<CalcDataset, CalcDataError> {
    let (mammogram, mirrored) = scene::draw(params.seed, index, Calcs::Drawn, params.spacing_mm, params.breast_scale);
    let scene = scene::build(&mammogram, mirrored)?;
    let cropper = Cropper { scene: &scene, rule: rule(params), size: params.patch_size };
    let mut rng = scene::image_rng(params.seed, index, 3);
    let maps = ridge::CoarseMaps::new(&scene.image, &scene.mask, &scene.scaling);
    let mut out = CalcDataset { patch_size: params.patch_size, ..CalcDataset::default() };
    let info = |scene: &Scene, tile: &Tile, kind| PatchInfo {
        image_index: index,
        kind,
        density: scene.density,
        view: scene.view,
        source_spacing_mm: scene.source_spacing_mm,
        x: tile.x,
        y: tile.y,
    };
    let patch = |tile: &Tile| scene.scaling.masked_patch(&scene.image, &scene.mask, tile.x, tile.y, tile.size);
    // Near-threshold positives first (as many as the image has), then the usual ones up to the count. With a fraction
    // of 0 the random stream is the one of data sets made before the option existed.
    let near_wanted = (params.positives_per_image as f64 * params.near_threshold_fraction).round() as usize;
    let mut positives = if near_wanted > 0 {
        cropper.around_specks(near_wanted, Specks::NearThreshold(params.min_cnr + NEAR_THRESHOLD_CNR_BAND), &mut rng)
    } else {
        Vec::new()
    };
    // Linear / branching positives next, on request (the same rule: a fraction of 0 draws nothing from the stream).
    let linear_wanted = (params.positives_per_image as f64 * params.linear_fraction).round() as usize;
    let linear_wanted = linear_wanted.min(params.positives_per_image - positives.len());
    if linear_wanted > 0 {
        positives.extend(cropper.around_specks(linear_wanted, Specks::Shape(CalcificationShape::LinearBranching), &mut rng));
    }
    positives.extend(cropper.around_specks(params.positives_per_image - positives.len(), Specks::Visible, &mut rng));
    for (tile, c) in positives {
        let Some(shape) = c.shape else { continue };
        let kind = PatchKind::Positive { specks: c.specks, max_cnr: c.max_cnr as f32, shape };
        out.push(&patch(&tile), info(&scene, &tile, kind));
    }
    for (tile, c) in cropper.around_specks(params.faint_per_image, Specks::Faint, &mut rng) {
        let Some(shape) = c.shape else { continue };
        let kind = PatchKind::Faint { specks: c.specks, max_cnr: c.max_cnr as f32, shape };
        out.push_faint(&patch(&tile), info(&scene, &tile, kind));
    }
    for (tile, kind) in cropper.negatives(params.negatives_per_image, params.hard_negative_fraction, &maps, &mut rng) {
        out.push(&patch(&tile), info(&scene, &tile, kind));
    }
    Ok(out)
}
