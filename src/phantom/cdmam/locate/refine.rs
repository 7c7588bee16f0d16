//! The pose on the full-resolution image: the position of every printed grid-line segment measured across it, and a
//! least-squares similarity (centre, angle, scale) fitted to them; the line profile also gives the system blur and
//! the grid contrast.

use std::collections::BTreeSet;

use rayon::prelude::*;

use super::LocateError;
use super::line_profile;
use super::numeric::solve;
use super::sample::{bilinear, median_f64, robust_sigma};
use crate::imaging::Image;
use crate::phantom::cdmam::geometry::{Cell, PhantomPose};
use crate::phantom::cdmam::tables::{CELL_PITCH_MM, GRID_LINE_WIDTH_MM};

/// Profile sample step across a line, pixels.
const STEP_PX: f64 = 0.25;
/// The part of each edge that is sampled, as a fraction of the pitch either side of its middle (clear of crossings).
const HALF_SPAN: f64 = 0.35;
/// Fewer measured segments than this is a failed fit.
const MIN_SEGMENTS: usize = 24;
/// A fit whose residual exceeds this many pixels is a failure.
const MAX_RESIDUAL_PX: f64 = 2.0;

/// The refined pose and what the line profiles tell about the image.
#[derive(Clone, Copy, Debug)]
pub(super) struct Refined {
    pub pose: PhantomPose,
    /// RMS distance of the measured line segments from the fitted grid, pixels.
    pub residual_px: f64,
    pub segments: usize,
    /// Gaussian σ of the system blur (detector and pixel), pixels.
    pub blur_sigma_px: f64,
    /// Depth of a grid line relative to the plate signal.
    pub contrast: f64,
}

/// One printed line segment: a cell edge, in the phantom frame (mm).
#[derive(Clone, Copy, Debug)]
struct Segment {
    middle: [f64; 2],
    along: [f64; 2],
    across: [f64; 2],
}

/// One segment measured: where its line lies relative to the pose's prediction.
struct Measurement {
    middle_px: [f64; 2],
    normal_px: [f64; 2],
    /// Line position along `normal_px` from the prediction, pixels.
    offset: f64,
    /// The polarity-corrected dip profile (baseline removed), at `STEP_PX` spacing centred on the prediction.
    profile: Vec<f64>,
    baseline: f64,
}

/// Every edge of the matrix's cells, once.
fn segments() -> Vec<Segment> {
    let mut keys = BTreeSet::new();
    for cell in Cell::all() {
        let (r, c) = (cell.row as i64, cell.col as i64);
        // (horizontal?, line index, cell index along the line)
        keys.extend([(true, r, c), (true, r + 1, c), (false, c, r), (false, c + 1, r)]);
    }
    keys.into_iter()
        .map(|(horizontal, line, along)| {
            let line_mm = (line as f64 - 8.0) * CELL_PITCH_MM;
            let along_mm = (along as f64 - 7.5) * CELL_PITCH_MM;
            if horizontal {
                Segment { middle: [along_mm, line_mm], along: [1.0, 0.0], across: [0.0, 1.0] }
            } else {
                Segment { middle: [line_mm, along_mm], along: [0.0, 1.0], across: [1.0, 0.0] }
            }
        })
        .collect()
}

fn unit_image_direction(pose: &PhantomPose, from_mm: [f64; 2], dir_mm: [f64; 2]) -> [f64; 2] {
    let a = pose.to_image(from_mm);
    let b = pose.to_image([from_mm[0] + dir_mm[0], from_mm[1] + dir_mm[1]]);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = dx.hypot(dy);
    [dx / len, dy / len]
}

