//! The decoder of the embedded autoencoder: from the encoder output `(B, C, H/8, W/8)` back to the patch `(B, 1, H, W)`.
//!
//! | layer   | op                                       | output for a 224² patch |
//! |---------|------------------------------------------|-------------------------|
//! | `dec.0` | nearest ×2, conv 3×3 p1 C→32 (bias), `ReLU` | 32 × 56²               |
//! | `dec.1` | nearest ×2, conv 3×3 p1 32→16, `ReLU`      | 16 × 112²               |
//! | `dec.2` | nearest ×2, conv 3×3 p1 16→16, `ReLU`      | 16 × 224²               |
//! | `dec.3` | conv 3×3 p1 16→1 (bias), no activation   | 1 × 224²                |
//!
//! Tensors are `dec.{i}.conv.weight` and `dec.{i}.conv.bias`.

use candle_core::{Result, Tensor};
use candle_nn::{Module, VarBuilder};

use super::compact::conv::{Conv2d, ConvSpec};

/// Output channels of `dec.0` … `dec.3`.
const CHANNELS: [usize; 4] = [32, 16, 16, 1];

/// Nearest-neighbour ×2 upsampling of `(B, C, H, W)` by reshape + broadcast.
///
/// candle 0.11.1's `upsample_nearest2d` back-propagates by *replacing* the gradient already accumulated for its input
/// instead of adding to it, which is wrong here: the encoder output also feeds the classifier head.
pub fn upsample_nearest_2x(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    x.reshape((b, c, h, 1, w, 1))?.broadcast_as((b, c, h, 2, w, 2))?.reshape((b, c, 2 * h, 2 * w))
}

/// One decoder layer: optional ×2 upsampling, a 3×3 conv with bias, optional `ReLU`.
#[derive(Debug, Clone)]
struct DecoderLayer {
    conv: Conv2d,
    upsample: bool,
    relu: bool,
}

/// The autoencoder's decoder.
#[derive(Debug, Clone)]
pub struct Decoder {
    layers: Vec<DecoderLayer>,
}

impl Decoder {
    /// Builds the decoder for an encoder output with `encoder_channels` channels.
    pub fn new(encoder_channels: usize, vb: &VarBuilder) -> Result<Self> {
        let vb = vb.pp("dec");
        let mut c_in = encoder_channels;
        let mut layers = Vec::with_capacity(CHANNELS.len());
        for (i, c_out) in CHANNELS.into_iter().enumerate() {
            let conv =
                Conv2d::new(c_in, c_out, ConvSpec { kernel: 3, stride: 1, padding: 1, bias: true }, &vb.pp(i.to_string()).pp("conv"))?;
            layers.push(DecoderLayer { conv, upsample: i < 3, relu: i < 3 });
            c_in = c_out;
        }
        Ok(Self { layers })
    }

    /// Encoder output `(B, C, h, w)` → reconstruction `(B, 1, 8h, 8w)`.
    pub fn forward(&self, encoded: &Tensor) -> Result<Tensor> {
        self.layers.iter().try_fold(encoded.clone(), |x, layer| {
            let x = if layer.upsample { upsample_nearest_2x(&x)? } else { x };
            let x = layer.conv.forward(&x)?;
            if layer.relu { x.relu() } else { Ok(x) }
        })
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    use super::super::pool::fd::{relative_gradient_error, spread};
    use super::*;

    #[test]
    fn upsample_matches_candle_forward() {
        let x = spread(&[2, 3, 4, 5], 1).unwrap();
        let ours: Vec<f64> = upsample_nearest_2x(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let theirs: Vec<f64> = x.upsample_nearest2d(8, 10).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn upsample_gradient_matches_finite_differences() {
        let weights = spread(&[1, 2, 6, 8], 2).unwrap();
        // The input also feeds a second branch, as the encoder output does.
        let f = |x: &Tensor| upsample_nearest_2x(x)?.mul(&weights)?.sum_all()? + x.sqr()?.sum_all()?;
        let err = relative_gradient_error(f, &spread(&[1, 2, 3, 4], 3).unwrap(), None, 1e-6).unwrap();
        assert!(err < 1e-3, "{err}");
    }

    #[test]
    fn decoder_shapes_and_gradient() {
        let varmap = VarMap::new();
        let decoder = Decoder::new(4, &VarBuilder::from_varmap(&varmap, DType::F64, &Device::Cpu)).unwrap();
        assert_eq!(varmap.data().lock().unwrap()["dec.0.conv.weight"].dims(), [32, 4, 3, 3]);
        let x = spread(&[1, 4, 2, 3], 4).unwrap();
        assert_eq!(decoder.forward(&x).unwrap().dims(), [1, 1, 16, 24]);
        let err = relative_gradient_error(|x| decoder.forward(x)?.sqr()?.sum_all(), &x, None, 1e-6).unwrap();
        assert!(err < 1e-3, "{err}");
    }
}
