//! OMIG explainability (the paper's Algorithm 1): walk from `x` down the gradient of the CDC midpoint in `L` steps of
//! `ε = c/L`, zeroing outlier gradient components after the first step; the map is `Δx = x_L − x`.

use candle_core::{DType, Tensor};

use super::clip::clip_outliers;
use super::error::ExplainError;
use super::model::MidpointModel;

/// The parameters of Algorithm 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OmigParams {
    /// Number of steps `L` (paper: 50).
    pub steps: usize,
    /// Path length `c`; the step is `ε = c / L` (paper: 1).
    pub c: f64,
    /// Z-score threshold `t` above which a gradient component is zeroed (paper: 3); `f64::INFINITY` disables it.
    pub z_threshold: f64,
}

impl Default for OmigParams {
    /// The paper's choice: `L = 50`, `c = 1`, `t = 3`.
    fn default() -> Self {
        Self { steps: 50, c: 1.0, z_threshold: 3.0 }
    }
}

impl OmigParams {
    /// Rejects `L = 0`, a non-positive or non-finite `c` and a non-positive `t`.
    pub fn validate(&self) -> Result<(), ExplainError> {
        if self.steps == 0 {
            return Err(ExplainError::Parameter("OMIG needs at least one step".to_owned()));
        }
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(ExplainError::Parameter(format!("OMIG path length c must be positive, got {}", self.c)));
        }
        if self.z_threshold.is_nan() || self.z_threshold <= 0.0 {
            return Err(ExplainError::Parameter(format!("OMIG z-score threshold must be positive, got {}", self.z_threshold)));
        }
        Ok(())
    }
}

/// The OMIG map of a batch and the midpoints at both ends of its path.
#[derive(Debug, Clone)]
pub struct OmigResult {
    /// `Δx = x_L − x`, `(B, 1, H, W)`, in the network's normalised input units.
    pub delta: Tensor,
    /// The midpoint at `x` per sample.
    pub midpoint_start: Vec<f32>,
    /// The midpoint at `x_L` per sample: lower than the start when the step is small enough.
    pub midpoint_end: Vec<f32>,
}

/// Algorithm 1 on a batch `x` `(B, 1, H, W)` of independent images (normalised input), one forward and backward pass
/// for the whole batch per step. `cancelled` is polled before every step.
///
/// `R(x₀)` is used unclipped (the paper clips from `l ≥ 1`); `R(x_{l+1})` is clipped per sample with
/// [`clip_outliers`]. The paper also evaluates `R(x_L)` in its last iteration, which nothing uses: it is skipped, so
/// a run costs `L` gradient evaluations (plus one forward pass for [`OmigResult::midpoint_end`]), not `L + 1`.
/// `Δx` is accumulated as the sum of the steps `−ε R(x_l)`, which equals `x_L − x` but keeps full precision when
/// `|x| ≫ |Δx|`.
pub fn omig(model: &dyn MidpointModel, x: &Tensor, params: &OmigParams, cancelled: &dyn Fn() -> bool) -> Result<OmigResult, ExplainError> {
    params.validate()?;
    x.dims4()?;
    let eps = params.c / params.steps as f64;
    let x = x.detach();
    let (midpoint_start, mut grad) = model.midpoint_and_grad(&x)?;
    let mut delta = x.zeros_like()?;
    for l in 0..params.steps {
        if cancelled() {
            return Err(ExplainError::Cancelled);
        }
        delta = (delta - grad.affine(eps, 0.0)?)?;
        // R(x_L) would be unused: stop after the last step.
        if l + 1 < params.steps {
            let (_, next) = model.midpoint_and_grad(&(&x + &delta)?)?;
            grad = clip_outliers(&next, params.z_threshold)?;
        }
    }
    let midpoint_end = model.midpoint(&(&x + &delta)?)?;
    Ok(OmigResult { delta, midpoint_start: to_vec(&midpoint_start)?, midpoint_end: to_vec(&midpoint_end)? })
}

