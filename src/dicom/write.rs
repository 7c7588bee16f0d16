//! Write a Digital Mammography X-Ray Image – For Presentation object (SOP Class 1.2.840.10008.5.1.4.1.1.1.2).
//!
//! Used by the simulator: 16-bit allocated, 14 stored, MONOCHROME2, Deflated Explicit VR Little Endian by default
//! (lossless; the data set is zlib-deflated, so the air around the breast costs almost nothing). Files are written
//! to a temporary file in the target directory and renamed into place, so readers never see half a file.
//!
//! ```no_run
//! use mammoscope::dicom::write::{MammogramObject, uid_from_seed, write_mammogram};
//! # fn demo(image: &mammoscope::imaging::Image) -> Result<(), mammoscope::dicom::write::WriteError> {
//! let object = MammogramObject::simulated(image, 7, 0);
//! write_mammogram(std::path::Path::new("/tmp/R_CC.dcm"), &object)?;
//! # Ok(()) }
//! ```

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use dicom_core::{DataElement, PrimitiveValue, VR, value::DataSetSequence};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::Laterality;
use crate::imaging::{Image, voi::Window};

/// Why a DICOM file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error("pixel value {value} at index {index} is not a 14-bit stored value")]
    PixelRange { value: f32, index: usize },
    #[error("failed to build the file meta group: {0}")]
    Meta(Box<dicom_object::WithMetaError>),
    #[error("failed to encode the DICOM data set: {source} ({path:?})")]
    Encode { source: Box<dicom_object::WriteError>, path: PathBuf },
    #[error("I/O error: {source} ({path:?})")]
    Io { source: std::io::Error, path: PathBuf },
}

/// Transfer syntax of the written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferSyntax {
    DeflatedExplicitVrLittleEndian,
    ExplicitVrLittleEndian,
}

impl TransferSyntax {
    pub fn uid(self) -> &'static str {
        match self {
            Self::DeflatedExplicitVrLittleEndian => uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
            Self::ExplicitVrLittleEndian => uids::EXPLICIT_VR_LITTLE_ENDIAN,
        }
    }
}

/// Presentation Intent Type: what the pixel values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresentationIntent {
    /// Processed for display (log, contrast-enhanced); Digital Mammography For Presentation SOP class.
    ForPresentation,
    /// Raw detector values, linear in exposure (what QA phantom analysis needs); For Processing SOP class.
    ForProcessing,
}

/// A window preset: Window Center/Width with its Window Center & Width Explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedWindow {
    pub window: Window,
    pub explanation: String,
}

/// Everything written besides the fixed attributes. Strings are written as given.
#[derive(Clone, Debug)]
pub struct MammogramObject<'a> {
    /// Stored values, integers in 0..=16383.
    pub image: &'a Image,
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub patient_name: String,
    pub patient_id: String,
    pub laterality: Laterality,
    /// View Position, "CC" or "MLO".
    pub view_position: String,
    /// Patient Orientation (row direction, column direction).
    pub patient_orientation: (String, String),
    /// Pixel Spacing (0028,0030) in the breast plane; Imager Pixel Spacing is this times `magnification`.
    pub pixel_spacing_mm: f64,
    /// Estimated Radiographic Magnification Factor.
    pub magnification: f64,
    /// The first window is the default.
    pub windows: Vec<NamedWindow>,
    pub kvp: f64,
    pub exposure_mas: f64,
    pub body_part_thickness_mm: f64,
    pub compression_force_n: f64,
    pub manufacturer: String,
    pub model_name: String,
    pub series_description: String,
    pub series_number: u32,
    pub instance_number: u32,
    pub transfer_syntax: TransferSyntax,
    pub intent: PresentationIntent,
    /// Study Description (0008,1030).
    pub study_description: String,
}