/// Measure one segment with profiles `±half_window` pixels across it; `dark`: lines darker than the plate.
fn measure(image: &Image, pose: &PhantomPose, segment: &Segment, half_window: f64, dark: bool) -> Option<Measurement> {
    let middle_px = pose.to_image(segment.middle);
    let tangent = unit_image_direction(pose, segment.middle, segment.along);
    let normal = unit_image_direction(pose, segment.middle, segment.across);
    let half_span = HALF_SPAN * CELL_PITCH_MM / pose.pixel_mm;
    let along: Vec<f64> = {
        let n = (2.0 * half_span).floor() as i64;
        (0..=n).map(|k| -half_span + k as f64 * 2.0 * half_span / n.max(1) as f64).collect()
    };
    let steps = (half_window / STEP_PX).round() as i64;
    let mut profile = Vec::with_capacity(2 * steps as usize + 1);
    for k in -steps..=steps {
        let q = k as f64 * STEP_PX;
        let (mut sum, mut count) = (0.0, 0usize);
        for &m in &along {
            let x = middle_px[0] + m * tangent[0] + q * normal[0];
            let y = middle_px[1] + m * tangent[1] + q * normal[1];
            if let Some(v) = bilinear(image, x, y) {
                sum += v;
                count += 1;
            }
        }
        if 2 * count < along.len() {
            return None;
        }
        profile.push(sum / count as f64);
    }
    let outer: Vec<f64> =
        profile.iter().enumerate().filter(|&(k, _)| (k as i64 - steps).abs() * 10 >= steps * 6).map(|(_, &v)| v).collect();
    let baseline = median_f64(outer)?;
    let sign = if dark { 1.0 } else { -1.0 };
    let dip: Vec<f64> = profile.iter().map(|&v| sign * (baseline - v)).collect();
    let offset = line_centre(&dip, steps, pose.pixel_mm)?;
    Some(Measurement { middle_px, normal_px: normal, offset, profile: dip, baseline })
}

/// The centre of the dip in `dip` (sampled at `STEP_PX`, index `centre` at 0): the strongest smoothed dip, then a
/// few centroid iterations over a window the width of a blurred line.
fn line_centre(dip: &[f64], centre: i64, pixel_mm: f64) -> Option<f64> {
    let half_width = ((0.5 * GRID_LINE_WIDTH_MM + 0.25) / pixel_mm + 1.0) / STEP_PX;
    let reach = (half_width / 2.0).ceil().max(1.0) as usize;
    let limit = (0.8 * centre as f64) as usize;
    let start = (centre as usize).saturating_sub(limit);
    let end = (centre as usize + limit).min(dip.len().saturating_sub(1));
    let smoothed = |k: usize| dip[k.saturating_sub(reach)..=(k + reach).min(dip.len() - 1)].iter().sum::<f64>();
    let mut c = (start..=end).max_by(|&a, &b| smoothed(a).total_cmp(&smoothed(b)))? as f64;
    for _ in 0..4 {
        let lo = ((c - half_width).ceil().max(0.0)) as usize;
        let hi = ((c + half_width).floor() as usize).min(dip.len() - 1);
        let (mut moment, mut mass) = (0.0, 0.0);
        for (k, &d) in dip.iter().enumerate().take(hi + 1).skip(lo) {
            let d = d.max(0.0);
            moment += k as f64 * d;
            mass += d;
        }
        if mass <= 0.0 {
            return None;
        }
        c = moment / mass;
    }
    Some((c - centre as f64) * STEP_PX)
}

/// Least-squares update `[tx, ty, rotation, scale]` of the pose moving each segment by its measured offset, with
/// outliers (beyond 3 σ) left out; the residual RMS and the inlier flags.
fn fit_update(pose: &PhantomPose, measured: &[Measurement]) -> Option<([f64; 4], f64, Vec<bool>)> {
    let row = |m: &Measurement| {
        let (dx, dy) = (m.middle_px[0] - pose.centre_px[0], m.middle_px[1] - pose.centre_px[1]);
        let n = m.normal_px;
        [n[0], n[1], n[0] * -dy + n[1] * dx, n[0] * dx + n[1] * dy]
    };
    let mut inlier = vec![true; measured.len()];
    let mut solution = [0.0; 4];
    for _ in 0..3 {
        let (mut a, mut b) = ([[0.0; 4]; 4], [0.0; 4]);
        for (m, _) in measured.iter().zip(&inlier).filter(|(_, ok)| **ok) {
            let r = row(m);
            for i in 0..4 {
                for j in 0..4 {
                    a[i][j] += r[i] * r[j];
                }
                b[i] += r[i] * m.offset;
            }
        }
        solution = solve(a, b)?;
        let residuals: Vec<f64> =
            measured.iter().map(|m| m.offset - row(m).iter().zip(&solution).map(|(r, s)| r * s).sum::<f64>()).collect();
        let inlying: Vec<f64> = residuals.iter().zip(&inlier).filter(|(_, ok)| **ok).map(|(r, _)| *r).collect();
        let limit = (3.0 * robust_sigma(&inlying)?).max(0.2);
        inlier = residuals.iter().map(|r| r.abs() <= limit).collect();
    }
    let residuals: Vec<f64> = measured
        .iter()
        .zip(&inlier)
        .filter(|(_, ok)| **ok)
        .map(|(m, _)| m.offset - row(m).iter().zip(&solution).map(|(r, s)| r * s).sum::<f64>())
        .collect();
    let rms = (residuals.iter().map(|r| r * r).sum::<f64>() / residuals.len().max(1) as f64).sqrt();
    Some((solution, rms, inlier))
}

