//! Separable Gaussian smoothing of row-major `f32` buffers (edges clamp): the detector PSF of the simulators, the
//! σ = 1 Anscombe-domain baseline of the denoising benchmark and the denoiser's smooth background.

use rayon::prelude::*;

use super::Image;

/// Separable Gaussian filter with standard deviation `sigma_px` (edges clamp). σ < 0.05 px is a copy.
pub fn gaussian_blur(data: &[f32], width: usize, height: usize, sigma_px: f64) -> Vec<f32> {
    if sigma_px < 0.05 || width == 0 || height == 0 {
        return data.to_vec();
    }
    let radius = (3.0 * sigma_px).ceil() as usize;
    let kernel: Vec<f32> = {
        let k: Vec<f64> = (0..=2 * radius).map(|i| (-((i as f64 - radius as f64).powi(2)) / (2.0 * sigma_px * sigma_px)).exp()).collect();
        let sum: f64 = k.iter().sum();
        k.iter().map(|&v| (v / sum) as f32).collect()
    };
    let tap = |src: &[f32], len: usize, stride: usize, i: usize| -> f32 {
        kernel
            .iter()
            .enumerate()
            .map(|(k, &w)| {
                let j = (i + k).saturating_sub(radius).min(len - 1);
                w * src[j * stride]
            })
            .sum()
    };
    let mut rows = vec![0.0f32; data.len()];
    rows.par_chunks_mut(width).enumerate().for_each(|(y, out)| {
        let src = &data[y * width..(y + 1) * width];
        for (x, o) in out.iter_mut().enumerate() {
            *o = tap(src, width, 1, x);
        }
    });
    let mut out = vec![0.0f32; data.len()];
    out.par_chunks_mut(width).enumerate().for_each(|(y, line)| {
        for (x, o) in line.iter_mut().enumerate() {
            *o = tap(&rows[x..], height, width, y);
        }
    });
    out
}

/// [`gaussian_blur`] of an image.
#[must_use]
pub fn blur_image(image: &Image, sigma_px: f64) -> Image {
    Image { width: image.width, height: image.height, data: gaussian_blur(&image.data, image.width, image.height, sigma_px) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_constants_and_the_mean_and_spreads_an_impulse() {
        let flat = gaussian_blur(&[3.0; 20 * 10], 20, 10, 2.0);
        assert!(flat.iter().all(|v| (v - 3.0).abs() < 1e-5));
        let mut impulse = vec![0.0f32; 41 * 41];
        impulse[20 * 41 + 20] = 1.0;
        let out = gaussian_blur(&impulse, 41, 41, 2.0);
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        // Second moment along x is σ².
        let var: f32 = out.iter().enumerate().map(|(i, v)| v * ((i % 41) as f32 - 20.0).powi(2)).sum();
        assert!((var - 4.0).abs() < 0.05, "{var}");
        assert_eq!(gaussian_blur(&impulse, 41, 41, 0.0), impulse);
    }
}
