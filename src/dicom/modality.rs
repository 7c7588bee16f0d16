//! Stored values to modality values (PS3.3 C.11.1): the Modality LUT Sequence (0028,3000) when present, else
//! Rescale Slope (0028,1053) / Rescale Intercept (0028,1052) (1 and 0 when absent). Enhanced multi-frame objects
//! carry the rescale in the Pixel Value Transformation Sequence (0028,9145) of their functional groups; the shared
//! (or first per-frame) value is used for every frame.

use dicom_dictionary_std::tags;

use super::attrs::{Dataset, float, items, root_or_group};
use super::lut::Lut;

/// The modality transform of a file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ModalityTransform {
    Rescale { slope: f64, intercept: f64 },
    Lut(Lut),
}

impl ModalityTransform {
    /// Read the transform from a data set (`signed`: Pixel Representation 1).
    pub fn from_dataset(obj: &Dataset, signed: bool) -> Self {
        if let Some(lut) = items(obj, tags::MODALITY_LUT_SEQUENCE).first().and_then(|item| Lut::from_item(item, signed)) {
            return Self::Lut(lut);
        }
        let source = root_or_group(obj, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE, tags::RESCALE_SLOPE).unwrap_or(obj);
        let slope = float(source, tags::RESCALE_SLOPE).filter(|s| *s != 0.0).unwrap_or(1.0);
        let source = root_or_group(obj, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE, tags::RESCALE_INTERCEPT).unwrap_or(obj);
        let intercept = float(source, tags::RESCALE_INTERCEPT).unwrap_or(0.0);
        Self::Rescale { slope, intercept }
    }

    /// Apply the transform in place.
    pub fn apply(&self, values: &mut [f32]) {
        match self {
            Self::Rescale { slope, intercept } => {
                if (*slope - 1.0).abs() < f64::EPSILON && intercept.abs() < f64::EPSILON {
                    return;
                }
                for v in values {
                    *v = (f64::from(*v) * slope + intercept) as f32;
                }
            }
            Self::Lut(lut) => values.iter_mut().for_each(|v| *v = lut.apply(*v)),
        }
    }

    /// Slope and intercept for `ImageMeta` (1 and 0 for a LUT), and whether a LUT was used.
    pub fn summary(&self) -> (f64, f64, bool) {
        match self {
            Self::Rescale { slope, intercept } => (*slope, *intercept, false),
            Self::Lut(_) => (1.0, 0.0, true),
        }
    }
}
