//! Mip pyramid of modality values for display: each level averages 2 × 2 blocks of the one before.
//!
//! Level 0 is the frame itself. The viewer's shader blends two levels when the image is shown smaller than
//! 1:1, so minified views average raw values instead of aliasing (VOI is applied after averaging).

use std::sync::Arc;

use super::Image;

/// Levels `0..n` of an image, level `l` being `ceil(w / 2^l) × ceil(h / 2^l)`.
#[derive(Clone, Debug)]
pub struct Pyramid {
    pub levels: Vec<Arc<Image>>,
}

impl Pyramid {
    /// Build levels until the larger side is at most `min_side` pixels (at least one level).
    pub fn build(image: Arc<Image>, min_side: usize) -> Self {
        let mut levels = vec![image];
        while let Some(last) = levels.last() {
            if last.width.max(last.height) <= min_side.max(1) || (last.width == 1 && last.height == 1) {
                break;
            }
            let next = Arc::new(last.downsample(2));
            levels.push(next);
        }
        Self { levels }
    }

    /// The full-resolution image.
    pub fn base(&self) -> &Arc<Image> {
        &self.levels[0]
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point of these tests
mod tests {
    use super::*;

    #[test]
    fn level_sizes_round_up() {
        let img = Arc::new(Image::filled(5, 3, 1.0));
        let p = Pyramid::build(img, 1);
        let sizes: Vec<_> = p.levels.iter().map(|l| (l.width, l.height)).collect();
        assert_eq!(sizes, vec![(5, 3), (3, 2), (2, 1), (1, 1)]);
        assert!(p.levels.iter().all(|l| l.data.iter().all(|&v| (v - 1.0).abs() < 1e-6)));
    }
}
