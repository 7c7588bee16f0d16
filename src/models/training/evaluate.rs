//! Held-out evaluation of a calcification model, as the model card reports it:
//! - patch classification on a balanced test set of grid tiles from simulated mammograms never seen in training
//!   (the paper's protocol: equal numbers of calcification and normal patches; ROC, AUC, and accuracy, sensitivity
//!   and specificity at the accuracy-maximising operating point);
//! - the same tiles under perturbations (the denoising-CNN paper's Table 1): Gaussian noise, dose reduction,
//!   Fourier low-pass at R cycles/mm, and white-box FGSM at two ε;
//! - whole-image detection: the fraction of visible calcification clusters with at least one tile at or above the
//!   operating point, and the false tiles per calcification-free image, on the non-overlapping grid or with a smaller
//!   stride. With overlapping tiles the marks are one tile per finding ([`distinct_findings`]: a weaker tile
//!   overlapping a stronger one is dropped when its evidence point lies in that tile or near its evidence): a cluster
//!   counts as found only when a mark holds it, and false marks are counted as on the grid. The previous rule (the
//!   strongest non-overlapping tiles, [`strongest_non_overlapping`]) is reported beside it.
//!
//! Perturbations act on the whole model-scale image (0.07 mm/px) before normalisation and tiling, as in the viewer.

use candle_core::{Device, Tensor};
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde::Serialize;

use crate::imaging::Image;
use crate::imaging::breast_mask::BreastMask;
use crate::imaging::model_input::InputScaling;
use crate::imaging::perturb::{self, FourierCache, PerturbParams};
use crate::imaging::resample::MODEL_SPACING_MM;
use crate::imaging::seed::splitmix64;
use crate::imaging::tiling::{SAME_FINDING_MM, Tile, distinct_findings, overlap_groups, strongest_non_overlapping, tiles};
use crate::models::calc_net::CalcNet;
use crate::models::error::ModelError;
use crate::models::gradient::fgsm;
use crate::models::preset::PATCH_SIZE;
use crate::models::robustness::perturb_error;
use crate::models::roc::{self, Confusion, RocPoint};
use crate::models::training::batches::dihedral;
use crate::synth::calc_patches::{EvalCluster, EvalImage, FAINT_CNR, MIN_CNR, label_tiles};
use crate::synth::mammogram::CalcificationShape;

/// Minimum breast fraction of a test tile (as the detector's default).
pub const MIN_BREAST: f32 = 0.2;

/// Visible specks (CNR ≥ 5) that make a cluster in the breakdown of [`DetectionStats`] (BI-RADS "grouped" starts at a
/// few calcifications within 1 cm).
pub const CLUSTER_SPECKS: usize = 3;

/// One evaluation image, prepared: mask, labelled tiles.
pub struct PreparedEval {
    pub image: EvalImage,
    pub mask: BreastMask,
    /// Tiles with a definite label (faint-only tiles are left out).
    pub tiles: Vec<(Tile, bool)>,
}

/// The test set: images, and the balanced selection of tiles `(image, tile index)`.
pub struct TestSet {
    pub images: Vec<PreparedEval>,
    pub balanced: Vec<(usize, usize)>,
}

impl TestSet {
    /// Tiles every image on the non-overlapping grid and balances the classes by sampling negatives (seeded).
    pub fn new(images: Vec<EvalImage>, seed: u64) -> Self {
        let images: Vec<PreparedEval> = images
            .into_iter()
            .map(|image| {
                let mask = BreastMask::from_image(&image.image, MODEL_SPACING_MM);
                let grid = tiles(image.image.width, image.image.height, PATCH_SIZE, PATCH_SIZE, Some(&mask), MIN_BREAST);
                let labels = label_tiles(&image, &grid);
                let tiles = grid.into_iter().zip(labels).filter_map(|(t, l)| l.map(|l| (t, l))).collect();
                PreparedEval { image, mask, tiles }
            })
            .collect();
        let mut positives = Vec::new();
        let mut negatives = Vec::new();
        for (i, img) in images.iter().enumerate() {
            for (k, (_, label)) in img.tiles.iter().enumerate() {
                if *label { positives.push((i, k)) } else { negatives.push((i, k)) }
            }
        }
        negatives.shuffle(&mut StdRng::seed_from_u64(splitmix64(seed)));
        negatives.truncate(positives.len());
        let mut balanced = positives;
        balanced.extend(negatives);
        balanced.sort_unstable();
        Self { images, balanced }
    }

