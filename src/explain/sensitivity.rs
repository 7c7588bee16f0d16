//! Sensitivity analysis (the paper's comparison method [33]): the gradient of the negated CDC midpoint, `−R(x)`.
//!
//! Positive values mark pixels whose brightening lowers the predicted CDC at first order, the same sign convention as
//! OMIG's `Δx`; OMIG with `L = 1` and no clipping is `c · (−R(x))`.

use candle_core::Tensor;

use super::error::ExplainError;
use super::model::MidpointModel;

/// `−R(x)` for a batch `x` `(B, 1, H, W)` of normalised inputs: one forward and backward pass.
pub fn sensitivity(model: &dyn MidpointModel, x: &Tensor) -> Result<Tensor, ExplainError> {
    x.dims4()?;
    let (_, grad) = model.midpoint_and_grad(&x.detach())?;
    Ok(grad.neg()?)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::super::omig::{OmigParams, omig};
    use super::super::testing::{TanhModel, sample_batch};
    use super::*;

    #[test]
    fn is_one_unclipped_omig_step() {
        let model = TanhModel::new(10, 2, &Device::Cpu).unwrap();
        let x = sample_batch(2, 10, 3, &Device::Cpu).unwrap();
        let s: Vec<f32> = sensitivity(&model, &x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let params = OmigParams { steps: 1, c: 1.0, z_threshold: f64::INFINITY };
        let one_step: Vec<f32> = omig(&model, &x, &params, &|| false).unwrap().delta.flatten_all().unwrap().to_vec1().unwrap();
        assert!(s.iter().any(|v| *v != 0.0));
        assert_eq!(s, one_step);
    }
}
