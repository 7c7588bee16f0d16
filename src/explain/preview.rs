//! A display version of an upsampled map that "starts coarse and sharpens": the mean map value per block, with the
//! block size chosen from how densely the image has been sampled so far.
//!
//! Each draw chooses a pixel with probability `(side/w)·(side/h)` (≈ 0.5 % for a 4096 × 3328 image and side 250), so
//! after a few draws most pixels have never been chosen and [`super::Upsampler::map`] is mostly zeros. The preview
//! averages over `s × s` blocks, `s` the smallest power of two for which at least [`COVERED_FRACTION`] of the blocks
//! hold [`MIN_SAMPLES`] samples (a sample is one draw choosing one pixel of the block); as draws accumulate `s` drops
//! to 1, where the preview is the per-pixel mean of `Δx` over the draws that chose the pixel.
//!
//! Values are means over samples, not Algorithm 2's `Σ δ / N`: the two differ by the factor coverage / `N`, which is
//! nearly constant over the image, so the pictures agree up to scale while the preview's scale does not grow with `N`.

/// Samples a block needs to count as covered.
pub const MIN_SAMPLES: u32 = 4;
/// Fraction of the blocks that must be covered at the chosen block size.
pub const COVERED_FRACTION: f64 = 0.9;

/// The block-averaged map, at reduced resolution: one value per `block × block` square of the image (right and bottom
/// blocks cut to the image).
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Side of a block in image pixels, a power of two.
    pub block: usize,
    /// Blocks across: `⌈width / block⌉`.
    pub width: usize,
    /// Blocks down: `⌈height / block⌉`.
    pub height: usize,
    /// Mean map value per block, row-major; 0 where no draw chose a pixel of the block.
    pub values: Vec<f32>,
    /// Samples per block, row-major.
    pub samples: Vec<u32>,
}

impl Preview {
    /// The preview of the sums `sum` and counts `coverage` (row-major, `width × height`) of an upsampler.
    pub fn new(sum: &[f32], coverage: &[u32], width: usize, height: usize) -> Self {
        let mut level = Level { block: 1, width, height, sum: sum.to_vec(), samples: coverage.to_vec() };
        while !level.covered() && (level.width > 1 || level.height > 1) {
            level = level.coarsen();
        }
        let values = level.sum.iter().zip(&level.samples).map(|(&s, &n)| if n == 0 { 0.0 } else { s / n as f32 }).collect();
        Self { block: level.block, width: level.width, height: level.height, values, samples: level.samples }
    }

    /// The preview at full image resolution (each block's value repeated over its pixels), row-major.
    pub fn to_full(&self, image_width: usize, image_height: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(image_width * image_height);
        for y in 0..image_height {
            let row = &self.values[(y / self.block).min(self.height.saturating_sub(1)) * self.width..];
            out.extend((0..image_width).map(|x| row.get((x / self.block).min(self.width.saturating_sub(1))).copied().unwrap_or(0.0)));
        }
        out
    }
}

/// Block sums of the map and of the sample counts at one block size.
struct Level {
    block: usize,
    width: usize,
    height: usize,
    sum: Vec<f32>,
    samples: Vec<u32>,
}

impl Level {
    fn covered(&self) -> bool {
        let covered = self.samples.iter().filter(|&&n| n >= MIN_SAMPLES).count();
        !self.samples.is_empty() && covered as f64 >= COVERED_FRACTION * self.samples.len() as f64
    }

    /// Sums over 2 × 2 blocks (edge blocks cut).
    fn coarsen(&self) -> Self {
        let (width, height) = (self.width.div_ceil(2), self.height.div_ceil(2));
        let mut sum = vec![0f32; width * height];
        let mut samples = vec![0u32; width * height];
        for y in 0..self.height {
            for x in 0..self.width {
                let (from, to) = (y * self.width + x, (y / 2) * width + x / 2);
                sum[to] += self.sum[from];
                samples[to] += self.samples[from];
            }
        }
        Self { block: 2 * self.block, width, height, sum, samples }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_blocks_until_most_are_covered() {
        // 4 × 3 image; only the top-left 2 × 2 block and pixel (3, 2) were sampled.
        let mut coverage = vec![0u32; 12];
        let mut sum = vec![0f32; 12];
        for (i, n) in [(0, 1), (1, 2), (4, 1), (5, 0), (11, 5)] {
            coverage[i] = n;
            sum[i] = n as f32 * 0.5 * (i as f32 + 1.0);
        }
        let preview = Preview::new(&sum, &coverage, 4, 3);
        // Block 2: 2 × 2 blocks; of the four blocks only two have ≥ 4 samples; block 4 covers everything (9 samples).
        assert_eq!((preview.block, preview.width, preview.height), (4, 1, 1));
        assert_eq!(preview.samples, [9]);
        assert!((preview.values[0] - sum.iter().sum::<f32>() / 9.0).abs() < 1e-6);
        assert_eq!(preview.to_full(4, 3), vec![preview.values[0]; 12]);
    }

    #[test]
    fn full_coverage_is_the_per_pixel_mean() {
        let coverage = vec![4u32, 5, 6, 7, 8, 9];
        let sum: Vec<f32> = coverage.iter().map(|&n| n as f32 * 2.0).collect();
        let preview = Preview::new(&sum, &coverage, 3, 2);
        assert_eq!(preview.block, 1);
        assert_eq!(preview.values, vec![2.0; 6]);
    }

    #[test]
    fn no_samples_give_one_zero_block() {
        let preview = Preview::new(&[0.0; 15], &[0; 15], 5, 3);
        assert_eq!((preview.block, preview.width, preview.height, preview.values.clone()), (8, 1, 1, vec![0.0]));
        assert_eq!(preview.to_full(5, 3), vec![0.0; 15]);
    }
}
