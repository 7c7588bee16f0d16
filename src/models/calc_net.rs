//! [`CalcNet`]: the microcalcification patch classifier, whatever its backbone, with its optional embedded decoder.
//!
//! A `(B, 1, H, W)` f32 batch of normalised patches (224² in practice; any size divisible by 32 works) goes in; the
//! encoder output, the last conv layer's features and one logit per patch come out. `sigmoid(logit)` is the probability
//! that the patch holds a microcalcification.
//!
//! ```no_run
//! # use mammoscope::models::{calc_net::CalcNet, preset::CalcPreset};
//! # fn main() -> Result<(), mammoscope::models::error::ModelError> {
//! let device = candle_core::Device::Cpu;
//! let varmap = candle_nn::VarMap::new();
//! let vb = candle_nn::VarBuilder::from_varmap(&varmap, candle_core::DType::F32, &device);
//! let net = CalcNet::new(CalcPreset::Compact, true, vb)?;
//! let x = candle_core::Tensor::zeros((4, 1, 224, 224), candle_core::DType::F32, &device)?;
//! let out = net.forward_all(&x, true)?;
//! let reconstruction = net.reconstruct(&out.encoded, true)?;
//! # Ok(()) }
//! ```

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::compact::CompactNet;
use super::decoder::Decoder;
use super::error::ModelError;
use super::preset::CalcPreset;
use super::resnet::{ResNet, ResnetConfig};

/// The network of a preset.
#[derive(Debug, Clone)]
enum Backbone {
    Compact(CompactNet),
    Resnet(ResNet),
}

impl Backbone {
    fn encode(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        match self {
            Self::Compact(net) => net.encode(x, train),
            Self::Resnet(net) => net.encode(x, train),
        }
    }

    fn features(&self, encoded: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        match self {
            Self::Compact(net) => net.features(encoded, train),
            Self::Resnet(net) => net.features(encoded, train),
        }
    }

    fn classify(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Compact(net) => net.classify(features),
            Self::Resnet(net) => net.classify(features),
        }
    }

    fn fc_weight(&self) -> &Tensor {
        match self {
            Self::Compact(net) => net.fc_weight(),
            Self::Resnet(net) => net.fc_weight(),
        }
    }
}

/// The intermediate and final outputs of one forward pass.
#[derive(Debug, Clone)]
pub struct CalcOutputs {
    /// Encoder output, stride 8: `(B, 64 | 128 | 512, H/8, W/8)` for compact, resnet18, resnet50.
    pub encoded: Tensor,
    /// The last conv layer's output (used by the neighbour loss).
    pub features: Tensor,
    /// One logit per patch, `(B,)`.
    pub logits: Tensor,
}

/// The microcalcification patch classifier.
#[derive(Debug, Clone)]
pub struct CalcNet {
    preset: CalcPreset,
    backbone: Backbone,
    decoder: Option<Decoder>,
}

impl CalcNet {
    /// Builds the network of `preset` from `vb` (a `VarMap` builder initialises fresh weights; a tensor builder loads
    /// them). `with_decoder` adds the autoencoder's decoder (`dec.*` tensors), needed only for training.
    #[allow(clippy::needless_pass_by_value)] // candle's convention: builders are passed by value
    pub fn new(preset: CalcPreset, with_decoder: bool, vb: VarBuilder) -> Result<Self, ModelError> {
        let backbone = match preset {
            CalcPreset::Compact => Backbone::Compact(CompactNet::new(&vb)?),
            CalcPreset::Resnet18 => Backbone::Resnet(ResNet::new(ResnetConfig::resnet18(), &vb)?),
            CalcPreset::Resnet50 => Backbone::Resnet(ResNet::new(ResnetConfig::resnet50(), &vb)?),
        };
        let decoder = if with_decoder { Some(Decoder::new(preset.encoder_channels(), &vb)?) } else { None };
        Ok(Self { preset, backbone, decoder })
    }

    /// The compact network, for per-layer timing (`bench calc --stages`); `None` for the `ResNets`.
    pub fn compact(&self) -> Option<&CompactNet> {
        match &self.backbone {
            Backbone::Compact(net) => Some(net),
            Backbone::Resnet(_) => None,
        }
    }

    /// The preset this network was built for.
    pub fn preset(&self) -> CalcPreset {
        self.preset
    }

    /// Whether the autoencoder's decoder was built.
    pub fn has_decoder(&self) -> bool {
        self.decoder.is_some()
    }

    /// Encoder output, features and logits of `x` `(B, 1, H, W)`. `train` uses batch statistics in batch norm (and
    /// updates its running statistics, which live in the `VarMap`); otherwise the running statistics.
    pub fn forward_all(&self, x: &Tensor, train: bool) -> Result<CalcOutputs, ModelError> {
        check_input(x)?;
        let encoded = self.backbone.encode(x, train)?;
        let features = self.backbone.features(&encoded, train)?;
        let logits = self.backbone.classify(&features)?;
        Ok(CalcOutputs { encoded, features, logits })
    }

    /// Logits `(B,)` in evaluation mode (the compact network's NHWC path on the CPU when no gradient is wanted).
    pub fn logits(&self, x: &Tensor) -> Result<Tensor, ModelError> {
        if let Backbone::Compact(net) = &self.backbone {
            check_input(x)?;
            if let Some(logits) = net.eval_logits(x)? {
                return Ok(logits);
            }
        }
        Ok(self.forward_all(x, false)?.logits)
    }

    /// `sigmoid(logits)` `(B,)` in evaluation mode: the probability that each patch holds a microcalcification.
    pub fn probabilities(&self, x: &Tensor) -> Result<Tensor, ModelError> {
        Ok(candle_nn::ops::sigmoid(&self.logits(x)?)?)
    }

    /// Probabilities `(B,)` in evaluation mode with each patch's evidence point `[x, y]` in patch pixels: where the
    /// positive part of its class activation map peaks ([`super::evidence`]).
    pub fn probabilities_and_evidence(&self, x: &Tensor) -> Result<(Vec<f32>, Vec<[f32; 2]>), ModelError> {
        check_input(x)?;
        let (_, _, height, width) = x.dims4()?;
        if let Backbone::Compact(net) = &self.backbone
            && let Some((logits, points)) = net.eval_logits_and_evidence(x)?
        {
            return Ok((candle_nn::ops::sigmoid(&logits)?.to_vec1::<f32>()?, points));
        }
        let out = self.forward_all(x, false)?;
        let points = super::evidence::evidence_nchw(&out.features, self.backbone.fc_weight(), [width, height])?;
        Ok((candle_nn::ops::sigmoid(&out.logits)?.to_vec1::<f32>()?, points))
    }

    /// The decoder's reconstruction `(B, 1, H, W)` of an encoder output, or `None` without a decoder. The decoder has
    /// no batch norm, so `train` changes nothing today; it is there so that callers need not know.
    pub fn reconstruct(&self, encoded: &Tensor, train: bool) -> Result<Option<Tensor>, ModelError> {
        let _ = train;
        Ok(self.decoder.as_ref().map(|decoder| decoder.forward(encoded)).transpose()?)
    }
}

/// The networks take one channel and need at least 32 pixels a side (the total stride of the `ResNets`).
fn check_input(x: &Tensor) -> Result<(), ModelError> {
    match *x.dims() {
        [_, 1, h, w] if h >= 32 && w >= 32 => Ok(()),
        _ => Err(ModelError::Input(format!("expected a (B, 1, H, W) batch with H, W ≥ 32, got {:?}", x.dims()))),
    }
}

#[cfg(test)]
mod tests;
