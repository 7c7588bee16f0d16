//! Resampling to a fixed physical pixel size, so one model serves detectors of any pixel spacing.
//!
//! Coordinates are continuous pixel coordinates: pixel `i` covers `[i, i + 1)`, its centre is `i + 0.5`. Both
//! images start at the same physical point, so a point maps by a pure scale, `target = source · scale` with
//! `scale = from_spacing / to_spacing` (output pixels per input pixel). The output size is the input size times
//! `scale`, rounded; a last output pixel that sticks out of the source averages only the part it covers.
//!
//! Shrinking (`scale < 1`) averages the exact fractional footprint of each output pixel (a separable box filter,
//! so a bright point keeps its integrated signal and the mean is preserved); enlarging is bilinear between pixel
//! centres (clamped at the borders); equal spacings (within 1e-6 mm) return a clone.
//!
//! ```
//! use mammoscope::imaging::{Image, resample::{MODEL_SPACING_MM, resample}};
//! let image = Image::filled(100, 50, 7.0);
//! let r = resample(&image, 0.1, MODEL_SPACING_MM).unwrap();
//! assert_eq!((r.image.width, r.image.height), (143, 71));
//! let (x, y) = r.to_target(10.0, 20.0);
//! assert!((x - 10.0 / 0.7).abs() < 1e-9 && (y - 20.0 / 0.7).abs() < 1e-9);
//! ```

use rayon::prelude::*;

use super::Image;

/// The one physical scale every image is resampled to before patching, in mm per pixel.
pub const MODEL_SPACING_MM: f64 = 0.07;

/// Largest output side in pixels; larger results are refused as absurd.
pub const MAX_SIDE_PX: usize = 40_000;

/// Why an image cannot be resampled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    #[error("pixel spacing {from_mm} → {to_mm} mm is not a pair of positive finite numbers")]
    Spacing { from_mm: f64, to_mm: f64 },
    #[error("the image is empty ({width} × {height})")]
    Empty { width: usize, height: usize },
    #[error("resampling {width} × {height} by {scale} gives {out_width} × {out_height} px (allowed 1..={MAX_SIDE_PX} per side)")]
    Size { width: usize, height: usize, scale: f64, out_width: usize, out_height: usize },
}

/// A resampled image and the scale that maps source to target pixel coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Resampled {
    pub image: Image,
    /// Output pixels per input pixel (`from_spacing / to_spacing`).
    pub scale: f64,
}

impl Resampled {
    /// The source-image point of target point `(x, y)` (continuous pixel coordinates).
    pub fn to_source(&self, x: f64, y: f64) -> (f64, f64) {
        (x / self.scale, y / self.scale)
    }

    /// The target-image point of source point `(x, y)` (continuous pixel coordinates).
    pub fn to_target(&self, x: f64, y: f64) -> (f64, f64) {
        (x * self.scale, y * self.scale)
    }
}

