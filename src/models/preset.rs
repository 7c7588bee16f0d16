//! The named network presets of the microcalcification patch classifier.

use std::fmt;
use std::str::FromStr;

use super::error::ModelError;

/// Side of the square input patch, in pixels: the networks take `(B, 1, PATCH_SIZE, PATCH_SIZE)`.
pub const PATCH_SIZE: usize = 224;

/// Which backbone a [`super::calc_net::CalcNet`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalcPreset {
    /// The default: a 7-layer conv net (see [`super::compact`]), fast enough to train on a CPU.
    #[default]
    Compact,
    /// torchvision ResNet-18 with a single-channel stem and one output.
    Resnet18,
    /// torchvision ResNet-50 (v1.5) with a single-channel stem and one output.
    Resnet50,
}

impl CalcPreset {
    /// Every preset, default first.
    pub const ALL: [Self; 3] = [Self::Compact, Self::Resnet18, Self::Resnet50];

    /// The name used in files and on the command line: `compact`, `resnet18` or `resnet50`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Compact => "compact",
            Self::Resnet18 => "resnet18",
            Self::Resnet50 => "resnet50",
        }
    }

    /// Channels of the encoder output (stride 8, shared with the decoder).
    pub fn encoder_channels(self) -> usize {
        match self {
            Self::Compact => 64,
            Self::Resnet18 => 128,
            Self::Resnet50 => 512,
        }
    }

    /// Channels of the feature map used by the neighbour loss (the last conv layer's output).
    pub fn feature_channels(self) -> usize {
        match self {
            Self::Compact => 128,
            Self::Resnet18 => 512,
            Self::Resnet50 => 2048,
        }
    }
}

impl fmt::Display for CalcPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CalcPreset {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| ModelError::UnknownPreset(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for preset in CalcPreset::ALL {
            assert_eq!(preset.name().parse::<CalcPreset>().unwrap(), preset);
            assert_eq!(serde_json::to_string(&preset).unwrap(), format!("\"{}\"", preset.name()));
        }
        assert!(matches!("vgg".parse::<CalcPreset>(), Err(ModelError::UnknownPreset(_))));
    }
}
