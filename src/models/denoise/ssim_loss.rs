//! The paper's loss, `MSE + 10·(1 − SSIM)` (mammogram-denoising-anscombe, Sec. 2.2, after Zhao et al.), on
//! candle tensors with gradients: MSE between the true and the estimated noise maps, SSIM (Gaussian window
//! σ = 1.5, 11 × 11, K1 = 0.01, K2 = 0.03, valid pixels only) between the denoised and the noise-free patches.

use candle_core::{DType, Device, Result, Tensor};

use crate::models::compact::conv::conv2d;

/// Weight of `1 − SSIM` in the total loss (the paper's 10).
pub const SSIM_WEIGHT: f64 = 10.0;
const WINDOW: usize = 11;
const SIGMA: f64 = 1.5;

/// The normalised `(1, 1, 11, 11)` Gaussian window.
pub fn gaussian_window(device: &Device) -> Result<Tensor> {
    let r = (WINDOW / 2) as f64;
    let g: Vec<f64> = (0..WINDOW).map(|i| (-((i as f64 - r).powi(2)) / (2.0 * SIGMA * SIGMA)).exp()).collect();
    let sum: f64 = g.iter().sum();
    let w: Vec<f32> = (0..WINDOW * WINDOW).map(|i| (g[i / WINDOW] * g[i % WINDOW] / (sum * sum)) as f32).collect();
    Tensor::from_vec(w, (1, 1, WINDOW, WINDOW), device)
}

/// Mean SSIM of `x` and `y` `(B, 1, H, W)` with per-sample dynamic ranges `range` `(B)`.
pub fn ssim(x: &Tensor, y: &Tensor, range: &Tensor, window: &Tensor) -> Result<Tensor> {
    let blur = |t: &Tensor| conv2d(t, window, 0, 1);
    let (mx, my) = (blur(x)?, blur(y)?);
    let (mx2, my2, mxy) = (mx.sqr()?, my.sqr()?, (&mx * &my)?);
    let vx = (blur(&x.sqr()?)? - &mx2)?;
    let vy = (blur(&y.sqr()?)? - &my2)?;
    let cxy = (blur(&(x * y)?)? - &mxy)?;
    let range = range.to_dtype(x.dtype())?.reshape(((), 1, 1, 1))?;
    let c1 = (range.sqr()? * 0.01f64.powi(2))?;
    let c2 = (range.sqr()? * 0.03f64.powi(2))?;
    let num = ((mxy * 2.0)?.broadcast_add(&c1)? * (cxy * 2.0)?.broadcast_add(&c2)?)?;
    let den = ((mx2 + my2)?.broadcast_add(&c1)? * (vx + vy)?.broadcast_add(&c2)?)?;
    (num / den)?.mean_all()
}

/// The loss parts for one batch: `(total, mse, ssim)`; `denoised = input − estimated noise`.
pub fn denoise_loss(
    estimated_noise: &Tensor,
    true_noise: &Tensor,
    denoised: &Tensor,
    clean: &Tensor,
    range: &Tensor,
    window: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    let mse = (estimated_noise - true_noise)?.sqr()?.mean_all()?;
    let s = ssim(denoised, clean, range, window)?;
    let total = (&mse + ((1.0 - &s.to_dtype(DType::F64)?.to_dtype(mse.dtype())?)? * SSIM_WEIGHT)?)?;
    Ok((total, mse, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::{Image, quality};

    fn tensor(image: &Image) -> Tensor {
        Tensor::from_vec(image.data.clone(), (1, 1, image.height, image.width), &Device::Cpu).unwrap()
    }

    #[test]
    fn matches_the_image_ssim_and_is_one_for_equal_patches() {
        let a = Image::new(40, 40, (0..1600).map(|i| ((i % 40) as f32 * 0.3).sin() * 5.0 + (i / 40) as f32 * 0.1).collect()).unwrap();
        let b = Image { data: a.data.iter().enumerate().map(|(i, v)| v + ((i * 7919) % 13) as f32 * 0.2 - 1.2).collect(), ..a.clone() };
        let w = gaussian_window(&Device::Cpu).unwrap();
        let range = Tensor::new(&[10f32], &Device::Cpu).unwrap();
        let same: f32 = ssim(&tensor(&a), &tensor(&a), &range, &w).unwrap().to_scalar().unwrap();
        assert!((same - 1.0).abs() < 1e-5);
        let s: f32 = ssim(&tensor(&a), &tensor(&b), &range, &w).unwrap().to_scalar().unwrap();
        let reference = quality::ssim(&a, &b, 10.0).unwrap();
        assert!((f64::from(s) - reference).abs() < 0.03, "{s} vs {reference}");
        let zero = Tensor::zeros((1, 1, 40, 40), DType::F32, &Device::Cpu).unwrap();
        let (total, mse, _) = denoise_loss(&zero, &zero, &tensor(&a), &tensor(&a), &range, &w).unwrap();
        assert!(total.to_scalar::<f32>().unwrap().abs() < 1e-4 && mse.to_scalar::<f32>().unwrap() == 0.0);
    }
}
