//! A DICOM data set to [`ImageMeta`]: everything but the generated window presets, which need the pixels.

use dicom_dictionary_std::tags;
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::DefaultDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::attrs::{string, uint};
use super::meta::ImageMeta;
use super::modality::ModalityTransform;
use super::{mammo, spacing, voi_attrs};

/// The header facts of a DICOM object (pixel data not needed).
pub(crate) fn dicom_meta(obj: &DefaultDicomObject) -> ImageMeta {
    let ts_uid = obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']).to_owned();
    let ts_name = TransferSyntaxRegistry.get(&ts_uid).map(|ts| ts.name().to_owned());
    let signed = uint(obj, tags::PIXEL_REPRESENTATION) == Some(1);
    let bits_allocated = uint(obj, tags::BITS_ALLOCATED).unwrap_or(0);
    let (rescale_slope, rescale_intercept, modality_lut_used) = ModalityTransform::from_dataset(obj, signed).summary();
    let spacing = spacing::choose(obj);
    ImageMeta {
        format: "DICOM".into(),
        rows: uint(obj, tags::ROWS).unwrap_or(0),
        columns: uint(obj, tags::COLUMNS).unwrap_or(0),
        frames: uint(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1),
        bits_allocated: u16::try_from(bits_allocated).unwrap_or(0),
        bits_stored: uint(obj, tags::BITS_STORED).and_then(|b| u16::try_from(b).ok()).unwrap_or(0),
        signed,
        photometric: string(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_else(|| "MONOCHROME2".into()),
        transfer_syntax_uid: Some(ts_uid),
        transfer_syntax_name: ts_name,
        sop_class_uid: string(obj, tags::SOP_CLASS_UID),
        sop_instance_uid: string(obj, tags::SOP_INSTANCE_UID),
        study_instance_uid: string(obj, tags::STUDY_INSTANCE_UID),
        series_instance_uid: string(obj, tags::SERIES_INSTANCE_UID),
        modality: string(obj, tags::MODALITY),
        study_description: string(obj, tags::STUDY_DESCRIPTION),
        study_date: string(obj, tags::STUDY_DATE),
        rescale_slope,
        rescale_intercept,
        modality_lut_used,
        spacing: spacing.chosen,
        spacing_alternatives: spacing.alternatives,
        spacing_note: spacing.note,
        voi: voi_attrs::from_dataset(obj, signed),
        mammo: mammo::attributes(obj),
        patient: mammo::patient(obj),
    }
}
