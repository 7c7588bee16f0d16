//! The visibility of one speck: a local contrast-to-clutter ratio measured on the image the model sees.
//!
//! Both signal and clutter come from one band-pass map `B = mean₃ₓ₃ − mean_(2b+1)×(2b+1)` (a small box minus a
//! box a little larger than the speck, `b = max(5, r + 4)` pixels for a speck of radius `r`), which keeps detail
//! at the speck's scale and drops the smooth tissue background. Signal: the largest `B` in the 3 × 3 block at the
//! speck's true centre. Clutter: the median and the root-mean-square deviation from it of `B` over a ring from
//! `r + 4` to `r + 24` pixels (about 1.7 mm), leaving out pixels near other specks, outside the breast (exact
//! zeros) and the brightest 2 % (texture peaks count, since a reader sees the speck among them).
//! `CNR = (signal − median) / max(clutter, floor)`: quantum noise and fibroglandular texture at the speck's scale
//! both count as clutter, as they do for a reader. The floor is 1 % of the image's normalisation range
//! (`InputScaling`'s p1 → p99): where the simulated image is almost noise-free, a speck still needs 3 % of that
//! range, a few grey levels on an 8-bit display of the whole breast, to count as visible. An empty spot reads
//! about 1–2; a speck one notices reads 3 or more.

use crate::imaging::{Image, model_input::InputScaling};

/// Inner and outer ring distances beyond the speck radius, in pixels.
const RING: (f64, f64) = (4.0, 24.0);
/// The signal is the largest band value within this distance of the speck's true centre (its 3 × 3 block): a
/// wider search would pick up texture peaks next to faint specks.
const SEARCH_PX: f64 = 1.5;
/// The brightest fraction of the ring is left out of the clutter (remnants of unlisted neighbours).
const TRIM: f64 = 0.02;
/// Fewest ring pixels for a measurement; with fewer the CNR is 0.
const MIN_RING_PIXELS: usize = 40;
/// The clutter floor as a fraction of the normalisation range.
const FLOOR_FRACTION: f64 = 0.01;

/// The clutter floor of an image normalised by `scaling`, in modality units: [`FLOOR_FRACTION`] of its range.
pub(super) fn clutter_floor(scaling: &InputScaling) -> f64 {
    FLOOR_FRACTION * f64::from((scaling.hi - scaling.lo).abs())
}

/// Half-width of the band map's outer box for a speck of radius `radius_px`: a little larger than the speck.
pub(super) fn band_half(radius_px: f64) -> isize {
    (radius_px.ceil() as isize + 4).max(5)
}

/// A speck's position and radius in pixels of the measured image.
#[derive(Clone, Copy, Debug)]
pub(super) struct Disc {
    pub center_px: [f64; 2],
    pub radius_px: f64,
}

/// Box sums over a window of the image through a summed-area table.
pub(super) struct BoxSums {
    x0: isize,
    y0: isize,
    w: isize,
    h: isize,
    table: Vec<f64>,
}

impl BoxSums {
    /// The table of `image` over `[x0, x1) × [y0, y1)` (clipped to the image).
    pub(super) fn new(image: &Image, x0: isize, y0: isize, x1: isize, y1: isize) -> Self {
        let (x0, y0) = (x0.max(0), y0.max(0));
        let (x1, y1) = (x1.min(image.width as isize).max(x0), y1.min(image.height as isize).max(y0));
        let (w, h) = (x1 - x0, y1 - y0);
        let stride = (w + 1) as usize;
        let mut table = vec![0.0f64; stride * (h + 1) as usize];
        for y in 0..h as usize {
            let mut row = 0.0;
            for x in 0..w as usize {
                row += f64::from(image.data[(y0 as usize + y) * image.width + x0 as usize + x]);
                table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + row;
            }
        }
        Self { x0, y0, w, h, table }
    }

    /// Mean over the square of half-width `half` around pixel `(x, y)`, clipped to the window.
    pub(super) fn mean(&self, x: isize, y: isize, half: isize) -> f64 {
        let (ax, ay) = ((x - half - self.x0).clamp(0, self.w), (y - half - self.y0).clamp(0, self.h));
        let (bx, by) = ((x + half + 1 - self.x0).clamp(0, self.w), (y + half + 1 - self.y0).clamp(0, self.h));
        let n = ((bx - ax) * (by - ay)) as f64;
        if n == 0.0 {
            return 0.0;
        }
        let s = (self.w + 1) as usize;
        let at = |x: isize, y: isize| self.table[y as usize * s + x as usize];
        (at(bx, by) - at(ax, by) - at(bx, ay) + at(ax, ay)) / n
    }
}

