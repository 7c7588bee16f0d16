//! Cheap stand-in models with known gradients, for tests of this module and of the GUI.

use candle_core::{DType, Device, Result, Tensor};

use super::model::{MidpointModel, autograd_midpoint_and_grad};

/// `midpoint(x) = Σᵢ wᵢ xᵢ + b` per sample; its gradient is `w` everywhere, so OMIG has the closed form
/// `Δx = −c·w` (without clipping). `normalise` is the identity.
#[derive(Debug, Clone)]
pub struct LinearModel {
    /// `(1, 1, side, side)`.
    weight: Tensor,
    bias: f64,
    side: usize,
    device: Device,
}

impl LinearModel {
    /// A model with the given row-major `side × side` weights.
    pub fn new(weights: Vec<f32>, bias: f64, side: usize, device: &Device) -> Result<Self> {
        let weight = Tensor::from_vec(weights, (1, 1, side, side), device)?;
        Ok(Self { weight, bias, side, device: device.clone() })
    }

    /// Every weight equal to `value`.
    pub fn constant(value: f32, bias: f64, side: usize, device: &Device) -> Result<Self> {
        Self::new(vec![value; side * side], bias, side, device)
    }

    /// The weights `(1, 1, side, side)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl MidpointModel for LinearModel {
    fn midpoint(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_mul(&self.weight)?.flatten_from(1)?.sum(1)? + self.bias
    }

    fn midpoint_and_grad(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((self.midpoint(x)?, self.weight.broadcast_as(x.shape())?.contiguous()?))
    }

    fn normalise(&self, raw: &[f32]) -> Vec<f32> {
        raw.to_vec()
    }

    fn input_side(&self) -> usize {
        self.side
    }

    fn device(&self) -> &Device {
        &self.device
    }
}

/// `midpoint(x) = tanh(Σᵢ wᵢ xᵢ + Σᵢ vᵢ xᵢ² + b)` per sample, with fixed pseudo-random `w`, `v` of size about `1/side`:
/// nonlinear, gradient by autograd. `normalise` maps raw values to `raw / 1000`.
#[derive(Debug, Clone)]
pub struct TanhModel {
    linear: Tensor,
    quadratic: Tensor,
    bias: f64,
    side: usize,
    device: Device,
}

impl TanhModel {
    /// A model for `side × side` inputs; `seed` picks the weights.
    pub fn new(side: usize, seed: u64, device: &Device) -> Result<Self> {
        let n = side * side;
        let pattern = |i: usize, salt: f64| {
            let v = ((i as f64 + 1.0) * 0.618_033_988_749_895 + seed as f64 * 0.371 + salt).fract();
            ((2.0 * v - 1.0) / side as f64) as f32
        };
        let linear = Tensor::from_vec((0..n).map(|i| pattern(i, 0.0)).collect::<Vec<_>>(), (1, 1, side, side), device)?;
        let quadratic = Tensor::from_vec((0..n).map(|i| pattern(i, 0.5)).collect::<Vec<_>>(), (1, 1, side, side), device)?;
        Ok(Self { linear, quadratic, bias: 0.1, side, device: device.clone() })
    }
}

impl MidpointModel for TanhModel {
    fn midpoint(&self, x: &Tensor) -> Result<Tensor> {
        let linear = x.broadcast_mul(&self.linear)?;
        let quadratic = x.sqr()?.broadcast_mul(&self.quadratic)?;
        ((linear + quadratic)?.flatten_from(1)?.sum(1)? + self.bias)?.tanh()
    }

    fn midpoint_and_grad(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        autograd_midpoint_and_grad(|x| self.midpoint(x), x)
    }

    fn normalise(&self, raw: &[f32]) -> Vec<f32> {
        raw.iter().map(|v| v / 1000.0).collect()
    }

    fn input_side(&self) -> usize {
        self.side
    }

    fn device(&self) -> &Device {
        &self.device
    }
}

/// A `(B, 1, side, side)` f32 batch with deterministic values in `[0, 1)`.
pub fn sample_batch(batch: usize, side: usize, seed: u64, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> =
        (0..batch * side * side).map(|i| ((i as f64 + 1.0) * 0.754_877_666_246_692_8 + seed as f64 * 0.29).fract() as f32).collect();
    Tensor::from_vec(values, (batch, 1, side, side), device)?.to_dtype(DType::F32)
}
