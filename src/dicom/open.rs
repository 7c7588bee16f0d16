//! The two entry points: [`open`] (header + every frame as modality values) and [`read_header`] (header only).
//!
//! Steps for DICOM: size check → sniff the first bytes → length walk ([`super::walk`]) → parse (panics caught) →
//! header sanity ([`super::guard`]) → decode frame by frame ([`super::pixels`]) → modality transform
//! ([`super::modality`]) → generated window presets. Files are opened read-only and never modified; only the
//! SOP Instance UID is ever logged.

use std::path::Path;

use super::guard::Layout;
use super::modality::ModalityTransform;
use super::object::{Extent, head, parse};
use super::sniff::{Kind, checked_len, read_prefix, sniff};
use super::{DicomError, ImageMeta, LoadedImage, OpenOptions, header, pixels, research, voi_attrs};
use crate::imaging::Image;

/// The first bytes of a file, its length and what its content says it is.
fn sniff_file(path: &Path) -> Result<(Kind, Vec<u8>, u64), DicomError> {
    let file_len = checked_len(path)?;
    let head = head(path, file_len)?;
    let kind = sniff(&head, file_len).ok_or_else(|| DicomError::NotAnImage { path: path.to_owned() })?;
    Ok((kind, head, file_len))
}

/// The whole file (within the size limit), reusing `head` when it already holds all of it.
fn whole_file(path: &Path, head: Vec<u8>, file_len: u64) -> Result<Vec<u8>, DicomError> {
    if (head.len() as u64) < file_len { read_prefix(path, file_len) } else { Ok(head) }
}

fn is_research(kind: Kind) -> bool {
    matches!(kind, Kind::Png | Kind::Tiff | Kind::Pnm)
}

/// Open a DICOM, PNG, TIFF or PGM file, decoding every frame to modality values.
pub(crate) fn open(path: &Path, options: &OpenOptions) -> Result<LoadedImage, DicomError> {
    let (kind, head, file_len) = sniff_file(path)?;
    let buf = whole_file(path, head, file_len)?;
    if is_research(kind) {
        return research::open(&buf, kind, path, options);
    }
    let parsed = parse(path, kind, buf, file_len, Extent::Full)?;
    let obj = &parsed;
    let layout = Layout::from_dataset(obj, path)?;
    layout.check_pixel_data(obj, path)?;
    let mut meta = header::dicom_meta(obj);
    let stored = pixels::stored_frames(obj, &layout, path)?;
    let transform = ModalityTransform::from_dataset(obj, layout.signed);
    let frames = stored
        .into_iter()
        .map(|mut values| {
            transform.apply(&mut values);
            Image::new(layout.columns as usize, layout.rows as usize, values)
                .ok_or_else(|| DicomError::Decode { reason: "decoded frame has the wrong size".into(), path: path.to_owned() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    voi_attrs::add_generated(&mut meta.voi, &frames);
    tracing::debug!(sop_instance_uid = meta.sop_instance_uid.as_deref().unwrap_or("?"), frames = frames.len(), "opened DICOM image");
    Ok(LoadedImage { path: path.to_owned(), frames, meta })
}

/// Read only the header (up to Pixel Data) of a DICOM file, or the image header of a research image.
pub(crate) fn read_header(path: &Path) -> Result<ImageMeta, DicomError> {
    let (kind, head, file_len) = sniff_file(path)?;
    if is_research(kind) {
        let bytes = whole_file(path, head, file_len)?;
        return research::header(&bytes, kind, path, &OpenOptions::default());
    }
    let parsed = parse(path, kind, head, file_len, Extent::Header)?;
    Ok(header::dicom_meta(&parsed))
}
