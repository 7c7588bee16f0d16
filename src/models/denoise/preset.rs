//! Network presets of the Anscombe-domain residual denoiser.

use serde::{Deserialize, Serialize};

use crate::models::error::ModelError;

/// Which network: the paper's residual net, the small interactive one, or `DnCNN`-17 for comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DenoisePreset {
    /// Eckert et al., Fig. 2: 3 × 3 conv (64) + `ReLU`, 15 residual blocks of three 3 × 3 conv (64) + BN + `ReLU` with
    /// a 1 × 1 conv skip, 3 × 3 conv to the noise map: 1.74 M parameters.
    Paper,
    /// The interactive preset: 24 channels, 4 residual blocks of two conv + BN + `ReLU` with identity skips
    /// (about 42 k parameters, 41× fewer multiply-adds per pixel than `paper`; see the model card for the measurement
    /// that chose it).
    Fast,
    /// A wider, deeper interactive net: 32 channels, 6 residual blocks of two conv + BN + `ReLU` (about 112 k
    /// parameters, 2.6× the operations of `fast`), for where `fast` does not match BM3D.
    Wide,
    /// Zhang et al.'s `DnCNN`-17 (64 channels, conv + 15 × conv-BN-`ReLU` + conv, no skips), trained the same way.
    Dncnn,
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
    pub const ALL: [Self; 4] = [Self::Fast, Self::Wide, Self::Paper, Self::Dncnn];

    /// The command-line and file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Fast => "fast",
            Self::Wide => "wide",
            Self::Dncnn => "dncnn",
        }
    }

    /// Parses a name (`paper`, `fast`, `dncnn`).
    pub fn from_name(name: &str) -> Result<Self, ModelError> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| ModelError::Input(format!("unknown denoiser preset {name:?} (expected fast, wide, paper or dncnn)")))
    }

    /// The layer configuration.
    pub fn config(self) -> DenoiseConfig {
        match self {
            Self::Paper => DenoiseConfig { channels: 64, blocks: 15, convs_per_block: 3, conv_skip: true },
            Self::Fast => DenoiseConfig { channels: 24, blocks: 4, convs_per_block: 2, conv_skip: false },
            Self::Wide => DenoiseConfig { channels: 32, blocks: 6, convs_per_block: 2, conv_skip: false },
            Self::Dncnn => DenoiseConfig { channels: 64, blocks: 0, convs_per_block: 15, conv_skip: false },
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
    }
}
