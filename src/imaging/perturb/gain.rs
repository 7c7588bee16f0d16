//! Detector gain from the image itself: a robust local mean–variance regression (mammogram-denoising-anscombe:
//! `z = k·λ`, so `k = var(z) / mean(z)` for Poisson quanta λ).
//!
//! Estimator:
//! 1. Cut the image into non-overlapping 8 × 8 blocks. Keep blocks *inside the object*: none of their pixels equals
//!    the image minimum or maximum (background set to a constant, clipped or saturated pixels).
//! 2. Per block: the mean, and the variance of the residual after removing the block's least-squares plane
//!    (61 degrees of freedom), so smooth gradients (the heel effect, the breast's thickness fall-off) add nothing.
//! 3. Fit `var = k·mean + c` by least squares through the medians of 16 equal-count bins of block means, then refine:
//!    drop blocks whose variance is more than 3 standard errors of a 61-dof sample variance
//!    (`|var/pred − 1| > 3·√(2/61)`) from the line — edges, calcifications, vessels and other structure only add
//!    variance — and refit with weights `1/pred²` (a sample variance's spread is proportional to its expectation),
//!    until the kept set no longer changes (at most 10 rounds).
//! 4. The model is `var = k·(mean − offset) + σ_e²`; the line cannot tell a dark offset from electronic noise, so the
//!    reported offset is where the fitted variance vanishes, `−c/k` (electronic noise lowers it by `σ_e²/k`, i.e. it
//!    is treated as extra quanta).
//!
//! Fit quality: [`GainEstimate::dispersion`] is the mean squared relative residual of the kept blocks over its
//! expectation `2/61` under the model — close to 1 for a linear (For Processing, raw) detector image. For
//! Presentation images (the built-in sample, the simulator's `image`) are log-processed and equalised: their local
//! variance is not proportional to the mean, the fit is a local linearisation, `dispersion` and the dropped fraction
//! are larger, and a dose reduction built on it is an approximation.

use rayon::prelude::*;

use super::PerturbError;
use crate::imaging::Image;

const BLOCK: usize = 8;
/// Degrees of freedom of a block's plane-detrended variance.
const DOF: f64 = (BLOCK * BLOCK - 3) as f64;
const MIN_BLOCKS: usize = 16;

/// The fitted line `var = gain·(mean − offset)` and how well it fits.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct GainEstimate {
    /// Raw units per quantum, `k`.
    pub gain: f64,
    /// The value at which the fitted variance vanishes (dark offset, less `σ_e²/k`).
    pub offset: f64,
    /// Blocks inside the object.
    pub blocks_total: usize,
    /// Blocks kept by the outlier rule.
    pub blocks_used: usize,
    /// Mean squared relative residual over its model expectation `2/61`: ≈ 1 when the Poisson model holds.
    pub dispersion: f64,
}

#[derive(Clone, Copy)]
struct Block {
    mean: f64,
    var: f64,
}

/// Estimate the gain of `image` (see the module docs).
pub fn estimate_gain(image: &Image) -> Result<GainEstimate, PerturbError> {
    let blocks = blocks(image);
    let too_few = |n: usize| PerturbError::Gain(format!("only {n} flat blocks inside the object, need {MIN_BLOCKS}"));
    if blocks.len() < MIN_BLOCKS {
        return Err(too_few(blocks.len()));
    }
    let (mut k, mut c) = initial_fit(&blocks)?;
    let limit = 3.0 * (2.0 / DOF).sqrt();
    let mut kept: Vec<bool> = Vec::new();
    for _ in 0..10 {
        let next: Vec<bool> = blocks
            .iter()
            .map(|b| {
                let pred = k * b.mean + c;
                pred > 0.0 && (b.var / pred - 1.0).abs() <= limit
            })
            .collect();
        if next == kept {
            break;
        }
        kept = next;
        let used: Vec<Block> = blocks.iter().zip(&kept).filter(|(_, k)| **k).map(|(b, _)| *b).collect();
        if used.len() < MIN_BLOCKS {
            return Err(too_few(used.len()));
        }
        let weights: Vec<f64> = used.iter().map(|b| 1.0 / (k * b.mean + c).powi(2)).collect();
        (k, c) =
            weighted_line(&used, &weights).ok_or_else(|| PerturbError::Gain("degenerate fit: all blocks have the same mean".into()))?;
    }
    if !(k.is_finite() && k > 0.0) {
        return Err(PerturbError::Gain(format!("the local variance does not rise with the mean (slope {k:.3})")));
    }
    let used: Vec<&Block> = blocks.iter().zip(&kept).filter(|(_, k)| **k).map(|(b, _)| b).collect();
    let dispersion = used.iter().map(|b| (b.var / (k * b.mean + c) - 1.0).powi(2)).sum::<f64>() / used.len() as f64 / (2.0 / DOF);
    Ok(GainEstimate { gain: k, offset: -c / k, blocks_total: blocks.len(), blocks_used: used.len(), dispersion })
}

