//! A multiscale denoiser body (U-Net with additive skips): the residual presets see at most 10–14 px of context, and
//! on the smooth, low-SNR signal of an 80 % dose-reduced mammogram a wider context is what averages the noise down.
//! Stride-2 convs take the features down a level at a time (the shipped `unet`: to ¼ resolution), where the widest
//! layers are cheap; sub-pixel convolutions (1 × 1 conv to 4× the channels, then depth-to-space) bring them back up
//! and add the encoder's features of the same scale. `unet`: receptive radius 30 px at 58 % of `fast`'s
//! multiply-adds per pixel.

use candle_core::{Result, Tensor};
use candle_nn::{Module, VarBuilder};

use crate::models::cdc::batch_norm::ConvBnRelu3;
use crate::models::compact::conv::{Conv2d, ConvSpec};

const CONV3: ConvSpec = ConvSpec { kernel: 3, stride: 1, padding: 1, bias: true };
const DOWN: ConvSpec = ConvSpec { kernel: 3, stride: 2, padding: 1, bias: true };
const POINT: ConvSpec = ConvSpec { kernel: 1, stride: 1, padding: 0, bias: true };

/// The shape of a multiscale body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnetConfig {
    /// Channels per level, full resolution first; every further level halves the resolution (a stride-2 conv down, a
    /// sub-pixel conv up).
    pub channels: &'static [usize],
    /// Conv-BN-`ReLU` layers on the way down, per level but the last.
    pub down_layers: &'static [usize],
    /// Conv-BN-`ReLU` layers at the lowest resolution.
    pub bottom_layers: usize,
    /// Conv-BN-`ReLU` layers on the way up, per level but the last (after adding the encoder's features).
    pub up_layers: &'static [usize],
}

impl UnetConfig {
    fn levels(self) -> usize {
        self.channels.len()
    }

    /// Input sides are padded to a multiple of this (2^(levels − 1)); tiles must start on it.
    pub fn alignment(self) -> usize {
        1 << (self.levels() - 1)
    }

    /// Pixels on each side that can influence one output pixel. The head and the tail reach 1 px each; at level ℓ
    /// (pixels 2^ℓ apart) every conv-BN-`ReLU` layer reaches one pixel, the stride-2 conv down one more, and the
    /// sub-pixel conv up one more on the far side of its 2 × 2 block; the bottom layers reach one pixel each.
    pub fn receptive_radius(self) -> usize {
        let bottom = self.bottom_layers << (self.levels() - 1);
        let levels: usize = (0..self.levels() - 1).map(|l| (self.down_layers[l] + self.up_layers[l] + 2) << l).sum();
        2 + levels + bottom
    }

    /// Multiply-adds per output pixel.
    pub fn macs_per_pixel(self) -> usize {
        let c = self.channels;
        let last = self.levels() - 1;
        let mut total = 9 * c[0] + 9 * c[0];
        for l in 0..last {
            let per_pixel = (self.down_layers[l] + self.up_layers[l]) * 9 * c[l] * c[l];
            let transitions = 9 * c[l] * c[l + 1] / 4 + c[l + 1] * 4 * c[l] / 4;
            total += (per_pixel + transitions) >> (2 * l);
        }
        total + ((self.bottom_layers * 9 * c[last] * c[last]) >> (2 * last))
    }

    fn validate(self) -> Result<()> {
        let n = self.levels();
        if n < 2 || self.down_layers.len() != n - 1 || self.up_layers.len() != n - 1 {
            candle_core::bail!("a multiscale body needs at least 2 levels and layer counts for all but the last");
        }
        Ok(())
    }
}

/// A stack of conv-BN-`ReLU` layers.
#[derive(Debug, Clone)]
struct Stack(Vec<ConvBnRelu3>);

impl Stack {
    fn new(c: usize, n: usize, vb: &VarBuilder) -> Result<Self> {
        Ok(Self((0..n).map(|j| ConvBnRelu3::new(c, c, &vb.pp(format!("layer.{j}")))).collect::<Result<_>>()?))
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.0.iter().try_fold(x.clone(), |h, layer| layer.forward_t(&h, train))
    }
}

