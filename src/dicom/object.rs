//! From bytes to a dicom-object data set, after the length walk of [`super::walk`], with panics contained.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use dicom_dictionary_std::{tags, uids};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, FileMetaTableBuilder, InMemDicomObject, OpenFileOptions};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::DicomError;
use super::sniff::{HEADER_PREFIX_BYTES, Kind, read_prefix};
use super::walk::{Encoding, WalkError, walk};

/// Explicit VR Big Endian (retired, so its `uids` constant is deprecated, but files in it still exist).
const EXPLICIT_VR_BIG_ENDIAN: &str = "1.2.840.10008.1.2.2";

/// How much of the file to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extent {
    /// Stop before Pixel Data (study lists, `read_header`).
    Header,
    /// Everything, pixels included.
    Full,
}

/// Parse a DICOM file of `file_len` bytes, of the `kind` sniffed from `head` (its first bytes).
pub(crate) fn parse(path: &Path, kind: Kind, mut buf: Vec<u8>, file_len: u64, extent: Extent) -> Result<DefaultDicomObject, DicomError> {
    let invalid = |reason: String| DicomError::Invalid { reason, path: path.to_owned() };
    let truncated = |reason: String| DicomError::Truncated { reason, path: path.to_owned() };
    let (data_start, ts_uid) = match kind {
        Kind::Part10 { meta_start } => meta_group(&buf, meta_start, file_len).map_err(|e| walk_error(e, path))?,
        Kind::RawDataset { explicit_vr: true } => (0, uids::EXPLICIT_VR_LITTLE_ENDIAN.to_owned()),
        Kind::RawDataset { explicit_vr: false } => (0, uids::IMPLICIT_VR_LITTLE_ENDIAN.to_owned()),
        _ => {
            return Err(DicomError::NotAnImage { path: path.to_owned() });
        }
    };
    let encoding = match ts_uid.as_str() {
        uids::IMPLICIT_VR_LITTLE_ENDIAN => Some(Encoding { explicit_vr: false, big_endian: false }),
        EXPLICIT_VR_BIG_ENDIAN => Some(Encoding { explicit_vr: true, big_endian: true }),
        // Deflated data sets cannot be walked before inflating; dicom-object inflates them itself.
        uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN | uids::JPIP_REFERENCED_DEFLATE => None,
        _ => Some(Encoding { explicit_vr: true, big_endian: false }),
    };
    if TransferSyntaxRegistry.get(&ts_uid).is_none() {
        return Err(DicomError::Unsupported { reason: format!("unknown transfer syntax {ts_uid}"), path: path.to_owned() });
    }
    if let Some(encoding) = encoding {
        let header_only = extent == Extent::Header;
        let report = match walk(&buf, data_start, file_len, encoding, header_only) {
            Err(WalkError::NeedMore) => {
                buf = read_prefix(path, file_len)?;
                walk(&buf, data_start, file_len, encoding, header_only)
            }
            other => other,
        }
        .map_err(|e| walk_error(e, path))?;
        if extent == Extent::Full && !report.has_pixel_data {
            return Err(invalid("the file has no Pixel Data (7FE0,0010): not an image".into()));
        }
    } else if (buf.len() as u64) < file_len {
        buf = read_prefix(path, file_len)?;
    }
    catch_unwind(AssertUnwindSafe(|| parse_bytes(&buf, kind, &ts_uid, extent)))
        .map_err(|_| DicomError::DecoderCrashed { what: "the DICOM data set".into(), path: path.to_owned() })?
        .map_err(|e| {
            let text = DicomError::one_line(&e);
            if text.contains("UnexpectedEof") || text.to_ascii_lowercase().contains("end of file") {
                truncated(format!("the data set ends early ({text})"))
            } else {
                invalid(text)
            }
        })
}

/// The first bytes of a file, enough to sniff and usually to read the whole header.
pub(crate) fn head(path: &Path, file_len: u64) -> Result<Vec<u8>, DicomError> {
    read_prefix(path, file_len.min(HEADER_PREFIX_BYTES))
}

fn parse_bytes(buf: &[u8], kind: Kind, ts_uid: &str, extent: Extent) -> Result<DefaultDicomObject, Box<dyn std::error::Error>> {
    if let Kind::Part10 { meta_start } = kind {
        let from = buf.get(meta_start.saturating_sub(4)..).unwrap_or(&[]);
        let options = OpenFileOptions::new().read_preamble(ReadPreamble::Never);
        let options = if extent == Extent::Header { options.read_until(tags::PIXEL_DATA) } else { options };
        return Ok(options.from_reader(Cursor::new(from))?);
    }
    // A bare data set: read it whole (no read_until for these) and give it a file meta table.
    let ts = TransferSyntaxRegistry.get(ts_uid).ok_or("unknown transfer syntax")?;
    let obj = InMemDicomObject::read_dataset_with_ts(Cursor::new(buf), ts)?;
    let text = |tag| obj.get(tag).and_then(|e| e.to_str().ok()).map(|s| s.trim().to_owned()).unwrap_or_default();
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(ts_uid)
        .media_storage_sop_class_uid(text(tags::SOP_CLASS_UID))
        .media_storage_sop_instance_uid(text(tags::SOP_INSTANCE_UID))
        .build()?;
    Ok(obj.with_exact_meta(meta))
}

/// Walk the file meta group (always explicit VR little endian, group 0002): where the data set starts and its
/// Transfer Syntax UID.
fn meta_group(buf: &[u8], meta_start: usize, file_len: u64) -> Result<(usize, String), WalkError> {
    let mut pos = meta_start;
    let mut ts = None;
    loop {
        let Some(h) = buf.get(pos..pos + 8) else {
            return if (buf.len() as u64) < file_len {
                Err(WalkError::NeedMore)
            } else {
                Err(WalkError::Truncated("the file ends inside the file meta group".into()))
            };
        };
        let group = u16::from_le_bytes([h[0], h[1]]);
        if group != 0x0002 {
            break;
        }
        let element = u16::from_le_bytes([h[2], h[3]]);
        let long = matches!(&h[4..6], b"OB" | b"OW" | b"UN" | b"SQ" | b"UT" | b"UC" | b"UR");
        let (len, header) = if long {
            let l = buf.get(pos + 8..pos + 12).ok_or(WalkError::Truncated("the file ends inside the file meta group".into()))?;
            (u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize, 12)
        } else {
            (usize::from(u16::from_le_bytes([h[6], h[7]])), 8)
        };
        let value = buf.get(pos + header..pos + header + len).ok_or_else(|| {
            WalkError::Truncated(format!("file meta element (0002,{element:04X}) declares {len} bytes past the end of the file"))
        })?;
        if element == 0x0010 {
            ts = Some(String::from_utf8_lossy(value).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_owned());
        }
        pos += header + len;
    }
    let ts = ts.filter(|t| !t.is_empty()).ok_or(WalkError::Invalid("the file meta group has no Transfer Syntax UID (0002,0010)".into()))?;
    Ok((pos, ts))
}

fn walk_error(e: WalkError, path: &Path) -> DicomError {
    match e {
        WalkError::Truncated(reason) => DicomError::Truncated { reason, path: path.to_owned() },
        WalkError::Invalid(reason) => DicomError::Invalid { reason, path: path.to_owned() },
        WalkError::NeedMore => DicomError::Truncated { reason: "the file ended while reading its header".into(), path: path.to_owned() },
    }
}