fn to_vec(midpoints: &Tensor) -> candle_core::Result<Vec<f32>> {
    midpoints.flatten_all()?.to_dtype(DType::F32)?.to_vec1()
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::super::testing::{LinearModel, TanhModel, sample_batch};
    use super::*;

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    /// Weights spread over `[-1, 1]` with no outliers at `t = 3` (a uniform distribution has `|z| ≤ √3`).
    fn spread_weights(n: usize) -> Vec<f32> {
        (0..n).map(|i| (((i as f64 + 0.5) * 0.618_033_988_749_895).fract() * 2.0 - 1.0) as f32).collect()
    }

    #[test]
    fn linear_model_gives_the_closed_form_minus_c_w() {
        let side = 8;
        let weights = spread_weights(side * side);
        let model = LinearModel::new(weights.clone(), 0.5, side, &Device::Cpu).unwrap();
        let x = sample_batch(3, side, 1, &Device::Cpu).unwrap();
        for params in [OmigParams::default(), OmigParams { steps: 7, c: 2.5, z_threshold: f64::INFINITY }] {
            let result = omig(&model, &x, &params, &|| false).unwrap();
            assert_eq!(result.delta.dims(), [3, 1, side, side]);
            let delta = values(&result.delta);
            for (k, d) in delta.iter().enumerate() {
                let expected = -params.c * f64::from(weights[k % (side * side)]);
                assert!((f64::from(*d) - expected).abs() < 1e-5, "{k}: {d} vs {expected}");
            }
            // The midpoint drops by c·Σw².
            let drop = params.c * weights.iter().map(|&w| f64::from(w).powi(2)).sum::<f64>();
            for (start, end) in result.midpoint_start.iter().zip(&result.midpoint_end) {
                assert!((f64::from(start - end) - drop).abs() < 1e-3, "{start} → {end}, expected drop {drop}");
            }
        }
    }

    #[test]
    fn clipping_applies_from_the_second_step_on() {
        // One outlier weight: R(x₀) = w moves it once by −ε·w; from l = 1 on it is zeroed, so it moves only once,
        // while every other component moves L times: Δx = −ε w at the outlier, −c w elsewhere.
        let side = 6;
        let mut weights = spread_weights(side * side);
        weights[10] = 40.0;
        let model = LinearModel::new(weights.clone(), 0.0, side, &Device::Cpu).unwrap();
        let params = OmigParams { steps: 10, c: 1.0, z_threshold: 3.0 };
        let eps = params.c / params.steps as f64;
        let delta = values(&omig(&model, &sample_batch(2, side, 4, &Device::Cpu).unwrap(), &params, &|| false).unwrap().delta);
        for (k, d) in delta.iter().enumerate() {
            let w = f64::from(weights[k % (side * side)]);
            let expected = if k % (side * side) == 10 { -eps * w } else { -params.c * w };
            assert!((f64::from(*d) - expected).abs() < 1e-5, "{k}: {d} vs {expected}");
        }
    }

    #[test]
    fn lowers_the_midpoint_of_a_nonlinear_model() {
        let side = 16;
        let model = TanhModel::new(side, 3, &Device::Cpu).unwrap();
        let x = sample_batch(4, side, 2, &Device::Cpu).unwrap();
        let result = omig(&model, &x, &OmigParams::default(), &|| false).unwrap();
        let direct = values(&model.midpoint(&(&x + &result.delta).unwrap()).unwrap());
        for ((start, end), direct) in result.midpoint_start.iter().zip(&result.midpoint_end).zip(&direct) {
            assert!(end < start, "{start} → {end}");
            assert!((end - direct).abs() < 1e-6);
        }
    }

    #[test]
    fn samples_of_a_batch_are_independent() {
        let side = 12;
        let model = TanhModel::new(side, 1, &Device::Cpu).unwrap();
        let x = sample_batch(3, side, 5, &Device::Cpu).unwrap();
        let batched = values(&omig(&model, &x, &OmigParams::default(), &|| false).unwrap().delta);
        let single = values(&omig(&model, &x.narrow(0, 1, 1).unwrap(), &OmigParams::default(), &|| false).unwrap().delta);
        let n = side * side;
        for (a, b) in batched[n..2 * n].iter().zip(&single) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn cancels_and_rejects_bad_parameters() {
        let model = LinearModel::constant(1.0, 0.0, 4, &Device::Cpu).unwrap();
        let x = sample_batch(1, 4, 0, &Device::Cpu).unwrap();
        assert!(matches!(omig(&model, &x, &OmigParams::default(), &|| true), Err(ExplainError::Cancelled)));
        for params in [
            OmigParams { steps: 0, ..OmigParams::default() },
            OmigParams { c: 0.0, ..OmigParams::default() },
            OmigParams { z_threshold: -1.0, ..OmigParams::default() },
        ] {
            assert!(matches!(omig(&model, &x, &params, &|| false), Err(ExplainError::Parameter(_))));
        }
    }
}
