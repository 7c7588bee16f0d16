//! ResNet-18 and ResNet-50 backbones with torchvision's layout and tensor names, a single-channel stem and one output
//! logit.
//!
//! He et al., "Deep Residual Learning for Image Recognition", CVPR 2016; ResNet-50 is torchvision's v1.5 (the stride of
//! a bottleneck sits on its 3×3 conv). The encoder is the output of `layer2` (stride 8), the features that of `layer4`.

use candle_core::{Result, Tensor};
use candle_nn::{BatchNorm, Linear, Module, ModuleT, VarBuilder};

use super::compact::conv::Conv2d;
use super::compact::{bn_config, conv_no_bias};
use super::pool::{global_mean, max_pool_3x3_s2_p1};

/// Block type and depth of a `ResNet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResnetConfig {
    /// Bottleneck blocks (1×1, 3×3, 1×1; expansion 4) instead of basic blocks (3×3, 3×3).
    pub bottleneck: bool,
    /// Number of blocks in `layer1` … `layer4`.
    pub blocks: [usize; 4],
}

impl ResnetConfig {
    /// ResNet-18: basic blocks `[2, 2, 2, 2]`.
    pub fn resnet18() -> Self {
        Self { bottleneck: false, blocks: [2, 2, 2, 2] }
    }

    /// ResNet-50: bottleneck blocks `[3, 4, 6, 3]`.
    pub fn resnet50() -> Self {
        Self { bottleneck: true, blocks: [3, 4, 6, 3] }
    }

    /// Output channels of a block whose base width is `planes`.
    fn expanded(self, planes: usize) -> usize {
        if self.bottleneck { 4 * planes } else { planes }
    }

    /// Channels of the encoder output (`layer2`).
    pub fn encoder_channels(self) -> usize {
        self.expanded(128)
    }

    /// Channels of the feature map (`layer4`).
    pub fn feature_channels(self) -> usize {
        self.expanded(512)
    }
}

