//! The denoiser (mammogram-denoising-anscombe, Sec. 2.2, Fig. 2): input the Anscombe-domain image minus its smooth
//! background, output the noise map `V̂`; the denoised image is the input minus `V̂`. The body is the paper's residual
//! stack or the multiscale one ([`super::unet`]).

use candle_core::{Result, Tensor};
use candle_nn::{Module, VarBuilder};

use super::preset::{DenoiseArch, DenoiseConfig, DenoisePreset};
use super::unet::Unet;
use crate::models::cdc::batch_norm::ConvBnRelu3;
use crate::models::compact::conv::{Conv2d, ConvSpec};

const CONV3: ConvSpec = ConvSpec { kernel: 3, stride: 1, padding: 1, bias: true };

/// A residual block: `convs_per_block` × (conv + BN + `ReLU`), plus the skip (1 × 1 conv or identity).
#[derive(Debug, Clone)]
struct Block {
    layers: Vec<ConvBnRelu3>,
    skip: Option<Conv2d>,
}

/// The paper's residual stack (and `DnCNN`'s plain one when there are no blocks).
#[derive(Debug, Clone)]
struct Residual {
    plain: bool,
    head: Conv2d,
    blocks: Vec<Block>,
    tail: Conv2d,
}

#[derive(Debug, Clone)]
enum Body {
    Residual(Residual),
    Unet(Box<Unet>),
}

/// The denoiser of one preset.
#[derive(Debug, Clone)]
pub struct DenoiseNet {
    preset: DenoisePreset,
    body: Body,
}

impl DenoiseNet {
    /// Builds the network. Residual presets name their tensors `head.*`, `block.{i}.layer.{j}.*`, `block.{i}.skip.*`,
    /// `tail.*`; the multiscale one as [`Unet::new`] does.
    pub fn new(preset: DenoisePreset, vb: &VarBuilder) -> Result<Self> {
        let body = match preset.config() {
            DenoiseArch::Residual(config) => Body::Residual(Residual::new(config, vb)?),
            DenoiseArch::Unet(config) => Body::Unet(Box::new(Unet::new(config, vb)?)),
        };
        Ok(Self { preset, body })
    }

    /// The preset.
    pub fn preset(&self) -> DenoisePreset {
        self.preset
    }

    /// The noise map of `x` `(B, 1, H, W)`; `train` uses batch statistics in the batch norms.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        match &self.body {
            Body::Residual(net) => net.forward_t(x, train),
            Body::Unet(net) => net.forward_t(x, train),
        }
    }
}

impl Residual {
    fn new(config: DenoiseConfig, vb: &VarBuilder) -> Result<Self> {
        let DenoiseConfig { channels: c, blocks, convs_per_block, conv_skip } = config;
        let head = Conv2d::new(1, c, CONV3, &vb.pp("head"))?;
        let block_count = blocks.max(1);
        let blocks = (0..block_count)
            .map(|i| {
                let vb = vb.pp(format!("block.{i}"));
                let layers = (0..convs_per_block).map(|j| ConvBnRelu3::new(c, c, &vb.pp(format!("layer.{j}")))).collect::<Result<_>>()?;
                let skip = if conv_skip {
                    Some(Conv2d::new(c, c, ConvSpec { kernel: 1, stride: 1, padding: 0, bias: true }, &vb.pp("skip"))?)
                } else {
                    None
                };
                Ok(Block { layers, skip })
            })
            .collect::<Result<_>>()?;
        let tail = Conv2d::new(c, 1, CONV3, &vb.pp("tail"))?;
        Ok(Self { plain: config.blocks == 0, head, blocks, tail })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut h = self.head.forward(x)?.relu()?;
        let plain = self.plain;
        for block in &self.blocks {
            let mut y = h.clone();
            for layer in &block.layers {
                y = layer.forward_t(&y, train)?;
            }
            h = if plain {
                y
            } else {
                match &block.skip {
                    Some(skip) => (y + skip.forward(&h)?)?,
                    None => (y + h)?,
                }
            };
        }
        self.tail.forward(&h)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    use super::*;

    fn parameters(preset: DenoisePreset) -> usize {
        let varmap = VarMap::new();
        DenoiseNet::new(preset, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        let data = varmap.data().lock().unwrap();
        data.iter().filter(|(n, _)| !n.contains("running")).map(|(_, v)| v.as_tensor().elem_count()).sum()
    }

    #[test]
    fn shapes_and_parameter_counts() {
        // The paper: "a network with 1.700.000 trainable parameters".
        let paper = parameters(DenoisePreset::Paper);
        assert!((1_700_000..1_780_000).contains(&paper), "{paper}");
        assert!(parameters(DenoisePreset::Fast) < 60_000);
        assert!((150_000..250_000).contains(&parameters(DenoisePreset::Unet)), "{}", parameters(DenoisePreset::Unet));
        let varmap = VarMap::new();
        let net = DenoiseNet::new(DenoisePreset::Fast, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        let x = Tensor::zeros((2, 1, 20, 24), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(net.forward_t(&x, false).unwrap().dims(), &[2, 1, 20, 24]);
        assert_eq!(net.forward_t(&x, true).unwrap().dims(), &[2, 1, 20, 24]);
        let unet_map = VarMap::new();
        let unet = DenoiseNet::new(DenoisePreset::Unet, &VarBuilder::from_varmap(&unet_map, DType::F32, &Device::Cpu)).unwrap();
        let odd = Tensor::zeros((2, 1, 21, 30), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(unet.forward_t(&odd, false).unwrap().dims(), &[2, 1, 21, 30]);
        assert_eq!(unet.forward_t(&odd, true).unwrap().dims(), &[2, 1, 21, 30]);
    }
}