/// One level above the bottom: its encoder layers, the stride-2 conv to the next level, the sub-pixel conv back from
/// it, and its decoder layers.
#[derive(Debug, Clone)]
struct Level {
    enc: Stack,
    down: Conv2d,
    up: Conv2d,
    dec: Stack,
}

/// The multiscale body: input `(B, 1, H, W)`, output the noise map of the same shape.
#[derive(Debug, Clone)]
pub struct Unet {
    alignment: usize,
    head: Conv2d,
    levels: Vec<Level>,
    mid: Stack,
    tail: Conv2d,
}

impl Unet {
    /// Builds the body; level ℓ's tensors are `enc{ℓ}`, `down{ℓ+1}`, `up{ℓ+1}`, `dec{ℓ}`, and the rest `head`, `mid`, `tail`.
    pub fn new(config: UnetConfig, vb: &VarBuilder) -> Result<Self> {
        config.validate()?;
        let c = config.channels;
        let levels = (0..c.len() - 1)
            .map(|l| {
                Ok(Level {
                    enc: Stack::new(c[l], config.down_layers[l], &vb.pp(format!("enc{l}")))?,
                    down: Conv2d::new(c[l], c[l + 1], DOWN, &vb.pp(format!("down{}", l + 1)))?,
                    up: Conv2d::new(c[l + 1], 4 * c[l], POINT, &vb.pp(format!("up{}", l + 1)))?,
                    dec: Stack::new(c[l], config.up_layers[l], &vb.pp(format!("dec{l}")))?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            alignment: config.alignment(),
            head: Conv2d::new(1, c[0], CONV3, &vb.pp("head"))?,
            levels,
            mid: Stack::new(c[c.len() - 1], config.bottom_layers, &vb.pp("mid"))?,
            tail: Conv2d::new(c[0], 1, CONV3, &vb.pp("tail"))?,
        })
    }

    /// The noise map of `x`; sides that are not a multiple of the alignment are padded with zeros at the bottom and
    /// right (the input is background-subtracted, so zero is its mean) and the padding cropped again.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let m = self.alignment;
        let padded = x.pad_with_zeros(2, 0, h.next_multiple_of(m) - h)?.pad_with_zeros(3, 0, w.next_multiple_of(m) - w)?;
        let mut h_now = self.head.forward(&padded)?.relu()?;
        let mut skips = Vec::with_capacity(self.levels.len());
        for level in &self.levels {
            let e = level.enc.forward_t(&h_now, train)?;
            h_now = level.down.forward(&e)?.relu()?;
            skips.push(e);
        }
        h_now = self.mid.forward_t(&h_now, train)?;
        for (level, skip) in self.levels.iter().zip(skips).rev() {
            h_now = level.dec.forward_t(&(depth_to_space(&level.up.forward(&h_now)?)? + skip)?, train)?;
        }
        self.tail.forward(&h_now)?.narrow(2, 0, h)?.narrow(3, 0, w)
    }
}

/// `(B, 4C, H, W)` → `(B, C, 2H, 2W)`: channel `4c + 2dy + dx` becomes pixel `(2y + dy, 2x + dx)` of channel `c`.
pub fn depth_to_space(x: &Tensor) -> Result<Tensor> {
    let (b, c4, h, w) = x.dims4()?;
    let c = c4 / 4;
    x.reshape((b, c, 2, 2, h, w))?.permute((0, 1, 4, 2, 5, 3))?.reshape((b, c, 2 * h, 2 * w))
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn depth_to_space_places_channels_as_pixels() {
        let x = Tensor::arange(0f32, 8.0, &Device::Cpu).unwrap().reshape((1, 8, 1, 1)).unwrap();
        let y = depth_to_space(&x).unwrap();
        assert_eq!(y.dims(), &[1, 2, 2, 2]);
        assert_eq!(y.flatten_all().unwrap().to_vec1::<f32>().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let x = Tensor::arange(0f32, 8.0, &Device::Cpu).unwrap().reshape((1, 4, 1, 2)).unwrap();
        // Channel 0 at (0,0) and (0,2), channel 1 at (0,1) and (0,3), channel 2 and 3 in the second row.
        let y = depth_to_space(&x).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(y, vec![0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
    }
}
