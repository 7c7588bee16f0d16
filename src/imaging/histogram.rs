//! Pixel histograms and the robust default window used when a file states none.

use super::{Image, voi::Window};

/// A histogram of modality values over `bins` equal-width bins between the image's min and max.
#[derive(Clone, Debug)]
pub struct Histogram {
    pub min: f32,
    pub max: f32,
    pub counts: Vec<u64>,
}

impl Histogram {
    pub fn from_image(image: &Image, bins: usize) -> Self {
        let stats = image.stats();
        let bins = bins.max(1);
        let mut counts = vec![0u64; bins];
        let span = (stats.max - stats.min).max(f32::MIN_POSITIVE);
        for &v in &image.data {
            let b = (((v - stats.min) / span) * bins as f32) as usize;
            counts[b.min(bins - 1)] += 1;
        }
        Self { min: stats.min, max: stats.max, counts }
    }

    /// The value below which `fraction` of the counted pixels lie, ignoring the bins in `skip`.
    fn percentile(&self, fraction: f64, skip: &[usize]) -> f32 {
        let total: u64 = self.counts.iter().enumerate().filter(|(i, _)| !skip.contains(i)).map(|(_, c)| c).sum();
        let target = (fraction * total as f64).max(1.0);
        let bin_width = (self.max - self.min) / self.counts.len() as f32;
        let mut acc = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if skip.contains(&i) {
                continue;
            }
            acc += c;
            if acc as f64 >= target {
                return self.min + bin_width * (i as f32 + 0.5);
            }
        }
        self.max
    }
}

/// A robust default window from the pixel histogram: the 0.5th to 99.5th percentile of the pixels,
/// after dropping the extreme bins when they hold a large share of the image (air background or
/// padding outside the breast, which would otherwise squash the tissue into a few grey levels).
pub fn robust_window(image: &Image) -> Window {
    let hist = Histogram::from_image(image, 4096);
    if hist.max <= hist.min {
        return Window { center: f64::from(hist.min), width: 1.0 };
    }
    let total: u64 = hist.counts.iter().sum();
    let last = hist.counts.len() - 1;
    let mut skip = Vec::new();
    for edge in [0, last] {
        if hist.counts[edge] as f64 > 0.02 * total as f64 {
            skip.push(edge);
        }
    }
    if skip.len() == 2 && hist.counts[0] + hist.counts[last] == total {
        skip.clear(); // a binary image: show both values
    }
    let lo = hist.percentile(0.005, &skip);
    let hi = hist.percentile(0.995, &skip);
    Window::from_range(f64::from(lo), f64::from(hi.max(lo + 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_dominant_background() {
        // 70% background at 0, tissue uniform over 1000..2000.
        let mut data = vec![0.0f32; 7000];
        data.extend((0..3000).map(|i| 1000.0 + i as f32 / 3.0));
        let img = Image::new(100, 100, data).unwrap();
        let w = robust_window(&img);
        let lo = w.center - w.width / 2.0;
        let hi = w.center + w.width / 2.0;
        assert!((lo - 1005.0).abs() < 5.0, "lo {lo}");
        assert!((hi - 1995.0).abs() < 5.0, "hi {hi}");
    }

    #[test]
    fn constant_image_has_unit_width() {
        let w = robust_window(&Image::filled(4, 4, 7.0));
        assert_eq!((w.center, w.width), (7.0, 1.0));
    }
}
