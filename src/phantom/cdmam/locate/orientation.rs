//! The grid's orientation modulo 90°: candidates from a quadrupled-angle histogram of gradients, refined by
//! maximising the variance of the projections along both grid directions.

use std::f64::consts::{FRAC_PI_2, TAU};

use rayon::prelude::*;

use super::prepare::box_mean;
use super::profile::{Points, Profile, axes};
use crate::imaging::Image;

/// Bins of the quadrupled-angle histogram (0.125° of grid angle each).
const HISTOGRAM_BINS: usize = 720;
/// Projection bin, coarse pixels.
pub(super) const PROFILE_BIN: f64 = 0.5;

/// Up to `count` candidate grid angles in `[0, π/2)`, strongest first: peaks of the histogram of gradient directions
/// (times four, so both line directions and both edges of a line add up), weighted by gradient magnitude. The plate
/// edges and printed text make peaks too; a mild prior for the diamond (45° modulo 90°, the way a CDMAM is laid on
/// a detector) halves the peaks along the image axes, where the plate edges lie.
pub(super) fn candidates(high: &Image, count: usize) -> Vec<f64> {
    let (w, h) = (high.width, high.height);
    // Smoothed first (two 3 × 3 boxes, σ ≈ 1.2 px) so that one-pixel lines have gradients across them, not along the
    // pixel grid.
    let once = Image { width: w, height: h, data: box_mean(high, 1) };
    let smooth = box_mean(&once, 1);
    let mut histogram = vec![0.0f64; HISTOGRAM_BINS];
    let at = |x: usize, y: usize| f64::from(smooth[y * w + x]);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let gx = at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2.0 * at(x - 1, y) - at(x - 1, y + 1);
            let gy = at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2.0 * at(x, y - 1) - at(x + 1, y - 1);
            let magnitude = gx.hypot(gy);
            if magnitude > 0.0 {
                let quad = (4.0 * gy.atan2(gx)).rem_euclid(TAU);
                let bin = ((quad / TAU * HISTOGRAM_BINS as f64) as usize).min(HISTOGRAM_BINS - 1);
                histogram[bin] += magnitude;
            }
        }
    }
    let histogram = circular_smooth(&histogram, 3.0);
    let mut peaks: Vec<(f64, usize)> = (0..HISTOGRAM_BINS)
        .filter(|&i| {
            let (prev, next) = (histogram[(i + HISTOGRAM_BINS - 1) % HISTOGRAM_BINS], histogram[(i + 1) % HISTOGRAM_BINS]);
            histogram[i] > prev && histogram[i] >= next
        })
        .map(|i| {
            let theta = (i as f64 + 0.5) / HISTOGRAM_BINS as f64 * FRAC_PI_2;
            (histogram[i] * (0.5 + 0.5 * (2.0 * theta).sin().powi(2)), i)
        })
        .collect();
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    peaks.iter().take(count).map(|&(_, i)| (i as f64 + 0.5) / HISTOGRAM_BINS as f64 * FRAC_PI_2).collect()
}

fn circular_smooth(values: &[f64], sigma: f64) -> Vec<f64> {
    let n = values.len();
    let reach = (3.0 * sigma).ceil() as usize;
    let kernel: Vec<f64> = (0..=2 * reach).map(|k| (-((k as f64 - reach as f64) / sigma).powi(2) / 2.0).exp()).collect();
    (0..n).map(|i| kernel.iter().enumerate().map(|(k, &g)| g * values[(i + n + k - reach) % n]).sum()).collect()
}

/// How sharply the points line up along both directions of a lattice at `theta`.
pub(super) fn sharpness(points: &Points, theta: f64) -> f64 {
    let (d, n) = axes(theta);
    Profile::project(points, n, PROFILE_BIN).variance() + Profile::project(points, d, PROFILE_BIN).variance()
}

/// The angle near `theta0` (within ±`half_range`) where the projections are sharpest, to ~0.01°.
pub(super) fn refine(points: &Points, theta0: f64, half_range: f64) -> f64 {
    let coarse_step = 0.1f64.to_radians();
    // Re-centred while the best lies on the edge of the window (the histogram peak can be off by more than the
    // window where text or pixelation pull it).
    let mut theta = theta0;
    for _ in 0..4 {
        let centre = theta;
        theta = best_of(points, centre, half_range, coarse_step);
        if (theta - centre).abs() < half_range - 1.5 * coarse_step {
            break;
        }
    }
    let fine_step = 0.02f64.to_radians();
    let theta = best_of(points, theta, 1.5 * coarse_step, fine_step);
    // Parabola through the best and its neighbours.
    let s: Vec<f64> = [-fine_step, 0.0, fine_step].iter().map(|&dt| sharpness(points, theta + dt)).collect();
    let curvature = s[0] - 2.0 * s[1] + s[2];
    let shift = if curvature < 0.0 { (0.5 * (s[0] - s[2]) / curvature).clamp(-1.0, 1.0) } else { 0.0 };
    theta + shift * fine_step
}

fn best_of(points: &Points, centre: f64, half_range: f64, step: f64) -> f64 {
    let steps = (half_range / step).ceil() as i64;
    let scored: Vec<(f64, f64)> = (-steps..=steps)
        .into_par_iter()
        .map(|k| {
            let theta = centre + k as f64 * step;
            (theta, sharpness(points, theta))
        })
        .collect();
    scored.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or(centre, |&(theta, _)| theta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark lines 10 px apart at `theta` (and a quarter turn), on a `size`² image.
    fn grid(size: usize, theta: f64) -> Image {
        let (d, n) = axes(theta);
        let c = size as f64 / 2.0;
        let data = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) as f64 - c, (i / size) as f64 - c);
                let (t, s) = ((x * d[0] + y * d[1]) / 10.0, (x * n[0] + y * n[1]) / 10.0);
                let line = |v: f64| (-((v - v.round()) * 10.0).powi(2) / 0.5).exp();
                (-5.0 * line(t).max(line(s))) as f32
            })
            .collect();
        Image::new(size, size, data).unwrap()
    }

    #[test]
    fn finds_the_grid_angle_modulo_90() {
        for degrees in [45.0f64, 38.5, 51.2, 3.0] {
            let theta = degrees.to_radians();
            let img = grid(160, theta);
            let found = candidates(&img, 3);
            let first = found[0];
            let err = |a: f64| ((a - theta).rem_euclid(FRAC_PI_2) + FRAC_PI_2 / 2.0).rem_euclid(FRAC_PI_2) - FRAC_PI_2 / 2.0;
            assert!(err(first).abs() < 1.5f64.to_radians(), "{degrees}: {}", first.to_degrees());
            let refined = refine(&Points::from_high(&img), first, 2f64.to_radians());
            assert!(err(refined).abs() < 0.1f64.to_radians(), "{degrees}: {}", refined.to_degrees());
        }
    }
}