    pub fn positives(&self) -> usize {
        self.balanced.iter().filter(|&&(i, k)| self.images[i].tiles[k].1).count()
    }
}

/// A perturbation of the test images.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Condition {
    Clean,
    /// Gaussian noise σ as a fraction of each image's breast grey-level range (p1–p99).
    Noise(f64),
    /// Fraction α of the dose (Poisson thinning with the gain estimated from the image).
    Dose(f64),
    /// Ideal Fourier low-pass at R cycles/mm.
    Lowpass(f64),
    /// FGSM, white box, ε in normalised units (breast p1–p99 = 0–1).
    Fgsm(f64),
}

impl Condition {
    /// The rows of the robustness table.
    pub const TABLE: [Self; 12] = [
        Self::Clean,
        Self::Noise(0.02),
        Self::Noise(0.05),
        Self::Noise(0.1),
        Self::Dose(0.5),
        Self::Dose(0.2),
        Self::Lowpass(3.0),
        Self::Lowpass(2.0),
        Self::Lowpass(1.5),
        Self::Lowpass(1.0),
        Self::Fgsm(0.01),
        Self::Fgsm(0.03),
    ];

    pub fn label(&self) -> String {
        match self {
            Self::Clean => "clean".to_owned(),
            Self::Noise(f) => format!("Gaussian noise σ = {:.0}% of range", f * 100.0),
            Self::Dose(a) => format!("dose reduced to {:.0}%", a * 100.0),
            Self::Lowpass(r) => format!("low-pass R = {r} cycles/mm"),
            Self::Fgsm(e) => format!("FGSM ε = {e}"),
        }
    }
}

/// Scores of the balanced test tiles under one condition.
#[derive(Clone, Debug, Serialize)]
pub struct ConditionResult {
    pub condition: Condition,
    pub label: String,
    pub auc: f64,
    /// At the clean test set's operating point.
    pub at_operating_point: Confusion,
}

/// Clean-set results with the ROC curve.
#[derive(Clone, Debug, Serialize)]
pub struct CleanResult {
    pub auc: f64,
    pub best: Confusion,
    #[serde(skip)]
    pub roc: Vec<RocPoint>,
    pub patches: usize,
    pub positives: usize,
}

/// Whole-image detection at a threshold.
#[derive(Clone, Debug, Serialize)]
pub struct DetectionStats {
    pub threshold: f32,
    pub clusters: usize,
    pub clusters_found: usize,
    pub sensitivity: f64,
    /// The clusters with at least [`CLUSTER_SPECKS`] visible specks (what a reader calls a cluster; the others show a
    /// single or two specks at CNR ≥ 5), and how many of them were found.
    pub clusters_of_3: usize,
    pub clusters_of_3_found: usize,
    pub calc_free_images: usize,
    pub false_tiles_per_calc_free_image: f64,
    /// Marks ([`distinct_findings`], one per finding) on calcification-free images (equal to the false tiles on the
    /// non-overlapping grid).
    pub false_marks_per_calc_free_image: f64,
    pub tiles_per_calc_free_image: f64,
    /// Overlapping tiles at or above the threshold joined into one finding ([`overlap_groups`]): clusters with a
    /// visible speck in any such tile, and the groups on calcification-free images.
    pub clusters_found_by_groups: usize,
    pub false_groups_per_calc_free_image: f64,
    /// The previous mark rule, the strongest non-overlapping tiles ([`strongest_non_overlapping`]): clusters found and
    /// marks on calcification-free images.
    pub clusters_found_by_non_overlapping: usize,
    pub false_non_overlapping_per_calc_free_image: f64,
    /// Every visible cluster not found.
    pub missed: Vec<ClusterRecord>,
    /// Visible clusters and those found, by morphology (in [`CalcificationShape`] order; shapes with none left out).
    pub by_shape: Vec<ShapeCount>,
    /// What the model gets wrong, for the model card's error sheet: every false mark on a calcification-free image
    /// and, for every missed cluster, the grid tile holding its centre.
    #[serde(skip)]
    pub errors: Vec<DetectionError>,
}

/// Visible clusters of one morphology and how many were found.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ShapeCount {
    pub shape: CalcificationShape,
    pub clusters: usize,
    pub found: usize,
}