/// A DICOM UID `2.25.<decimal>` from a version-8 UUID derived deterministically from `seed` and `role`.
pub fn uid_from_seed(seed: u64, role: u64) -> String {
    let mix = crate::imaging::seed::splitmix64;
    let hi = mix(seed ^ mix(role));
    let lo = mix(hi ^ role.rotate_left(17) ^ 0x6D61_6D6D_6F73_636F);
    let mut uuid = (u128::from(hi) << 64) | u128::from(lo);
    uuid = (uuid & !(0xF_u128 << 76)) | (0x8_u128 << 76); // version 8 (custom)
    uuid = (uuid & !(0x3_u128 << 62)) | (0x2_u128 << 62); // RFC 9562 variant
    format!("2.25.{uuid}")
}

impl<'a> MammogramObject<'a> {
    /// Defaults for a simulated image: "SIMULATED^MAMMOGRAM", ID "SIM-<seed>", UIDs from the seed, a single
    /// full-range window (replace `windows`), R CC at 0.1 mm.
    pub fn simulated(image: &'a Image, seed: u64, instance: u32) -> Self {
        Self {
            image,
            study_uid: uid_from_seed(seed, 1),
            series_uid: uid_from_seed(seed, 2),
            sop_uid: uid_from_seed(seed, 1000 + u64::from(instance)),
            patient_name: "SIMULATED^MAMMOGRAM".to_owned(),
            patient_id: format!("SIM-{seed}"),
            laterality: Laterality::Right,
            view_position: "CC".to_owned(),
            patient_orientation: ("A".to_owned(), "L".to_owned()),
            pixel_spacing_mm: 0.1,
            magnification: 1.08,
            windows: vec![NamedWindow { window: Window::from_range(0.0, 16383.0), explanation: "FULL".to_owned() }],
            kvp: 28.0,
            exposure_mas: 80.0,
            body_part_thickness_mm: 50.0,
            compression_force_n: 110.0,
            manufacturer: "Mammoscope simulator".to_owned(),
            model_name: "mammoscope synth mammogram".to_owned(),
            series_description: "Simulated screening mammogram".to_owned(),
            series_number: 1,
            instance_number: instance + 1,
            transfer_syntax: TransferSyntax::DeflatedExplicitVrLittleEndian,
            intent: PresentationIntent::ForPresentation,
            study_description: "Simulated mammogram - not patient data".to_owned(),
        }
    }
}

fn ds(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.chars().take(16).collect()
}

fn strs(values: impl IntoIterator<Item = String>) -> PrimitiveValue {
    PrimitiveValue::Strs(values.into_iter().collect())
}

fn code_item(value: &str, meaning: &str) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        DataElement::new(tags::CODE_VALUE, VR::SH, value),
        DataElement::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "SCT"),
        DataElement::new(tags::CODE_MEANING, VR::LO, meaning),
    ])
}

