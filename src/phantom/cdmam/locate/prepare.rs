//! The working copies: finite pixel values, and a coarse (~0.4 mm) high-passed copy in units of its noise σ.

use std::borrow::Cow;

use super::LocateError;
use super::sample::median_of;
use crate::imaging::Image;

/// High-passed values beyond this many noise σ are clipped, so that the plate edge and the open field weigh no more
/// than a grid line.
pub(super) const CLIP_SIGMA: f32 = 6.0;
/// The high-pass subtracts the mean over a box this wide, mm.
const BOX_MM: f64 = 3.0;
/// Without a pixel size hint, the image's long side is assumed to span this many mm (a 24 × 30 cm detector).
const ASSUMED_LONG_SIDE_MM: f64 = 300.0;
/// The smallest coarse image searched, pixels per side.
const MIN_COARSE_SIDE: usize = 24;

/// The coarse search image.
pub(super) struct Coarse {
    /// Downsampling factor from the full image.
    pub factor: usize,
    /// Coarse pixel size assumed from the hint (or from the image size), mm; the grid period measures the true one.
    pub nominal_mm: f64,
    /// High-passed, divided by its noise σ, clipped to ±[`CLIP_SIGMA`].
    pub high: Image,
}

/// `image` with non-finite values replaced by the mean of the finite ones (borrowed when all are finite).
pub(super) fn finite(image: &Image) -> Result<Cow<'_, Image>, LocateError> {
    let (width, height, len) = (image.width, image.height, image.data.len());
    if width.checked_mul(height) != Some(len) {
        return Err(LocateError::DataLength { width, height, len });
    }
    let bad = image.data.iter().filter(|v| !v.is_finite()).count();
    if bad == 0 {
        return Ok(Cow::Borrowed(image));
    }
    if bad * 2 > len {
        return Err(LocateError::NonFinite { bad, total: len });
    }
    let mean = image.data.iter().filter(|v| v.is_finite()).map(|&v| f64::from(v)).sum::<f64>() / (len - bad) as f64;
    let data = image.data.iter().map(|&v| if v.is_finite() { v } else { mean as f32 }).collect();
    Ok(Cow::Owned(Image { width, height, data }))
}

/// The pixel size to work with: the hint, or a guess from the image size.
pub(super) fn assumed_pixel_mm(image: &Image, hint: Option<f64>) -> Result<f64, LocateError> {
    match hint {
        Some(mm) if mm.is_finite() && mm > 0.0 => Ok(mm),
        Some(mm) => Err(LocateError::Hint(mm)),
        None => Ok(ASSUMED_LONG_SIDE_MM / image.width.max(image.height).max(1) as f64),
    }
}

/// Downsample `image` to about `coarse_mm` per pixel, high-pass it and express it in noise σ.
pub(super) fn coarse(image: &Image, pixel_mm: f64, coarse_mm: f64) -> Result<Coarse, LocateError> {
    let too_small = LocateError::TooSmall { width: image.width, height: image.height };
    let factor = ((coarse_mm / pixel_mm).round().clamp(1.0, 1e6)) as usize;
    let small = image.downsample(factor);
    if small.width < MIN_COARSE_SIDE || small.height < MIN_COARSE_SIDE {
        return Err(too_small);
    }
    let nominal_mm = pixel_mm * factor as f64;
    let radius = ((BOX_MM / 2.0 / nominal_mm).round() as usize).max(1);
    let blurred = box_mean(&small, radius);
    let mut high: Vec<f32> = small.data.iter().zip(&blurred).map(|(&v, &b)| v - b).collect();
    let sigma = noise_sigma(&high).ok_or(LocateError::Flat)?;
    for v in &mut high {
        *v = (*v / sigma).clamp(-CLIP_SIGMA, CLIP_SIGMA);
    }
    Ok(Coarse { factor, nominal_mm, high: Image { width: small.width, height: small.height, data: high } })
}

/// The mean over the `(2 radius + 1)²` box around each pixel (the part of the box inside the image).
pub(super) fn box_mean(image: &Image, radius: usize) -> Vec<f32> {
    let (w, h) = (image.width, image.height);
    let stride = w + 1;
    let mut integral = vec![0.0f64; stride * (h + 1)];
    for y in 0..h {
        let mut row_sum = 0.0;
        for x in 0..w {
            row_sum += f64::from(image.data[y * w + x]);
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row_sum;
        }
    }
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
            let sum = integral[y1 * stride + x1] - integral[y0 * stride + x1] - integral[y1 * stride + x0] + integral[y0 * stride + x0];
            out[y * w + x] = (sum / ((y1 - y0) * (x1 - x0)) as f64) as f32;
        }
    }
    out
}

/// A robust noise σ: 1.4826 × the median absolute deviation, or the RMS where most values are identical (noiseless
/// images). `None` when every value is the same.
fn noise_sigma(values: &[f32]) -> Option<f32> {
    let median = median_of(values.to_vec())?;
    let deviations: Vec<f32> = values.iter().map(|&v| (v - median).abs()).collect();
    let mad = median_of(deviations)?;
    if mad > 0.0 && mad.is_finite() {
        return Some(1.4826 * mad);
    }
    let rms = (values.iter().map(|&v| f64::from(v - median).powi(2)).sum::<f64>() / values.len() as f64).sqrt() as f32;
    (rms > 0.0 && rms.is_finite()).then_some(rms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_replaces_nan_and_rejects_mostly_nan() {
        let img = Image::new(2, 2, vec![1.0, f32::NAN, 3.0, f32::INFINITY]).unwrap();
        let clean = finite(&img).unwrap();
        assert!(clean.data.iter().all(|v| v.is_finite()));
        assert!((clean.data[1] - 2.0).abs() < 1e-6);
        let bad = Image::new(2, 1, vec![f32::NAN, f32::NAN]).unwrap();
        assert!(matches!(finite(&bad), Err(LocateError::NonFinite { .. })));
        let wrong = Image { width: 3, height: 3, data: vec![0.0; 4] };
        assert!(matches!(finite(&wrong), Err(LocateError::DataLength { .. })));
    }

    #[test]
    fn box_mean_averages_what_the_box_covers() {
        let img = Image::new(3, 3, (0..9).map(|v| v as f32).collect()).unwrap();
        let m = box_mean(&img, 1);
        assert!((m[4] - 4.0).abs() < 1e-6 && (m[0] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn tiny_and_flat_images_are_errors() {
        let tiny = Image::filled(1, 1, 5.0);
        assert!(matches!(coarse(&tiny, 0.1, 0.4), Err(LocateError::TooSmall { .. })));
        let flat = Image::filled(200, 200, 5.0);
        assert!(matches!(coarse(&flat, 0.4, 0.4), Err(LocateError::Flat)));
    }
}
