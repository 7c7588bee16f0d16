//! How often calcification-free tissue reads as a visible speck by the labels' own measure.
//!
//! A speck is *visible* when its CNR (`cnr::measure`) is at least [`MIN_CNR`](super::MIN_CNR). This module
//! measures the same CNR at every local maximum of the band map in tissue without calcifications, as if a
//! speck of the smallest radius (1 px) sat there: texture peaks and noise that a contrast-only reader (or
//! detector) cannot tell from a speck. Counting them per image at a CNR level says how many false findings a
//! detector that knew each location's CNR exactly would make to find every speck at that level.
//!
//! Cost: the band map and a local clutter estimate by summed-area tables over the whole image, then the exact
//! measurement only at maxima whose estimate comes within [`PRESCREEN`] of the level asked for.

use super::cnr::{self, BoxSums, Disc};
use crate::imaging::{Image, breast_mask::BreastMask, model_input::InputScaling, resample::MODEL_SPACING_MM, tiling::suppress_overlaps};

/// Half-width of the box over which the prescreen estimates the clutter (about the CNR's ring).
const CLUTTER_HALF: isize = 25;
/// A maximum is measured exactly when its estimated CNR is at least this fraction of the level asked for. The
/// estimate's clutter includes the brightest ring pixels that the exact measure trims, so it reads lower.
pub const PRESCREEN: f64 = 0.6;

/// A location of calcification-free tissue measured as a speck.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackgroundPeak {
    /// Pixel centre in the image.
    pub center_px: [f64; 2],
    pub cnr: f64,
}

/// The local maxima of `image` (For Presentation values at [`MODEL_SPACING_MM`], 0 outside the breast, as the
/// evaluation images are) whose CNR as a 1 px speck is at least `min_cnr`, strongest first. Only maxima whose
/// band box lies wholly inside the breast count: at the skin line the band map measures the edge.
pub fn background_peaks(image: &Image, min_cnr: f64) -> Vec<BackgroundPeak> {
    let mask = BreastMask::from_image(image, MODEL_SPACING_MM);
    let floor = cnr::clutter_floor(&InputScaling::from_image(image, &mask, false));
    background_peaks_with_floor(image, &mask, floor, min_cnr, PRESCREEN)
}

/// [`background_peaks`] with the breast mask, clutter floor and prescreen fraction given.
fn background_peaks_with_floor(image: &Image, mask: &BreastMask, floor: f64, min_cnr: f64, prescreen: f64) -> Vec<BackgroundPeak> {
    let (w, h) = (image.width, image.height);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let (wi, hi) = (w as isize, h as isize);
    // The band map of a 1 px speck, as `cnr::measure` measures it.
    let band_half = cnr::band_half(1.0);
    let sums = BoxSums::new(image, 0, 0, wi, hi);
    let zeros = Image::new(w, h, image.data.iter().map(|&v| f32::from(u8::from(v == 0.0))).collect()).expect("same size");
    let zero_sums = BoxSums::new(&zeros, 0, 0, wi, hi);
    let band: Vec<f32> = (0..h * w)
        .map(|i| {
            let (x, y) = ((i % w) as isize, (i / w) as isize);
            (sums.mean(x, y, 1) - sums.mean(x, y, band_half)) as f32
        })
        .collect();
    let band_image = Image::new(w, h, band).expect("same size");
    let band_sums = BoxSums::new(&band_image, 0, 0, wi, hi);
    let squares = Image::new(w, h, band_image.data.iter().map(|v| v * v).collect()).expect("same size");
    let square_sums = BoxSums::new(&squares, 0, 0, wi, hi);
    let at = |x: isize, y: isize| band_image.data[y as usize * w + x as usize];
    let mut peaks = Vec::new();
    let margin = band_half + 1;
    for y in margin..hi - margin {
        for x in margin..wi - margin {
            let b = at(x, y);
            if b <= 0.0 || !mask.contains(x as usize, y as usize) {
                continue;
            }
            let is_max = (-1..=1).all(|dy| (-1..=1).all(|dx| (dx == 0 && dy == 0) || at(x + dx, y + dy) <= b));
            if !is_max || zero_sums.mean(x, y, band_half) > 0.0 {
                continue;
            }
            let mean = band_sums.mean(x, y, CLUTTER_HALF);
            let spread = (square_sums.mean(x, y, CLUTTER_HALF) - mean * mean).max(0.0).sqrt().max(floor).max(1e-6);
            if (f64::from(b) - mean) / spread < prescreen * min_cnr {
                continue;
            }
            let center_px = [x as f64 + 0.5, y as f64 + 0.5];
            let cnr = cnr::measure(image, &[Disc { center_px, radius_px: 1.0 }], 0, floor);
            if cnr >= min_cnr {
                peaks.push(BackgroundPeak { center_px, cnr });
            }
        }
    }
    peaks.sort_by(|a, b| b.cnr.total_cmp(&a.cnr));
    peaks
}

