//! What a file is, from its first bytes (never from its extension), and reading it within bounds.

use std::io::Read;
use std::path::Path;

use dicom_core::VR;

use super::DicomError;

/// Largest file accepted: a mammogram series object never comes near it, and it bounds every allocation.
pub(crate) const MAX_FILE_BYTES: u64 = 4 << 30;
/// Bytes read first when only the header is wanted.
pub(crate) const HEADER_PREFIX_BYTES: u64 = 1 << 20;

/// The kinds of file the input layer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A DICOM Part 10 file: `DICM` at `meta_start - 4` (128 with the preamble, 0 without).
    Part10 {
        meta_start: usize,
    },
    /// A bare data set without preamble or file meta group (old ACR-NEMA style), implicit or explicit VR LE.
    RawDataset {
        explicit_vr: bool,
    },
    Png,
    Tiff,
    Pnm,
}

/// Guess the kind from the first bytes; `None` when it is none of the supported ones.
pub(crate) fn sniff(head: &[u8], file_len: u64) -> Option<Kind> {
    if head.get(128..132) == Some(b"DICM") {
        return Some(Kind::Part10 { meta_start: 132 });
    }
    if head.starts_with(b"DICM") {
        return Some(Kind::Part10 { meta_start: 4 });
    }
    if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(Kind::Png);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Some(Kind::Tiff);
    }
    if let [b'P', b'1'..=b'7', sep, ..] = head
        && sep.is_ascii_whitespace()
    {
        return Some(Kind::Pnm);
    }
    raw_dataset(head, file_len)
}

/// A bare little-endian data set starts with an even group in the file header range (0008 to 0028 in practice).
fn raw_dataset(head: &[u8], file_len: u64) -> Option<Kind> {
    let b = head.get(0..8)?;
    let group = u16::from_le_bytes([b[0], b[1]]);
    if group == 0 || group % 2 != 0 || !(0x0008..=0x0028).contains(&group) {
        return None;
    }
    if VR::from_binary([b[4], b[5]]).is_some() {
        return Some(Kind::RawDataset { explicit_vr: true });
    }
    let len = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    (u64::from(len) + 8 <= file_len).then_some(Kind::RawDataset { explicit_vr: false })
}

/// The file's size, refusing empty and oversized files.
pub(crate) fn checked_len(path: &Path) -> Result<u64, DicomError> {
    let len = std::fs::metadata(path).map_err(|source| DicomError::Io { source, path: path.to_owned() })?.len();
    if len == 0 {
        return Err(DicomError::Truncated { reason: "the file is empty (0 bytes)".into(), path: path.to_owned() });
    }
    if len > MAX_FILE_BYTES {
        let gib = len as f64 / f64::from(1u32 << 30);
        return Err(DicomError::Unsupported {
            reason: format!("file of {gib:.1} GiB is larger than the 4 GiB limit"),
            path: path.to_owned(),
        });
    }
    Ok(len)
}

/// Read at most `limit` bytes from the start of the file (opened read-only); `limit` is also the capacity reserved,
/// so pass at most the file's size.
pub(crate) fn read_prefix(path: &Path, limit: u64) -> Result<Vec<u8>, DicomError> {
    let io = |source| DicomError::Io { source, path: path.to_owned() };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
    file.take(limit).read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}
