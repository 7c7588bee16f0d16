//! The classifier's input normalisation: modality values to "fat ≈ 0, dense ≈ 1".
//!
//! Convention: after optional inversion (MONOCHROME1, or any image where denser is darker), the 1st percentile of
//! the breast pixels maps to 0 and the 99th to 1: fat ≈ 0, dense tissue ≈ 1, calcifications may exceed 1. Values
//! are clamped to `[BACKGROUND, CEILING]`: air, the film or detector background and every pixel outside the
//! image read [`BACKGROUND`], whatever the modality (0 outside the breast of a simulated image, a dark noisy film
//! background, a bright MONOCHROME1 background), so training and inference see the same thing there. The
//! percentiles come from a fixed, evenly spaced subsample of the breast pixels, so the result is deterministic.
//!
//! ```
//! use mammoscope::imaging::{Image, breast_mask::BreastMask, model_input::{BACKGROUND, InputScaling}};
//! let data: Vec<f32> = (0..100 * 100).map(|i| if i % 100 < 60 { 1000.0 + (i % 7) as f32 * 100.0 } else { 0.0 }).collect();
//! let image = Image::new(100, 100, data).unwrap();
//! let mask = BreastMask::from_image(&image, 0.1);
//! let scaling = InputScaling::from_image(&image, &mask, false);
//! assert!((scaling.apply(1000.0) - 0.0).abs() < 1e-6 && (scaling.apply(1600.0) - 1.0).abs() < 1e-6);
//! let patch = scaling.patch(&image, 90, 0, 16);
//! assert_eq!(patch[15], BACKGROUND); // outside the image
//! ```

use super::{Image, breast_mask::BreastMask};

/// The value of air, background and pixels outside the image; the floor of every normalised value.
pub const BACKGROUND: f32 = -0.25;
/// The largest normalised value (film labels and metal markers are clipped here).
pub const CEILING: f32 = 4.0;
/// Breast pixels this many mask cells (about 1 mm) from the skin line are left out of the percentiles: the
/// mask's outline cells hold background, which would pull the 1st percentile down.
pub const STATS_MARGIN_CELLS: usize = 2;
/// At most this many breast pixels are sampled for the percentiles.
const MAX_SAMPLES: usize = 1 << 18;

/// The log attenuation `−ln(max(v, 1))` of an image whose values are linear in the X-ray intensity (a For Processing
/// image): dense tissue and calcifications become the high values, air the lowest, as in a For Presentation image
/// (whose processing starts with this log). The detector's offset is left in; the breast percentiles absorb the rest.
pub fn log_attenuation(image: &Image) -> Image {
    let mut out = image.clone();
    out.data.iter_mut().for_each(|v| *v = -v.max(1.0).ln());
    out
}

/// A linear map of modality values: `lo` maps to 0 (fat) and `hi` to 1 (dense tissue).
///
/// With `invert`, `lo > hi` (denser is darker in the modality values), and the same formula applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputScaling {
    pub lo: f32,
    pub hi: f32,
    pub invert: bool,
}

/// The `q`-quantile of `values` (reordered); `None` for none.
fn quantile(values: &mut [f32], q: f64) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let k = ((q * values.len() as f64) as usize).min(values.len() - 1);
    Some(*values.select_nth_unstable_by(k, f32::total_cmp).1)
}

impl InputScaling {
    /// Percentiles 1 and 99 of the breast pixels of `image` at least [`STATS_MARGIN_CELLS`] mask cells inside
    /// the skin line (of the whole mask when that is empty, of all pixels when the mask is empty).
    ///
    /// `invert` is true when denser tissue has lower values (MONOCHROME1). A flat image gets a unit range.
    pub fn from_image(image: &Image, mask: &BreastMask, invert: bool) -> Self {
        let interior = mask.eroded(STATS_MARGIN_CELLS);
        let mask = if interior.cells.contains(&true) { &interior } else { mask };
        let n = image.data.len();
        let in_breast = (0..n).filter(|&i| mask.contains(i % image.width.max(1), i / image.width.max(1))).count();
        let use_all = in_breast == 0;
        let step = ((if use_all { n } else { in_breast }) / MAX_SAMPLES).max(1);
        let mut samples: Vec<f32> = image
            .data
            .iter()
            .enumerate()
            .filter(|&(i, _)| use_all || mask.contains(i % image.width, i / image.width))
            .step_by(step)
            .map(|(_, &v)| v)
            .filter(|v| v.is_finite())
            .collect();
        let (p1, p99) = (quantile(&mut samples, 0.01).unwrap_or(0.0), quantile(&mut samples, 0.99).unwrap_or(1.0));
        let (p1, p99) = if p99 > p1 { (p1, p99) } else { (p1, p1 + 1.0) };
        if invert { Self { lo: p99, hi: p1, invert } } else { Self { lo: p1, hi: p99, invert } }
    }

    /// The normalised value of modality value `v`, clamped to `[BACKGROUND, CEILING]`.
    #[inline]
    pub fn apply(&self, v: f32) -> f32 {
        let x = (v - self.lo) / (self.hi - self.lo);
        if x.is_nan() { BACKGROUND } else { x.clamp(BACKGROUND, CEILING) }
    }

