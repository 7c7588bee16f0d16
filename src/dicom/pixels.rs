//! Pixel Data to stored values: native (uncompressed) frames are sliced directly, encapsulated frames go through
//! the codec registered for the transfer syntax (dicom-pixeldata's `native` + `openjp2` features: RLE, JPEG
//! baseline/extended 8-bit/lossless, JPEG 2000), one frame at a time, each inside `catch_unwind`.
//!
//! Output values are the stored values (masked to Bits Stored, sign-extended when Pixel Representation is 1) as
//! `f32`, which holds every value up to 24 bits exactly. Photometric interpretation is left alone: MONOCHROME1 data
//! are not inverted (the viewer inverts on display).

use std::path::Path;

use dicom_core::value::Value;
use dicom_dictionary_std::{tags, uids};
use dicom_encoding::{TransferSyntaxIndex, transfer_syntax::Codec};
use dicom_object::DefaultDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::DicomError;
use super::guard::{Layout, contain_panic};

/// Decode every frame of `obj` to stored values.
pub(crate) fn stored_frames(obj: &DefaultDicomObject, layout: &Layout, path: &Path) -> Result<Vec<Vec<f32>>, DicomError> {
    let ts_uid = obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']).to_owned();
    let ts = TransferSyntaxRegistry
        .get(&ts_uid)
        .ok_or_else(|| DicomError::Unsupported { reason: format!("unknown transfer syntax {ts_uid}"), path: path.to_owned() })?;
    let ts_label = format!("{} ({ts_uid})", ts.name());
    if ts_uid == uids::JPEG_EXTENDED12_BIT && layout.bits_stored > 8 {
        return Err(jpeg12_refusal(&ts_label, path));
    }
    let Some(elem) = obj.get(tags::PIXEL_DATA) else {
        return Err(DicomError::Invalid { reason: "the file has no Pixel Data (7FE0,0010)".into(), path: path.to_owned() });
    };
    match (elem.value(), ts.codec()) {
        (Value::Primitive(p), _) => {
            let bytes = p.to_bytes();
            (0..layout.frames).map(|f| Ok(native_frame(&bytes, layout, f))).collect()
        }
        (Value::PixelSequence(_), Codec::EncapsulatedPixelData(Some(decoder), _)) => {
            let frame_bytes = layout.frame_bytes() as usize;
            (0..layout.frames)
                .map(|frame| {
                    let mut dst = Vec::with_capacity(frame_bytes);
                    let what = || format!("frame {} of {ts_label}", frame + 1);
                    contain_panic(what, path, || decoder.decode_frame(obj, frame, &mut dst))?.map_err(|e| {
                        let text = DicomError::one_line(&e);
                        if ts_uid == uids::JPEG_EXTENDED12_BIT && text.contains("SamplePrecision") {
                            jpeg12_refusal(&ts_label, path)
                        } else {
                            DicomError::Decode { reason: format!("{ts_label}, frame {}: {text}", frame + 1), path: path.to_owned() }
                        }
                    })?;
                    if dst.len() < frame_bytes {
                        return Err(DicomError::Decode {
                            reason: format!("{ts_label}, frame {}: {} bytes decoded, {frame_bytes} expected", frame + 1, dst.len()),
                            path: path.to_owned(),
                        });
                    }
                    Ok(native_frame(&dst, layout, 0))
                })
                .collect()
        }
        (Value::PixelSequence(_), _) => {
            Err(DicomError::Unsupported { reason: format!("transfer syntax {ts_label} has no built-in decoder"), path: path.to_owned() })
        }
        (Value::Sequence(_), _) => {
            Err(DicomError::Invalid { reason: "Pixel Data (7FE0,0010) is a sequence".into(), path: path.to_owned() })
        }
    }
}

fn jpeg12_refusal(ts_label: &str, path: &Path) -> DicomError {
    DicomError::Unsupported {
        reason: format!("transfer syntax {ts_label}: 12-bit JPEG Extended is not supported by the built-in decoder"),
        path: path.to_owned(),
    }
}

/// Stored values of frame `frame` of little-endian native data (bounds were checked by [`Layout::check_pixel_data`];
/// missing bytes read as 0 rather than panicking).
fn native_frame(bytes: &[u8], layout: &Layout, frame: u32) -> Vec<f32> {
    let n = layout.frame_pixels();
    if layout.bits_allocated == 1 {
        let first_bit = n * frame as usize;
        return (first_bit..first_bit + n).map(|bit| bytes.get(bit / 8).map_or(0.0, |b| f32::from((b >> (bit % 8)) & 1))).collect();
    }
    let width = usize::from(layout.bits_allocated / 8);
    let start = n * width * frame as usize;
    let shift = u32::from(layout.high_bit + 1 - layout.bits_stored);
    let bits = u32::from(layout.bits_stored);
    let mask: u64 = (1u64 << bits) - 1;
    let sign_bit: u64 = 1u64 << (bits - 1);
    let frame_bytes = bytes.get(start..(start + n * width).min(bytes.len())).unwrap_or(&[]);
    let mut out: Vec<f32> = frame_bytes
        .chunks_exact(width)
        .map(|c| {
            let word = match *c {
                [a] => u64::from(a),
                [a, b] => u64::from(u16::from_le_bytes([a, b])),
                [a, b, cc, d] => u64::from(u32::from_le_bytes([a, b, cc, d])),
                _ => 0,
            };
            let v = (word >> shift) & mask;
            if layout.signed && v & sign_bit != 0 { (v as i64 - (1i64 << bits)) as f32 } else { v as f32 }
        })
        .collect();
    out.resize(n, 0.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_sign_extends() {
        let layout = Layout { rows: 1, columns: 3, frames: 1, bits_allocated: 16, bits_stored: 12, high_bit: 11, signed: true };
        // 0x0FFF = -1 in 12-bit two's complement; 0xF7FF has garbage above bit 11 (masked to 0x7FF = 2047).
        let bytes = [0xFF, 0x0F, 0xFF, 0xF7, 0x00, 0x08];
        assert_eq!(native_frame(&bytes, &layout, 0), vec![-1.0, 2047.0, -2048.0]);
        let one_bit = Layout { rows: 1, columns: 4, frames: 2, bits_allocated: 1, bits_stored: 1, high_bit: 0, signed: false };
        assert_eq!(native_frame(&[0b1010_0101], &one_bit, 1), vec![0.0, 1.0, 0.0, 1.0]);
    }
}
