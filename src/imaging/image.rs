//! A single-channel image of modality values at full precision.

/// One frame of modality values (after Rescale Slope/Intercept or the Modality LUT), row-major.
///
/// `f32` holds every 16-bit stored value exactly (24-bit mantissa), so no precision is lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

/// Summary statistics of an image.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct PixelStats {
    pub min: f32,
    pub max: f32,
    pub mean: f64,
}

impl Image {
    /// A new image; `data.len()` must equal `width * height`.
    ///
    /// Returns `None` when the length does not match.
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Option<Self> {
        (width.checked_mul(height)? == data.len()).then_some(Self { width, height, data })
    }

    /// An image filled with `value`.
    pub fn filled(width: usize, height: usize, value: f32) -> Self {
        Self { width, height, data: vec![value; width * height] }
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize) -> Option<f32> {
        if x < self.width && y < self.height { self.data.get(y * self.width + x).copied() } else { None }
    }

    /// Min, max and mean over all pixels. An empty image gives zeros.
    pub fn stats(&self) -> PixelStats {
        if self.data.is_empty() {
            return PixelStats { min: 0.0, max: 0.0, mean: 0.0 };
        }
        let (mut min, mut max, mut sum) = (f32::INFINITY, f32::NEG_INFINITY, 0.0f64);
        for &v in &self.data {
            min = min.min(v);
            max = max.max(v);
            sum += f64::from(v);
        }
        PixelStats { min, max, mean: sum / self.data.len() as f64 }
    }

    /// Box-filter downsampling by an integer factor (each output pixel averages a `factor × factor` block,
    /// partial blocks at the edges average what they cover).
    #[must_use]
    pub fn downsample(&self, factor: usize) -> Self {
        let factor = factor.max(1);
        if factor == 1 {
            return self.clone();
        }
        let w = self.width.div_ceil(factor);
        let h = self.height.div_ceil(factor);
        let mut data = vec![0.0f32; w * h];
        for (oy, row) in data.chunks_mut(w.max(1)).enumerate() {
            let y0 = oy * factor;
            let y1 = (y0 + factor).min(self.height);
            for (ox, out) in row.iter_mut().enumerate() {
                let x0 = ox * factor;
                let x1 = (x0 + factor).min(self.width);
                let mut sum = 0.0f64;
                for y in y0..y1 {
                    let line = &self.data[y * self.width + x0..y * self.width + x1];
                    sum += line.iter().map(|&v| f64::from(v)).sum::<f64>();
                }
                *out = (sum / ((y1 - y0) * (x1 - x0)) as f64) as f32;
            }
        }
        Self { width: w, height: h, data }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point of these tests
mod tests {
    use super::*;

    #[test]
    fn stats_and_downsample() {
        let img = Image::new(3, 2, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let s = img.stats();
        assert_eq!((s.min, s.max), (0.0, 5.0));
        assert!((s.mean - 2.5).abs() < 1e-12);
        let d = img.downsample(2);
        assert_eq!((d.width, d.height), (2, 1));
        assert_eq!(d.data, vec![2.0, 3.5]);
        assert!(Image::new(2, 2, vec![0.0; 3]).is_none());
    }
}
