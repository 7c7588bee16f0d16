//! Full-reference image quality, as the denoising paper reports it (mammogram-denoising-anscombe, Table 1): PSNR,
//! SSIM and `σ_image`, the noise left in a flat region.
//!
//! Conventions (stated in the model card):
//! - Images are compared on the reference's scale: `data_range` is the reference's p0.5–p99.5 spread (robust to a few
//!   saturated pixels), so the numbers do not depend on the stored bit depth.
//! - SSIM is Wang et al. (2004): Gaussian window σ = 1.5 px, K1 = 0.01, K2 = 0.03, averaged over the pixels at least
//!   5 px from the border (as scikit-image's `gaussian_weights=True` crops).
//! - `σ_image` is the standard deviation, in units of `data_range`, inside the 32 × 32 block where the reference is
//!   flattest (smallest plane-detrended variance among blocks inside the object); the same block is used for every
//!   image compared with that reference.
//!
//! ```
//! use mammoscope::imaging::{Image, quality};
//! let a = Image::new(16, 16, (0..256).map(|i| i as f32).collect()).unwrap();
//! assert!(quality::psnr(&a, &a, 255.0).unwrap().is_infinite());
//! assert!((quality::ssim(&a, &a, 255.0).unwrap() - 1.0).abs() < 1e-9);
//! ```

use super::Image;
use super::gaussian::gaussian_blur;

/// Side of the block `σ_image` is measured in.
pub const FLAT_BLOCK: usize = 32;
const SSIM_SIGMA: f64 = 1.5;
const SSIM_BORDER: usize = 5;

/// Why two images cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum QualityError {
    #[error("images differ in size: {0}×{1} and {2}×{3}")]
    Size(usize, usize, usize, usize),
    #[error("image of {0}×{1} is too small to compare (need at least {2} px on each side)")]
    TooSmall(usize, usize, usize),
    #[error("the data range must be positive and finite")]
    Range,
}

fn check(a: &Image, b: &Image, data_range: f64, min_side: usize) -> Result<(), QualityError> {
    if (a.width, a.height) != (b.width, b.height) {
        return Err(QualityError::Size(a.width, a.height, b.width, b.height));
    }
    if a.width < min_side || a.height < min_side {
        return Err(QualityError::TooSmall(a.width, a.height, min_side));
    }
    if !(data_range.is_finite() && data_range > 0.0) {
        return Err(QualityError::Range);
    }
    Ok(())
}

/// Mean squared difference.
pub fn mse(reference: &Image, test: &Image) -> Result<f64, QualityError> {
    check(reference, test, 1.0, 1)?;
    let sum: f64 = reference.data.iter().zip(&test.data).map(|(&r, &t)| (f64::from(r) - f64::from(t)).powi(2)).sum();
    Ok(sum / reference.data.len() as f64)
}

/// Peak signal-to-noise ratio in dB, `10·log10(L² / MSE)` (infinite for identical images).
pub fn psnr(reference: &Image, test: &Image, data_range: f64) -> Result<f64, QualityError> {
    check(reference, test, data_range, 1)?;
    Ok(10.0 * (data_range * data_range / mse(reference, test)?).log10())
}

/// The robust dynamic range of a reference: its p99.5 − p0.5 (at least 1e-6).
pub fn data_range(reference: &Image) -> f64 {
    let mut v = reference.data.clone();
    if v.is_empty() {
        return 1.0;
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f64| f64::from(v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]);
    (at(0.995) - at(0.005)).max(1e-6)
}

/// Mean SSIM (see the module docs for the window and constants).
pub fn ssim(reference: &Image, test: &Image, data_range: f64) -> Result<f64, QualityError> {
    check(reference, test, data_range, 2 * SSIM_BORDER + 1)?;
    let map = ssim_map(reference, test, data_range);
    let (w, h) = (reference.width, reference.height);
    let (mut sum, mut n) = (0.0, 0usize);
    for y in SSIM_BORDER..h - SSIM_BORDER {
        for x in SSIM_BORDER..w - SSIM_BORDER {
            sum += f64::from(map[y * w + x]);
            n += 1;
        }
    }
    Ok(sum / n as f64)
}

/// Per-pixel SSIM (Gaussian-windowed local statistics).
fn ssim_map(a: &Image, b: &Image, data_range: f64) -> Vec<f32> {
    let (w, h) = (a.width, a.height);
    // Centre on the reference mean so the f32 second moments do not lose precision on 14-bit values (added back for the
    // luminance term, so the result is SSIM of the raw values).
    let centre = a.data.iter().map(|&v| f64::from(v)).sum::<f64>() / a.data.len() as f64;
    let x: Vec<f32> = a.data.iter().map(|&v| (f64::from(v) - centre) as f32).collect();
    let y: Vec<f32> = b.data.iter().map(|&v| (f64::from(v) - centre) as f32).collect();
    let blur = |d: &[f32]| gaussian_blur(d, w, h, SSIM_SIGMA);
    let mx = blur(&x);
    let my = blur(&y);
    let xx = blur(&x.iter().map(|v| v * v).collect::<Vec<_>>());
    let yy = blur(&y.iter().map(|v| v * v).collect::<Vec<_>>());
    let xy = blur(&x.iter().zip(&y).map(|(p, q)| p * q).collect::<Vec<_>>());
    let c1 = (0.01 * data_range).powi(2);
    let c2 = (0.03 * data_range).powi(2);
    (0..w * h)
        .map(|i| {
            let (mx, my) = (f64::from(mx[i]), f64::from(my[i]));
            let vx = f64::from(xx[i]) - mx * mx;
            let vy = f64::from(yy[i]) - my * my;
            let cxy = f64::from(xy[i]) - mx * my;
            // The (co)variances do not depend on the centring; the luminance term uses the means of the raw values.
            let (ux, uy) = (mx + centre, my + centre);
            (((2.0 * ux * uy + c1) * (2.0 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))) as f32
        })
        .collect()
}

