//! One member of the CDC ensemble (the OMIG paper, appendix C, Table 2): three 3 × 3 conv + batch-norm + `ReLU` layers
//! with 2 × 2 max pools between them, two hidden dense layers (`ReLU`, dropout 0.2 after the first), and two heads: the
//! mean µ and the standard deviation σ = softplus(z) + 10⁻³ of ln(threshold / µm) at the 12 CDC diameters.
//!
//! | tensors        | layer                          | output for a 250² input (compact / paper) |
//! |----------------|--------------------------------|-------------------------------------------|
//! | `conv.0.*`     | 3×3 p1, 1→8, BN, `ReLU`; pool 2 | 8 × 125²                                  |
//! | `conv.1.*`     | 3×3 p1, 8→16, BN, `ReLU`; pool 2| 16 × 62²                                  |
//! | `conv.2.*`     | 3×3 p1, 16→32, BN, `ReLU`       | 32 × 62²; compact: pool 4 → 32 × 15²      |
//! | `fc1`          | flatten → hidden, `ReLU`, dropout | 128 / 512                               |
//! | `fc2`          | hidden → hidden, `ReLU`         | 128 / 512                                 |
//! | `mu`, `sigma`  | hidden → 12 each                | 12 + 12                                   |
//!
//! Max pools use [`super::fast_pool::max_pool_2x2_fast`] (candle's own `max_pool2d` has a wrong gradient; the crate's
//! reference pool is right but slow to back-propagate) and convs the crate's fast CPU conv, so that the input gradient
//! that the explanation maps need is right and cheap.

use candle_core::{D, Result, Tensor};
use candle_nn::{Linear, Module, VarBuilder};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::batch_norm::ConvBnRelu3;
use super::fast_pool::max_pool_2x2_fast;
use super::preset::{CDC_POINTS, CONV_CHANNELS, CdcPreset, INPUT_SIDE};

/// Dropout rate after the first dense layer (paper: 0.2).
pub const DROPOUT: f32 = 0.2;
/// Floor added to the softplus of the σ head, so that σ stays positive.
pub const SIGMA_FLOOR: f64 = 1e-3;

/// How dropout behaves in one forward pass.
#[derive(Clone, Copy, Debug)]
enum DropoutMode {
    /// Evaluation: no dropout, batch norm uses its running statistics.
    Off,
    /// Training with candle's (unseeded) dropout.
    Random,
    /// Training with a mask drawn from this seed (reproducible runs).
    Seeded(u64),
}

/// One ensemble member.
#[derive(Debug, Clone)]
pub struct CdcNet {
    preset: CdcPreset,
    side: usize,
    convs: Vec<ConvBnRelu3>,
    fc1: Linear,
    fc2: Linear,
    mu: Linear,
    sigma: Linear,
}

impl CdcNet {
    /// Builds the network for the paper's 250 × 250 input from (or, with a `VarMap` builder, initialises it into) `vb`.
    pub fn new(preset: CdcPreset, vb: &VarBuilder) -> Result<Self> {
        Self::with_input_side(preset, INPUT_SIDE, vb)
    }

    /// Builds the network for a `side × side` input (the dense layers fix the size; tests use small ones).
    pub fn with_input_side(preset: CdcPreset, side: usize, vb: &VarBuilder) -> Result<Self> {
        if preset.feature_side(side) == 0 {
            candle_core::bail!("a {side}×{side} input is too small for the {preset} CDC network");
        }
        let mut c_in = 1;
        let mut convs = Vec::with_capacity(CONV_CHANNELS.len());
        for (i, c_out) in CONV_CHANNELS.into_iter().enumerate() {
            convs.push(ConvBnRelu3::new(c_in, c_out, &vb.pp(format!("conv.{i}")))?);
            c_in = c_out;
        }
        let hidden = preset.hidden();
        Ok(Self {
            preset,
            side,
            convs,
            fc1: candle_nn::linear(preset.flat_len(side), hidden, vb.pp("fc1"))?,
            fc2: candle_nn::linear(hidden, hidden, vb.pp("fc2"))?,
            mu: candle_nn::linear(hidden, CDC_POINTS, vb.pp("mu"))?,
            sigma: candle_nn::linear(hidden, CDC_POINTS, vb.pp("sigma"))?,
        })
    }

