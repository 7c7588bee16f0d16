//! Where an image's pixels came from, as far as its header tells: a digital detector or digitised film.
//!
//! The calcification detector picks its model from this (film carries dust, lint and scanner lines that a model
//! trained on digital images reads as calcifications). The rule, first match wins:
//! 1. Conversion Type (0008,0064) "DF", or a Nominal Scanned Pixel Spacing: digitised film.
//! 2. A digital acquisition's SOP class (DX, digital mammography, CR, breast tomosynthesis), an Imager Pixel Spacing
//!    or a Detector Type: digital.
//! 3. A DICOM secondary capture of a mammogram (modality MG) without any pixel spacing: digitised film. Collections
//!    of scanned film such as CBIS-DDSM are stored this way (Conversion Type "WSD").
//! 4. Anything else (research PNG/TIFF/PGM, other secondary captures): unknown.

use serde::Serialize;

use super::meta::ImageMeta;
use crate::imaging::spacing::SpacingSource;

/// Nominal spacing of digitised film that states none: film digitisers for mammography scan at 40–50 µm (CBIS-DDSM's
/// at 42–50 µm), and the calcification models' film numbers assume 0.05 mm. The viewer and `analyze calc` use it,
/// and say so.
pub const FILM_ASSUMED_SPACING_MM: f64 = 0.05;

/// Where an image's pixels came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// A digital detector (DX, digital mammography, CR).
    Digital,
    /// Scanned film.
    DigitisedFilm,
    /// The header does not say (research images, other secondary captures).
    Unknown,
}

impl ImageSource {
    /// Short text for the UI and the CLI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Digital => "digital",
            Self::DigitisedFilm => "digitised film",
            Self::Unknown => "unknown source",
        }
    }
}

/// SOP classes of digital acquisitions: CR, DX (presentation / processing), digital mammography (both), intra-oral
/// (both), breast tomosynthesis and breast projection X-ray (both).
const DIGITAL_SOP_CLASSES: [&str; 10] = [
    "1.2.840.10008.5.1.4.1.1.1",
    "1.2.840.10008.5.1.4.1.1.1.1",
    "1.2.840.10008.5.1.4.1.1.1.1.1",
    "1.2.840.10008.5.1.4.1.1.1.2",
    "1.2.840.10008.5.1.4.1.1.1.2.1",
    "1.2.840.10008.5.1.4.1.1.1.3",
    "1.2.840.10008.5.1.4.1.1.1.3.1",
    "1.2.840.10008.5.1.4.1.1.13.1.3",
    "1.2.840.10008.5.1.4.1.1.13.1.4",
    "1.2.840.10008.5.1.4.1.1.13.1.5",
];

/// Secondary Capture Image Storage and its multi-frame variants.
const SECONDARY_CAPTURE_PREFIX: &str = "1.2.840.10008.5.1.4.1.1.7";

impl ImageMeta {
    /// The spacing to assume when the file states none: [`FILM_ASSUMED_SPACING_MM`] for digitised film, else `None`
    /// (the caller's own default, or a refusal).
    pub fn nominal_spacing_mm(&self) -> Option<f64> {
        (self.image_source() == ImageSource::DigitisedFilm).then_some(FILM_ASSUMED_SPACING_MM)
    }