/// Top-left corner of the flattest [`FLAT_BLOCK`]² block of `reference` (least plane-detrended variance) among blocks
/// with no pixel at the image minimum (background); `None` when the image is smaller than a block.
pub fn flattest_block(reference: &Image) -> Option<[usize; 2]> {
    let (w, h) = (reference.width, reference.height);
    if w < FLAT_BLOCK || h < FLAT_BLOCK {
        return None;
    }
    let min = reference.data.iter().copied().fold(f32::INFINITY, f32::min);
    let mut best: Option<(f64, [usize; 2])> = None;
    let step = FLAT_BLOCK / 2;
    for y0 in (0..=h - FLAT_BLOCK).step_by(step) {
        for x0 in (0..=w - FLAT_BLOCK).step_by(step) {
            let block = crop(reference, x0, y0, FLAT_BLOCK);
            if block.iter().any(|&v| v <= min) && best.is_some() {
                continue;
            }
            let var = detrended_variance(&block, FLAT_BLOCK);
            if best.is_none_or(|(b, _)| var < b) {
                best = Some((var, [x0, y0]));
            }
        }
    }
    best.map(|(_, corner)| corner)
}

/// `σ_image`: the standard deviation of `image` inside the block at `corner`, divided by `data_range`.
pub fn sigma_in_block(image: &Image, corner: [usize; 2], data_range: f64) -> f64 {
    let block = crop(image, corner[0], corner[1], FLAT_BLOCK);
    let n = block.len() as f64;
    let mean = block.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    (block.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / data_range
}

fn crop(image: &Image, x0: usize, y0: usize, side: usize) -> Vec<f32> {
    (0..side).flat_map(|dy| image.data[(y0 + dy) * image.width + x0..][..side].iter().copied()).collect()
}

/// Variance of the residual after a least-squares plane (smooth gradients are not noise).
fn detrended_variance(block: &[f32], side: usize) -> f64 {
    let c = (side as f64 - 1.0) / 2.0;
    let sxx = side as f64 * (0..side).map(|i| (i as f64 - c).powi(2)).sum::<f64>();
    let (mut sum, mut sum_sq, mut sx, mut sy) = (0.0, 0.0, 0.0, 0.0);
    for (i, &v) in block.iter().enumerate() {
        let v = f64::from(v);
        sum += v;
        sum_sq += v * v;
        sx += ((i % side) as f64 - c) * v;
        sy += ((i / side) as f64 - c) * v;
    }
    let n = block.len() as f64;
    ((sum_sq - sum * sum / n) - sx * sx / sxx - sy * sy / sxx).max(0.0) / (n - 3.0)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use rand_distr::{Distribution as _, Normal};

    use super::*;

    fn noisy(base: &Image, sigma: f64, seed: u64) -> Image {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let n = Normal::new(0.0, sigma).unwrap();
        Image { data: base.data.iter().map(|&v| v + n.sample(&mut rng) as f32).collect(), ..base.clone() }
    }

    fn ramp() -> Image {
        Image::new(64, 48, (0..64 * 48).map(|i| ((i % 64) * 2 + (i / 64)) as f32 + 100.0).collect()).unwrap()
    }

    #[test]
    fn psnr_of_known_noise() {
        let a = ramp();
        let b = noisy(&a, 2.0, 1);
        // MSE ≈ 4, L = 100 → 10·log10(10⁴ / 4) ≈ 33.98 dB.
        let p = psnr(&a, &b, 100.0).unwrap();
        assert!((p - 33.98).abs() < 0.3, "{p}");
        assert!(psnr(&a, &Image::filled(3, 3, 0.0), 1.0).is_err());
        assert!(psnr(&a, &a, 0.0).is_err());
    }

    #[test]
    fn ssim_falls_with_noise_and_is_symmetric_in_range() {
        let a = ramp();
        let s1 = ssim(&a, &noisy(&a, 2.0, 1), 100.0).unwrap();
        let s2 = ssim(&a, &noisy(&a, 8.0, 1), 100.0).unwrap();
        assert!(s1 < 1.0 && s2 < s1, "{s1} {s2}");
        // A constant offset lowers only the luminance term.
        let shifted = Image { data: a.data.iter().map(|v| v + 1.0).collect(), ..a.clone() };
        let s3 = ssim(&a, &shifted, 100.0).unwrap();
        assert!(s3 > 0.99 && s3 < 1.0 - 1e-9, "{s3}");
    }

    #[test]
    fn flattest_block_and_sigma() {
        // Left half: a flat field with noise σ 1; right half: strong structure.
        let mut img = Image::new(128, 64, vec![0.0; 128 * 64]).unwrap();
        for y in 0..64 {
            for x in 0..128 {
                img.data[y * 128 + x] = if x < 64 { 500.0 } else { 500.0 + 200.0 * ((x as f32) * 0.7).sin() };
            }
        }
        let img = noisy(&img, 1.0, 3);
        let corner = flattest_block(&img).unwrap();
        assert!(corner[0] + FLAT_BLOCK <= 64, "{corner:?}");
        let s = sigma_in_block(&img, corner, 10.0);
        assert!((s - 0.1).abs() < 0.01, "{s}");
        assert_eq!(flattest_block(&Image::filled(8, 8, 1.0)), None);
    }

    #[test]
    fn robust_range() {
        let mut a = ramp();
        a.data[0] = 1e6; // one hot pixel does not set the range
        let r = data_range(&a);
        assert!(r < 250.0 && r > 100.0, "{r}");
    }
}
