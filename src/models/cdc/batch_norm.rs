//! `BatchNorm2d` (torch semantics: eps 1e-5, momentum 0.1, unbiased running variance) whose backward pass is cheap on
//! the CPU, and the conv + batch norm + `ReLU` layer built on it.
//!
//! candle-nn's `BatchNorm` back-propagates through broadcast operations on `(1, C, 1, 1)` operands, whose gradients
//! candle sums over the axes `(0, 2, 3)` at once — about 1.2 s of a 1.8 s backward pass of this network's first layer at
//! batch 32. Here the layer is `x · scale[c] + shift[c]`, with `scale` and `shift` computed from per-channel statistics
//! summed one axis at a time, and the two per-channel operations carry their own gradients. Tensor names
//! (`weight`, `bias`, `running_mean`, `running_var`) and values match candle-nn's layer, which the tests compare with.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, Var};
use candle_nn::{Init, Module, VarBuilder};

use crate::models::compact::conv::{Conv2d, ConvSpec, add_channel_bias};

/// Added to the variance.
const EPS: f64 = 1e-5;
/// Weight of the new batch statistic in the running averages.
const MOMENTUM: f64 = 0.1;

/// Batch normalisation over the channels of `(B, C, H, W)`.
#[derive(Debug, Clone)]
pub struct FastBatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
}

impl FastBatchNorm {
    /// Builds the layer from `vb` (`weight` 1, `bias` 0, `running_mean` 0, `running_var` 1 when initialised).
    pub fn new(channels: usize, vb: &VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(channels, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(channels, "bias", Init::Const(0.0))?,
            running_mean: Var::from_tensor(&vb.get_with_hints(channels, "running_mean", Init::Const(0.0))?)?,
            running_var: Var::from_tensor(&vb.get_with_hints(channels, "running_var", Init::Const(1.0))?)?,
        })
    }

    /// Normalises with the batch statistics (and updates the running ones) when `train`, else with the running ones.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (b, _, h, w) = x.dims4()?;
        let (mean, var) = if train {
            let n = (b * h * w) as f64;
            if n < 2.0 {
                candle_core::bail!("batch norm needs more than one value per channel in training");
            }
            let flat = x.flatten_from(2)?;
            let mean = (flat.sum(2)?.sum(0)? / n)?;
            let mean_sq = (flat.sqr()?.sum(2)?.sum(0)? / n)?;
            let var = (mean_sq - mean.sqr()?)?.relu()?;
            let rm = ((self.running_mean.as_tensor() * (1.0 - MOMENTUM))? + (mean.detach() * MOMENTUM)?)?;
            let rv = ((self.running_var.as_tensor() * (1.0 - MOMENTUM))? + (var.detach() * (MOMENTUM * n / (n - 1.0)))?)?;
            self.running_mean.set(&rm)?;
            self.running_var.set(&rv)?;
            (mean, var)
        } else {
            (self.running_mean.as_tensor().clone(), self.running_var.as_tensor().clone())
        };
        let scale = (&self.weight / (var + EPS)?.sqrt()?)?;
        let shift = (&self.bias - (mean * &scale)?)?;
        add_channel_bias(&channel_scale(x, &scale)?, &shift)
    }
}

/// `x · scale[c]` on `(B, C, H, W)`; on the CPU the scale's gradient is summed one axis at a time.
pub fn channel_scale(x: &Tensor, scale: &Tensor) -> Result<Tensor> {
    let scale_map = scale.reshape((1, (), 1, 1))?;
    if !x.device().is_cpu() || !(x.track_op() || scale.track_op()) {
        return x.broadcast_mul(&scale_map);
    }
    let product = x.detach().broadcast_mul(&scale_map.detach())?.contiguous()?;
    x.apply_op3(scale, &product, ScaleBackward)
}

/// Carries the precomputed product (third argument) and back-propagates to `x` (first) and the scale (second).
struct ScaleBackward;

impl CustomOp3 for ScaleBackward {
    fn name(&self) -> &'static str {
        "channel-scale-cpu-backward"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        product: &CpuStorage,
        layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        crate::models::compact::conv::copy_contiguous(product, layout)
    }

    fn bwd(
        &self,
        x: &Tensor,
        scale: &Tensor,
        _: &Tensor,
        _: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad_x = grad.broadcast_mul(&scale.detach().reshape((1, (), 1, 1))?)?;
        let grad_scale = (grad * x.detach())?.flatten_from(2)?.sum(2)?.sum(0)?;
        Ok((Some(grad_x), Some(grad_scale), None))
    }
}