    /// Where the pixels came from (see the module documentation for the rule).
    pub fn image_source(&self) -> ImageSource {
        let spacings = || self.spacing.iter().chain(&self.spacing_alternatives).map(|s| s.source);
        let conversion = self.mammo.conversion_type.as_deref().map(str::trim);
        if conversion == Some("DF") || spacings().any(|s| s == SpacingSource::NominalScannedPixelSpacing) {
            return ImageSource::DigitisedFilm;
        }
        let sop = self.sop_class_uid.as_deref().map(|s| s.trim_end_matches('\0').trim());
        let imager =
            spacings().any(|s| matches!(s, SpacingSource::ImagerPixelSpacing | SpacingSource::ImagerSpacingCorrectedByMagnification));
        if sop.is_some_and(|s| DIGITAL_SOP_CLASSES.contains(&s)) || imager || self.mammo.detector_type.is_some() {
            return ImageSource::Digital;
        }
        let capture = sop.is_some_and(|s| s.starts_with(SECONDARY_CAPTURE_PREFIX));
        let mammogram = self.modality.as_deref().is_some_and(|m| m.trim() == "MG");
        let no_spacing = spacings().all(|s| s == SpacingSource::User);
        if self.format == "DICOM" && capture && mammogram && no_spacing {
            return ImageSource::DigitisedFilm;
        }
        ImageSource::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::spacing::Spacing;

    fn meta(sop: &str, modality: &str) -> ImageMeta {
        ImageMeta { format: "DICOM".into(), sop_class_uid: Some(sop.into()), modality: Some(modality.into()), ..ImageMeta::default() }
    }

    fn spacing(source: SpacingSource) -> Spacing {
        Spacing { row_mm: 0.05, col_mm: 0.05, source }
    }

    #[test]
    fn film_and_digital_from_the_header() {
        let sc = "1.2.840.10008.5.1.4.1.1.7";
        // CBIS-DDSM: a secondary capture of a mammogram, Conversion Type WSD, no spacing.
        let mut cbis = meta(sc, "MG");
        cbis.mammo.conversion_type = Some("WSD".into());
        assert_eq!(cbis.image_source(), ImageSource::DigitisedFilm);
        // A spacing given by the user does not make it digital.
        cbis.spacing = Some(spacing(SpacingSource::User));
        assert_eq!(cbis.image_source(), ImageSource::DigitisedFilm);
        // Conversion Type DF says film whatever the modality (the pydicom MG1 sample is "RG").
        let mut df = meta(sc, "RG");
        df.mammo.conversion_type = Some("DF ".into());
        assert_eq!(df.image_source(), ImageSource::DigitisedFilm);
        let mut scanned = meta(sc, "OT");
        scanned.spacing = Some(spacing(SpacingSource::NominalScannedPixelSpacing));
        assert_eq!(scanned.image_source(), ImageSource::DigitisedFilm);
        // Digital mammography, For Presentation and For Processing.
        assert_eq!(meta("1.2.840.10008.5.1.4.1.1.1.2", "MG").image_source(), ImageSource::Digital);
        assert_eq!(meta("1.2.840.10008.5.1.4.1.1.1.2.1\0", "MG").image_source(), ImageSource::Digital);
        // A secondary capture with an imager spacing or a detector type is a digital acquisition.
        let mut imager = meta(sc, "MG");
        imager.spacing = Some(spacing(SpacingSource::ImagerPixelSpacing));
        assert_eq!(imager.image_source(), ImageSource::Digital);
        let mut detector = meta(sc, "MG");
        detector.mammo.detector_type = Some("DIRECT".into());
        assert_eq!(detector.image_source(), ImageSource::Digital);
        // Unknown: a secondary capture of another modality or with a plain pixel spacing, and research images.
        assert_eq!(meta(sc, "OT").image_source(), ImageSource::Unknown);
        let mut plain = meta(sc, "MG");
        plain.spacing = Some(spacing(SpacingSource::PixelSpacing));
        assert_eq!(plain.image_source(), ImageSource::Unknown);
        let png = ImageMeta { format: "PNG".into(), ..ImageMeta::default() };
        assert_eq!(png.image_source(), ImageSource::Unknown);
    }

    #[test]
    fn linear_raw_needs_for_processing_and_a_linear_relationship() {
        let with = |intent: &str, relationship: Option<&str>, sign: Option<f64>| {
            let mut m = meta("1.2.840.10008.5.1.4.1.1.1.2.1", "MG");
            m.mammo.presentation_intent = Some(intent.into());
            m.mammo.pixel_intensity_relationship = relationship.map(Into::into);
            m.mammo.pixel_intensity_sign = sign;
            m.is_linear_raw()
        };
        assert!(with("FOR PROCESSING", Some("LIN"), Some(1.0)));
        assert!(with("FOR PROCESSING ", None, None), "absent attributes: For Processing is linear");
        assert!(!with("FOR PROCESSING", Some("LOG"), Some(1.0)));
        assert!(!with("FOR PROCESSING", Some("LIN"), Some(-1.0)), "higher values mean less intensity: not the usual raw");
        assert!(!with("FOR PRESENTATION", Some("LIN"), Some(1.0)));
    }
}
