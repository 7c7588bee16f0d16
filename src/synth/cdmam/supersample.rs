//! Anti-aliased painting of shapes defined in the phantom frame: each pixel near a shape's edge is split into
//! 4 × 4 sub-samples, and the fraction inside is its coverage.

use std::ops::Range;

use rayon::prelude::*;

use crate::phantom::cdmam::geometry::PhantomPose;

/// Sub-samples per pixel side.
const SUBSAMPLES: usize = 4;

/// A region of the phantom frame (mm).
pub(crate) trait Shape: Sync {
    /// The coverage of a pixel centred at `p` when it is certain from `p` alone (every point within `slack_mm` of
    /// `p` inside → 1, outside → 0), `None` when the pixel must be sub-sampled.
    fn quick(&self, p: [f64; 2], slack_mm: f64) -> Option<f64>;
    /// Whether the point `p` lies in the shape.
    fn contains(&self, p: [f64; 2]) -> bool;
}

/// Adds `value` × coverage of `shape` to the pixels of `buf` (row-major, `width` wide) in `rows` × `cols`.
pub(crate) fn paint_shape(
    buf: &mut [f32],
    width: usize,
    [rows, cols]: [Range<usize>; 2],
    pose: &PhantomPose,
    value: f64,
    shape: &impl Shape,
) {
    let slack = pose.pixel_mm * std::f64::consts::FRAC_1_SQRT_2 * 1.01;
    let step = 1.0 / SUBSAMPLES as f64;
    let Some(region) = buf.get_mut(rows.start * width..rows.end * width) else { return };
    region.par_chunks_mut(width).enumerate().for_each(|(i, line)| {
        let y = (rows.start + i) as f64;
        for x in cols.clone() {
            let centre = pose.to_phantom([x as f64, y]);
            let coverage = shape.quick(centre, slack).unwrap_or_else(|| {
                let mut inside = 0usize;
                for sy in 0..SUBSAMPLES {
                    for sx in 0..SUBSAMPLES {
                        let p = [x as f64 - 0.5 + (sx as f64 + 0.5) * step, y - 0.5 + (sy as f64 + 0.5) * step];
                        inside += usize::from(shape.contains(pose.to_phantom(p)));
                    }
                }
                inside as f64 / (SUBSAMPLES * SUBSAMPLES) as f64
            });
            if coverage > 0.0 {
                line[x] += (value * coverage) as f32;
            }
        }
    });
}

/// The pixel ranges (rows, columns) of a `width` × `height` image that hold the image of the phantom-frame points
/// `corners_mm` (with one pixel to spare).
pub(crate) fn pixel_bounds(pose: &PhantomPose, corners_mm: &[[f64; 2]], [width, height]: [usize; 2]) -> [Range<usize>; 2] {
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for &c in corners_mm {
        let [x, y] = pose.to_image(c);
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    let clamp = |v: f64, len: usize| v.clamp(0.0, len as f64) as usize;
    [clamp(b[1].floor() - 1.0, height)..clamp(b[3].ceil() + 2.0, height), clamp(b[0].floor() - 1.0, width)..clamp(b[2].ceil() + 2.0, width)]
}
