//! OMIG's outlier removal (Algorithm 1, lines 6–11): gradient components whose z-score exceeds a threshold are zeroed.

use candle_core::{Result, Tensor};

/// Zeroes, per sample, the components of `grad` `(B, …)` whose z-score `|(gᵢ − µ) / σ|` exceeds `t`; `µ` and `σ` are
/// the mean and the (population) standard deviation over that sample's components, since each sample of a batch is
/// its own image.
///
/// Written as `|gᵢ − µ| > t·σ`, so a constant gradient (`σ = 0`) keeps every component, and `t = ∞` keeps all.
/// Stays on the tensor's device: no copy to the CPU.
pub fn clip_outliers(grad: &Tensor, t: f64) -> Result<Tensor> {
    if t.is_infinite() && t > 0.0 {
        return Ok(grad.clone());
    }
    let shape = grad.shape().clone();
    let flat = grad.flatten_from(1)?;
    let centered = flat.broadcast_sub(&flat.mean_keepdim(1)?)?;
    let limit = (centered.sqr()?.mean_keepdim(1)?.sqrt()? * t)?;
    let outlier = centered.abs()?.broadcast_gt(&limit)?;
    outlier.where_cond(&flat.zeros_like()?, &flat)?.reshape(shape)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact zeros and kept values are the point of these tests
mod tests {
    use candle_core::Device;

    use super::*;

    /// Hand computation in f64 of which components have `|z| > t`.
    fn outliers_by_hand(values: &[f32], t: f64) -> Vec<bool> {
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let std = (values.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n).sqrt();
        values.iter().map(|&v| ((f64::from(v) - mean) / std).abs() > t).collect()
    }

    #[test]
    fn zeroes_exactly_the_components_with_large_z_per_sample() {
        // Two samples of 2×10 with different scales and outliers; sample 1's outlier would not be one with sample 0's
        // statistics, and vice versa.
        let mut a: Vec<f32> = (0..20).map(|i| ((i * 7) % 11) as f32 * 0.1).collect();
        a[3] = 9.0;
        a[17] = -6.0;
        let mut b: Vec<f32> = (0..20).map(|i| ((i * 5) % 13) as f32 * 10.0).collect();
        b[8] = 1000.0;
        let values: Vec<f32> = a.iter().chain(&b).copied().collect();
        let grad = Tensor::from_vec(values.clone(), (2, 1, 2, 10), &Device::Cpu).unwrap();
        for t in [1.0, 2.0, 3.0] {
            let clipped = clip_outliers(&grad, t).unwrap();
            assert_eq!(clipped.dims(), [2, 1, 2, 10]);
            let clipped: Vec<f32> = clipped.flatten_all().unwrap().to_vec1().unwrap();
            let expected: Vec<bool> = [outliers_by_hand(&a, t), outliers_by_hand(&b, t)].concat();
            assert!(expected.iter().any(|&o| o), "t = {t}: the fixture should have outliers");
            for ((&v, &c), &o) in values.iter().zip(&clipped).zip(&expected) {
                assert_eq!(c, if o { 0.0 } else { v }, "t = {t}");
            }
        }
    }

    #[test]
    fn constant_and_infinite_threshold_keep_everything() {
        let grad = Tensor::full(0.1f32, (3, 1, 4, 4), &Device::Cpu).unwrap();
        let same = |a: &Tensor, b: &Tensor| {
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap() == b.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        };
        assert!(same(&clip_outliers(&grad, 3.0).unwrap(), &grad));
        let spiky = Tensor::from_vec((0..16).map(|i| if i == 5 { 1e6f32 } else { 0.0 }).collect(), (1, 1, 4, 4), &Device::Cpu).unwrap();
        assert!(same(&clip_outliers(&spiky, f64::INFINITY).unwrap(), &spiky));
        assert!(!same(&clip_outliers(&spiky, 3.0).unwrap(), &spiky));
    }
}