/// A visible cluster and what it shows (a miss in [`DetectionStats::missed`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterRecord {
    /// Index into the test set's images.
    pub image: usize,
    pub center_px: [f64; 2],
    /// The strongest speck's CNR.
    pub max_cnr: f64,
    /// Specks at CNR ≥ [`MIN_CNR`], faint ones ([`FAINT_CNR`] ≤ CNR < [`MIN_CNR`]), and all of them.
    pub visible_specks: usize,
    pub faint_specks: usize,
    pub specks: usize,
    pub shape: CalcificationShape,
}

impl ClusterRecord {
    /// `cluster` of test image `image` (`img`); its specks are those within its radius (+1 px) of its centre.
    pub fn new(image: usize, cluster: &EvalCluster, img: &EvalImage) -> Self {
        let members: Vec<f64> = img
            .specks
            .iter()
            .filter(|s| (s.0[0] - cluster.center_px[0]).hypot(s.0[1] - cluster.center_px[1]) <= cluster.radius_px + 1.0)
            .map(|s| s.1)
            .collect();
        Self {
            image,
            center_px: cluster.center_px,
            max_cnr: cluster.max_cnr,
            visible_specks: members.iter().filter(|&&c| c >= MIN_CNR).count(),
            faint_specks: members.iter().filter(|&&c| (FAINT_CNR..MIN_CNR).contains(&c)).count(),
            specks: cluster.specks,
            shape: cluster.shape,
        }
    }
}

/// A tile the model got wrong in [`detection_stats`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectionError {
    /// Index into the test set's images.
    pub image: usize,
    pub tile: Tile,
    pub prob: f32,
    /// `true`: a missed cluster's tile; `false`: a false tile on a calcification-free image.
    pub missed_cluster: bool,
}