    /// The `size × size` normalised patch with top-left pixel `(x0, y0)`, row-major; pixels outside the image
    /// are [`BACKGROUND`].
    pub fn patch(&self, image: &Image, x0: usize, y0: usize, size: usize) -> Vec<f32> {
        let mut out = vec![BACKGROUND; size * size];
        let x_end = (x0 + size).min(image.width);
        if x0 >= x_end {
            return out;
        }
        for (dy, row) in out.chunks_mut(size.max(1)).enumerate() {
            let y = y0 + dy;
            if y >= image.height {
                break;
            }
            let src = &image.data[y * image.width + x0..y * image.width + x_end];
            for (o, &v) in row.iter_mut().zip(src) {
                *o = self.apply(v);
            }
        }
        out
    }

    /// As [`Self::patch`], with every pixel outside the breast `mask` (film labels, markers, the film edge, scanner
    /// glow beside the breast) set to [`BACKGROUND`], so a tile at the skin line sees only the breast and air. On a
    /// simulated mammogram, whose background is 0, this is the plain patch.
    pub fn masked_patch(&self, image: &Image, mask: &BreastMask, x0: usize, y0: usize, size: usize) -> Vec<f32> {
        let mut out = self.patch(image, x0, y0, size);
        // Most tiles lie wholly inside the breast: nothing to blank (a cell-level count, not a test per pixel).
        if mask.fraction_in(x0, y0, size, size) >= 1.0 {
            return out;
        }
        for (dy, row) in out.chunks_mut(size.max(1)).enumerate() {
            for (dx, v) in row.iter_mut().enumerate() {
                if !mask.contains(x0 + dx, y0 + dy) {
                    *v = BACKGROUND;
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact background and clamped values are the point of these tests
mod tests {
    use super::*;

    /// A 200 × 100 image: breast (values 1000..=1990 by column) on the left 100 columns, 0 on the right.
    fn half_breast() -> Image {
        let data = (0..200 * 100).map(|i| if i % 200 < 100 { 1000.0 + 10.0 * (i % 200) as f32 } else { 0.0 }).collect();
        Image::new(200, 100, data).unwrap()
    }

    #[test]
    fn percentiles_of_the_breast_map_to_0_and_1() {
        let image = half_breast();
        let mask = BreastMask::from_image(&image, 0.1);
        let s = InputScaling::from_image(&image, &mask, false);
        // The mask reaches a little beyond the breast; its outline is left out, so no background zeros count.
        assert!((1000.0..=1020.0).contains(&s.lo) && (1900.0..=1990.0).contains(&s.hi), "{s:?}");
        assert_eq!(s.apply(0.0), BACKGROUND);
        assert!(s.apply(1e9) <= CEILING);
        assert!((s.apply(s.hi + (s.hi - s.lo)) - 2.0).abs() < 1e-5, "calcifications may exceed 1");
    }

    #[test]
    fn inversion_maps_the_same_tissue_to_the_same_values() {
        let image = half_breast();
        let mask = BreastMask::from_image(&image, 0.1);
        let s = InputScaling::from_image(&image, &mask, false);
        let flipped = Image::new(200, 100, image.data.iter().map(|&v| if v > 0.0 { 4095.0 - v } else { 4095.0 }).collect()).unwrap();
        let si = InputScaling::from_image(&flipped, &mask, true);
        for v in [1000.0f32, 1500.0, 1990.0] {
            assert!((s.apply(v) - si.apply(4095.0 - v)).abs() < 0.02, "{v}");
        }
        assert_eq!(si.apply(4095.0), BACKGROUND);
    }

    #[test]
    fn patches_pad_outside_the_image_and_are_deterministic() {
        let image = half_breast();
        let mask = BreastMask::from_image(&image, 0.1);
        let s = InputScaling::from_image(&image, &mask, false);
        let p = s.patch(&image, 190, 95, 16);
        assert_eq!(p.len(), 256);
        assert_eq!(p[0], s.apply(image.get(190, 95).unwrap()));
        assert_eq!(p[15], BACKGROUND); // x = 205
        assert_eq!(p[16 * 5], BACKGROUND); // y = 100
        assert!(s.patch(&image, 500, 0, 4).iter().all(|&v| v == BACKGROUND));
        assert_eq!(InputScaling::from_image(&image, &mask, false), s);
        let flat = Image::filled(10, 10, 3.0);
        let sf = InputScaling::from_image(&flat, &BreastMask::from_image(&flat, 0.1), false);
        assert!(sf.hi > sf.lo);
    }

    #[test]
    fn masked_patches_blank_what_lies_outside_the_breast() {
        // The breast on the left 100 columns, a bright label at columns 150..170 of rows 10..30.
        let mut image = half_breast();
        for y in 10..30 {
            for x in 150..170 {
                image.data[y * 200 + x] = 4000.0;
            }
        }
        let mask = BreastMask::from_image(&image, 0.1);
        assert!(mask.contains(50, 20) && !mask.contains(160, 20));
        let s = InputScaling::from_image(&image, &mask, false);
        let plain = s.patch(&image, 140, 0, 40);
        assert!(plain[20 * 40 + 20] > 3.0, "the label, three times the tissue's range above it");
        let masked = s.masked_patch(&image, &mask, 140, 0, 40);
        assert!(masked.iter().all(|&v| v == BACKGROUND));
        // Inside the breast, and outside the image, it is the plain patch.
        assert_eq!(s.masked_patch(&image, &mask, 0, 0, 64), s.patch(&image, 0, 0, 64));
        assert_eq!(s.masked_patch(&image, &mask, 190, 95, 16), s.patch(&image, 190, 95, 16));
    }
}
