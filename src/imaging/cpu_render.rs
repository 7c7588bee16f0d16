//! The CPU reference renderer: modality values to 8-bit grey levels, as the viewer's shader draws them.
//!
//! Resampling happens on modality values first (area average, the box filter of the exact pixel footprint),
//! then the VOI transform runs once per output pixel with exactly [`Display::grey8`]. The CLI's `render`
//! subcommand writes its PNGs with this, and GPU tests compare against it.
//!
//! ```
//! use mammoscope::imaging::{Image, cpu_render::render_grey8, voi::Display};
//! let img = Image::new(4, 2, vec![0.0, 0.0, 4095.0, 4095.0, 0.0, 0.0, 4095.0, 4095.0]).unwrap();
//! let (w, h, grey) = render_grey8(&img, &Display::default(), None, Some(2));
//! assert_eq!((w, h), (2, 1));
//! assert_eq!(grey, vec![0, 255]);
//! ```

use rayon::prelude::*;

use super::Image;
use super::voi::{Display, VoiLut};

/// Render `image` to 8-bit grey, `out_width` pixels wide (height keeps the aspect ratio, at least 1 px).
///
/// `None` or the image's own width renders every pixel unresampled. Returns `(width, height, pixels)`,
/// row-major. An empty image gives `(0, 0, [])`.
#[must_use]
pub fn render_grey8(image: &Image, display: &Display, lut: Option<&VoiLut>, out_width: Option<usize>) -> (usize, usize, Vec<u8>) {
    if image.width == 0 || image.height == 0 || image.data.len() < image.width * image.height {
        return (0, 0, Vec::new());
    }
    let out_w = out_width.unwrap_or(image.width).max(1);
    if out_w == image.width {
        let grey = image.data.par_iter().map(|&v| display.grey8(v, lut)).collect();
        return (image.width, image.height, grey);
    }
    let out_h = output_height(image.width, image.height, out_w);
    let resampled = resample_area(image, out_w, out_h);
    let grey = resampled.par_iter().map(|&v| display.grey8(v, lut)).collect();
    (out_w, out_h, grey)
}

/// Height of an `out_w`-wide rendering of a `width × height` image: same aspect ratio, rounded, at least 1.
#[must_use]
pub fn output_height(width: usize, height: usize, out_w: usize) -> usize {
    if width == 0 {
        return 0;
    }
    ((height as f64 * out_w as f64 / width as f64).round() as usize).max(1)
}

/// Area-average resampling of modality values to `out_w × out_h`.
///
/// Each output pixel is the mean of the source pixels under its footprint, weighted by the overlap
/// (separable box filter; exact for down- and upsampling by any factor).
#[must_use]
pub fn resample_area(image: &Image, out_w: usize, out_h: usize) -> Vec<f32> {
    let cols = footprints(image.width, out_w);
    let rows = footprints(image.height, out_h);
    let mut out = vec![0.0f32; out_w * out_h];
    out.par_chunks_mut(out_w.max(1)).zip(rows.par_iter()).for_each(|(out_row, row_taps)| {
        let mut acc = vec![0.0f64; out_w];
        for &(y, wy) in row_taps {
            let src = &image.data[y * image.width..(y + 1) * image.width];
            for (a, col_taps) in acc.iter_mut().zip(&cols) {
                let s: f64 = col_taps.iter().map(|&(x, wx)| wx * f64::from(src[x])).sum();
                *a += wy * s;
            }
        }
        for (o, a) in out_row.iter_mut().zip(acc) {
            *o = a as f32;
        }
    });
    out
}

/// For each of `n_out` output cells, the source indices it covers and their weights (summing to 1).
fn footprints(n_in: usize, n_out: usize) -> Vec<Vec<(usize, f64)>> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|o| {
            let lo = o as f64 * scale;
            let hi = ((o + 1) as f64 * scale).min(n_in as f64);
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).clamp(first + 1, n_in);
            let taps: Vec<(usize, f64)> = (first..last)
                .map(|i| {
                    let overlap = (hi.min((i + 1) as f64) - lo.max(i as f64)).max(0.0);
                    (i, overlap)
                })
                .filter(|&(_, w)| w > 0.0)
                .collect();
            let total: f64 = taps.iter().map(|&(_, w)| w).sum();
            if total > 0.0 { taps.into_iter().map(|(i, w)| (i, w / total)).collect() } else { vec![(first.min(n_in - 1), 1.0)] }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::voi::{VoiFunction, Window};

    fn ramp(w: usize, h: usize) -> Image {
        Image::new(w, h, (0..w * h).map(|i| i as f32).collect()).unwrap()
    }

    #[test]
    fn no_resampling_is_grey8_per_pixel() {
        let img = ramp(7, 5);
        let d = Display { window: Window { center: 10.0, width: 20.0 }, function: VoiFunction::Sigmoid, ..Display::default() };
        for out_width in [None, Some(7)] {
            let (w, h, grey) = render_grey8(&img, &d, None, out_width);
            assert_eq!((w, h), (7, 5));
            let expected: Vec<u8> = img.data.iter().map(|&v| d.grey8(v, None)).collect();
            assert_eq!(grey, expected);
        }
    }

    #[test]
    fn integer_factor_matches_box_downsample() {
        let img = ramp(8, 6);
        let expected = img.downsample(2);
        let got = resample_area(&img, 4, 3);
        assert_eq!(got, expected.data);
    }

    #[test]
    fn fractional_factor_weights_by_overlap() {
        // 3 → 2: the first output covers pixel 0 fully and half of pixel 1.
        let img = Image::new(3, 1, vec![0.0, 3.0, 6.0]).unwrap();
        let got = resample_area(&img, 2, 1);
        assert!((got[0] - 1.0).abs() < 1e-6, "{got:?}");
        assert!((got[1] - 5.0).abs() < 1e-6, "{got:?}");
    }

    #[test]
    fn mean_is_preserved_and_upsampling_replicates() {
        let img = ramp(13, 9);
        let down = resample_area(&img, 5, 4);
        let mean_in = img.stats().mean;
        let mean_out = down.iter().map(|&v| f64::from(v)).sum::<f64>() / down.len() as f64;
        assert!((mean_in - mean_out).abs() < 1e-3, "{mean_in} vs {mean_out}");
        let small = Image::new(2, 1, vec![1.0, 9.0]).unwrap();
        assert_eq!(resample_area(&small, 4, 2), vec![1.0, 1.0, 9.0, 9.0, 1.0, 1.0, 9.0, 9.0]);
    }

    #[test]
    fn voi_runs_after_resampling() {
        // A checkerboard of 0 and 4095 averages to mid grey; windowing first would also give ~128,
        // but a narrow window shows the difference: the average 2047.5 sits at the window centre.
        let data = (0..16).map(|i| if (i % 4 + i / 4) % 2 == 0 { 0.0 } else { 4095.0 }).collect();
        let img = Image::new(4, 4, data).unwrap();
        let d = Display { window: Window { center: 2048.0, width: 2.0 }, function: VoiFunction::LinearExact, ..Display::default() };
        let (w, h, grey) = render_grey8(&img, &d, None, Some(1));
        assert_eq!((w, h), (1, 1));
        assert_eq!(grey, vec![d.grey8(2047.5, None)]);
        assert_eq!(output_height(3064, 4664, 1024), 1559);
        assert_eq!(render_grey8(&Image::filled(0, 0, 0.0), &d, None, Some(4)).2, Vec::<u8>::new());
    }
}