/// Builds the data set (without file meta).
pub fn build_object(o: &MammogramObject<'_>) -> Result<InMemDicomObject, WriteError> {
    let pixels: Vec<u16> = o
        .image
        .data
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            if (0.0..=16383.0).contains(&value) && value.fract() == 0.0 {
                Ok(value as u16)
            } else {
                Err(WriteError::PixelRange { value, index })
            }
        })
        .collect::<Result<_, _>>()?;
    let spacing = ds(o.pixel_spacing_mm);
    let imager = ds(o.pixel_spacing_mm * o.magnification);
    let (view_code, view_meaning) =
        if o.view_position == "MLO" { ("399368009", "medio-lateral oblique") } else { ("399162004", "cranio-caudal") };
    let s = |tag, vr, v: &str| DataElement::new(tag, vr, v);
    let raw = o.intent == PresentationIntent::ForProcessing;
    let (sop_class, intent, image_type, relationship) = if raw {
        (uids::DIGITAL_MAMMOGRAPHY_X_RAY_IMAGE_STORAGE_FOR_PROCESSING, "FOR PROCESSING", "ORIGINAL", "LIN")
    } else {
        (uids::DIGITAL_MAMMOGRAPHY_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION, "FOR PRESENTATION", "DERIVED", "LOG")
    };
    let mut obj = InMemDicomObject::from_element_iter([
        s(tags::SOP_CLASS_UID, VR::UI, sop_class),
        s(tags::SOP_INSTANCE_UID, VR::UI, &o.sop_uid),
        s(tags::STUDY_INSTANCE_UID, VR::UI, &o.study_uid),
        s(tags::SERIES_INSTANCE_UID, VR::UI, &o.series_uid),
        DataElement::new(tags::IMAGE_TYPE, VR::CS, strs([image_type.to_owned(), "PRIMARY".to_owned()])),
        s(tags::MODALITY, VR::CS, "MG"),
        s(tags::PRESENTATION_INTENT_TYPE, VR::CS, intent),
        s(tags::PATIENT_NAME, VR::PN, &o.patient_name),
        s(tags::PATIENT_ID, VR::LO, &o.patient_id),
        s(tags::PATIENT_BIRTH_DATE, VR::DA, ""),
        s(tags::PATIENT_SEX, VR::CS, "F"),
        s(tags::STUDY_DATE, VR::DA, ""),
        s(tags::STUDY_TIME, VR::TM, ""),
        s(tags::REFERRING_PHYSICIAN_NAME, VR::PN, ""),
        s(tags::STUDY_ID, VR::SH, "SIM"),
        s(tags::ACCESSION_NUMBER, VR::SH, ""),
        s(tags::STUDY_DESCRIPTION, VR::LO, &o.study_description),
        s(tags::SERIES_DESCRIPTION, VR::LO, &o.series_description),
        s(tags::SERIES_NUMBER, VR::IS, &o.series_number.to_string()),
        s(tags::INSTANCE_NUMBER, VR::IS, &o.instance_number.to_string()),
        s(tags::MANUFACTURER, VR::LO, &o.manufacturer),
        s(tags::MANUFACTURER_MODEL_NAME, VR::LO, &o.model_name),
        s(tags::SOFTWARE_VERSIONS, VR::LO, concat!("mammoscope ", env!("CARGO_PKG_VERSION"))),
        s(tags::BODY_PART_EXAMINED, VR::CS, "BREAST"),
        s(tags::IMAGE_LATERALITY, VR::CS, o.laterality.code()),
        s(tags::VIEW_POSITION, VR::CS, &o.view_position),
        DataElement::new(tags::VIEW_CODE_SEQUENCE, VR::SQ, DataSetSequence::from(vec![code_item(view_code, view_meaning)])),
        DataElement::new(tags::PATIENT_ORIENTATION, VR::CS, strs([o.patient_orientation.0.clone(), o.patient_orientation.1.clone()])),
        s(tags::POSITIONER_TYPE, VR::CS, "MAMMOGRAPHIC"),
        s(tags::DETECTOR_TYPE, VR::CS, "DIRECT"),
        s(tags::ANODE_TARGET_MATERIAL, VR::CS, "TUNGSTEN"),
        s(tags::FILTER_MATERIAL, VR::CS, "RHODIUM"),
        s(tags::KVP, VR::DS, &ds(o.kvp)),
        s(tags::EXPOSURE, VR::IS, &format!("{:.0}", o.exposure_mas)),
        s(tags::EXPOSURE_INU_AS, VR::IS, &format!("{:.0}", o.exposure_mas * 1000.0)),
        s(tags::BODY_PART_THICKNESS, VR::DS, &ds(o.body_part_thickness_mm)),
        s(tags::COMPRESSION_FORCE, VR::DS, &ds(o.compression_force_n)),
        s(tags::DISTANCE_SOURCE_TO_DETECTOR, VR::DS, "650"),
        s(tags::DISTANCE_SOURCE_TO_PATIENT, VR::DS, &ds(650.0 / o.magnification)),
        s(tags::ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR, VR::DS, &ds(o.magnification)),
        DataElement::new(tags::IMAGER_PIXEL_SPACING, VR::DS, strs([imager.clone(), imager])),
        DataElement::new(tags::PIXEL_SPACING, VR::DS, strs([spacing.clone(), spacing])),
        s(tags::PIXEL_SPACING_CALIBRATION_TYPE, VR::CS, "GEOMETRY"),
        s(tags::PIXEL_SPACING_CALIBRATION_DESCRIPTION, VR::LO, "Imager Pixel Spacing / Estimated Radiographic Magnification Factor"),
        s(tags::PIXEL_INTENSITY_RELATIONSHIP, VR::CS, relationship),
        DataElement::new(tags::PIXEL_INTENSITY_RELATIONSHIP_SIGN, VR::SS, PrimitiveValue::from(1_i16)),
        s(tags::RESCALE_INTERCEPT, VR::DS, "0"),
        s(tags::RESCALE_SLOPE, VR::DS, "1"),
        s(tags::RESCALE_TYPE, VR::LO, "US"),
        DataElement::new(tags::WINDOW_CENTER, VR::DS, strs(o.windows.iter().map(|w| ds(w.window.center)))),
        DataElement::new(tags::WINDOW_WIDTH, VR::DS, strs(o.windows.iter().map(|w| ds(w.window.width)))),
        DataElement::new(tags::WINDOW_CENTER_WIDTH_EXPLANATION, VR::LO, strs(o.windows.iter().map(|w| w.explanation.clone()))),
        s(tags::VOILUT_FUNCTION, VR::CS, "LINEAR"),
        s(tags::BURNED_IN_ANNOTATION, VR::CS, "NO"),
        s(tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00"),
        s(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1_u16)),
        DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(o.image.height as u16)),
        DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(o.image.width as u16)),
        DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16_u16)),
        DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(14_u16)),
        DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(13_u16)),
        DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, PrimitiveValue::from(0_u16)),
    ]);
    obj.put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into())));
    Ok(obj)
}