/// [`estimate_gain`], or where its regression fails (images whose local variance does not rise with the mean, such as
/// digitised film), the paper's own estimator `k = var(z)/mean(z)` (Eq. 2, `z = k·λ`, offset 0): the median ratio
/// over the flat blocks inside the object, reported with `dispersion` = NaN and `blocks_used` = blocks with a
/// positive mean. The flag says which was used.
pub fn estimate_gain_or_ratio(image: &Image) -> Result<(GainEstimate, bool), PerturbError> {
    if let Ok(estimate) = estimate_gain(image) {
        return Ok((estimate, false));
    }
    let blocks = blocks(image);
    let mut ratios: Vec<f64> = blocks.iter().filter(|b| b.mean > 0.0 && b.var > 0.0).map(|b| b.var / b.mean).collect();
    if ratios.len() < MIN_BLOCKS {
        return Err(PerturbError::Gain(format!("only {} flat blocks inside the object, need {MIN_BLOCKS}", ratios.len())));
    }
    ratios.sort_by(f64::total_cmp);
    let gain = ratios[ratios.len() / 2];
    Ok((GainEstimate { gain, offset: 0.0, blocks_total: blocks.len(), blocks_used: ratios.len(), dispersion: f64::NAN }, true))
}

/// Mean and plane-detrended variance of every 8 × 8 block inside the object.
fn blocks(image: &Image) -> Vec<Block> {
    let stats = image.stats();
    let (bw, bh) = (image.width / BLOCK, image.height / BLOCK);
    // Centred coordinates −3.5..3.5: Σx² over a block is 8 · Σ_{i}(i − 3.5)² = 8 · 42.
    let sxx = (BLOCK as f64) * (0..BLOCK).map(|i| (i as f64 - 3.5).powi(2)).sum::<f64>();
    (0..bw * bh)
        .into_par_iter()
        .filter_map(|b| {
            let (x0, y0) = ((b % bw) * BLOCK, (b / bw) * BLOCK);
            let (mut sum, mut sum_sq, mut sx, mut sy) = (0.0, 0.0, 0.0, 0.0);
            for dy in 0..BLOCK {
                let row = &image.data[(y0 + dy) * image.width + x0..][..BLOCK];
                for (dx, &v) in row.iter().enumerate() {
                    if v <= stats.min || v >= stats.max {
                        return None;
                    }
                    let v = f64::from(v);
                    sum += v;
                    sum_sq += v * v;
                    sx += (dx as f64 - 3.5) * v;
                    sy += (dy as f64 - 3.5) * v;
                }
            }
            let n = (BLOCK * BLOCK) as f64;
            let mean = sum / n;
            // Residual sum of squares after the plane: total − explained by x − explained by y (orthogonal).
            let rss = (sum_sq - n * mean * mean) - sx * sx / sxx - sy * sy / sxx;
            Some(Block { mean, var: rss.max(0.0) / DOF })
        })
        .collect()
}

/// A first line through the medians of 16 equal-count bins of block means (robust to a minority of structure).
fn initial_fit(blocks: &[Block]) -> Result<(f64, f64), PerturbError> {
    let mut sorted = blocks.to_vec();
    sorted.sort_by(|a, b| a.mean.total_cmp(&b.mean));
    let bins = 16.min(sorted.len());
    let medians: Vec<Block> = (0..bins)
        .map(|i| {
            let chunk = &sorted[i * sorted.len() / bins..(i + 1) * sorted.len() / bins];
            let mut vars: Vec<f64> = chunk.iter().map(|b| b.var).collect();
            vars.sort_by(f64::total_cmp);
            Block { mean: chunk[chunk.len() / 2].mean, var: vars[vars.len() / 2] }
        })
        .collect();
    weighted_line(&medians, &vec![1.0; medians.len()])
        .ok_or_else(|| PerturbError::Gain("degenerate fit: all blocks have the same mean".into()))
}

/// Weighted least-squares `var = k·mean + c`; `None` when the means do not vary.
fn weighted_line(blocks: &[Block], weights: &[f64]) -> Option<(f64, f64)> {
    let w_sum: f64 = weights.iter().sum();
    let mx = blocks.iter().zip(weights).map(|(b, w)| w * b.mean).sum::<f64>() / w_sum;
    let my = blocks.iter().zip(weights).map(|(b, w)| w * b.var).sum::<f64>() / w_sum;
    let sxx: f64 = blocks.iter().zip(weights).map(|(b, w)| w * (b.mean - mx).powi(2)).sum();
    let sxy: f64 = blocks.iter().zip(weights).map(|(b, w)| w * (b.mean - mx) * (b.var - my)).sum();
    if sxx.is_nan() || sxx <= f64::EPSILON * w_sum * mx.abs().max(1.0).powi(2) {
        return None;
    }
    let k = sxy / sxx;
    Some((k, my - k * mx))
}