/// A conv (no bias) followed by its batch norm, without activation.
#[derive(Debug, Clone)]
struct ConvBn {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBn {
    /// `conv` / `bn` are the tensor prefixes (torchvision names them side by side: `conv1` and `bn1`).
    fn new(c_in: usize, c_out: usize, kernel: usize, stride: usize, names: (VarBuilder, VarBuilder)) -> Result<Self> {
        let (conv_vb, bn_vb) = names;
        Ok(Self {
            conv: conv_no_bias(c_in, c_out, kernel, stride, kernel / 2, &conv_vb)?,
            bn: candle_nn::batch_norm(c_out, bn_config(), bn_vb)?,
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.bn.forward_t(&self.conv.forward(x)?, train)
    }
}

/// A basic or bottleneck residual block: conv-bn-relu … conv-bn, plus the (possibly downsampled) input, then `ReLU`.
#[derive(Debug, Clone)]
struct Block {
    convs: Vec<ConvBn>,
    downsample: Option<ConvBn>,
}

impl Block {
    fn new(config: ResnetConfig, c_in: usize, planes: usize, stride: usize, vb: &VarBuilder) -> Result<Self> {
        let c_out = config.expanded(planes);
        // (in, out, kernel, stride) of conv1, conv2[, conv3].
        let spec = if config.bottleneck {
            vec![(c_in, planes, 1, 1), (planes, planes, 3, stride), (planes, c_out, 1, 1)]
        } else {
            vec![(c_in, planes, 3, stride), (planes, planes, 3, 1)]
        };
        let convs = spec
            .into_iter()
            .enumerate()
            .map(|(i, (ci, co, k, s))| ConvBn::new(ci, co, k, s, (vb.pp(format!("conv{}", i + 1)), vb.pp(format!("bn{}", i + 1)))))
            .collect::<Result<Vec<_>>>()?;
        let downsample = if stride != 1 || c_in != c_out {
            let vb = vb.pp("downsample");
            Some(ConvBn::new(c_in, c_out, 1, stride, (vb.pp("0"), vb.pp("1")))?)
        } else {
            None
        };
        Ok(Self { convs, downsample })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let last = self.convs.len() - 1;
        let mut y = x.clone();
        for (i, conv) in self.convs.iter().enumerate() {
            y = conv.forward_t(&y, train)?;
            if i != last {
                y = y.relu()?;
            }
        }
        let shortcut = match &self.downsample {
            Some(downsample) => downsample.forward_t(x, train)?,
            None => x.clone(),
        };
        (y + shortcut)?.relu()
    }
}

/// A torchvision-style `ResNet` with one input channel and one output logit.
#[derive(Debug, Clone)]
pub struct ResNet {
    stem: ConvBn,
    layers: [Vec<Block>; 4],
    fc: Linear,
}

impl ResNet {
    /// Builds the network from (or, with a `VarMap` builder, initialises it into) `vb`.
    pub fn new(config: ResnetConfig, vb: &VarBuilder) -> Result<Self> {
        let stem = ConvBn::new(1, 64, 7, 2, (vb.pp("conv1"), vb.pp("bn1")))?;
        let mut c_in = 64;
        let mut layers: [Vec<Block>; 4] = Default::default();
        for (i, layer) in layers.iter_mut().enumerate() {
            let planes = 64 << i;
            let vb = vb.pp(format!("layer{}", i + 1));
            for j in 0..config.blocks[i] {
                let stride = if i > 0 && j == 0 { 2 } else { 1 };
                layer.push(Block::new(config, c_in, planes, stride, &vb.pp(j.to_string()))?);
                c_in = config.expanded(planes);
            }
        }
        let fc = candle_nn::linear(config.feature_channels(), 1, vb.pp("fc"))?;
        Ok(Self { stem, layers, fc })
    }

    fn run_layers(&self, range: std::ops::Range<usize>, x: &Tensor, train: bool) -> Result<Tensor> {
        self.layers[range].iter().flatten().try_fold(x.clone(), |x, block| block.forward_t(&x, train))
    }

    /// `(B, 1, H, W)` → `layer2` output `(B, C, H/8, W/8)`.
    pub fn encode(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = max_pool_3x3_s2_p1(&self.stem.forward_t(x, train)?.relu()?)?;
        self.run_layers(0..2, &x, train)
    }

    /// Encoder output → `layer4` output `(B, C, H/32, W/32)`.
    pub fn features(&self, encoded: &Tensor, train: bool) -> Result<Tensor> {
        self.run_layers(2..4, encoded, train)
    }

    /// The output layer's weight `(1, C)`.
    pub fn fc_weight(&self) -> &Tensor {
        self.fc.weight()
    }

    /// Features → logits `(B,)`: global mean (torchvision `avgpool`) then `fc`.
    pub fn classify(&self, features: &Tensor) -> Result<Tensor> {
        self.fc.forward(&global_mean(features)?)?.squeeze(1)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    use super::*;

    fn names(config: ResnetConfig) -> std::collections::HashMap<String, Vec<usize>> {
        let varmap = VarMap::new();
        ResNet::new(config, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.dims().to_vec())).collect()
    }

    #[test]
    fn resnet18_has_torchvision_names() {
        let names = names(ResnetConfig::resnet18());
        // torchvision resnet18: 62 parameters + 40 running statistics (its num_batches_tracked buffers are not kept).
        assert_eq!(names.len(), 62 + 40);
        assert_eq!(names["conv1.weight"], [64, 1, 7, 7]);
        assert_eq!(names["layer1.0.conv2.weight"], [64, 64, 3, 3]);
        assert_eq!(names["layer2.0.downsample.0.weight"], [128, 64, 1, 1]);
        assert_eq!(names["layer2.0.downsample.1.running_mean"], [128]);
        assert!(!names.contains_key("layer1.0.downsample.0.weight"));
        assert_eq!(names["fc.weight"], [1, 512]);
    }

    #[test]
    fn resnet50_has_torchvision_names() {
        let names = names(ResnetConfig::resnet50());
        // torchvision resnet50: 161 parameters + 106 running statistics.
        assert_eq!(names.len(), 161 + 106);
        assert_eq!(names["layer1.0.downsample.0.weight"], [256, 64, 1, 1]);
        assert_eq!(names["layer3.0.conv2.weight"], [256, 256, 3, 3]);
        assert_eq!(names["layer4.2.conv3.weight"], [2048, 512, 1, 1]);
        assert_eq!(names["fc.weight"], [1, 2048]);
    }
}
