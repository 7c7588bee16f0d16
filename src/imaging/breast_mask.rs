//! The breast region of a mammogram, on a coarse grid of about 0.5 mm cells.
//!
//! Works on an image in "brighter = denser" orientation (invert MONOCHROME1 first), both on simulated images
//! (exact 0 outside the breast) and on digitised film (dark noisy background, bright labels, tape and film
//! borders at the edges). Steps, all on the coarse image of cell means:
//!
//! 1. Otsu's threshold splits background from tissue; the final threshold sits just above the background:
//!    `background + max(4 σ_background, 0.1 · (tissue − background))` (medians and MAD of the two Otsu classes),
//!    so the faint fatty periphery and skin line stay in.
//! 2. An opening with a 3 mm disc (the image border counts as background) cuts strips narrower than about
//!    6 mm (unexposed film borders, edge glow, tape) and small labels off the breast; the largest 8-connected
//!    component is the breast, regrown by 3 mm within the thresholded cells (when the opening leaves nothing, the
//!    largest component of the thresholded cells is the breast).
//! 3. Holes are filled and the mask is dilated by one cell (the skin line itself).
//!
//! ```
//! use mammoscope::imaging::{Image, breast_mask::BreastMask};
//! let data = (0..200 * 100).map(|i| if i % 200 < 120 { 3000.0 } else { 0.0 }).collect();
//! let mask = BreastMask::from_image(&Image::new(200, 100, data).unwrap(), 0.1);
//! assert!(mask.contains(10, 50) && !mask.contains(190, 50));
//! assert!((mask.fraction_in(0, 0, 100, 100) - 1.0).abs() < 1e-6);
//! ```

mod morphology;
#[cfg(test)]
mod tests;

use morphology::Grid;

use super::Image;

/// Target cell size in mm.
const CELL_MM: f64 = 0.5;
/// Radius of the opening that detaches thin structures from the breast, in mm.
const OPENING_MM: f64 = 3.0;

/// A coarse binary breast mask of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreastMask {
    /// Cells per row and per column.
    pub width: usize,
    pub height: usize,
    /// Image pixels per cell side.
    pub factor: usize,
    /// Row-major, `width × height`.
    pub cells: Vec<bool>,
    /// Size of the image the mask was computed from, in pixels.
    pub image_width: usize,
    pub image_height: usize,
}

/// Histogram bins of Otsu's threshold.
const BINS: usize = 256;

/// Otsu's threshold of `values` (256 bins between min and max); `None` when all values are equal.
fn otsu(values: &[f32]) -> Option<f32> {
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return None;
    }
    let width = f64::from(hi - lo) / BINS as f64;
    let mut hist = [0.0f64; BINS];
    for &v in values {
        hist[((f64::from(v - lo) / width) as usize).min(BINS - 1)] += 1.0;
    }
    let total: f64 = hist.iter().sum();
    let sum_all: f64 = hist.iter().enumerate().map(|(i, &n)| n * i as f64).sum();
    let (mut w0, mut sum0, mut best, mut best_bin) = (0.0, 0.0, -1.0, 0);
    for (i, &n) in hist.iter().enumerate().take(BINS - 1) {
        w0 += n;
        sum0 += n * i as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let between = w0 * w1 * (sum0 / w0 - (sum_all - sum0) / w1).powi(2);
        if between > best {
            (best, best_bin) = (between, i);
        }
    }
    Some((f64::from(lo) + (best_bin + 1) as f64 * width) as f32)
}

/// Median of `values` (reordered); 0 for none.
fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let k = values.len() / 2;
    *values.select_nth_unstable_by(k, f32::total_cmp).1
}

/// The threshold between background and tissue of the coarse cell means.
fn tissue_threshold(coarse: &[f32]) -> Option<f32> {
    let split = otsu(coarse)?;
    let (mut low, mut high): (Vec<f32>, Vec<f32>) = coarse.iter().partition(|&&v| v < split);
    let background = median(&mut low);
    let mut deviations: Vec<f32> = low.iter().map(|&v| (v - background).abs()).collect();
    let sigma = 1.4826 * median(&mut deviations);
    let tissue = median(&mut high);
    Some(background + (4.0 * sigma).max(0.1 * (tissue - background)))
}

