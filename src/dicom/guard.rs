//! Header sanity checks made before any pixel is decoded, so that bad input is refused with a clear message
//! instead of a huge allocation or a panic deep in a codec.
//!
//! Rules: Rows, Columns and Number of Frames at least 1; Bits Allocated 1, 8, 16 or 32; Bits Stored and High Bit
//! consistent with it; one sample per pixel (MONOCHROME1 or MONOCHROME2); the decoded size
//! rows × columns × frames × bytes at most 4 GiB; for native (uncompressed) pixel data, the Pixel Data element must
//! hold that many bytes; for compressed data, a claimed size over 256 MiB must stay within a 250:1 ratio of the
//! compressed bytes (lossless mammograms compress about 2-4:1).

use std::path::Path;

use dicom_core::value::Value;
use dicom_dictionary_std::tags;

use super::DicomError;
use super::attrs::{Dataset, string, uint};

/// Largest decoded image accepted (all frames, bytes as allocated).
pub(crate) const MAX_DECODED_BYTES: u64 = 4 << 30;
const COMPRESSED_FREE_BYTES: u64 = 256 << 20;
const MAX_COMPRESSION_RATIO: u64 = 250;

/// The validated pixel layout of a greyscale image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub rows: u32,
    pub columns: u32,
    pub frames: u32,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub high_bit: u16,
    pub signed: bool,
}

impl Layout {
    /// Pixels in one frame.
    pub fn frame_pixels(&self) -> usize {
        self.rows as usize * self.columns as usize
    }

    /// Bytes of one native frame (bit-packed for Bits Allocated 1, so use [`Self::total_native_bytes`] for sizes).
    pub fn frame_bytes(&self) -> u64 {
        (self.frame_pixels() as u64 * u64::from(self.bits_allocated)).div_ceil(8)
    }

    /// Bytes all native frames occupy (1-bit frames are packed back to back).
    pub fn total_native_bytes(&self) -> u64 {
        (self.frame_pixels() as u64 * u64::from(self.frames) * u64::from(self.bits_allocated)).div_ceil(8)
    }

    /// Read and check the image pixel module of `obj`.
    pub fn from_dataset(obj: &Dataset, path: &Path) -> Result<Self, DicomError> {
        let invalid = |reason: String| DicomError::Invalid { reason, path: path.to_owned() };
        let unsupported = |reason: String| DicomError::Unsupported { reason, path: path.to_owned() };
        let required = |tag, name: &str| uint(obj, tag).ok_or_else(|| invalid(format!("{name} is missing or not a number")));
        let rows = required(tags::ROWS, "Rows (0028,0010)")?;
        let columns = required(tags::COLUMNS, "Columns (0028,0011)")?;
        let bits_allocated = required(tags::BITS_ALLOCATED, "Bits Allocated (0028,0100)")?;
        let bits_stored = uint(obj, tags::BITS_STORED).unwrap_or(bits_allocated);
        let high_bit = uint(obj, tags::HIGH_BIT).unwrap_or(bits_stored.saturating_sub(1));
        let samples = uint(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
        let frames = match obj.get(tags::NUMBER_OF_FRAMES) {
            None => 1,
            Some(_) => uint(obj, tags::NUMBER_OF_FRAMES).ok_or_else(|| invalid("Number of Frames (0028,0008) is not a number".into()))?,
        };
        let photometric = string(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_else(|| "MONOCHROME2".into());
        if rows == 0 || columns == 0 || frames == 0 {
            return Err(invalid(format!("image of {columns} × {rows} pixels and {frames} frames is empty")));
        }
        if rows > 65535 || columns > 65535 {
            return Err(invalid(format!("image size {columns} × {rows} exceeds the DICOM limit of 65535")));
        }
        if samples != 1 || !matches!(photometric.as_str(), "MONOCHROME1" | "MONOCHROME2") {
            return Err(unsupported(format!(
                "colour image ({photometric}, {samples} samples per pixel): Mammoscope reads greyscale MONOCHROME1/MONOCHROME2 images only"
            )));
        }
        if !matches!(bits_allocated, 1 | 8 | 16 | 32) {
            return Err(unsupported(format!("Bits Allocated {bits_allocated} (only 1, 8, 16 or 32 are read)")));
        }
        if bits_stored == 0 || bits_stored > bits_allocated || high_bit >= bits_allocated || high_bit + 1 < bits_stored {
            return Err(invalid(format!("Bits Stored {bits_stored} / High Bit {high_bit} do not fit in Bits Allocated {bits_allocated}")));
        }
        let signed = uint(obj, tags::PIXEL_REPRESENTATION) == Some(1);
        let layout = Self {
            rows,
            columns,
            frames,
            bits_allocated: bits_allocated as u16,
            bits_stored: bits_stored as u16,
            high_bit: high_bit as u16,
            signed,
        };
        let claimed = layout.total_native_bytes();
        if claimed.max(layout.frame_pixels() as u64 * u64::from(frames) * 4) > MAX_DECODED_BYTES {
            return Err(invalid(format!(
                "{columns} × {rows} pixels × {frames} frames would need {:.1} GiB decoded, more than the 4 GiB limit",
                (layout.frame_pixels() as f64 * f64::from(frames) * 4.0) / f64::from(1u32 << 30)
            )));
        }
        Ok(layout)
    }

    /// Check the Pixel Data element against the layout: enough native bytes, or a plausible compression ratio.
    pub fn check_pixel_data(&self, obj: &Dataset, path: &Path) -> Result<(), DicomError> {
        let Some(elem) = obj.get(tags::PIXEL_DATA) else {
            return Err(DicomError::Invalid {
                reason: "the file has no Pixel Data (7FE0,0010): not an image".into(),
                path: path.to_owned(),
            });
        };
        let needed = self.total_native_bytes();
        match elem.value() {
            Value::Primitive(p) => {
                let held = p.calculate_byte_len() as u64;
                if held < needed {
                    return Err(DicomError::Truncated {
                        reason: format!(
                            "Pixel Data holds {held} bytes but {} × {} pixels × {} frames at {} bits need {needed}",
                            self.columns, self.rows, self.frames, self.bits_allocated
                        ),
                        path: path.to_owned(),
                    });
                }
            }
            Value::PixelSequence(seq) => {
                let compressed: u64 = seq.fragments().iter().map(|f| f.len() as u64).sum();
                if compressed == 0 {
                    return Err(DicomError::Truncated { reason: "the compressed Pixel Data is empty".into(), path: path.to_owned() });
                }
                if needed > COMPRESSED_FREE_BYTES && needed > compressed.saturating_mul(MAX_COMPRESSION_RATIO) {
                    return Err(DicomError::Invalid {
                        reason: format!("{compressed} compressed bytes cannot hold {needed} bytes of pixels (implausible ratio)"),
                        path: path.to_owned(),
                    });
                }
            }
            Value::Sequence(_) => {
                return Err(DicomError::Invalid { reason: "Pixel Data (7FE0,0010) is a sequence".into(), path: path.to_owned() });
            }
        }
        Ok(())
    }
}

/// Run third-party decoding code, turning a panic into [`DicomError::DecoderCrashed`].
pub(crate) fn contain_panic<T>(what: impl FnOnce() -> String, path: &Path, f: impl FnOnce() -> T) -> Result<T, DicomError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| DicomError::DecoderCrashed { what: what(), path: path.to_owned() })
}
