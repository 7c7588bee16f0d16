//! Mammography acquisition attributes (DX/MG IODs, PS3.3 C.8.11) and the patient identifiers.
//!
//! Patient identifiers go only into [`PatientInfo`]; nothing in the input layer logs them.

use dicom_dictionary_std::tags;

use super::attrs::{Dataset, float, string, strings};
use super::meta::{Laterality, MammoAttributes, PatientInfo};

/// Read the mammography attributes of a data set.
pub(crate) fn attributes(obj: &Dataset) -> MammoAttributes {
    let laterality = string(obj, tags::IMAGE_LATERALITY)
        .and_then(|s| Laterality::from_dicom(&s))
        .or_else(|| string(obj, tags::LATERALITY).and_then(|s| Laterality::from_dicom(&s)));
    let orientation = strings(obj, tags::PATIENT_ORIENTATION);
    let patient_orientation = match &orientation[..] {
        [row, col, ..] if !row.is_empty() || !col.is_empty() => Some((row.clone(), col.clone())),
        _ => None,
    };
    let exposure_mas = float(obj, tags::EXPOSURE)
        .or_else(|| float(obj, tags::EXPOSURE_INU_AS).map(|uas| uas / 1000.0))
        .or_else(|| float(obj, tags::EXPOSURE_INM_AS));
    let anode = string(obj, tags::ANODE_TARGET_MATERIAL);
    let filter = strings(obj, tags::FILTER_MATERIAL).into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("+");
    let anode_filter = match (anode, filter.is_empty()) {
        (Some(a), false) => Some(format!("{a}/{filter}")),
        (Some(a), true) => Some(a),
        (None, false) => Some(filter),
        (None, true) => None,
    };
    MammoAttributes {
        laterality,
        view_position: string(obj, tags::VIEW_POSITION),
        presentation_intent: string(obj, tags::PRESENTATION_INTENT_TYPE),
        patient_orientation,
        kvp: float(obj, tags::KVP),
        exposure_mas,
        body_part_thickness_mm: float(obj, tags::BODY_PART_THICKNESS),
        compression_force_n: float(obj, tags::COMPRESSION_FORCE),
        manufacturer: string(obj, tags::MANUFACTURER),
        model: string(obj, tags::MANUFACTURER_MODEL_NAME),
        anode_filter,
        conversion_type: string(obj, tags::CONVERSION_TYPE),
        detector_type: string(obj, tags::DETECTOR_TYPE),
        pixel_intensity_relationship: string(obj, tags::PIXEL_INTENSITY_RELATIONSHIP),
        pixel_intensity_sign: float(obj, tags::PIXEL_INTENSITY_RELATIONSHIP_SIGN),
    }
}

/// Read the patient identifiers (never logged).
pub(crate) fn patient(obj: &Dataset) -> PatientInfo {
    PatientInfo {
        name: string(obj, tags::PATIENT_NAME),
        id: string(obj, tags::PATIENT_ID),
        birth_date: string(obj, tags::PATIENT_BIRTH_DATE),
    }
}