    /// The preset.
    pub fn preset(&self) -> CdcPreset {
        self.preset
    }

    /// Side of the square input.
    pub fn input_side(&self) -> usize {
        self.side
    }

    /// The names of every tensor of a network (the same for both presets), sorted, batch-norm running statistics included.
    pub fn tensor_names() -> Vec<String> {
        let mut names: Vec<String> = (0..CONV_CHANNELS.len())
            .flat_map(|i| ["conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"].map(|t| format!("conv.{i}.{t}")))
            .chain(["fc1", "fc2", "mu", "sigma"].into_iter().flat_map(|l| [format!("{l}.weight"), format!("{l}.bias")]))
            .collect();
        names.sort();
        names
    }

    /// `x` `(B, 1, side, side)`, normalised → `(µ, σ)`, each `(B, 12)`, of ln(threshold / µm). `train` selects batch
    /// statistics (updating the running ones) and candle's unseeded dropout; evaluation uses neither.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        self.forward_mode(x, if train { DropoutMode::Random } else { DropoutMode::Off })
    }

    /// A training pass (batch statistics) whose dropout mask is drawn from `dropout_seed`.
    pub fn forward_train_seeded(&self, x: &Tensor, dropout_seed: u64) -> Result<(Tensor, Tensor)> {
        self.forward_mode(x, DropoutMode::Seeded(dropout_seed))
    }

    /// The mean of µ over the 12 outputs, `(B,)`, in evaluation mode: the member's scalar the explanation maps use.
    pub fn midpoint(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_t(x, false)?.0.mean(D::Minus1)
    }

    fn forward_mode(&self, x: &Tensor, mode: DropoutMode) -> Result<(Tensor, Tensor)> {
        let (batch, channels, h, w) = x.dims4()?;
        if channels != 1 || h != self.side || w != self.side {
            let side = self.side;
            candle_core::bail!("the CDC network takes (B, 1, {side}, {side}), got {:?}", x.dims());
        }
        let train = !matches!(mode, DropoutMode::Off);
        let mut features = x.clone();
        for (i, conv) in self.convs.iter().enumerate() {
            features = conv.forward_t(&features, train)?;
            let pools = if i + 1 < self.convs.len() { 1 } else { self.preset.final_pools() };
            for _ in 0..pools {
                features = max_pool_2x2_fast(&features)?;
            }
        }
        let hidden = self.fc1.forward(&features.reshape((batch, ()))?)?.relu()?;
        let hidden = match mode {
            DropoutMode::Off => hidden,
            DropoutMode::Random => candle_nn::ops::dropout(&hidden, DROPOUT)?,
            DropoutMode::Seeded(seed) => seeded_dropout(&hidden, seed)?,
        };
        let hidden = self.fc2.forward(&hidden)?.relu()?;
        let mu = self.mu.forward(&hidden)?;
        let sigma = (softplus(&self.sigma.forward(&hidden)?)? + SIGMA_FLOOR)?;
        Ok((mu, sigma))
    }
}

/// `ln(1 + eᶻ)` in the stable form `max(z, 0) + ln(1 + e^{−|z|})`.
pub fn softplus(z: &Tensor) -> Result<Tensor> {
    z.relu()? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?
}

