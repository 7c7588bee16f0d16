//! Network presets of the Anscombe-domain denoiser.

use serde::{Deserialize, Serialize};

use super::unet::UnetConfig;
use crate::models::error::ModelError;

/// Which network: the paper's residual net, the small residual ones, the multiscale ones (`unet`, the default), or
/// `DnCNN`-17 for comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DenoisePreset {
    /// Eckert et al., Fig. 2: 3 × 3 conv (64) + `ReLU`, 15 residual blocks of three 3 × 3 conv (64) + BN + `ReLU` with
    /// a 1 × 1 conv skip, 3 × 3 conv to the noise map: 1.74 M parameters.
    Paper,
    /// The small residual preset (the default before `unet`): 24 channels, 4 residual blocks of two conv + BN + `ReLU`
    /// with identity skips (about 42 k parameters, 41× fewer multiply-adds per pixel than `paper`).
    Fast,
    /// A wider, deeper interactive net: 32 channels, 6 residual blocks of two conv + BN + `ReLU` (about 112 k
    /// parameters, 2.6× the operations of `fast`), for where `fast` does not match BM3D.
    Wide,
    /// Zhang et al.'s `DnCNN`-17 (64 channels, conv + 15 × conv-BN-`ReLU` + conv, no skips), trained the same way.
    Dncnn,
    /// A multiscale (U-Net) body: 16 / 32 / 64 channels at full, ½ and ¼ resolution, receptive radius 30 px at 58 %
    /// of `fast`'s multiply-adds (see [`super::unet`]).
    Unet,
    /// A deeper multiscale body, down to ⅛ resolution (128 channels there): receptive radius 66 px.
    Unet4,
}

/// The network family of a preset and its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenoiseArch {
    /// The paper's residual stack (and `DnCNN`'s plain one).
    Residual(DenoiseConfig),
    /// The multiscale body.
    Unet(UnetConfig),
}

impl DenoiseArch {
    /// Pixels on each side that influence one output pixel.
    pub fn receptive_radius(self) -> usize {
        match self {
            Self::Residual(c) => c.receptive_radius(),
            Self::Unet(c) => c.receptive_radius(),
        }
    }

    /// Multiply-adds per output pixel.
    pub fn macs_per_pixel(self) -> usize {
        match self {
            Self::Residual(c) => c.macs_per_pixel(),
            Self::Unet(c) => c.macs_per_pixel(),
        }
    }

    /// Tiles must start on multiples of this (the strides of the multiscale body).
    pub fn alignment(self) -> usize {
        match self {
            Self::Residual(_) => 1,
            Self::Unet(c) => c.alignment(),
        }
    }

    /// Channels of the full-resolution feature maps (what sizes the im2col buffers of a tile).
    pub fn full_resolution_channels(self) -> usize {
        match self {
            Self::Residual(c) => c.channels,
            Self::Unet(c) => c.channels[0],
        }
    }
}

/// The shape of a preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenoiseConfig {
    /// Feature channels.
    pub channels: usize,
    /// Residual blocks (0 for `DnCNN`'s plain stack).
    pub blocks: usize,
    /// 3 × 3 conv + BN + `ReLU` layers per block (`DnCNN`: the number of middle layers).
    pub convs_per_block: usize,
    /// Whether the block skip is a 1 × 1 conv (the paper) rather than the identity.
    pub conv_skip: bool,
}

impl DenoisePreset {
    /// Every preset.
    pub const ALL: [Self; 6] = [Self::Unet, Self::Fast, Self::Wide, Self::Unet4, Self::Paper, Self::Dncnn];

    /// The command-line and file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Fast => "fast",
            Self::Wide => "wide",
            Self::Dncnn => "dncnn",
            Self::Unet => "unet",
            Self::Unet4 => "unet4",
        }
    }

    /// Parses a name (`unet`, `fast`, `wide`, `unet4`, `paper`, `dncnn`).
    pub fn from_name(name: &str) -> Result<Self, ModelError> {
        Self::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            ModelError::Input(format!("unknown denoiser preset {name:?} (expected unet, fast, wide, unet4, paper or dncnn)"))
        })
    }

    /// The network family and its shape.
    pub fn config(self) -> DenoiseArch {
        let residual = |channels, blocks, convs_per_block, conv_skip| {
            DenoiseArch::Residual(DenoiseConfig { channels, blocks, convs_per_block, conv_skip })
        };
        match self {
            Self::Paper => residual(64, 15, 3, true),
            Self::Fast => residual(24, 4, 2, false),
            Self::Wide => residual(32, 6, 2, false),
            Self::Dncnn => residual(64, 0, 15, false),
            Self::Unet => {
                DenoiseArch::Unet(UnetConfig { channels: &[16, 32, 64], down_layers: &[1, 2], bottom_layers: 3, up_layers: &[1, 2] })
            }
            Self::Unet4 => DenoiseArch::Unet(UnetConfig {
                channels: &[16, 32, 64, 128],
                down_layers: &[1, 2, 2],
                bottom_layers: 3,
                up_layers: &[1, 2, 2],
            }),
        }
    }
}

impl DenoiseConfig {
    /// The 3 × 3 convolutions on the path from input to output.
    pub fn conv3_layers(self) -> usize {
        2 + self.blocks.max(1) * self.convs_per_block
    }

    /// Pixels on each side that influence one output pixel: one per 3 × 3 conv. Tiles need at least this overlap for
    /// the tiled result to equal the whole-image result.
    pub fn receptive_radius(self) -> usize {
        self.conv3_layers()
    }

    /// Multiply-adds per output pixel (the cost model quoted in the model card).
    pub fn macs_per_pixel(self) -> usize {
        let c = self.channels;
        let middle = self.blocks.max(1) * self.convs_per_block * 9 * c * c;
        let skips = if self.conv_skip { self.blocks * c * c } else { 0 };
        9 * c + middle + skips + 9 * c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_radii() {
        for p in DenoisePreset::ALL {
            assert_eq!(DenoisePreset::from_name(p.name()).unwrap(), p);
        }
        assert!(DenoisePreset::from_name("big").is_err());
        assert_eq!(DenoisePreset::Paper.config().receptive_radius(), 47);
        assert_eq!(DenoisePreset::Dncnn.config().receptive_radius(), 17);
        assert!(DenoisePreset::Fast.config().macs_per_pixel() * 15 < DenoisePreset::Paper.config().macs_per_pixel());
        assert_eq!(DenoisePreset::Unet.config().receptive_radius(), 30);
        assert_eq!(DenoisePreset::Unet.config().alignment(), 4);
        assert_eq!(DenoisePreset::Unet.config().macs_per_pixel(), 24_352);
        assert_eq!(DenoisePreset::Unet4.config().receptive_radius(), 66);
        assert_eq!(DenoisePreset::Unet4.config().alignment(), 8);
        assert!(DenoisePreset::Unet.config().macs_per_pixel() < DenoisePreset::Fast.config().macs_per_pixel());
    }
}
