//! Minimal `.npy` (version 1.0, little-endian f32, C order, 2-D) reading and writing: the exchange format with the
//! Python BM3D reference script.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::imaging::Image;

/// Writes `image` as a `(height, width)` `<f4` array.
pub fn write_npy(path: &Path, image: &Image) -> anyhow::Result<()> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", image.height, image.width);
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + image.data.len() * 4);
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&u16::try_from(header.len())?.to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in &image.data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a 2-D `<f4` (or `<f8`) C-order array.
pub fn read_npy(path: &Path) -> anyhow::Result<Image> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" || bytes[6] != 1 {
        bail!("{} is not a version-1 .npy file", path.display());
    }
    let len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let header = std::str::from_utf8(bytes.get(10..10 + len).context("truncated .npy header")?)?;
    let wide = header.contains("'<f8'");
    if !(wide || header.contains("'<f4'")) || header.contains("'fortran_order': True") {
        bail!("{}: only little-endian f4/f8 C-order arrays are read ({header})", path.display());
    }
    let shape = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).context("no shape in .npy header")?;
    let dims: Vec<usize> = shape.split(',').filter(|s| !s.trim().is_empty()).map(|s| s.trim().parse()).collect::<Result<_, _>>()?;
    let [h, w] = dims[..] else { bail!("{}: expected a 2-D array, got shape ({shape})", path.display()) };
    let body = &bytes[10 + len..];
    let size = if wide { 8 } else { 4 };
    if body.len() != w * h * size {
        bail!("{}: {} data bytes for a {h} × {w} array", path.display(), body.len());
    }
    let data = if wide {
        body.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32).collect()
    } else {
        body.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))).collect()
    };
    Image::new(w, h, data).context("bad .npy size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let img = Image::new(3, 2, vec![1.0, 2.5, -3.0, 4.0, 5.0, 6.25]).unwrap();
        write_npy(&p, &img).unwrap();
        assert_eq!(read_npy(&p).unwrap(), img);
        std::fs::write(&p, b"junk").unwrap();
        assert!(read_npy(&p).is_err());
    }
}
