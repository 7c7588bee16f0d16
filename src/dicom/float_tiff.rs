//! 32-bit float greyscale TIFF in memory: the explainability maps' export format (values kept exactly; `ImageJ`,
//! Fiji, Python's tifffile and imageQC read it).

/// Why a map could not be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FloatTiffError {
    #[error("a {width} × {height} map needs {expected} values, got {got}")]
    Length { width: usize, height: usize, expected: usize, got: usize },
    #[error("the map is larger than TIFF's 32-bit sizes allow")]
    TooLarge,
    #[error("TIFF encoding failed: {0}")]
    Encode(String),
}

/// Encodes a `width × height` row-major map as one uncompressed 32-bit float greyscale TIFF.
///
/// # Errors
/// A length that does not match the size, or an encoder error.
pub fn encode_f32_tiff(width: usize, height: usize, values: &[f32]) -> Result<Vec<u8>, FloatTiffError> {
    if values.len() != width * height {
        return Err(FloatTiffError::Length { width, height, expected: width * height, got: values.len() });
    }
    let (w, h) =
        (u32::try_from(width).map_err(|_| FloatTiffError::TooLarge)?, u32::try_from(height).map_err(|_| FloatTiffError::TooLarge)?);
    let mut out = std::io::Cursor::new(Vec::with_capacity(values.len() * 4 + 1024));
    let mut encoder = tiff::encoder::TiffEncoder::new(&mut out).map_err(|e| FloatTiffError::Encode(e.to_string()))?;
    encoder.write_image::<tiff::encoder::colortype::Gray32Float>(w, h, values).map_err(|e| FloatTiffError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_value() {
        let (w, h) = (7, 5);
        let values: Vec<f32> = (0..w * h).map(|i| (i as f32 - 17.0) * 1.25e-4).collect();
        let bytes = encode_f32_tiff(w, h, &values).unwrap();
        let mut decoder = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(decoder.dimensions().unwrap(), (7, 5));
        match decoder.read_image().unwrap() {
            tiff::decoder::DecodingResult::F32(v) => assert_eq!(v, values),
            other => panic!("expected f32, got {:?}", std::mem::discriminant(&other)),
        }
        assert!(encode_f32_tiff(3, 3, &values).is_err());
    }
}
