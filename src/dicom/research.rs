//! Research images (PNG, TIFF, PGM/PNM) through the `image` crate: 8- or 16-bit grey, values kept as they are
//! (the stored value is the modality value). Colour files are refused unless every pixel is grey (R = G = B, as
//! some tools save grey images), since a mammogram has one channel and a luminance mix would invent data.
//! These formats carry no spacing: it comes from `OpenOptions::user_spacing_mm`, else measurements are in pixels.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader};

use super::meta::{ImageMeta, LoadedImage, VoiInfo};
use super::sniff::Kind;
use super::{DicomError, OpenOptions, spacing, voi_attrs};
use crate::imaging::Image;

fn format_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Png => "PNG",
        Kind::Tiff => "TIFF",
        _ => "PGM",
    }
}

fn decode_error(e: &image::ImageError, kind: Kind, path: &Path) -> DicomError {
    let text = DicomError::one_line(e);
    match e {
        image::ImageError::IoError(_) => {
            DicomError::Truncated { reason: format!("{} image: {text}", format_name(kind)), path: path.to_owned() }
        }
        image::ImageError::Unsupported(_) => {
            DicomError::Unsupported { reason: format!("{} image: {text}", format_name(kind)), path: path.to_owned() }
        }
        _ => DicomError::Decode { reason: format!("{} image: {text}", format_name(kind)), path: path.to_owned() },
    }
}

/// An image reader over in-memory bytes, its format guessed from the content.
fn reader<'a>(bytes: &'a [u8], path: &Path) -> Result<ImageReader<Cursor<&'a [u8]>>, DicomError> {
    ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| DicomError::Io { source: e, path: path.to_owned() })
}

/// Header of a research image: dimensions and bit depth from the image header only.
pub(crate) fn header(bytes: &[u8], kind: Kind, path: &Path, options: &OpenOptions) -> Result<ImageMeta, DicomError> {
    let decoder = reader(bytes, path)?.into_decoder().map_err(|e| decode_error(&e, kind, path))?;
    let (columns, rows) = decoder.dimensions();
    let bits = decoder.color_type().bits_per_pixel() / u16::from(decoder.color_type().channel_count()).max(1);
    Ok(meta(kind, rows, columns, bits, options))
}

/// Decode a research image to one frame.
pub(crate) fn open(bytes: &[u8], kind: Kind, path: &Path, options: &OpenOptions) -> Result<LoadedImage, DicomError> {
    let decoded = reader(bytes, path)?.decode().map_err(|e| decode_error(&e, kind, path))?;
    let (columns, rows) = (decoded.width(), decoded.height());
    let colour = |name: &str| DicomError::Unsupported {
        reason: format!(
            "colour {} image ({name}): Mammoscope reads greyscale images only; save it as 8- or 16-bit grey",
            format_name(kind)
        ),
        path: path.to_owned(),
    };
    let (data, bits): (Vec<f32>, u16) = match &decoded {
        DynamicImage::ImageLuma8(img) => (img.as_raw().iter().map(|&v| f32::from(v)).collect(), 8),
        DynamicImage::ImageLumaA8(img) => (img.pixels().map(|p| f32::from(p.0[0])).collect(), 8),
        DynamicImage::ImageLuma16(img) => (img.as_raw().iter().map(|&v| f32::from(v)).collect(), 16),
        DynamicImage::ImageLumaA16(img) => (img.pixels().map(|p| f32::from(p.0[0])).collect(), 16),
        DynamicImage::ImageRgb8(img) if img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]) => {
            (img.pixels().map(|p| f32::from(p.0[0])).collect(), 8)
        }
        DynamicImage::ImageRgba8(img) if img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]) => {
            (img.pixels().map(|p| f32::from(p.0[0])).collect(), 8)
        }
        DynamicImage::ImageRgb16(img) if img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]) => {
            (img.pixels().map(|p| f32::from(p.0[0])).collect(), 16)
        }
        other => return Err(colour(&format!("{:?}", other.color()))),
    };
    let frame = Image::new(columns as usize, rows as usize, data)
        .ok_or_else(|| DicomError::Decode { reason: "pixel count does not match the image size".into(), path: path.to_owned() })?;
    let frames = vec![frame];
    let mut meta = meta(kind, rows, columns, bits, options);
    voi_attrs::add_generated(&mut meta.voi, &frames);
    Ok(LoadedImage { path: path.to_owned(), frames, meta })
}

fn meta(kind: Kind, rows: u32, columns: u32, bits: u16, options: &OpenOptions) -> ImageMeta {
    let spacing = spacing::user(options.user_spacing_mm);
    ImageMeta {
        format: format_name(kind).into(),
        rows,
        columns,
        frames: 1,
        bits_allocated: bits,
        bits_stored: bits,
        signed: false,
        photometric: "MONOCHROME2".into(),
        rescale_slope: 1.0,
        rescale_intercept: 0.0,
        spacing: spacing.chosen,
        spacing_alternatives: spacing.alternatives,
        spacing_note: spacing.note,
        voi: VoiInfo::default(),
        ..ImageMeta::default()
    }
}
