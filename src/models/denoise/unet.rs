//! A multiscale denoiser body (U-Net with additive skips): the residual presets see at most 10–14 px of context, and
//! on the smooth, low-SNR signal of an 80 % dose-reduced mammogram a wider context is what averages the noise down.
//! Two stride-2 convs take the features to ¼ resolution, where the widest layers are cheap; sub-pixel convolutions
//! (1 × 1 conv to 4× the channels, then depth-to-space) bring them back and add the encoder's features of the same
//! scale. Receptive radius 31 px at 58 % of `fast`'s multiply-adds per pixel.

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
    /// Channels at full, ½ and ¼ resolution.
    pub channels: [usize; 3],
    /// Conv-BN-`ReLU` layers: encoder at full and ½ resolution, the bottom at ¼, decoder at ½ and full.
    pub layers: [usize; 5],
}

impl UnetConfig {
    /// Input sides are padded to a multiple of this (two stride-2 levels); tiles must start on it.
    pub const MULTIPLE: usize = 4;

    /// Pixels on each side that can influence one output pixel, rounded up (the exact reach is 8 + … on one side and
    /// 5 + … on the other, from where the stride-2 phases fall).
    pub fn receptive_radius(self) -> usize {
        let [e0, e1, mid, d1, d0] = self.layers;
        // head + e0 at full resolution, the stride-2 conv (2 px per ½-resolution pixel of reach, ±1 of phase), e1 at ½,
        // the second stride-2 conv and the bottom at ¼ (4 px each), up to ½ (±3 px of phase), d1 at ½, up to full (±1),
        // d0 and the tail at full resolution.
        1 + e0 + 2 + 2 * e1 + 2 + 4 * mid + 3 + 2 * d1 + 1 + d0 + 1
    }

    /// Multiply-adds per output pixel.
    pub fn macs_per_pixel(self) -> usize {
        let [c0, c1, c2] = self.channels;
        let [e0, e1, mid, d1, d0] = self.layers;
        let full = 9 * c0 + (e0 + d0) * 9 * c0 * c0 + 9 * c0;
        let half = (9 * c0 * c1 + (e1 + d1) * 9 * c1 * c1 + c1 * 4 * c0) / 4;
        let quarter = (9 * c1 * c2 + mid * 9 * c2 * c2 + c2 * 4 * c1) / 16;
        full + half + quarter
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

/// The multiscale body: input `(B, 1, H, W)`, output the noise map of the same shape.
#[derive(Debug, Clone)]
pub struct Unet {
    head: Conv2d,
    enc0: Stack,
    down1: Conv2d,
    enc1: Stack,
    down2: Conv2d,
    mid: Stack,
    up2: Conv2d,
    dec1: Stack,
    up1: Conv2d,
    dec0: Stack,
    tail: Conv2d,
}

impl Unet {
    /// Builds the body; tensor names `head`, `enc0`, `down1`, `enc1`, `down2`, `mid`, `up2`, `dec1`, `up1`, `dec0`, `tail`.
    pub fn new(config: UnetConfig, vb: &VarBuilder) -> Result<Self> {
        let [c0, c1, c2] = config.channels;
        let [e0, e1, mid, d1, d0] = config.layers;
        Ok(Self {
            head: Conv2d::new(1, c0, CONV3, &vb.pp("head"))?,
            enc0: Stack::new(c0, e0, &vb.pp("enc0"))?,
            down1: Conv2d::new(c0, c1, DOWN, &vb.pp("down1"))?,
            enc1: Stack::new(c1, e1, &vb.pp("enc1"))?,
            down2: Conv2d::new(c1, c2, DOWN, &vb.pp("down2"))?,
            mid: Stack::new(c2, mid, &vb.pp("mid"))?,
            up2: Conv2d::new(c2, 4 * c1, POINT, &vb.pp("up2"))?,
            dec1: Stack::new(c1, d1, &vb.pp("dec1"))?,
            up1: Conv2d::new(c1, 4 * c0, POINT, &vb.pp("up1"))?,
            dec0: Stack::new(c0, d0, &vb.pp("dec0"))?,
            tail: Conv2d::new(c0, 1, CONV3, &vb.pp("tail"))?,
        })
    }

    /// The noise map of `x`; sides that are not a multiple of [`UnetConfig::MULTIPLE`] are padded with zeros at the
    /// bottom and right (the input is background-subtracted, so zero is its mean) and the padding cropped again.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let m = UnetConfig::MULTIPLE;
        let padded = x.pad_with_zeros(2, 0, h.next_multiple_of(m) - h)?.pad_with_zeros(3, 0, w.next_multiple_of(m) - w)?;
        let e0 = self.enc0.forward_t(&self.head.forward(&padded)?.relu()?, train)?;
        let e1 = self.enc1.forward_t(&self.down1.forward(&e0)?.relu()?, train)?;
        let bottom = self.mid.forward_t(&self.down2.forward(&e1)?.relu()?, train)?;
        let d1 = self.dec1.forward_t(&(depth_to_space(&self.up2.forward(&bottom)?)? + e1)?, train)?;
        let d0 = self.dec0.forward_t(&(depth_to_space(&self.up1.forward(&d1)?)? + e0)?, train)?;
        self.tail.forward(&d0)?.narrow(2, 0, h)?.narrow(3, 0, w)
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
