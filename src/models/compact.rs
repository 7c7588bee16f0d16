//! The default microcalcification patch classifier, "compact": a fixed speck-contrast channel
//! ([`super::speck_contrast`]), seven conv + batch-norm + `ReLU` layers, global max pooling, one linear output.
//!
//! | layer    | conv                | output for a 224² patch |
//! |----------|---------------------|-------------------------|
//! | front    | patch + speck contrast (fixed) | 2 × 224²     |
//! | `enc.0`  | 5×5 s2 p2, 2→16     | 16 × 112²               |
//! | `enc.1`  | 3×3 s2 p1, 16→32    | 32 × 56²                |
//! | `enc.2`  | 3×3 s1 p1, 32→32    | 32 × 56²                |
//! | `enc.3`  | 3×3 s2 p1, 32→64    | 64 × 28² (encoder)      |
//! | `head.0` | 3×3 s1 p1, 64→64    | 64 × 28²                |
//! | `head.1` | 3×3 s2 p1, 64→128   | 128 × 14²               |
//! | `head.2` | 3×3 s1 p1, 128→128  | 128 × 14² (features)    |
//! | `fc`     | global max 128 → 1  | logit                   |
//!
//! Convs have no bias; each is followed by `BatchNorm2d` (eps 1e-5, momentum 0.1, torch semantics) and `ReLU`. Tensor names
//! (`enc.0.conv.weight`, `enc.0.bn.running_mean`, …, `fc.bias`) are those of the torch mirror of this spec.
//!
//! Pooling is the maximum only: "does the patch hold a speck anywhere" is a multiple-instance question, and the mean
//! of an earlier version let the network score the tissue around the specks instead of the specks.

use candle_core::{Result, Tensor};
use candle_nn::{BatchNorm, BatchNormConfig, Linear, Module, ModuleT, VarBuilder};

use super::pool::global_max;
use super::speck_contrast::with_contrast_channel;
use conv::nhwc::{self, NhwcConv};
use conv::{Conv2d, ConvSpec};

pub mod conv;

/// `(in channels, out channels, kernel, stride)` of the encoder layers `enc.*`.
const ENCODER: [(usize, usize, usize, usize); 4] = [(2, 16, 5, 2), (16, 32, 3, 2), (32, 32, 3, 1), (32, 64, 3, 2)];
/// `(in channels, out channels, kernel, stride)` of the head layers `head.*`.
const HEAD: [(usize, usize, usize, usize); 3] = [(64, 64, 3, 1), (64, 128, 3, 2), (128, 128, 3, 1)];

/// torch `BatchNorm2d` defaults: eps 1e-5, momentum 0.1, affine.
pub(crate) fn bn_config() -> BatchNormConfig {
    BatchNormConfig { eps: 1e-5, remove_mean: true, affine: true, momentum: 0.1 }
}

/// A bias-free conv layer with torch's `(out, in, k, k)` weight layout.
pub(crate) fn conv_no_bias(c_in: usize, c_out: usize, kernel: usize, stride: usize, padding: usize, vb: &VarBuilder) -> Result<Conv2d> {
    Conv2d::new(c_in, c_out, ConvSpec { kernel, stride, padding, bias: false }, vb)
}

/// conv (no bias, "same" padding) → `BatchNorm2d` → `ReLU`, with tensors `{prefix}.conv.*` and `{prefix}.bn.*`.
#[derive(Debug, Clone)]
pub struct ConvBnRelu {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBnRelu {
    /// Builds the layer; the padding is `kernel / 2`.
    pub fn new(c_in: usize, c_out: usize, kernel: usize, stride: usize, vb: &VarBuilder) -> Result<Self> {
        let conv = conv_no_bias(c_in, c_out, kernel, stride, kernel / 2, &vb.pp("conv"))?;
        let bn = candle_nn::batch_norm(c_out, bn_config(), vb.pp("bn"))?;
        Ok(Self { conv, bn })
    }

    /// Runs the layer; `train` selects batch statistics (and updates the running ones) instead of the running ones.
    /// In evaluation the batch norm is folded into the conv (one bias pass instead of four elementwise passes).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if train {
            return self.bn.forward_t(&self.conv.forward(x)?, true)?.relu();
        }
        let (scale, shift) = eval_affine(&self.bn)?;
        self.conv.forward_affine(x, &scale, &shift)?.relu()
    }

    /// The layer in evaluation mode as an NHWC conv with batch norm folded in, without its `ReLU` (the next layer, or
    /// the pooling, applies it).
    pub fn nhwc(&self) -> Result<NhwcConv> {
        let (scale, shift) = eval_affine(&self.bn)?;
        self.conv.nhwc_affine(&scale, &shift)
    }
}