/// Resamples `image` from `from_spacing_mm` to `to_spacing_mm` per pixel (see the module docs).
pub fn resample(image: &Image, from_spacing_mm: f64, to_spacing_mm: f64) -> Result<Resampled, ResampleError> {
    let valid = |mm: f64| mm.is_finite() && mm > 0.0;
    if !valid(from_spacing_mm) || !valid(to_spacing_mm) {
        return Err(ResampleError::Spacing { from_mm: from_spacing_mm, to_mm: to_spacing_mm });
    }
    let (width, height) = (image.width, image.height);
    if width == 0 || height == 0 || image.data.len() != width * height {
        return Err(ResampleError::Empty { width, height });
    }
    let scale = from_spacing_mm / to_spacing_mm;
    let out_side = |n: usize| (n as f64 * scale).round();
    let (out_w, out_h) = (out_side(width), out_side(height));
    if !(1.0..=MAX_SIDE_PX as f64).contains(&out_w) || !(1.0..=MAX_SIDE_PX as f64).contains(&out_h) {
        let clamp = |v: f64| v.clamp(0.0, usize::MAX as f64) as usize;
        return Err(ResampleError::Size { width, height, scale, out_width: clamp(out_w), out_height: clamp(out_h) });
    }
    if (from_spacing_mm - to_spacing_mm).abs() <= 1e-6 {
        return Ok(Resampled { image: image.clone(), scale: 1.0 });
    }
    let (out_w, out_h) = (out_w as usize, out_h as usize);
    let cols = taps(width, out_w, scale);
    let rows = taps(height, out_h, scale);
    // Horizontal pass: every source row to `out_w` columns.
    let mut wide = vec![0.0f32; out_w * height];
    wide.par_chunks_mut(out_w).enumerate().for_each(|(y, out_row)| {
        let src = &image.data[y * width..(y + 1) * width];
        for (out, taps) in out_row.iter_mut().zip(&cols) {
            *out = taps.iter().map(|&(x, w)| w * f64::from(src[x])).sum::<f64>() as f32;
        }
    });
    // Vertical pass: weighted sums of whole rows.
    let mut data = vec![0.0f32; out_w * out_h];
    data.par_chunks_mut(out_w).zip(rows.par_iter()).for_each(|(out_row, taps)| {
        let mut acc = vec![0.0f64; out_w];
        for &(y, w) in taps {
            for (a, &v) in acc.iter_mut().zip(&wide[y * out_w..(y + 1) * out_w]) {
                *a += w * f64::from(v);
            }
        }
        for (o, a) in out_row.iter_mut().zip(acc) {
            *o = a as f32;
        }
    });
    Ok(Resampled { image: Image { width: out_w, height: out_h, data }, scale })
}

/// For each of `n_out` output pixels, the source pixels and weights (summing to 1) along one axis.
fn taps(n_in: usize, n_out: usize, scale: f64) -> Vec<Vec<(usize, f64)>> {
    (0..n_out).map(|o| if scale < 1.0 { area_taps(o, n_in, scale) } else { linear_taps(o, n_in, scale) }).collect()
}

/// Exact footprint `[o, o + 1) / scale` of output pixel `o`, clipped to the source.
fn area_taps(o: usize, n_in: usize, scale: f64) -> Vec<(usize, f64)> {
    let lo = o as f64 / scale;
    let hi = ((o + 1) as f64 / scale).min(n_in as f64);
    let first = (lo.floor() as usize).min(n_in - 1);
    let last = (hi.ceil() as usize).clamp(first + 1, n_in);
    let taps: Vec<(usize, f64)> =
        (first..last).map(|i| (i, (hi.min((i + 1) as f64) - lo.max(i as f64)).max(0.0))).filter(|&(_, w)| w > 0.0).collect();
    let total: f64 = taps.iter().map(|&(_, w)| w).sum();
    if total > 0.0 { taps.into_iter().map(|(i, w)| (i, w / total)).collect() } else { vec![(first, 1.0)] }
}