/// Writes the object to `path` atomically (temporary file in the same directory, then rename).
pub fn write_mammogram(path: &Path, object: &MammogramObject<'_>) -> Result<(), WriteError> {
    let file_object = build_object(object)?
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(object.transfer_syntax.uid()))
        .map_err(|e| WriteError::Meta(Box::new(e)))?;
    let io = |source| WriteError::Io { source, path: path.to_owned() };
    let name = path.file_name().map_or_else(|| "out.dcm".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file_object.write_all(&mut file).map_err(|source| WriteError::Encode { source: Box::new(source), path: path.to_owned() })?;
        file.flush().map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result
}

#[cfg(test)]
mod tests {
    use dicom_dictionary_std::tags;
    use dicom_object::open_file;

    use super::*;

    fn ramp(width: usize, height: usize) -> Image {
        let data = (0..width * height).map(|i| ((i * 37) % 16384) as f32).collect();
        Image { width, height, data }
    }

    fn text(obj: &dicom_object::DefaultDicomObject, tag: dicom_core::Tag) -> String {
        obj.element(tag).unwrap().to_str().unwrap().trim().to_owned()
    }

    #[test]
    fn round_trip_keeps_tags_and_pixels_and_deflate_compresses() {
        let dir = tempfile::tempdir().unwrap();
        let mut image = ramp(300, 200);
        for v in &mut image.data[..30_000] {
            *v = 0.0; // air: compresses well
        }
        let mut object = MammogramObject::simulated(&image, 42, 2);
        object.laterality = Laterality::Left;
        object.view_position = "MLO".to_owned();
        object.patient_orientation = ("A".to_owned(), "F".to_owned());
        object.windows = vec![
            NamedWindow { window: Window { center: 9000.0, width: 8000.0 }, explanation: "STANDARD".to_owned() },
            NamedWindow { window: Window { center: 12000.0, width: 4000.0 }, explanation: "DENSE".to_owned() },
        ];
        let path = dir.path().join("L_MLO.dcm");
        write_mammogram(&path, &object).unwrap();
        let deflated = std::fs::metadata(&path).unwrap().len();
        assert!(deflated < 300 * 200 * 2, "deflated file is {deflated} bytes");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");

        let obj = open_file(&path).unwrap();
        assert_eq!(obj.meta().transfer_syntax().trim_end_matches('\0'), "1.2.840.10008.1.2.1.99");
        assert_eq!(text(&obj, tags::SOP_CLASS_UID), "1.2.840.10008.5.1.4.1.1.1.2");
        assert_eq!(text(&obj, tags::SOP_INSTANCE_UID), uid_from_seed(42, 1002));
        assert_eq!(text(&obj, tags::PATIENT_ID), "SIM-42");
        assert_eq!(text(&obj, tags::PATIENT_NAME), "SIMULATED^MAMMOGRAM");
        assert_eq!(text(&obj, tags::MODALITY), "MG");
        assert_eq!(text(&obj, tags::IMAGE_LATERALITY), "L");
        assert_eq!(text(&obj, tags::VIEW_POSITION), "MLO");
        assert_eq!(text(&obj, tags::PATIENT_ORIENTATION), "A\\F");
        assert_eq!(text(&obj, tags::PRESENTATION_INTENT_TYPE), "FOR PRESENTATION");
        assert_eq!(text(&obj, tags::PIXEL_SPACING), "0.1\\0.1");
        assert_eq!(text(&obj, tags::IMAGER_PIXEL_SPACING), "0.108\\0.108");
        assert_eq!(text(&obj, tags::ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR), "1.08");
        assert_eq!(text(&obj, tags::PIXEL_SPACING_CALIBRATION_TYPE), "GEOMETRY");
        assert_eq!(text(&obj, tags::WINDOW_CENTER), "9000\\12000");
        assert_eq!(text(&obj, tags::WINDOW_CENTER_WIDTH_EXPLANATION), "STANDARD\\DENSE");
        assert_eq!(text(&obj, tags::BURNED_IN_ANNOTATION), "NO");
        assert_eq!(obj.element(tags::BITS_STORED).unwrap().to_int::<u16>().unwrap(), 14);
        assert_eq!(obj.element(tags::ROWS).unwrap().to_int::<u16>().unwrap(), 200);
        let pixels = obj.element(tags::PIXEL_DATA).unwrap().uint16_slice().unwrap().to_vec();
        let expected: Vec<u16> = image.data.iter().map(|&v| v as u16).collect();
        assert_eq!(pixels, expected);
    }