fn apply(pose: &PhantomPose, [tx, ty, rotation, scale]: [f64; 4]) -> PhantomPose {
    PhantomPose {
        centre_px: [pose.centre_px[0] + tx, pose.centre_px[1] + ty],
        angle_rad: pose.angle_rad + rotation,
        pixel_mm: pose.pixel_mm / (1.0 + scale),
        mirrored: pose.mirrored,
    }
}

/// Refine `pose` (already within about a millimetre) on the full-resolution `image`.
pub(super) fn refine(image: &Image, pose: PhantomPose, dark: bool) -> Result<Refined, LocateError> {
    let segments = segments();
    let mut pose = pose;
    let windows_mm = [1.2, 0.8, 0.8, 0.8];
    let mut last = None;
    for (pass, &window_mm) in windows_mm.iter().enumerate() {
        let half_window = (window_mm / pose.pixel_mm).max(4.0);
        let measured: Vec<Measurement> = segments.par_iter().filter_map(|s| measure(image, &pose, s, half_window, dark)).collect();
        if measured.len() < MIN_SEGMENTS {
            return Err(LocateError::Fit(format!("only {} grid segments could be measured", measured.len())));
        }
        let Some((update, rms, inlier)) = fit_update(&pose, &measured) else {
            return Err(LocateError::Fit("the line positions do not determine the pose".into()));
        };
        if pass + 1 < windows_mm.len() {
            pose = apply(&pose, update);
        } else {
            last = Some((measured, rms, inlier));
        }
    }
    let Some((measured, residual_px, inlier)) = last else { return Err(LocateError::Fit("no passes".into())) };
    let inliers = inlier.iter().filter(|&&ok| ok).count();
    if residual_px > MAX_RESIDUAL_PX || 2 * inliers < measured.len() {
        return Err(LocateError::Fit(format!(
            "grid lines lie {residual_px:.2} px from the fitted grid ({inliers} of {} segments agree)",
            measured.len()
        )));
    }
    let (blur_sigma_px, depth) = line_profile::fit(&aligned_mean(&measured, &inlier), STEP_PX, pose.pixel_mm);
    let baseline = median_f64(measured.iter().map(|m| m.baseline).collect()).unwrap_or(0.0).abs();
    let contrast = if baseline > 0.0 { depth / baseline } else { 0.0 };
    Ok(Refined { pose, residual_px, segments: inliers, blur_sigma_px, contrast })
}

/// The mean of the inlier profiles, each shifted so that its measured line centre lies on the middle sample.
fn aligned_mean(measured: &[Measurement], inlier: &[bool]) -> Vec<f64> {
    let Some(len) = measured.first().map(|m| m.profile.len()) else { return Vec::new() };
    let mut mean = vec![0.0; len];
    let mut count = 0.0f64;
    for (m, _) in measured.iter().zip(inlier).filter(|(_, ok)| **ok) {
        let shift = m.offset / STEP_PX;
        for (k, out) in mean.iter_mut().enumerate() {
            let x = k as f64 + shift;
            let (i, f) = (x.floor(), x - x.floor());
            let at = |i: f64| m.profile.get(i as usize).copied().filter(|_| i >= 0.0).unwrap_or(0.0);
            *out += (1.0 - f) * at(i) + f * at(i + 1.0);
        }
        count += 1.0;
    }
    for v in &mut mean {
        *v /= count.max(1.0);
    }
    mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_edge_once() {
        let s = segments();
        // 205 cells: each has 4 edges, shared ones counted once.
        let shared: usize = Cell::all().map(|c| c.neighbours().count()).sum::<usize>() / 2;
        assert_eq!(s.len(), 4 * 205 - shared);
    }

    #[test]
    fn centroid_finds_a_shifted_dip() {
        let dip: Vec<f64> = (0..81).map(|k| (-((f64::from(k) - 45.3) * STEP_PX / 1.2).powi(2) / 2.0).exp()).collect();
        let c = line_centre(&dip, 40, 0.1).unwrap();
        assert!((c - 5.3 * STEP_PX).abs() < 0.02, "{c}");
    }
}