/// Evaluation-mode batch norm as `scale · x + shift` per channel: `scale = γ / √(var + ε)`, `shift = β − mean · scale`.
pub(crate) fn eval_affine(bn: &BatchNorm) -> Result<(Tensor, Tensor)> {
    let scale = (bn.running_var() + bn.eps())?.sqrt()?.recip()?;
    let Some((gamma, beta)) = bn.weight_and_bias() else {
        let shift = (bn.running_mean() * &scale)?.neg()?;
        return Ok((scale, shift));
    };
    let scale = (gamma * &scale)?;
    let shift = (beta - (bn.running_mean() * &scale)?)?;
    Ok((scale, shift))
}

/// The "compact" network, split where [`super::calc_net::CalcNet`] needs its intermediate outputs.
#[derive(Debug, Clone)]
pub struct CompactNet {
    encoder: Vec<ConvBnRelu>,
    head: Vec<ConvBnRelu>,
    fc: Linear,
}

impl CompactNet {
    /// Channels of the encoder output.
    pub const ENCODER_CHANNELS: usize = 64;
    /// Channels of the feature map.
    pub const FEATURE_CHANNELS: usize = 128;

    /// Builds the network from (or, with a `VarMap` builder, initialises it into) `vb`.
    pub fn new(vb: &VarBuilder) -> Result<Self> {
        let stack = |prefix: &str, spec: &[(usize, usize, usize, usize)]| {
            let vb = vb.pp(prefix);
            spec.iter()
                .enumerate()
                .map(|(i, &(c_in, c_out, k, s))| ConvBnRelu::new(c_in, c_out, k, s, &vb.pp(i.to_string())))
                .collect::<Result<Vec<_>>>()
        };
        let encoder = stack("enc", &ENCODER)?;
        let head = stack("head", &HEAD)?;
        let fc = candle_nn::linear(Self::FEATURE_CHANNELS, 1, vb.pp("fc"))?;
        Ok(Self { encoder, head, fc })
    }

    /// `(B, 1, H, W)` → encoder output `(B, 64, H/8, W/8)`: the speck-contrast channel is added first.
    pub fn encode(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let input = with_contrast_channel(x)?;
        self.encoder.iter().try_fold(input, |x, layer| layer.forward_t(&x, train))
    }

    /// Encoder output → features `(B, 128, H/16, W/16)`, the last conv layer's output.
    pub fn features(&self, encoded: &Tensor, train: bool) -> Result<Tensor> {
        self.head.iter().try_fold(encoded.clone(), |x, layer| layer.forward_t(&x, train))
    }

    /// The conv layers in order with their tensor prefixes (`enc.0` … `head.2`), for per-layer timing.
    pub fn conv_layers(&self) -> impl Iterator<Item = (String, &ConvBnRelu)> {
        let enc = self.encoder.iter().enumerate().map(|(i, l)| (format!("enc.{i}"), l));
        enc.chain(self.head.iter().enumerate().map(|(i, l)| (format!("head.{i}"), l)))
    }

    /// Evaluation-mode logits `(B,)` of `x` `(B, 1, H, W)` through the NHWC path (`conv::nhwc`), or `None` where it
    /// does not apply (not f32 on the CPU, or a gradient is wanted): the same numbers as `classify(features(encode))`
    /// to rounding, about twice as fast.
    pub fn eval_logits(&self, x: &Tensor) -> Result<Option<Tensor>> {
        self.eval_last_nhwc(x)?.map(|h| self.classify_nhwc(&h)).transpose()
    }

    /// As [`Self::eval_logits`], with each patch's evidence point ([`super::evidence`]) in patch pixels.
    pub fn eval_logits_and_evidence(&self, x: &Tensor) -> Result<Option<(Tensor, Vec<[f32; 2]>)>> {
        let Some(h) = self.eval_last_nhwc(x)? else { return Ok(None) };
        let (_, _, height, width) = x.dims4()?;
        let points = super::evidence::evidence_nhwc(&h, self.fc.weight(), [width, height])?;
        Ok(Some((self.classify_nhwc(&h)?, points)))
    }

