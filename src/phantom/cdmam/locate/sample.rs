//! Sampling between pixels and robust statistics.

use crate::imaging::Image;

/// The median (upper median for even lengths) of `values`; `None` when empty.
pub(super) fn median_of(mut values: Vec<f32>) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f32::total_cmp);
    Some(*m)
}

/// The median of `values` (f64); `None` when empty.
pub(super) fn median_f64(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// A robust σ of `values` (f64): 1.4826 × the median absolute deviation from the median.
pub(super) fn robust_sigma(values: &[f64]) -> Option<f64> {
    let m = median_f64(values.to_vec())?;
    median_f64(values.iter().map(|v| (v - m).abs()).collect()).map(|mad| 1.4826 * mad)
}

/// Bilinear sample of `image` at `(x, y)` (pixel centres at integers); `None` outside.
#[inline]
pub(super) fn bilinear(image: &Image, x: f64, y: f64) -> Option<f64> {
    if !(x >= 0.0 && y >= 0.0) {
        return None;
    }
    let (x0, y0) = (x as usize, y as usize);
    if x0 + 1 >= image.width || y0 + 1 >= image.height {
        // The last row / column: only exact hits.
        return (x0 < image.width && y0 < image.height && x <= (image.width - 1) as f64 && y <= (image.height - 1) as f64)
            .then(|| f64::from(image.data[y0 * image.width + x0]));
    }
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let i = y0 * image.width + x0;
    let d = &image.data;
    let top = f64::from(d[i]) + fx * f64::from(d[i + 1] - d[i]);
    let bottom = f64::from(d[i + image.width]) + fx * f64::from(d[i + image.width + 1] - d[i + image.width]);
    Some(top + fy * (bottom - top))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_inside_and_outside() {
        let img = Image::new(3, 3, (0..9).map(|v| v as f32).collect()).unwrap();
        assert!((bilinear(&img, 0.5, 0.5).unwrap() - 2.0).abs() < 1e-9);
        assert!((bilinear(&img, 2.0, 2.0).unwrap() - 8.0).abs() < 1e-9);
        assert!(bilinear(&img, 2.5, 1.0).is_none() && bilinear(&img, -0.1, 1.0).is_none() && bilinear(&img, f64::NAN, 1.0).is_none());
    }

    #[test]
    fn robust_statistics_ignore_outliers() {
        let mut v: Vec<f64> = (0..101).map(|k| f64::from(k % 10)).collect();
        v.push(1e9);
        assert!((median_f64(v.clone()).unwrap() - 5.0).abs() < 1e-12);
        let s = robust_sigma(&v).unwrap();
        assert!(s > 2.0 && s < 6.0, "{s}");
        assert!(median_of(Vec::new()).is_none() && robust_sigma(&[]).is_none());
    }
}