    #[test]
    fn explicit_le_and_bad_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let image = ramp(16, 8);
        let mut object = MammogramObject::simulated(&image, 1, 0);
        object.transfer_syntax = TransferSyntax::ExplicitVrLittleEndian;
        let path = dir.path().join("x.dcm");
        write_mammogram(&path, &object).unwrap();
        let obj = open_file(&path).unwrap();
        assert_eq!(obj.element(tags::PIXEL_DATA).unwrap().to_multi_int::<u16>().unwrap().len(), 128);
        let bad = Image { width: 1, height: 1, data: vec![20_000.0] };
        assert!(matches!(write_mammogram(&path, &MammogramObject::simulated(&bad, 1, 0)), Err(WriteError::PixelRange { .. })));
        assert_ne!(uid_from_seed(1, 1), uid_from_seed(1, 2));
        assert!(uid_from_seed(u64::MAX, 7).len() <= 64);
    }

    #[test]
    fn for_processing_objects_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let image = ramp(16, 8);
        let mut object = MammogramObject::simulated(&image, 1, 0);
        object.intent = PresentationIntent::ForProcessing;
        let path = dir.path().join("raw.dcm");
        write_mammogram(&path, &object).unwrap();
        let obj = open_file(&path).unwrap();
        assert_eq!(text(&obj, tags::SOP_CLASS_UID), "1.2.840.10008.5.1.4.1.1.1.2.1");
        assert_eq!(text(&obj, tags::PRESENTATION_INTENT_TYPE), "FOR PROCESSING");
        assert_eq!(text(&obj, tags::PIXEL_INTENSITY_RELATIONSHIP), "LIN");
        assert_eq!(text(&obj, tags::IMAGE_TYPE), "ORIGINAL\\PRIMARY");
    }
}