/// 3 × 3 conv (no bias, padding 1) → [`FastBatchNorm`] → `ReLU`, with tensors `{prefix}.conv.weight` and `{prefix}.bn.*`
/// (the names of [`crate::models::compact::ConvBnRelu`]).
#[derive(Debug, Clone)]
pub struct ConvBnRelu3 {
    conv: Conv2d,
    bn: FastBatchNorm,
}

impl ConvBnRelu3 {
    /// Builds the layer.
    pub fn new(c_in: usize, c_out: usize, vb: &VarBuilder) -> Result<Self> {
        let conv = Conv2d::new(c_in, c_out, ConvSpec { kernel: 3, stride: 1, padding: 1, bias: false }, &vb.pp("conv"))?;
        Ok(Self { conv, bn: FastBatchNorm::new(c_out, &vb.pp("bn"))? })
    }

    /// Runs the layer; `train` selects batch statistics (updating the running ones).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.bn.forward_t(&self.conv.forward(x)?, train)?.relu()
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::{ModuleT, VarMap};

    use super::*;
    use crate::models::pool::fd::{seeded_init, spread};

    /// The same seeded values in a candle-nn `BatchNorm` and a [`FastBatchNorm`].
    fn pair() -> (VarMap, candle_nn::BatchNorm, VarMap, FastBatchNorm) {
        let (reference_map, fast_map) = (VarMap::new(), VarMap::new());
        let reference = candle_nn::batch_norm(
            3,
            crate::models::compact::bn_config(),
            VarBuilder::from_varmap(&reference_map, DType::F64, &Device::Cpu).pp("bn"),
        )
        .unwrap();
        let fast = FastBatchNorm::new(3, &VarBuilder::from_varmap(&fast_map, DType::F64, &Device::Cpu).pp("bn")).unwrap();
        seeded_init(&reference_map, 5).unwrap();
        seeded_init(&fast_map, 5).unwrap();
        (reference_map, reference, fast_map, fast)
    }

    fn values(varmap: &VarMap, name: &str) -> Vec<f64> {
        varmap.data().lock().unwrap()[name].as_tensor().to_vec1().unwrap()
    }

    fn grads(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, varmap: &VarMap) -> Vec<Vec<f64>> {
        let input = Var::from_tensor(x).unwrap();
        let store = f(input.as_tensor()).backward().unwrap();
        let data = varmap.data().lock().unwrap();
        [input.as_tensor(), data["bn.weight"].as_tensor(), data["bn.bias"].as_tensor()]
            .into_iter()
            .map(|t| store.get(t).unwrap().flatten_all().unwrap().to_vec1().unwrap())
            .collect()
    }

    #[test]
    fn matches_candle_nn_in_values_gradients_and_running_statistics() {
        let x = (spread(&[2, 3, 5, 4], 1).unwrap() * 3.0).unwrap().affine(1.0, 0.7).unwrap();
        let weights = spread(&[2, 3, 5, 4], 2).unwrap();
        for train in [false, true] {
            let (reference_map, reference, fast_map, fast) = pair();
            let a: Vec<f64> = reference.forward_t(&x, train).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let b: Vec<f64> = fast.forward_t(&x, train).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-12), "train {train}");
            for name in ["bn.running_mean", "bn.running_var"] {
                let (a, b) = (values(&reference_map, name), values(&fast_map, name));
                assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-12), "{name}");
            }
            let ga = grads(|x| reference.forward_t(x, train).unwrap().mul(&weights).unwrap().sum_all().unwrap(), &x, &reference_map);
            let gb = grads(|x| fast.forward_t(x, train).unwrap().mul(&weights).unwrap().sum_all().unwrap(), &x, &fast_map);
            for (a, b) in ga.iter().zip(&gb) {
                assert!(a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-10), "gradients, train {train}: {a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn layer_names_match_the_compact_layer() {
        let varmap = VarMap::new();
        ConvBnRelu3::new(1, 8, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu).pp("conv.0")).unwrap();
        let mut names: Vec<String> = varmap.data().lock().unwrap().keys().cloned().collect();
        names.sort();
        assert_eq!(names, ["conv.0.bn.bias", "conv.0.bn.running_mean", "conv.0.bn.running_var", "conv.0.bn.weight", "conv.0.conv.weight"]);
    }
}
