//! Small, forgiving accessors for data elements: a missing or malformed attribute reads as absent, never as an error.
//!
//! Enhanced (multi-frame) objects keep some attributes in functional group macros; [`functional_group`] finds the
//! macro item in the Shared Functional Groups Sequence (5200,9229), else in the first Per-Frame item (5200,9230).

use dicom_core::{Tag, value::PrimitiveValue};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

/// The in-memory data set type used throughout the input layer.
pub(crate) type Dataset = InMemDicomObject;

/// All string values of an attribute, trimmed, empty ones kept (their position matters for multi-valued attributes).
pub(crate) fn strings(obj: &Dataset, tag: Tag) -> Vec<String> {
    let Some(elem) = obj.get(tag) else {
        return Vec::new();
    };
    match elem.to_multi_str() {
        Ok(values) => {
            values.iter().flat_map(|v| v.split('\\')).map(|v| v.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_owned()).collect()
        }
        Err(_) => Vec::new(),
    }
}

/// The first non-empty string value of an attribute.
pub(crate) fn string(obj: &Dataset, tag: Tag) -> Option<String> {
    strings(obj, tag).into_iter().next().filter(|s| !s.is_empty())
}

/// All numeric values of a DS/IS/FL/FD/US… attribute; unparsable or non-finite values make the whole list empty.
pub(crate) fn floats(obj: &Dataset, tag: Tag) -> Vec<f64> {
    obj.get(tag).and_then(|e| e.to_multi_float64().ok()).filter(|v| v.iter().all(|x| x.is_finite())).unwrap_or_default()
}

/// The first numeric value of an attribute.
pub(crate) fn float(obj: &Dataset, tag: Tag) -> Option<f64> {
    floats(obj, tag).first().copied()
}

/// The first value of an integer attribute, when it fits in a `u32`.
pub(crate) fn uint(obj: &Dataset, tag: Tag) -> Option<u32> {
    let elem = obj.get(tag)?;
    elem.to_int::<i64>().ok().and_then(|v| u32::try_from(v).ok())
}

/// The items of a sequence attribute (empty when absent or not a sequence).
pub(crate) fn items(obj: &Dataset, tag: Tag) -> &[Dataset] {
    obj.get(tag).and_then(|e| e.items()).unwrap_or(&[])
}

/// The raw 16-bit words of a US/SS/OW attribute (LUT Descriptor, LUT Data), whatever the parser made of them.
/// Byte values (OB/OW read as bytes) are paired little-endian, the encoding the parser hands back.
pub(crate) fn words(obj: &Dataset, tag: Tag) -> Vec<u16> {
    let Some(elem) = obj.get(tag) else {
        return Vec::new();
    };
    let Some(value) = elem.value().primitive() else {
        return Vec::new();
    };
    match value {
        PrimitiveValue::U16(v) => v.to_vec(),
        PrimitiveValue::I16(v) => v.iter().map(|&x| x as u16).collect(),
        PrimitiveValue::U8(v) => v.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect(),
        other => other.to_multi_int::<i64>().map(|v| v.into_iter().map(|x| x as u16).collect()).unwrap_or_default(),
    }
}

/// The item of a functional group macro (e.g. Pixel Measures Sequence) for enhanced multi-frame objects:
/// from the Shared Functional Groups Sequence, else from the first Per-Frame Functional Groups item.
pub(crate) fn functional_group(obj: &Dataset, macro_tag: Tag) -> Option<&Dataset> {
    [tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE]
        .into_iter()
        .filter_map(|fg| items(obj, fg).first())
        .find_map(|group| items(group, macro_tag).first())
}

/// The data set holding `tag`: the root when it has it, else the functional group macro item that does.
pub(crate) fn root_or_group(obj: &Dataset, macro_tag: Tag, tag: Tag) -> Option<&Dataset> {
    if obj.get(tag).is_some() {
        return Some(obj);
    }
    functional_group(obj, macro_tag).filter(|item| item.get(tag).is_some())
}
