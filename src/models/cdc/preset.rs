//! The two network presets of the CDC predictor and the arithmetic of their layer sizes.

use std::fmt;
use std::str::FromStr;

use crate::models::error::ModelError;

/// Side of the square network input in pixels: the paper's 250 × 250 downsampled image.
pub const INPUT_SIDE: usize = crate::imaging::downsample::SIDE;
/// Points of the contrast-detail curve the network predicts (1.00 … 0.08 mm).
pub const CDC_POINTS: usize = 12;
/// Output channels of the three conv layers (both presets).
pub const CONV_CHANNELS: [usize; 3] = [8, 16, 32];

/// Which CDC network an ensemble member is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CdcPreset {
    /// The default, small enough to train and ship on a CPU: the paper's conv stack, a 4 × 4 max pool after the last
    /// conv (62 → 15), flatten 7200 → 128 → 128 → heads (≈ 0.93 M weights).
    #[default]
    Compact,
    /// The paper's network (appendix C, Table 2): flatten 62 · 62 · 32 = 123 008 → 512 → 512 → heads (≈ 63 M weights).
    Paper,
}

impl CdcPreset {
    /// Every preset, default first.
    pub const ALL: [Self; 2] = [Self::Compact, Self::Paper];

    /// The name used in files and on the command line: `compact` or `paper`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Compact => "compact",
            Self::Paper => "paper",
        }
    }

    /// Width of the two hidden dense layers.
    pub fn hidden(self) -> usize {
        match self {
            Self::Compact => 128,
            Self::Paper => 512,
        }
    }

    /// Number of extra 2 × 2 max pools after the last conv layer (compact: two, i.e. one 4 × 4 pool).
    pub fn final_pools(self) -> usize {
        match self {
            Self::Compact => 2,
            Self::Paper => 0,
        }
    }

    /// Side of the last feature map for a `side × side` input: two 2 × 2 pools, then [`Self::final_pools`] more.
    pub fn feature_side(self, side: usize) -> usize {
        (0..2 + self.final_pools()).fold(side, |s, _| s / 2)
    }

    /// Length of the flattened feature map for a `side × side` input (7200 compact, 123 008 paper at 250).
    pub fn flat_len(self, side: usize) -> usize {
        let s = self.feature_side(side);
        CONV_CHANNELS[2] * s * s
    }

    /// Number of trainable parameters (conv weights, batch-norm scales and shifts, dense weights and biases) for a
    /// `side × side` input; batch-norm running statistics are not counted.
    pub fn parameter_count(self, side: usize) -> usize {
        let mut c_in = 1;
        let mut count = 0;
        for c_out in CONV_CHANNELS {
            count += c_out * c_in * 9 + 2 * c_out;
            c_in = c_out;
        }
        let (flat, hidden) = (self.flat_len(side), self.hidden());
        count + (flat + 1) * hidden + (hidden + 1) * hidden + 2 * (hidden + 1) * CDC_POINTS
    }
}

impl fmt::Display for CdcPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CdcPreset {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ModelError::Input(format!("unknown CDC network preset {s:?} (expected one of: compact, paper)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for preset in CdcPreset::ALL {
            assert_eq!(preset.name().parse::<CdcPreset>().unwrap(), preset);
            assert_eq!(preset.to_string(), preset.name());
            assert_eq!(serde_json::to_string(&preset).unwrap(), format!("\"{}\"", preset.name()));
        }
        assert_eq!(" Paper ".parse::<CdcPreset>().unwrap(), CdcPreset::Paper);
        assert!(matches!("resnet18".parse::<CdcPreset>(), Err(ModelError::Input(_))));
    }

    #[test]
    fn layer_sizes_follow_table_2() {
        assert_eq!(CdcPreset::Paper.feature_side(250), 62);
        assert_eq!(CdcPreset::Paper.flat_len(250), 123_008);
        assert_eq!(CdcPreset::Compact.feature_side(250), 15);
        assert_eq!(CdcPreset::Compact.flat_len(250), 7200);
        // Paper: convs 72 + 1152 + 4608, BN 2·(8 + 16 + 32), dense 123008·512 + 512, 512·512 + 512, 2·(512·12 + 12).
        assert_eq!(CdcPreset::Paper.parameter_count(250), 5832 + 112 + 62_980_608 + 262_656 + 12_312);
        let compact = CdcPreset::Compact.parameter_count(250);
        assert_eq!(compact, 5832 + 112 + 921_728 + 16_512 + 3096);
        // Ten compact members in f16 stay well under a few tens of MB.
        assert!(10 * compact * 2 < 20_000_000);
    }
}