    /// The last conv layer's NHWC output before its `ReLU`, in evaluation mode, or `None` where the NHWC path does
    /// not apply.
    fn eval_last_nhwc(&self, x: &Tensor) -> Result<Option<Tensor>> {
        if !nhwc::applies_to(x) {
            return Ok(None);
        }
        let mut h = with_contrast_channel(x)?.permute((0, 2, 3, 1))?;
        for (k, (_, layer)) in self.conv_layers().enumerate() {
            h = layer.nhwc()?.forward(&h, k > 0)?;
        }
        Ok(Some(h))
    }

    /// The output layer's weight `(1, 128)`.
    pub fn fc_weight(&self) -> &Tensor {
        self.fc.weight()
    }

    /// The last conv layer's NHWC output before its `ReLU` → logits `(B,)`: global max then `fc`.
    pub fn classify_nhwc(&self, h: &Tensor) -> Result<Tensor> {
        // max(ReLU(v)) = ReLU(max(v)): the last layer's activation after the pooling.
        let pooled = h.flatten(1, 2)?.max(1)?.relu()?;
        self.fc.forward(&pooled)?.squeeze(1)
    }

    /// Features → logits `(B,)`: global max then `fc`.
    pub fn classify(&self, features: &Tensor) -> Result<Tensor> {
        self.fc.forward(&global_max(features)?)?.squeeze(1)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    use super::*;

    #[test]
    fn compact_names_and_shapes() {
        let varmap = VarMap::new();
        let net = CompactNet::new(&VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        let data = varmap.data().lock().unwrap();
        assert_eq!(data.len(), 7 * 5 + 2);
        assert_eq!(data["enc.0.conv.weight"].dims(), [16, 2, 5, 5]);
        assert_eq!(data["head.2.bn.running_var"].dims(), [128]);
        assert_eq!(data["fc.weight"].dims(), [1, 128]);
        drop(data);
        let x = Tensor::randn(0f32, 1.0, (2, 1, 64, 64), &Device::Cpu).unwrap();
        let encoded = net.encode(&x, false).unwrap();
        assert_eq!(encoded.dims(), [2, 64, 8, 8]);
        let features = net.features(&encoded, true).unwrap();
        assert_eq!(features.dims(), [2, 128, 4, 4]);
        assert_eq!(net.classify(&features).unwrap().dims(), [2]);
    }

    #[test]
    fn nhwc_inference_equals_the_layer_by_layer_path() {
        let varmap = VarMap::new();
        let net = CompactNet::new(&VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        crate::models::init::seeded_init(&varmap, 3).unwrap();
        let x = Tensor::randn(0f32, 1.0, (3, 1, 48, 40), &Device::Cpu).unwrap();
        // Some training passes so the folded batch norm is not the identity.
        for _ in 0..2 {
            net.features(&net.encode(&x, true).unwrap(), true).unwrap();
        }
        let reference = net.classify(&net.features(&net.encode(&x, false).unwrap(), false).unwrap()).unwrap();
        let fast = net.eval_logits(&x).unwrap().expect("f32 CPU input takes the NHWC path");
        let diff = (fast - &reference).unwrap().abs().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-4, "{diff}");
        let var = candle_core::Var::from_tensor(&x).unwrap();
        assert!(net.eval_logits(var.as_tensor()).unwrap().is_none(), "a gradient needs the NCHW path");
    }

    #[test]
    fn folded_batch_norm_equals_batch_norm() {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F64, &Device::Cpu);
        let layer = ConvBnRelu::new(3, 5, 3, 2, &vb).unwrap();
        let x = Tensor::randn(0f64, 1.0, (4, 3, 12, 12), &Device::Cpu).unwrap();
        // A few training passes move the running statistics away from (0, 1); then set γ, β away from (1, 0).
        for _ in 0..3 {
            layer.forward_t(&((&x * 3.0).unwrap() + 1.5).unwrap(), true).unwrap();
        }
        for (name, value) in [("bn.weight", 1.7), ("bn.bias", -0.4)] {
            let data = varmap.data().lock().unwrap();
            let var = &data[name];
            var.set(&((var.as_tensor().ones_like().unwrap() * value).unwrap())).unwrap();
        }
        let folded = layer.forward_t(&x, false).unwrap();
        let plain = layer.bn.forward_t(&layer.conv.forward(&x).unwrap(), false).unwrap().relu().unwrap();
        let diff = (folded - plain).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(diff < 1e-12, "{diff}");
    }
}
