//! Gaussian smoothing of row-major `f32` buffers: exact separable filtering for small σ (detector PSF) and a
//! fast approximate low-pass for large σ (scatter, processing) through a downsampled grid.

use rayon::prelude::*;

pub(crate) use crate::imaging::gaussian::gaussian_blur;

/// Approximate Gaussian low-pass with a large `sigma_px`: box-downsample by `factor ≈ σ/4`, blur exactly,
/// upsample bilinearly.
pub(crate) fn low_pass(data: &[f32], width: usize, height: usize, sigma_px: f64) -> Vec<f32> {
    let factor = ((sigma_px / 4.0).floor() as usize).max(1);
    if factor == 1 {
        return gaussian_blur(data, width, height, sigma_px);
    }
    let (w, h) = (width.div_ceil(factor), height.div_ceil(factor));
    let mut small = vec![0.0f32; w * h];
    let mut counts = vec![0.0f32; w * h];
    for (y, row) in data.chunks(width).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            let i = (y / factor) * w + x / factor;
            small[i] += v;
            counts[i] += 1.0;
        }
    }
    for (s, c) in small.iter_mut().zip(&counts) {
        *s /= c.max(1.0);
    }
    let blurred = gaussian_blur(&small, w, h, sigma_px / factor as f64);
    let sample = |gx: f64, gy: f64| -> f32 {
        let gx = gx.clamp(0.0, (w - 1) as f64);
        let gy = gy.clamp(0.0, (h - 1) as f64);
        let (x0, y0) = (gx.floor() as usize, gy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = ((gx - x0 as f64) as f32, (gy - y0 as f64) as f32);
        let top = blurred[y0 * w + x0] * (1.0 - fx) + blurred[y0 * w + x1] * fx;
        let bottom = blurred[y1 * w + x0] * (1.0 - fx) + blurred[y1 * w + x1] * fx;
        top * (1.0 - fy) + bottom * fy
    };
    let mut out = vec![0.0f32; data.len()];
    out.par_chunks_mut(width).enumerate().for_each(|(y, line)| {
        let gy = (y as f64 + 0.5) / factor as f64 - 0.5;
        for (x, o) in line.iter_mut().enumerate() {
            *o = sample((x as f64 + 0.5) / factor as f64 - 0.5, gy);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_preserves_constants_and_mass() {
        let flat = vec![2.0f32; 40 * 30];
        assert!(gaussian_blur(&flat, 40, 30, 1.5).iter().all(|&v| (v - 2.0).abs() < 1e-5));
        assert!(low_pass(&flat, 40, 30, 12.0).iter().all(|&v| (v - 2.0).abs() < 1e-5));
        let mut spike = vec![0.0f32; 41 * 41];
        spike[20 * 41 + 20] = 1.0;
        let b = gaussian_blur(&spike, 41, 41, 2.0);
        assert!((b.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(b[20 * 41 + 20] < 0.05 && b[20 * 41 + 20] > b[20 * 41 + 23]);
    }
}