/// Median of `values` (reordered).
fn median(values: &mut [f64]) -> f64 {
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// The CNR of `discs[index]` in `image` with clutter at least `floor` (modality units, positive); the other discs
/// are kept out of its clutter ring.
pub(super) fn measure(image: &Image, discs: &[Disc], index: usize, floor: f64) -> f64 {
    let Some(&Disc { center_px: [cx, cy], radius_px: r }) = discs.get(index) else {
        return 0.0;
    };
    let outer = r + RING.1;
    let half = band_half(r);
    let reach = outer.ceil() as isize + half + 2;
    let (ix, iy) = (cx.floor() as isize, cy.floor() as isize);
    let sums = BoxSums::new(image, ix - reach, iy - reach, ix + reach + 1, iy + reach + 1);
    let band = |x: isize, y: isize| sums.mean(x, y, 1) - sums.mean(x, y, half);
    let inside = |x: isize, y: isize| x >= 0 && y >= 0 && (x as usize) < image.width && (y as usize) < image.height;
    let near_other = |x: f64, y: f64| {
        discs.iter().enumerate().any(|(j, d)| j != index && (x - d.center_px[0]).hypot(y - d.center_px[1]) < d.radius_px + RING.0)
    };
    let mut ring = Vec::new();
    let (mut best, search) = (f64::NEG_INFINITY, SEARCH_PX);
    for y in iy - outer.ceil() as isize..=iy + outer.ceil() as isize {
        for x in ix - outer.ceil() as isize..=ix + outer.ceil() as isize {
            if !inside(x, y) {
                continue;
            }
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let dist = (px - cx).hypot(py - cy);
            if dist <= search {
                best = best.max(band(x, y));
            } else if (r + RING.0..=outer).contains(&dist)
                && image.data[y as usize * image.width + x as usize] != 0.0
                && !near_other(px, py)
            {
                ring.push(band(x, y));
            }
        }
    }
    if ring.len() < MIN_RING_PIXELS || !best.is_finite() {
        return 0.0;
    }
    let center = median(&mut ring);
    ring.sort_by(f64::total_cmp);
    let kept = &ring[..ring.len() - (TRIM * ring.len() as f64) as usize];
    let variance = kept.iter().map(|v| (v - center).powi(2)).sum::<f64>() / kept.len() as f64;
    let sigma = variance.sqrt().max(floor).max(1e-6);
    (best - center) / sigma
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tilted plane with deterministic noise of σ ≈ 10 and a 3 × 3 bump of `peak` at (40, 40).
    fn scene(peak: f32) -> Image {
        let data = (0..80 * 80)
            .map(|i| {
                let (x, y): (usize, usize) = (i % 80, i / 80);
                let u = (crate::imaging::seed::splitmix64(i as u64) % 10_000) as f32 / 10_000.0;
                let noise = 10.0 * 3.0f32.sqrt() * (2.0 * u - 1.0); // uniform with σ = 10
                let bump = if x.abs_diff(40) <= 1 && y.abs_diff(40) <= 1 { peak } else { 0.0 };
                1000.0 + 2.0 * x as f32 + noise + bump
            })
            .collect();
        Image::new(80, 80, data).unwrap()
    }

    #[test]
    fn cnr_grows_with_contrast_and_ignores_the_gradient() {
        let disc = [Disc { center_px: [40.5, 40.5], radius_px: 1.5 }];
        let empty = measure(&scene(0.0), &disc, 0, 0.25);
        let faint = measure(&scene(10.0), &disc, 0, 0.25);
        let clear = measure(&scene(40.0), &disc, 0, 0.25);
        println!("empty {empty} faint {faint} clear {clear}");
        assert!(empty < 2.5, "empty {empty}");
        assert!((2.0..4.5).contains(&faint), "faint {faint}");
        assert!(clear > 8.0, "clear {clear}");
        // A floor above the clutter caps the CNR: 40 / 10 = 4 at most (plus the peak's own noise).
        let floored = measure(&scene(40.0), &disc, 0, 10.0);
        assert!(floored < 4.5, "floored {floored}");
        assert!(measure(&scene(0.0), &disc, 5, 0.25).abs() < f64::EPSILON);
    }
}