/// Distinct findings among `peaks` (strongest first): a peak within `distance_px` of a stronger kept one is
/// dropped, as the detector's marks drop a weaker tile whose evidence lies near a stronger one's.
pub fn distinct(peaks: &[BackgroundPeak], distance_px: f64) -> Vec<BackgroundPeak> {
    // f32 rounding keeps the order (ties go to the earlier, stronger peak).
    let scores: Vec<f32> = peaks.iter().map(|p| p.cnr as f32).collect();
    let near = |k: usize, i: usize| {
        let (a, b) = (peaks[k].center_px, peaks[i].center_px);
        (a[0] - b[0]).hypot(a[1] - b[1]) < distance_px
    };
    suppress_overlaps(&scores, f32::NEG_INFINITY, near).into_iter().map(|i| peaks[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::seed::splitmix64;

    /// A 160 × 160 breast-like plateau (0 outside a 6 px frame) with uniform noise of σ = 10 and 3 × 3 bumps.
    fn scene(bumps: &[(usize, usize, f32)]) -> Image {
        let data = (0..160 * 160)
            .map(|i| {
                let (x, y): (usize, usize) = (i % 160, i / 160);
                if !(6..154).contains(&x) || !(6..154).contains(&y) {
                    return 0.0;
                }
                let u = (splitmix64(i as u64 ^ 0xB0) % 10_000) as f32 / 10_000.0;
                let bump: f32 = bumps.iter().filter(|b| x.abs_diff(b.0) <= 1 && y.abs_diff(b.1) <= 1).map(|b| b.2).sum();
                1000.0 + 10.0 * 3.0f32.sqrt() * (2.0 * u - 1.0) + bump
            })
            .collect();
        Image::new(160, 160, data).unwrap()
    }

    fn whole(image: &Image) -> BreastMask {
        BreastMask::from_image(image, MODEL_SPACING_MM)
    }

    #[test]
    fn a_planted_speck_is_found_with_the_cnr_a_speck_there_would_get() {
        let image = scene(&[(60, 70, 60.0), (110, 100, 25.0)]);
        let mask = whole(&image);
        let peaks = background_peaks_with_floor(&image, &mask, 0.25, 5.0, PRESCREEN);
        let strong = peaks.iter().find(|p| (p.center_px[0] - 60.5).abs() < 1.1 && (p.center_px[1] - 70.5).abs() < 1.1);
        let strong = strong.expect("the bright speck is a peak");
        let direct = cnr::measure(&image, &[Disc { center_px: [60.5, 70.5], radius_px: 1.0 }], 0, 0.25);
        assert!(strong.cnr >= direct - 1e-9, "peak {} direct {direct}", strong.cnr);
        assert!(strong.cnr > 8.0, "{}", strong.cnr);
        assert!((peaks[0].cnr - strong.cnr).abs() < 1e-12, "strongest first");
    }

    /// The prescreen must not drop maxima the exact measure would keep: on noise with bumps of every contrast,
    /// measuring every local maximum exactly gives the same set.
    #[test]
    fn the_prescreen_keeps_every_peak_over_the_level() {
        let bumps: Vec<(usize, usize, f32)> = (0..16).map(|i| (20 + (i % 4) * 36, 20 + (i / 4) * 36, 6.0 + 3.0 * i as f32)).collect();
        let image = scene(&bumps);
        let mask = whole(&image);
        for level in [3.0, 4.0, 5.0] {
            let fast = background_peaks_with_floor(&image, &mask, 0.25, level, PRESCREEN);
            let all = background_peaks_with_floor(&image, &mask, 0.25, level, f64::NEG_INFINITY);
            assert_eq!(fast, all, "level {level}");
            assert!(!fast.is_empty());
        }
    }

    /// The same on simulated calcification-free mammograms, whose texture is not white noise (about a minute).
    #[test]
    #[ignore = "simulates two whole mammograms and measures every local maximum; run with --ignored"]
    fn the_prescreen_keeps_every_peak_on_simulated_tissue() {
        let images = crate::synth::calc_patches::generate_eval_range(777, 1..4, &|_, _| {}, &|| false).unwrap();
        for img in images.iter().filter(|i| i.clusters.is_empty()) {
            let mask = BreastMask::from_image(&img.image, MODEL_SPACING_MM);
            let scaling = InputScaling::from_image(&img.image, &mask, false);
            let floor = cnr::clutter_floor(&scaling);
            let fast = background_peaks_with_floor(&img.image, &mask, floor, 4.0, PRESCREEN);
            let all = background_peaks_with_floor(&img.image, &mask, floor, 4.0, f64::NEG_INFINITY);
            println!("{} peaks at CNR >= 4 (exhaustive: {})", fast.len(), all.len());
            assert_eq!(fast, all);
        }
    }

    #[test]
    fn peaks_at_the_skin_line_and_outside_the_breast_do_not_count() {
        let image = scene(&[(8, 80, 200.0)]);
        let peaks = background_peaks_with_floor(&image, &whole(&image), 0.25, 5.0, PRESCREEN);
        assert!(peaks.iter().all(|p| p.center_px[0] > 11.0), "{peaks:?}");
    }

    #[test]
    fn distinct_keeps_the_strongest_of_nearby_peaks() {
        let p = |x: f64, cnr: f64| BackgroundPeak { center_px: [x, 0.0], cnr };
        let kept = distinct(&[p(0.0, 9.0), p(30.0, 8.0), p(100.0, 7.0), p(120.0, 6.0)], 50.0);
        assert_eq!(kept, vec![p(0.0, 9.0), p(100.0, 7.0)]);
    }
}