/// Inverted dropout with rate [`DROPOUT`] and a mask drawn from `seed`.
fn seeded_dropout(x: &Tensor, seed: u64) -> Result<Tensor> {
    let mut rng = StdRng::seed_from_u64(seed);
    let keep = 1.0 - DROPOUT;
    let mask: Vec<f32> = (0..x.elem_count()).map(|_| if rng.random::<f32>() < keep { 1.0 / keep } else { 0.0 }).collect();
    x * Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    use super::*;

    fn built(preset: CdcPreset, side: usize) -> (VarMap, CdcNet) {
        let varmap = VarMap::new();
        let net = CdcNet::with_input_side(preset, side, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        (varmap, net)
    }

    #[test]
    fn compact_names_shapes_and_outputs() {
        let (varmap, net) = built(CdcPreset::Compact, INPUT_SIDE);
        let data = varmap.data().lock().unwrap();
        let mut names: Vec<String> = data.keys().cloned().collect();
        names.sort();
        assert_eq!(names, CdcNet::tensor_names());
        assert_eq!(data["conv.0.conv.weight"].dims(), [8, 1, 3, 3]);
        assert_eq!(data["conv.2.bn.running_var"].dims(), [32]);
        assert_eq!(data["fc1.weight"].dims(), [128, 7200]);
        assert_eq!(data["sigma.weight"].dims(), [12, 128]);
        let trainable: usize = data.iter().filter(|(n, _)| !n.contains("running")).map(|(_, v)| v.elem_count()).sum();
        assert_eq!(trainable, CdcPreset::Compact.parameter_count(INPUT_SIDE));
        drop(data);
        let x = Tensor::randn(0f32, 1.0, (2, 1, INPUT_SIDE, INPUT_SIDE), &Device::Cpu).unwrap();
        for train in [false, true] {
            let (mu, sigma) = net.forward_t(&x, train).unwrap();
            assert_eq!(mu.dims(), [2, 12]);
            assert_eq!(sigma.dims(), [2, 12]);
            let min: f32 = sigma.flatten_all().unwrap().min(0).unwrap().to_scalar().unwrap();
            assert!(min > 1e-3 * 0.999);
        }
        let (a, _) = net.forward_train_seeded(&x, 7).unwrap();
        let (b, _) = net.forward_train_seeded(&x, 7).unwrap();
        assert_eq!(a.to_vec2::<f32>().unwrap(), b.to_vec2::<f32>().unwrap());
        assert_eq!(net.midpoint(&x).unwrap().dims(), [2]);
        assert!(net.forward_t(&Tensor::zeros((1, 1, 64, 64), DType::F32, &Device::Cpu).unwrap(), false).is_err());
    }

    #[test]
    fn small_inputs_are_supported_for_tests() {
        let (_, net) = built(CdcPreset::Compact, 32);
        let x = Tensor::randn(0f32, 1.0, (3, 1, 32, 32), &Device::Cpu).unwrap();
        assert_eq!(net.forward_t(&x, false).unwrap().0.dims(), [3, 12]);
        let vb = VarBuilder::from_varmap(&VarMap::new(), DType::F32, &Device::Cpu);
        assert!(CdcNet::with_input_side(CdcPreset::Compact, 8, &vb).is_err());
    }

    #[test]
    fn softplus_is_stable() {
        let z = Tensor::new(&[-800.0f64, -1.0, 0.0, 1.0, 800.0], &Device::Cpu).unwrap();
        let s: Vec<f64> = softplus(&z).unwrap().to_vec1().unwrap();
        let expected = [0.0, (1.0 + (-1f64).exp()).ln(), 2f64.ln(), (1.0 + 1f64.exp()).ln(), 800.0];
        for (a, b) in s.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    /// The paper preset holds 63 M weights (250 MB in f32; ~0.6 s in a debug build): built once, batch 1, shapes only.
    #[test]
    fn paper_preset_shapes() {
        let (varmap, net) = built(CdcPreset::Paper, INPUT_SIDE);
        assert_eq!(varmap.data().lock().unwrap()["fc1.weight"].dims(), [512, 123_008]);
        let x = Tensor::randn(0f32, 1.0, (1, 1, INPUT_SIDE, INPUT_SIDE), &Device::Cpu).unwrap();
        let (mu, sigma) = net.forward_t(&x, false).unwrap();
        assert_eq!((mu.dims(), sigma.dims()), ([1, 12].as_slice(), [1, 12].as_slice()));
    }
}
