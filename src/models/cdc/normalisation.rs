//! Input normalisation: `(v − mean) / std` with the training set's pixel mean and standard deviation (the paper
//! normalises training and test images alike by the statistics of all training pixels).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::models::error::ModelError;
use crate::synth::cdc_data::SettingData;

/// The pixel statistics an ensemble was trained with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Mean raw pixel value of the training set.
    pub mean: f32,
    /// Standard deviation (population) of the training set's raw pixel values.
    pub std: f32,
}

impl Normalisation {
    /// Mean and standard deviation of every stored pixel of `settings`, accumulated in f64 (shifted by a pilot value,
    /// so that the variance does not cancel).
    pub fn from_settings(settings: &[SettingData]) -> Result<Self, ModelError> {
        let images: Vec<&[u16]> = settings.iter().flat_map(|s| s.images.iter().map(|i| i.pixels.as_slice())).collect();
        let pilot = images.iter().find_map(|p| p.first()).map_or(0.0, |&v| f64::from(v));
        let (count, sum, sum_sq) = images
            .par_iter()
            .map(|pixels| {
                pixels.iter().fold((0usize, 0.0f64, 0.0f64), |(n, s, q), &v| {
                    let d = f64::from(v) - pilot;
                    (n + 1, s + d, q + d * d)
                })
            })
            .reduce(|| (0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        if count == 0 {
            return Err(ModelError::Input("no training pixels to normalise by".to_owned()));
        }
        let n = count as f64;
        let mean_shift = sum / n;
        let std = (sum_sq / n - mean_shift * mean_shift).max(0.0).sqrt();
        Self::new((pilot + mean_shift) as f32, std as f32)
    }

    /// Checked constructor: the standard deviation must be positive and both values finite.
    pub fn new(mean: f32, std: f32) -> Result<Self, ModelError> {
        if mean.is_finite() && std.is_finite() && std > 0.0 {
            Ok(Self { mean, std })
        } else {
            Err(ModelError::Input(format!("invalid normalisation: mean {mean}, std {std} (the std must be positive)")))
        }
    }

    /// `(v − mean) / std` of every value.
    pub fn normalise(&self, raw: &[f32]) -> Vec<f32> {
        let scale = 1.0 / self.std;
        raw.iter().map(|&v| (v - self.mean) * scale).collect()
    }

    /// [`Self::normalise`] of raw u16 pixels.
    pub fn normalise_u16(&self, raw: &[u16]) -> Vec<f32> {
        let scale = 1.0 / self.std;
        raw.iter().map(|&v| (f32::from(v) - self.mean) * scale).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::downsample::Selection;
    use crate::synth::cdc_data::{StoredImage, training_settings};

    fn setting(pixels: Vec<u16>) -> SettingData {
        let side = (pixels.len() as f64).sqrt() as usize;
        let image = StoredImage {
            width: side,
            height: side,
            selection: Selection { rows: (0..side).collect(), cols: (0..side).collect() },
            pixels,
        };
        SettingData {
            spec: training_settings(1, 1).remove(0),
            label_um: [1.0; 12],
            ideal_um: [1.0; 12],
            images_read: 1,
            images: vec![image],
        }
    }

    #[test]
    fn statistics_of_all_pixels() {
        let norm = Normalisation::from_settings(&[setting(vec![6000, 6006, 6006, 6000]), setting(vec![6000, 6000, 6006, 6006])]).unwrap();
        // Four 6000s and four 6006s: mean 6003, standard deviation 3.
        assert!((norm.mean - 6003.0).abs() < 1e-3);
        assert!((norm.std - 3.0).abs() < 1e-4);
        assert_eq!(norm.normalise(&[6003.0, 6009.0]), [0.0, 2.0]);
        assert_eq!(norm.normalise_u16(&[5997]), [-2.0]);
    }

    #[test]
    fn rejects_empty_or_constant_data() {
        assert!(Normalisation::from_settings(&[]).is_err());
        assert!(Normalisation::from_settings(&[setting(vec![7; 4])]).is_err());
        assert!(Normalisation::new(0.0, f32::NAN).is_err());
    }
}
