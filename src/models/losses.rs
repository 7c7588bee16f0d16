//! The training losses: binary cross-entropy on the logits, and the two robustness terms of the noise-robust training
//! scheme — the neighbour (feature-stability) loss and the autoencoder's reconstruction loss.
//!
//! The robustness terms use the RMS distance — the L2 norm of the per-sample difference divided by the square root of
//! the number of elements per sample — where the paper's Eq. 1 and Eq. 2 use the plain L2 distance `‖f(x) − f(x′)‖`.
//! The division keeps a term's scale, and so the weight λ that balances it against the cross-entropy, independent of
//! the layer's size (128 × 14² features for compact, 2048 × 7² for resnet50, 224² pixels for a reconstruction).

use candle_core::{D, Tensor};
use rand::Rng;

use super::error::ModelError;

/// `sqrt(v + EPS) − sqrt(EPS)` replaces `sqrt(v)`: exactly 0 at `v = 0`, where `sqrt`'s derivative is infinite (which
/// would turn the gradient into NaN when the noisy copy equals the clean one), and within 1e-6 of `sqrt(v)` elsewhere.
/// `EPS = 2⁻⁴⁰`, whose square root `2⁻²⁰` is exact in f32 and f64, so the difference at 0 is exactly 0.
const RMS_EPS: f64 = 9.094_947_017_729_282e-13;

/// Per-sample binary cross-entropy `(B,)` of logits `z` `(B,)` against 0/1 targets `y` `(B,)`, in the stable form
/// `max(z, 0) − z·y + ln(1 + e^{−|z|})`.
pub fn bce_with_logits_per_sample(logits: &Tensor, targets: &Tensor) -> Result<Tensor, ModelError> {
    if logits.dims() != targets.dims() || logits.rank() != 1 {
        return Err(ModelError::Input(format!("logits {:?} and targets {:?} must both be (B,)", logits.dims(), targets.dims())));
    }
    let targets = targets.to_dtype(logits.dtype())?;
    let soft_plus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    Ok(((logits.relu()? - logits.mul(&targets)?)? + soft_plus)?)
}

/// Mean binary cross-entropy (a scalar) of logits `(B,)` against 0/1 targets `(B,)`.
pub fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> Result<Tensor, ModelError> {
    Ok(bce_with_logits_per_sample(logits, targets)?.mean_all()?)
}

/// RMS of each sample of `diff` `(B, …)` → `(B,)`.
fn rms_per_sample(diff: &Tensor) -> Result<Tensor, ModelError> {
    let mean_square = diff.flatten_from(1)?.sqr()?.mean(D::Minus1)?;
    Ok(((mean_square + RMS_EPS)?.sqrt()? - RMS_EPS.sqrt())?)
}

/// Neighbour loss: the batch mean of the RMS distance between the features of the clean and of the noisy patches
/// (the paper's Eq. 1 with RMS instead of L2 distance, see the module docs). Scalar; 0 when the two are equal.
pub fn neighbor_loss(features_clean: &Tensor, features_noisy: &Tensor) -> Result<Tensor, ModelError> {
    Ok(rms_per_sample(&(features_clean - features_noisy)?)?.mean_all()?)
}

/// Reconstruction loss: the batch mean of `RMS(x − x̂) + RMS(x − x̂′)`, where `x̂` and `x̂′` are the decoder's
/// reconstructions of the clean and of the noisy patch (the paper's Eq. 2, same normalisation). Scalar.
pub fn reconstruction_loss(x: &Tensor, reconstructed_clean: &Tensor, reconstructed_noisy: &Tensor) -> Result<Tensor, ModelError> {
    let clean = rms_per_sample(&(x - reconstructed_clean)?)?;
    let noisy = rms_per_sample(&(x - reconstructed_noisy)?)?;
    Ok((clean + noisy)?.mean_all()?)
}