/// Bilinear weights of output pixel `o`'s centre between the two nearest source pixel centres.
fn linear_taps(o: usize, n_in: usize, scale: f64) -> Vec<(usize, f64)> {
    let s = ((o as f64 + 0.5) / scale - 0.5).clamp(0.0, (n_in - 1) as f64);
    let i = (s.floor() as usize).min(n_in - 1);
    let t = s - i as f64;
    if t > 0.0 && i + 1 < n_in { vec![(i, 1.0 - t), (i + 1, t)] } else { vec![(i, 1.0)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: usize, h: usize) -> Image {
        let data = (0..w * h).map(|i| (crate::imaging::seed::splitmix64(i as u64) % 1000) as f32).collect();
        Image::new(w, h, data).unwrap()
    }

    fn sum(image: &Image) -> f64 {
        image.data.iter().map(|&v| f64::from(v)).sum()
    }

    #[test]
    fn constant_stays_constant() {
        let image = Image::filled(57, 31, 1234.0);
        for (from, to) in [(0.1, 0.07), (0.05, 0.07), (0.2, 0.07), (0.07, 0.07), (0.0713, 0.07)] {
            let r = resample(&image, from, to).unwrap();
            assert!(r.image.data.iter().all(|&v| (v - 1234.0).abs() < 1e-2), "{from} → {to}");
        }
    }

    #[test]
    fn shrinking_preserves_the_mean() {
        // 70 · 0.05/0.07 = 50 and 140 · 0.05/0.07 = 100 exactly, so no partial edge pixels; 0.7 is non-integer too.
        let image = noise(70, 140);
        for (from, to, n) in [(0.05, 0.07, 50), (0.049, 0.07, 49)] {
            let r = resample(&image, from, to).unwrap();
            assert_eq!(r.image.width, n);
            let mean_in = sum(&image) / image.data.len() as f64;
            let mean_out = sum(&r.image) / r.image.data.len() as f64;
            assert!((mean_in - mean_out).abs() < 1e-3, "{mean_in} vs {mean_out}");
        }
    }

    #[test]
    fn a_bright_point_keeps_its_integrated_signal() {
        let mut image = Image::filled(101, 99, 0.0);
        image.data[47 * 101 + 53] = 1000.0;
        for from in [0.05, 0.061, 0.0699] {
            let r = resample(&image, from, MODEL_SPACING_MM).unwrap();
            let integrated = sum(&r.image) / (r.scale * r.scale);
            assert!((integrated - 1000.0).abs() < 1e-2, "{from}: {integrated}");
            // The signal lands where the point maps to.
            let (tx, ty) = r.to_target(53.5, 47.5);
            let (bx, by) = (0..r.image.data.len()).map(|i| (i % r.image.width, i / r.image.width)).fold((0, 0), |best, p| {
                if r.image.data[p.1 * r.image.width + p.0] > r.image.data[best.1 * r.image.width + best.0] { p } else { best }
            });
            assert!((bx as f64 + 0.5 - tx).abs() <= 1.0 && (by as f64 + 0.5 - ty).abs() <= 1.0);
        }
    }

    #[test]
    fn enlarging_is_bilinear_between_centres() {
        let image = Image::new(2, 1, vec![0.0, 10.0]).unwrap();
        let r = resample(&image, 0.2, 0.1).unwrap();
        assert_eq!((r.image.width, r.image.height), (4, 2));
        // Output centres 0.5, 1.5, 2.5, 3.5 map to source 0.25, 0.75, 1.25, 1.75 → clamp, 2.5, 7.5, clamp.
        assert_eq!(r.image.data, vec![0.0, 2.5, 7.5, 10.0, 0.0, 2.5, 7.5, 10.0]);
    }

    #[test]
    fn coordinates_round_trip_and_identity_clones() {
        let image = noise(40, 30);
        let r = resample(&image, 0.13, MODEL_SPACING_MM).unwrap();
        let (x, y) = r.to_source(r.to_target(12.25, 7.5).0, r.to_target(12.25, 7.5).1);
        assert!((x - 12.25).abs() < 1e-12 && (y - 7.5).abs() < 1e-12);
        let same = resample(&image, 0.070_000_1, 0.07).unwrap();
        assert_eq!(same.image, image);
        assert!((same.scale - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn absurd_requests_are_refused() {
        let image = Image::filled(10, 10, 1.0);
        assert!(matches!(resample(&image, 0.1, 0.0), Err(ResampleError::Spacing { .. })));
        assert!(matches!(resample(&image, f64::NAN, 0.07), Err(ResampleError::Spacing { .. })));
        assert!(matches!(resample(&image, 1e4, 0.07), Err(ResampleError::Size { .. })));
        assert!(matches!(resample(&image, 0.001, 0.07), Err(ResampleError::Size { .. })));
        assert!(matches!(resample(&Image::filled(0, 5, 0.0), 0.1, 0.07), Err(ResampleError::Empty { .. })));
    }
}
