//! Errors of the input layer.
//!
//! Every message is one line, written for the person at the viewer (a radiologist or a physicist), and ends with the
//! path. Messages never contain patient identifiers.

use std::path::PathBuf;

/// Why a file could not be opened. Every message is one line, fit for a notification or stderr.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DicomError {
    #[error("cannot read file: {source} ({path:?})")]
    Io { source: std::io::Error, path: PathBuf },
    #[error("not a DICOM or supported image file (DICOM, PNG, TIFF or PGM) ({path:?})")]
    NotAnImage { path: PathBuf },
    #[error("invalid DICOM: {reason} ({path:?})")]
    Invalid { reason: String, path: PathBuf },
    #[error("unsupported: {reason} ({path:?})")]
    Unsupported { reason: String, path: PathBuf },
    #[error("failed to decode pixel data: {reason} ({path:?})")]
    Decode { reason: String, path: PathBuf },
    #[error("failed to write {path:?}: {reason}")]
    Write { reason: String, path: PathBuf },
    /// The file ends before the data it declares (or a length field lies about what follows).
    #[error("file is truncated: {reason} ({path:?})")]
    Truncated { reason: String, path: PathBuf },
    /// A third-party decoder panicked; caught by `std::panic::catch_unwind`.
    #[error("decoder crashed on {what} ({path:?})")]
    DecoderCrashed { what: String, path: PathBuf },
}

impl DicomError {
    /// A third-party error message flattened to one line (the messages of this enum must stay one line).
    pub(crate) fn one_line(reason: impl std::fmt::Display) -> String {
        let text = reason.to_string();
        let mut line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            line.push_str("unknown error");
        }
        line
    }
}
