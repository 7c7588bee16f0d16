//! Input layer: DICOM (and research PNG/TIFF/PGM) files to modality values plus metadata.
//! No egui, wgpu or candle here.
//!
//! ```no_run
//! use mammoscope::dicom::{self, OpenOptions};
//! let loaded = dicom::open(std::path::Path::new("mammo.dcm"), &OpenOptions::default())?;
//! let default_window = &loaded.meta.voi.presets[0];
//! println!("{} frame(s), window {:?}", loaded.frames.len(), default_window.window);
//! # Ok::<(), dicom::DicomError>(())
//! ```
//!
//! Files: `sniff` (what a file is, from its bytes), `walk` (element lengths checked before parsing), `object`
//! (parsing, panics contained), `guard` (header sanity before decoding), `pixels` (decoding to stored values),
//! `lut` + `modality` (to modality values), `voi_attrs` (window presets, VOI LUTs), `spacing` (IHE order),
//! `mammo` (acquisition attributes, patient identifiers), `source` (digital detector or digitised film), `header` (all of it into `ImageMeta`), `research`
//! (PNG/TIFF/PGM), `open` (the entry points).
//!
//! Supported transfer syntaxes: implicit/explicit VR little endian, deflated, explicit VR big endian, RLE lossless,
//! JPEG baseline, JPEG extended 8-bit, JPEG lossless, JPEG 2000 (lossless and lossy). Refused with a clear message:
//! 12-bit JPEG Extended (1.2.840.10008.1.2.4.51; the built-in jpeg-decoder cannot read it), JPEG-LS and any other
//! syntax without a built-in decoder, colour images. Known limit: deflated data sets are inflated by dicom-object
//! before the length walk can see them.

pub mod atomic;
mod attrs;
pub mod error;
pub mod float_tiff;
mod guard;
mod header;
mod lut;
mod mammo;
pub mod meta;
mod modality;
mod object;
mod open;
mod pixels;
mod research;
mod sniff;
pub mod source;
mod spacing;
mod voi_attrs;
mod walk;
pub mod write;

use std::path::Path;

pub use error::DicomError;
pub use meta::{ImageMeta, Laterality, LoadedImage, MammoAttributes, PatientInfo, VoiInfo, WindowPreset};

/// Options for [`open`].
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptions {
    /// Pixel spacing in mm for research images (PNG/TIFF/PGM), which carry none. Ignored for DICOM.
    pub user_spacing_mm: Option<f64>,
}

/// Open a DICOM, PNG, TIFF or PGM file, decoding every frame to modality values.
///
/// The format is recognised from the content, not the extension. Bad input gives an error with a one-line message,
/// never a panic, and never an allocation far beyond the file's size.
pub fn open(path: &Path, options: &OpenOptions) -> Result<LoadedImage, DicomError> {
    open::open(path, options)
}

/// Read only the header of a file (for a study list): DICOM up to Pixel Data, research images' image header.
/// Window presets are those stated in the file (the generated ones need the pixels).
pub fn read_header(path: &Path) -> Result<ImageMeta, DicomError> {
    open::read_header(path)
}
