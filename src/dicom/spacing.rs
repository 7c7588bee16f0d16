//! Which pixel spacing to measure with, and from which attribute.
//!
//! The order follows the IHE Radiology Technical Framework, Mammography Image (MAMMO) profile, requirements on the
//! Image Display for measurements (paraphrased here; the text could not be checked verbatim from this workplace):
//! a Pixel Spacing (0028,0030) that the modality calibrated (Pixel Spacing Calibration Type (0028,0A02) present)
//! measures in the patient and comes first; otherwise Imager Pixel Spacing (0018,1164) corrected by the Estimated
//! Radiographic Magnification Factor (0018,1114); otherwise Imager Pixel Spacing as is (sizes at the detector, larger
//! than in the breast); and the display tells the user which one it used. Plain Pixel Spacing and, for digitised
//! film, Nominal Scanned Pixel Spacing (0018,2010) follow. cornerstone3D's `getPixelSpacingInformation` makes the
//! same choice. Every candidate is kept in `ImageMeta::spacing_alternatives` for the UI.
//!
//! D. Clunie's MGIMAGEA test image shows why it matters: its 200 px bar is 100 mm with Imager Pixel Spacing
//! (0.5 mm), 67 mm magnification-corrected (ERMF 1.5) and 50 mm with the calibrated Pixel Spacing (0.25 mm).

use dicom_core::Tag;
use dicom_dictionary_std::tags;

use super::attrs::{Dataset, float, floats, root_or_group, string};
use crate::imaging::{Spacing, SpacingSource};

/// The chosen spacing (if any), every candidate in order of preference, and a note for the user.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SpacingChoice {
    pub chosen: Option<Spacing>,
    pub alternatives: Vec<Spacing>,
    pub note: Option<String>,
}

/// Note shown when a file has no usable spacing.
pub(crate) const NO_SPACING_NOTE: &str = "no pixel spacing in the file: measurements in pixels";

/// Choose the spacing of a DICOM data set.
pub(crate) fn choose(obj: &Dataset) -> SpacingChoice {
    let mut rejected = Vec::new();
    let mut pair = |tag: Tag, name: &str| {
        let source = root_or_group(obj, tags::PIXEL_MEASURES_SEQUENCE, tag).unwrap_or(obj);
        let values = floats(source, tag);
        match values[..] {
            [] => None,
            [row, col, ..] if row > 0.0 && col > 0.0 => Some((row, col)),
            [both] if both > 0.0 => Some((both, both)),
            _ => {
                rejected.push(format!("ignored invalid {name} {values:?}"));
                None
            }
        }
    };
    let pixel = pair(tags::PIXEL_SPACING, "Pixel Spacing");
    let imager = pair(tags::IMAGER_PIXEL_SPACING, "Imager Pixel Spacing");
    let nominal = pair(tags::NOMINAL_SCANNED_PIXEL_SPACING, "Nominal Scanned Pixel Spacing");
    let calibrated = string(obj, tags::PIXEL_SPACING_CALIBRATION_TYPE).is_some();
    let ermf = float(obj, tags::ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR).filter(|m| *m >= 1.0 && m.is_finite());
    let spacing = |(row_mm, col_mm): (f64, f64), source| Spacing { row_mm, col_mm, source };

    let mut alternatives = Vec::new();
    if let (Some(p), true) = (pixel, calibrated) {
        alternatives.push(spacing(p, SpacingSource::CalibratedPixelSpacing));
    }
    if let (Some((row, col)), Some(m)) = (imager, ermf) {
        alternatives.push(spacing((row / m, col / m), SpacingSource::ImagerSpacingCorrectedByMagnification));
    }
    if let Some(i) = imager {
        alternatives.push(spacing(i, SpacingSource::ImagerPixelSpacing));
    }
    if let (Some(p), false) = (pixel, calibrated) {
        alternatives.push(spacing(p, SpacingSource::PixelSpacing));
    }
    if let Some(n) = nominal {
        alternatives.push(spacing(n, SpacingSource::NominalScannedPixelSpacing));
    }
    let chosen = alternatives.first().copied();
    let mut notes = rejected;
    match chosen.map(|s| s.source) {
        None => notes.push(NO_SPACING_NOTE.to_owned()),
        Some(SpacingSource::ImagerPixelSpacing) => {
            notes.push("Imager Pixel Spacing is measured at the detector: distances in the breast are smaller".to_owned());
        }
        Some(SpacingSource::NominalScannedPixelSpacing) => {
            notes.push("Nominal Scanned Pixel Spacing of the film digitiser: distances on the film".to_owned());
        }
        Some(_) => {}
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    SpacingChoice { chosen, alternatives, note }
}

/// Spacing of a research image: the user's, else none with the usual note.
pub(crate) fn user(spacing_mm: Option<f64>) -> SpacingChoice {
    match spacing_mm.filter(|s| *s > 0.0 && s.is_finite()) {
        Some(mm) => {
            let s = Spacing { row_mm: mm, col_mm: mm, source: SpacingSource::User };
            SpacingChoice { chosen: Some(s), alternatives: vec![s], note: None }
        }
        None => SpacingChoice { chosen: None, alternatives: Vec::new(), note: Some(NO_SPACING_NOTE.to_owned()) },
    }
}