impl BreastMask {
    /// Computes the mask of `image` ("brighter = denser") with `pixel_spacing_mm` (assume 0.05 for film without one).
    pub fn from_image(image: &Image, pixel_spacing_mm: f64) -> Self {
        let spacing = if pixel_spacing_mm.is_finite() && pixel_spacing_mm > 0.0 { pixel_spacing_mm } else { 0.05 };
        let factor = ((CELL_MM / spacing).round() as usize).max(1);
        let coarse = image.downsample(factor);
        let (width, height) = (coarse.width, coarse.height);
        let empty =
            Self { width, height, factor, cells: vec![false; width * height], image_width: image.width, image_height: image.height };
        let Some(threshold) = tissue_threshold(&coarse.data) else {
            return empty;
        };
        let tissue = Grid { width, height, cells: coarse.data.iter().map(|&v| v > threshold).collect() };
        let radius = ((OPENING_MM / (spacing * factor as f64)).round() as usize).max(1);
        let opened = tissue.erode(radius, false).dilate(radius).largest_component();
        // A tissue region narrower than the opening (a tiny test image) is kept whole.
        let core = if opened.cells.contains(&true) { opened } else { tissue.largest_component() };
        let breast = core.dilate(radius).and(&tissue).largest_component().fill_holes().dilate(1);
        Self { cells: breast.cells, ..empty }
    }

    /// Whether image pixel `(x, y)` lies in the breast (pixels outside the image do not).
    pub fn contains(&self, x: usize, y: usize) -> bool {
        x < self.image_width
            && y < self.image_height
            && self.cells.get((y / self.factor) * self.width + x / self.factor).copied().unwrap_or(false)
    }

    /// Fraction of the pixel rectangle `[x0, x0 + w) × [y0, y0 + h)` inside the breast (area outside the image
    /// counts as outside); 0 for an empty rectangle.
    pub fn fraction_in(&self, x0: usize, y0: usize, w: usize, h: usize) -> f32 {
        if w == 0 || h == 0 {
            return 0.0;
        }
        let (x1, y1) = ((x0 + w).min(self.image_width), (y0 + h).min(self.image_height));
        let f = self.factor;
        let mut inside = 0usize;
        let mut y = y0;
        while y < y1 {
            let (cy, row_end) = (y / f, ((y / f + 1) * f).min(y1));
            let mut x = x0;
            while x < x1 {
                let (cx, col_end) = (x / f, ((x / f + 1) * f).min(x1));
                if self.cells.get(cy * self.width + cx).copied().unwrap_or(false) {
                    inside += (row_end - y) * (col_end - x);
                }
                x = col_end;
            }
            y = row_end;
        }
        (inside as f64 / (w * h) as f64) as f32
    }

    /// The mask shrunk by `cells` cells from its outline (not from the image border, so the chest wall stays): the
    /// breast away from the skin line, e.g. for statistics that must not see background.
    #[must_use]
    pub fn eroded(&self, cells: usize) -> Self {
        let grid = Grid { width: self.width, height: self.height, cells: self.cells.clone() };
        Self { cells: grid.erode(cells, true).cells, ..self.clone() }
    }

    /// Fraction of the whole image inside the breast.
    pub fn breast_fraction(&self) -> f32 {
        self.fraction_in(0, 0, self.image_width, self.image_height)
    }

    /// Centres (image pixels) of the cells on the breast's outline that are not on the image border: the skin line.
    pub fn skin_line_px(&self) -> Vec<[f64; 2]> {
        let (w, h) = (self.width, self.height);
        let set = |x: usize, y: usize| self.cells[y * w + x];
        let half = self.factor as f64 / 2.0;
        (1..h.saturating_sub(1))
            .flat_map(|y| (1..w.saturating_sub(1)).map(move |x| (x, y)))
            .filter(|&(x, y)| set(x, y) && (!set(x - 1, y) || !set(x + 1, y) || !set(x, y - 1) || !set(x, y + 1)))
            .map(|(x, y)| [(x * self.factor) as f64 + half, (y * self.factor) as f64 + half])
            .collect()
    }
}