/// `x` plus independent uniform noise in `[−sigma, sigma]` on every element, freshly drawn from `rng` on each call.
pub fn uniform_noise_like(x: &Tensor, sigma: f32, rng: &mut impl Rng) -> Result<Tensor, ModelError> {
    let sigma = sigma.abs();
    let noise: Vec<f32> = (0..x.elem_count()).map(|_| rng.random_range(-sigma..=sigma)).collect();
    let noise = Tensor::from_vec(noise, x.shape(), x.device())?.to_dtype(x.dtype())?;
    Ok((x + noise)?)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact zeros are what these tests check
mod tests {
    use candle_core::Device;
    use rand::SeedableRng;

    use super::*;

    fn scalar(t: &Tensor) -> f32 {
        t.to_scalar::<f32>().unwrap()
    }

    #[test]
    fn bce_matches_hand_computation() {
        let logits = Tensor::new(&[2.0f32, -1.0, 0.0, 40.0, -40.0], &Device::Cpu).unwrap();
        let targets = Tensor::new(&[1.0f32, 1.0, 0.0, 0.0, 0.0], &Device::Cpu).unwrap();
        let expected = [(1.0 + (-2.0f64).exp()).ln(), (1.0 + 1.0f64.exp()).ln(), 2.0f64.ln(), 40.0, 0.0];
        let per_sample: Vec<f32> = bce_with_logits_per_sample(&logits, &targets).unwrap().to_vec1().unwrap();
        for (got, want) in per_sample.iter().zip(expected) {
            assert!((f64::from(*got) - want).abs() < 1e-5, "{got} vs {want}");
        }
        let mean = expected.iter().sum::<f64>() / 5.0;
        assert!((f64::from(scalar(&bce_with_logits(&logits, &targets).unwrap())) - mean).abs() < 1e-5);
        assert!(bce_with_logits(&logits, &targets.narrow(0, 0, 2).unwrap()).is_err());
    }

    #[test]
    fn robust_terms_vanish_when_noisy_equals_clean() {
        let x = Tensor::randn(0f32, 1.0, (3, 8, 5, 5), &Device::Cpu).unwrap();
        assert_eq!(scalar(&neighbor_loss(&x, &x).unwrap()), 0.0);
        assert_eq!(scalar(&reconstruction_loss(&x, &x, &x).unwrap()), 0.0);
        // And the gradient there is finite (not NaN from sqrt at 0).
        let var = candle_core::Var::from_tensor(&x).unwrap();
        let grads = neighbor_loss(var.as_tensor(), &x).unwrap().backward().unwrap();
        let grad: Vec<f32> = grads.get(var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!(grad.iter().all(|g| *g == 0.0));
    }

    #[test]
    fn robust_terms_are_rms_distances() {
        let a = Tensor::zeros((2, 1, 4, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
        let b = Tensor::cat(
            &[(a.get(0).unwrap() + 3.0).unwrap().unsqueeze(0).unwrap(), (a.get(1).unwrap() - 1.0).unwrap().unsqueeze(0).unwrap()],
            0,
        )
        .unwrap();
        // Sample RMS distances 3 and 1 → mean 2.
        assert!((scalar(&neighbor_loss(&a, &b).unwrap()) - 2.0).abs() < 1e-5);
        // Clean reconstruction off by (3, 1), noisy one exact → (3 + 0 + 1 + 0) / 2.
        assert!((scalar(&reconstruction_loss(&a, &b, &a).unwrap()) - 2.0).abs() < 1e-5);
    }

    #[test]
    fn uniform_noise_is_bounded_and_fresh() {
        let x = Tensor::ones((2, 1, 32, 32), candle_core::DType::F32, &Device::Cpu).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let first = uniform_noise_like(&x, 0.1, &mut rng).unwrap();
        let second = uniform_noise_like(&x, 0.1, &mut rng).unwrap();
        let values: Vec<f32> = first.flatten_all().unwrap().to_vec1().unwrap();
        assert!(values.iter().all(|v| (0.9..=1.1).contains(v)));
        let spread = values.iter().fold(0.0f32, |m, v| m.max((v - 1.0).abs()));
        assert!(spread > 0.09, "noise should cover its range, max |n| = {spread}");
        assert!(scalar(&neighbor_loss(&first, &second).unwrap()) > 0.01);
        assert_eq!(scalar(&neighbor_loss(&uniform_noise_like(&x, 0.0, &mut rng).unwrap(), &x).unwrap()), 0.0);
    }
}