/// The normalised patches of `selection` (image, tile) from images transformed by `perturb`.
fn patches(
    set: &TestSet,
    condition: Condition,
    selection: &[(usize, usize)],
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<Vec<f32>>, ModelError> {
    let mut out = vec![Vec::new(); selection.len()];
    for (i, img) in set.images.iter().enumerate() {
        let wanted: Vec<(usize, usize)> = selection.iter().enumerate().filter(|(_, s)| s.0 == i).map(|(j, s)| (j, s.1)).collect();
        if wanted.is_empty() {
            continue;
        }
        let clean_scaling = InputScaling::from_image(&img.image.image, &img.mask, false);
        let perturbed = perturb_image(&img.image.image, &clean_scaling, condition, i, cancelled)?;
        let scaling = InputScaling::from_image(&perturbed, &img.mask, false);
        for (j, k) in wanted {
            let t = img.tiles[k].0;
            out[j] = scaling.masked_patch(&perturbed, &img.mask, t.x, t.y, PATCH_SIZE);
        }
    }
    Ok(out)
}

fn perturb_image(
    image: &Image,
    scaling: &InputScaling,
    condition: Condition,
    index: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Image, ModelError> {
    let seed = splitmix64(0xe7a1 ^ index as u64);
    let params = match condition {
        Condition::Clean | Condition::Fgsm(_) => return Ok(image.clone()),
        Condition::Noise(f) => {
            PerturbParams { noise_sigma: Some(f * f64::from((scaling.hi - scaling.lo).abs())), seed, ..Default::default() }
        }
        Condition::Dose(a) => PerturbParams { dose_fraction: Some(a), seed, ..Default::default() },
        Condition::Lowpass(r) => PerturbParams { lowpass_cycles_per_mm: Some(r), seed, ..Default::default() },
    };
    perturb::apply(image, [MODEL_SPACING_MM; 2], &params, &mut FourierCache::default(), cancelled).map_err(perturb_error)
}

/// Patches per forward pass when scoring test patches.
const SCORE_BATCH: usize = 16;

/// Patches `PATCH_SIZE`² each as one `(B, 1, PATCH_SIZE, PATCH_SIZE)` batch.
fn batch_tensor(chunk: &[Vec<f32>], device: &Device) -> Result<Tensor, ModelError> {
    let data: Vec<f32> = chunk.iter().flat_map(|p| p.iter().copied()).collect();
    debug_assert_eq!(data.len(), chunk.len() * PATCH_SIZE * PATCH_SIZE);
    Ok(Tensor::from_vec(data, (chunk.len(), 1, PATCH_SIZE, PATCH_SIZE), device)?)
}

/// Probabilities of `patches` (eval mode, batches of 16), FGSM-perturbed with their labels when `fgsm_eps` is set.
pub(super) fn score(
    net: &CalcNet,
    patches: &[Vec<f32>],
    labels: &[bool],
    fgsm_eps: Option<f64>,
    device: &Device,
) -> Result<Vec<f32>, ModelError> {
    let mut scores = Vec::with_capacity(patches.len());
    for (chunk, chunk_labels) in patches.chunks(SCORE_BATCH).zip(labels.chunks(SCORE_BATCH)) {
        let x = batch_tensor(chunk, device)?;
        let x = match fgsm_eps {
            Some(eps) => {
                let y = Tensor::from_vec(chunk_labels.iter().map(|&l| f32::from(u8::from(l))).collect::<Vec<_>>(), chunk.len(), device)?;
                fgsm(net, &x, &y, eps)?
            }
            None => x,
        };
        scores.extend(net.probabilities(&x)?.to_vec1::<f32>()?);
    }
    Ok(scores)
}

/// The clean results and the operating point.
pub fn evaluate_clean(
    net: &CalcNet,
    set: &TestSet,
    device: &Device,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<CleanResult, ModelError> {
    let labels = balanced_labels(set);
    let p = patches(set, Condition::Clean, &set.balanced, cancelled)?;
    let scores = score(net, &p, &labels, None, device)?;
    let best = roc::accuracy_operating_point(&scores, &labels).ok_or_else(|| ModelError::Input("the test set lacks a class".into()))?;
    Ok(CleanResult {
        auc: roc::auc(&scores, &labels),
        best,
        roc: roc::roc_curve(&scores, &labels),
        patches: labels.len(),
        positives: set.positives(),
    })
}

fn balanced_labels(set: &TestSet) -> Vec<bool> {
    set.balanced.iter().map(|&(i, k)| set.images[i].tiles[k].1).collect()
}

/// AUC and the confusion at `threshold` under `condition`.
pub fn evaluate_condition(
    net: &CalcNet,
    set: &TestSet,
    condition: Condition,
    threshold: f32,
    device: &Device,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<ConditionResult, ModelError> {
    let labels = balanced_labels(set);
    let p = patches(set, condition, &set.balanced, cancelled)?;
    let eps = if let Condition::Fgsm(e) = condition { Some(e) } else { None };
    let scores = score(net, &p, &labels, eps, device)?;
    Ok(ConditionResult {
        condition,
        label: condition.label(),
        auc: roc::auc(&scores, &labels),
        at_operating_point: roc::confusion(&scores, &labels, threshold),
    })
}

/// Every breast tile of every test image, with the model's probability: what whole-image detection is computed from.
pub struct TileScores {
    pub images: Vec<ScoredImage>,
}

/// One image's grid tiles, their probabilities and their evidence points (`[x, y]`, image pixels at the model scale).
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredImage {
    pub tiles: Vec<Tile>,
    pub probs: Vec<f32>,
    pub evidence: Vec<[f64; 2]>,
}

impl TileScores {
    /// The mean probability of several models' scores of the same tiles (an ensemble), each tile's evidence point from
    /// the member that scored it highest; `None` when `all` is empty or the models were not scored on the same tiles.
    pub fn mean(all: &[TileScores]) -> Option<TileScores> {
        let first = all.first()?;
        let same =
            all.iter().all(|s| s.images.len() == first.images.len() && s.images.iter().zip(&first.images).all(|(a, b)| a.tiles == b.tiles));
        if !same {
            return None;
        }
        let n = all.len() as f32;
        let images = (0..first.images.len())
            .map(|i| {
                let tiles = first.images[i].tiles.clone();
                let member = |k: usize| all.iter().max_by(|a, b| a.images[i].probs[k].total_cmp(&b.images[i].probs[k]));
                ScoredImage {
                    probs: (0..tiles.len()).map(|k| all.iter().map(|s| s.images[i].probs[k]).sum::<f32>() / n).collect(),
                    evidence: (0..tiles.len()).map(|k| member(k).map_or([0.0; 2], |m| m.images[i].evidence[k])).collect(),
                    tiles,
                }
            })
            .collect();
        Some(TileScores { images })
    }
}

/// Scores every breast tile of every test image, tiled as the detector tiles with `stride` (`PATCH_SIZE`: the
/// paper's non-overlapping grid; half of it: every point in up to four tiles). With `views` > 1 each tile's
/// probability is the mean over its first `views` flips/rotations ([`dihedral`]; 1: the tile as it is).
pub fn tile_scores(
    net: &CalcNet,
    set: &TestSet,
    stride: usize,
    views: u8,
    device: &Device,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<TileScores, ModelError> {
    let mut images = Vec::with_capacity(set.images.len());
    for img in &set.images {
        let grid = tiles(img.image.image.width, img.image.image.height, PATCH_SIZE, stride, Some(&img.mask), MIN_BREAST);
        let scaling = InputScaling::from_image(&img.image.image, &img.mask, false);
        let p: Vec<Vec<f32>> = grid.iter().map(|t| scaling.masked_patch(&img.image.image, &img.mask, t.x, t.y, PATCH_SIZE)).collect();
        if cancelled() {
            return Err(ModelError::Cancelled);
        }
        let (mut scores, points) = score_with_evidence(net, &p, device)?;
        // The evidence comes from the tiles as they are; the flips only average the probability.
        for k in 1..views.clamp(1, 8) {
            let turned: Vec<Vec<f32>> = p.iter().map(|patch| dihedral(patch, PATCH_SIZE, k)).collect();
            let more = score(net, &turned, &vec![false; p.len()], None, device)?;
            scores.iter_mut().zip(more).for_each(|(s, m)| *s += m);
        }
        let n = f32::from(views.clamp(1, 8));
        for s in &mut scores {
            *s /= n;
        }
        let evidence = grid.iter().zip(points).map(|(t, [x, y])| [t.x as f64 + f64::from(x), t.y as f64 + f64::from(y)]).collect();
        images.push(ScoredImage { tiles: grid, probs: scores, evidence });
    }
    Ok(TileScores { images })
}

/// Probabilities and evidence points (patch pixels) of `patches` in evaluation mode, batches of 16.
fn score_with_evidence(net: &CalcNet, patches: &[Vec<f32>], device: &Device) -> Result<(Vec<f32>, Vec<[f32; 2]>), ModelError> {
    let (mut probs, mut points) = (Vec::with_capacity(patches.len()), Vec::with_capacity(patches.len()));
    for chunk in patches.chunks(SCORE_BATCH) {
        let (p, e) = net.probabilities_and_evidence(&batch_tensor(chunk, device)?)?;
        probs.extend(p);
        points.extend(e);
    }
    Ok((probs, points))
}

/// Whole-image detection at `threshold`: every breast tile of every test image is scored, tiled with `stride`.
pub fn detection_stats(
    net: &CalcNet,
    set: &TestSet,
    threshold: f32,
    stride: usize,
    device: &Device,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<DetectionStats, ModelError> {
    Ok(detection_at(set, &tile_scores(net, set, stride, 1, device, cancelled)?, threshold))
}

/// Whole-image detection from scored tiles at `threshold`: a visible cluster is found when a mark (a tile at or above
/// the threshold, the strongest of any overlapping ones) holds one of its visible specks; false tiles and false marks
/// are counted on the calcification-free images.
pub fn detection_at(set: &TestSet, scored: &TileScores, threshold: f32) -> DetectionStats {
    let (mut clusters, mut found, mut free_images, mut false_tiles, mut false_marks, mut free_tiles) = (0, 0, 0, 0usize, 0usize, 0usize);
    let (mut found_by_groups, mut false_groups, mut found_by_non_overlapping, mut false_non_overlapping) = (0usize, 0usize, 0usize, 0usize);
    let (mut clusters_of_3, mut clusters_of_3_found) = (0usize, 0usize);
    let (mut errors, mut missed) = (Vec::new(), Vec::new());
    let mut by_shape: Vec<ShapeCount> = Vec::new();
    let merge = SAME_FINDING_MM / MODEL_SPACING_MM;
    for (index, (img, scored)) in set.images.iter().zip(&scored.images).enumerate() {
        let (grid, scores) = (&scored.tiles, &scored.probs);
        let marks = distinct_findings(grid, scores, &scored.evidence, threshold, merge);
        let non_overlapping = strongest_non_overlapping(grid, scores, threshold);
        let held_by = |kept: &[usize], x: f64, y: f64| kept.iter().any(|&k| grid[k].contains_with_margin(x, y, 0.0));
        let in_any = |x: f64, y: f64| grid.iter().zip(scores).any(|(t, &p)| p >= threshold && t.contains_with_margin(x, y, 0.0));
        let visible: Vec<_> = img.image.clusters.iter().filter(|c| c.max_cnr >= MIN_CNR).collect();
        if img.image.specks.is_empty() {
            free_images += 1;
            free_tiles += grid.len();
            false_tiles += scores.iter().filter(|&&s| s >= threshold).count();
            false_marks += marks.len();
            false_groups += overlap_groups(grid, scores, threshold).len();
            false_non_overlapping += non_overlapping.len();
            errors.extend(marks.iter().map(|&k| DetectionError { image: index, tile: grid[k], prob: scores[k], missed_cluster: false }));
        }
        for c in visible {
            clusters += 1;
            // The cluster's visible specks.
            let specks: Vec<[f64; 2]> = img
                .image
                .specks
                .iter()
                .filter(|s| s.1 >= MIN_CNR && (s.0[0] - c.center_px[0]).hypot(s.0[1] - c.center_px[1]) <= c.radius_px + 1.0)
                .map(|s| s.0)
                .collect();
            let hit_any = specks.iter().any(|p| held_by(&marks, p[0], p[1]));
            found_by_groups += usize::from(specks.iter().any(|p| in_any(p[0], p[1])));
            found_by_non_overlapping += usize::from(specks.iter().any(|p| held_by(&non_overlapping, p[0], p[1])));
            found += usize::from(hit_any);
            match by_shape.iter_mut().find(|b| b.shape == c.shape) {
                Some(b) => (b.clusters, b.found) = (b.clusters + 1, b.found + usize::from(hit_any)),
                None => by_shape.push(ShapeCount { shape: c.shape, clusters: 1, found: usize::from(hit_any) }),
            }
            if specks.len() >= CLUSTER_SPECKS {
                clusters_of_3 += 1;
                clusters_of_3_found += usize::from(hit_any);
            }
            if !hit_any {
                missed.push(ClusterRecord::new(index, c, &img.image));
                let [cx, cy] = c.center_px;
                let holding = grid.iter().zip(scores).find(|(t, _)| t.contains_with_margin(cx, cy, 0.0));
                if let Some((&tile, &prob)) = holding {
                    errors.push(DetectionError { image: index, tile, prob, missed_cluster: true });
                }
            }
        }
    }
    by_shape.sort_by_key(|b| b.shape as usize);
    let per_free_image = |n: usize| if free_images == 0 { f64::NAN } else { n as f64 / free_images as f64 };
    DetectionStats {
        threshold,
        clusters,
        clusters_found: found,
        sensitivity: if clusters == 0 { f64::NAN } else { found as f64 / clusters as f64 },
        clusters_of_3,
        clusters_of_3_found,
        calc_free_images: free_images,
        false_tiles_per_calc_free_image: per_free_image(false_tiles),
        false_marks_per_calc_free_image: per_free_image(false_marks),
        tiles_per_calc_free_image: per_free_image(free_tiles),
        clusters_found_by_groups: found_by_groups,
        false_groups_per_calc_free_image: per_free_image(false_groups),
        clusters_found_by_non_overlapping: found_by_non_overlapping,
        false_non_overlapping_per_calc_free_image: per_free_image(false_non_overlapping),
        missed,
        by_shape,
        errors,
    }
}

/// The lowest threshold (0.3 to 0.995 in steps of 0.005) whose detection, `at(threshold)`, has at most `budget` false
/// marks per calcification-free image; `None` when none has. Choosing it on validation images gives the detector's
/// whole-image operating point ([`crate::models::training::calibrate`]).
pub fn lowest_threshold_within(budget: f64, at: impl Fn(f32) -> DetectionStats) -> Option<DetectionStats> {
    (0..=139u16).map(|k| 0.3 + f32::from(k) * 0.005).map(at).find(|d| d.false_marks_per_calc_free_image <= budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ensemble_averages_the_models_on_the_same_tiles_only() {
        let t = |x| Tile { x, y: 0, size: 224 };
        let image = |tiles: Vec<Tile>, probs: Vec<f32>| {
            let evidence = probs.iter().map(|&p| [f64::from(p) * 100.0, 0.0]).collect();
            ScoredImage { tiles, probs, evidence }
        };
        let a = TileScores { images: vec![image(vec![t(0), t(112)], vec![0.2, 0.9]), image(vec![t(0)], vec![1.0])] };
        let b = TileScores { images: vec![image(vec![t(0), t(112)], vec![0.6, 0.5]), image(vec![t(0)], vec![0.0])] };
        let mean = TileScores::mean(&[a, b]).unwrap();
        assert_eq!(mean.images[0].tiles, vec![t(0), t(112)]);
        assert!((mean.images[0].probs[0] - 0.4).abs() < 1e-6 && (mean.images[0].probs[1] - 0.7).abs() < 1e-6);
        assert!((mean.images[1].probs[0] - 0.5).abs() < 1e-6);
        // Each tile's evidence is the more confident member's.
        assert!((mean.images[0].evidence[0][0] - 60.0).abs() < 1e-4 && (mean.images[0].evidence[1][0] - 90.0).abs() < 1e-4);
        // Other tiles (another stride) cannot be averaged; nothing cannot either.
        let c = TileScores { images: vec![image(vec![t(0), t(224)], vec![0.6, 0.5]), image(vec![t(0)], vec![0.0])] };
        let d = TileScores { images: vec![image(vec![t(0), t(112)], vec![0.6, 0.5]), image(vec![t(0)], vec![0.0])] };
        assert!(TileScores::mean(&[c, d]).is_none());
        assert!(TileScores::mean(&[]).is_none());
    }

    #[test]
    fn a_cluster_record_counts_visible_and_faint_specks_within_its_radius() {
        use crate::imaging::Image;
        use crate::synth::mammogram::{Density, View};
        let cluster = EvalCluster {
            center_px: [100.0, 100.0],
            radius_px: 10.0,
            specks: 4,
            max_cnr: 5.4,
            shape: crate::synth::mammogram::CalcificationShape::LinearBranching,
        };
        let img = EvalImage {
            image: Image::new(4, 4, vec![0.0; 16]).unwrap(),
            density: Density::C,
            view: View::Cc,
            source_spacing_mm: 0.1,
            clusters: vec![cluster.clone()],
            // One visible speck, two faint ones, one too faint to count, and a visible one of another cluster far off.
            specks: vec![([100.0, 100.0], 5.4), ([105.0, 100.0], 4.2), ([100.0, 110.5], 3.0), ([95.0, 95.0], 1.5), ([300.0, 300.0], 9.0)],
            speck_radii_px: vec![1.0; 5],
        };
        let record = ClusterRecord::new(3, &cluster, &img);
        assert_eq!((record.image, record.visible_specks, record.faint_specks, record.specks), (3, 1, 2, 4));
        assert!((record.max_cnr - 5.4).abs() < 1e-12);
    }

    #[test]
    fn the_lowest_threshold_within_the_false_mark_budget_is_chosen() {
        // False marks fall as the threshold rises: 2.0 at 0.3, 0 at 0.8 and above.
        let at = |t: f32| DetectionStats {
            threshold: t,
            clusters: 10,
            clusters_found: 10,
            sensitivity: 1.0,
            clusters_of_3: 5,
            clusters_of_3_found: 5,
            calc_free_images: 4,
            false_tiles_per_calc_free_image: 0.0,
            false_marks_per_calc_free_image: f64::from((0.8 - t).max(0.0) * 4.0),
            tiles_per_calc_free_image: 100.0,
            clusters_found_by_groups: 10,
            false_groups_per_calc_free_image: 0.0,
            clusters_found_by_non_overlapping: 10,
            false_non_overlapping_per_calc_free_image: 0.0,
            missed: Vec::new(),
            by_shape: Vec::new(),
            errors: Vec::new(),
        };
        let chosen = lowest_threshold_within(1.0, at).unwrap();
        assert!((chosen.threshold - 0.55).abs() < 1e-4, "{}", chosen.threshold);
        assert!(chosen.false_marks_per_calc_free_image <= 1.0);
        assert!((lowest_threshold_within(0.0, at).unwrap().threshold - 0.8).abs() < 1e-4);
        assert!(lowest_threshold_within(-1.0, at).is_none());
    }
}
