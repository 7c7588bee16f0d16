//! Gradients of the classification loss with respect to the input patch, and the FGSM adversarial example built from
//! them (Goodfellow et al., "Explaining and Harnessing Adversarial Examples", ICLR 2015).

use candle_core::{Tensor, Var};

use super::calc_net::CalcNet;
use super::error::ModelError;
use super::losses::bce_with_logits_per_sample;

/// `∂ BCE(logits(x), targets) / ∂x` in evaluation mode, same shape as `x` `(B, 1, H, W)`.
///
/// The per-sample losses are summed, not averaged, so each patch's gradient is that of its own loss whatever the batch
/// size. `targets` are 0/1 per patch, `(B,)`.
pub fn input_gradient(net: &CalcNet, x: &Tensor, targets: &Tensor) -> Result<Tensor, ModelError> {
    let input = Var::from_tensor(&x.detach())?;
    let loss = bce_with_logits_per_sample(&net.logits(input.as_tensor())?, targets)?.sum_all()?;
    let grads = loss.backward()?;
    let grad = grads.get(input.as_tensor()).ok_or_else(|| ModelError::Input("the loss does not depend on the input".to_owned()))?;
    Ok(grad.detach())
}

/// The fast-gradient-sign adversarial example `x + eps · sign(∂ loss / ∂x)`.
pub fn fgsm(net: &CalcNet, x: &Tensor, targets: &Tensor, eps: f64) -> Result<Tensor, ModelError> {
    let step = (input_gradient(net, x, targets)?.sign()? * eps)?;
    Ok((x.detach() + step)?)
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};

    use super::super::pool::fd::{relative_gradient_error, seeded_init, spread};
    use super::super::preset::CalcPreset;
    use super::*;

    /// A seeded random-weight compact net in f64 whose batch-norm statistics are not the identity.
    fn small_net() -> CalcNet {
        let varmap = VarMap::new();
        let net = CalcNet::new(CalcPreset::Compact, false, VarBuilder::from_varmap(&varmap, DType::F64, &Device::Cpu)).unwrap();
        seeded_init(&varmap, 5).unwrap();
        // One training-mode pass moves the running statistics away from (0, 1).
        net.forward_all(&spread(&[4, 1, 32, 32], 9).unwrap(), true).unwrap();
        net
    }

    #[test]
    fn input_gradient_matches_finite_differences() {
        let net = small_net();
        let x = spread(&[2, 1, 32, 32], 3).unwrap();
        let targets = Tensor::new(&[1.0f64, 0.0], &Device::Cpu).unwrap();
        let loss = |x: &Tensor| -> candle_core::Result<Tensor> {
            let logits = net.logits(x).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
            bce_with_logits_per_sample(&logits, &targets).map_err(|e| candle_core::Error::Msg(e.to_string()))?.sum_all()
        };
        let grad = input_gradient(&net, &x, &targets).unwrap();
        assert_eq!(grad.dims(), x.dims());
        let pixels = [0, 33, 500, 1023, 1024 + 17, 1024 + 600, 2047];
        let err = relative_gradient_error(loss, &x, Some(&pixels), 1e-6).unwrap();
        assert!(err < 1e-3, "relative error {err}");
    }

    #[test]
    fn fgsm_moves_every_pixel_by_eps_and_raises_the_loss() {
        let net = small_net();
        let x = spread(&[2, 1, 32, 32], 5).unwrap();
        let targets = Tensor::new(&[0.0f64, 1.0], &Device::Cpu).unwrap();
        let adversarial = fgsm(&net, &x, &targets, 0.01).unwrap();
        let moved: Vec<f64> = (&adversarial - &x).unwrap().abs().unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!(moved.iter().all(|d| *d == 0.0 || (d - 0.01).abs() < 1e-12));
        let loss = |x: &Tensor| {
            bce_with_logits_per_sample(&net.logits(x).unwrap(), &targets).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap()
        };
        assert!(loss(&adversarial) > loss(&x));
    }
}
