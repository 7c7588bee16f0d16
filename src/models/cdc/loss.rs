//! The training loss: the Gaussian negative log-likelihood of the deep-ensemble paper (Lakshminarayanan et al.), which
//! trains µ and σ together.

use candle_core::Tensor;

use crate::models::error::ModelError;

/// Mean over the batch and the 12 outputs of `ln σ + (y − µ)² / (2σ²)` (the constant `½ ln 2π` dropped); `mu`,
/// `sigma` and `target` are `(B, 12)`, `sigma` positive.
pub fn gaussian_nll(mu: &Tensor, sigma: &Tensor, target: &Tensor) -> Result<Tensor, ModelError> {
    if mu.dims() != sigma.dims() || mu.dims() != target.dims() {
        return Err(ModelError::Input(format!(
            "µ {:?}, σ {:?} and the target {:?} must have the same shape",
            mu.dims(),
            sigma.dims(),
            target.dims()
        )));
    }
    let target = target.to_dtype(mu.dtype())?;
    let squared_error = (mu - target)?.sqr()?;
    let variance_term = (squared_error / (sigma.sqr()? * 2.0)?)?;
    Ok((sigma.log()? + variance_term)?.mean_all()?)
}

/// The same loss for one output, in f64 (validation metrics).
pub fn gaussian_nll_scalar(mu: f64, sigma: f64, target: f64) -> f64 {
    sigma.ln() + (target - mu).powi(2) / (2.0 * sigma * sigma)
}

/// `Σ w²` over `weights` (the L2 penalty's sum), a scalar.
pub fn sum_of_squares(weights: &[Tensor]) -> Result<Tensor, ModelError> {
    let mut total: Option<Tensor> = None;
    for w in weights {
        let s = w.sqr()?.sum_all()?;
        total = Some(match total {
            Some(t) => (t + s)?,
            None => s,
        });
    }
    total.ok_or_else(|| ModelError::Input("no weights to regularise".to_owned()))
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    #[test]
    fn matches_the_formula() {
        let mu = Tensor::new(&[[0.5f64, -1.0], [2.0, 0.0]], &Device::Cpu).unwrap();
        let sigma = Tensor::new(&[[1.0f64, 0.5], [2.0, 0.1]], &Device::Cpu).unwrap();
        let y = Tensor::new(&[[0.0f64, -1.0], [1.0, 0.05]], &Device::Cpu).unwrap();
        let loss: f64 = gaussian_nll(&mu, &sigma, &y).unwrap().to_scalar().unwrap();
        let expected = (gaussian_nll_scalar(0.5, 1.0, 0.0)
            + gaussian_nll_scalar(-1.0, 0.5, -1.0)
            + gaussian_nll_scalar(2.0, 2.0, 1.0)
            + gaussian_nll_scalar(0.0, 0.1, 0.05))
            / 4.0;
        assert!((loss - expected).abs() < 1e-12);
        assert!(gaussian_nll(&mu, &sigma, &y.narrow(1, 0, 1).unwrap()).is_err());
    }

    #[test]
    fn gradient_vanishes_at_the_optimum() {
        // ∂/∂µ = 0 at µ = y; ∂/∂σ = 1/σ − (y − µ)²/σ³ = 0 at σ = |y − µ|.
        let y = Tensor::new(&[[0.3f64, -2.0, 1.0]], &Device::Cpu).unwrap();
        let mu = Var::from_tensor(&y).unwrap();
        let sigma = Var::from_tensor(&Tensor::new(&[[0.7f64, 1.3, 0.2]], &Device::Cpu).unwrap()).unwrap();
        let grads = gaussian_nll(mu.as_tensor(), sigma.as_tensor(), &y).unwrap().backward().unwrap();
        let g_mu: Vec<f64> = grads.get(mu.as_tensor()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!(g_mu.iter().all(|g| g.abs() < 1e-15), "{g_mu:?}");

        let mu = Var::from_tensor(&Tensor::new(&[[0.0f64, -1.0, 1.5]], &Device::Cpu).unwrap()).unwrap();
        let sigma = Var::from_tensor(&Tensor::new(&[[0.3f64, 1.0, 0.5]], &Device::Cpu).unwrap()).unwrap();
        let grads = gaussian_nll(mu.as_tensor(), sigma.as_tensor(), &y).unwrap().backward().unwrap();
        let g_sigma: Vec<f64> = grads.get(sigma.as_tensor()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!(g_sigma.iter().all(|g| g.abs() < 1e-12), "{g_sigma:?}");
    }

    #[test]
    fn sum_of_squares_adds_every_tensor() {
        let a = Tensor::new(&[1.0f32, 2.0], &Device::Cpu).unwrap();
        let b = Tensor::new(&[[3.0f32]], &Device::Cpu).unwrap();
        assert!((sum_of_squares(&[a, b]).unwrap().to_scalar::<f32>().unwrap() - 14.0).abs() < 1e-6);
        assert!(sum_of_squares(&[]).is_err());
    }
}
