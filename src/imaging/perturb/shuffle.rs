//! Patch shuffle (robustness-lowpass-mammography: the image cut into 64 = 8 × 8 square patches, shuffled), which
//! destroys the global context while keeping every local detail.
//!
//! The image is cut into an `n × n` grid of `⌊width/n⌋ × ⌊height/n⌋` patches; the grid covers the top-left
//! `n·⌊width/n⌋ × n·⌊height/n⌋` pixels. The remainder (fewer than `n` columns on the right, fewer than `n` rows at the
//! bottom) stays in place, so every output pixel comes from the input and patch sizes stay equal. Patches are
//! rectangular when the image is.
//!
//! ```
//! use mammoscope::imaging::{Image, perturb::shuffle::shuffle_patches};
//! let img = Image::new(4, 4, (0..16).map(|v| v as f32).collect()).unwrap();
//! let out = shuffle_patches(&img, 2, 1).unwrap();
//! let mut a = out.data.clone();
//! a.sort_by(f32::total_cmp);
//! assert_eq!(a, img.data); // the same pixels, moved as 2 × 2 blocks
//! ```

use rand::seq::SliceRandom as _;

use super::{
    PerturbError,
    rng::{Step, stream},
};
use crate::imaging::Image;

/// The permutation used for `n × n` patches: `order[dst] = src` (patch indices row-major), from the seed.
pub fn permutation(n: u32, seed: u64) -> Vec<usize> {
    let count = (n as usize) * (n as usize);
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut stream(seed, Step::Shuffle, u64::from(n)));
    order
}

/// Shuffle an `n × n` grid of patches with `seed` (see the module docs for the remainder). `n ≤ 1` returns a copy;
/// `n` larger than a side gives [`PerturbError::Invalid`].
pub fn shuffle_patches(image: &Image, n: u32, seed: u64) -> Result<Image, PerturbError> {
    if n <= 1 {
        return Ok(image.clone());
    }
    let grid = n as usize;
    let (pw, ph) = (image.width / grid, image.height / grid);
    if pw == 0 || ph == 0 {
        return Err(PerturbError::Invalid(format!(
            "a {n} × {n} shuffle needs at least {n} × {n} pixels, the image is {} × {}",
            image.width, image.height
        )));
    }
    let mut out = image.clone();
    for (dst, &src) in permutation(n, seed).iter().enumerate() {
        let (dx, dy) = ((dst % grid) * pw, (dst / grid) * ph);
        let (sx, sy) = ((src % grid) * pw, (src / grid) * ph);
        for row in 0..ph {
            let from = (sy + row) * image.width + sx;
            let to = (dy + row) * image.width + dx;
            out.data[to..to + pw].copy_from_slice(&image.data[from..from + pw]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patches(img: &Image, n: usize) -> Vec<Vec<u32>> {
        let (pw, ph) = (img.width / n, img.height / n);
        let mut all: Vec<Vec<u32>> = (0..n * n)
            .map(|p| {
                let (x0, y0) = ((p % n) * pw, (p / n) * ph);
                (0..ph).flat_map(|r| (0..pw).map(move |c| (x0 + c, y0 + r))).map(|(x, y)| img.get(x, y).unwrap().to_bits()).collect()
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    fn is_a_permutation_of_patches() {
        // 67 × 53: remainders of 3 columns and 5 rows with n = 8.
        let img = Image::new(67, 53, (0..67 * 53).map(|v| v as f32).collect()).unwrap();
        let mut moved = 0;
        for seed in 0..20 {
            let out = shuffle_patches(&img, 8, seed).unwrap();
            assert_eq!(patches(&out, 8), patches(&img, 8), "same multiset of patches");
            for y in 0..53 {
                for x in 0..67 {
                    if x >= 64 || y >= 48 {
                        assert_eq!(out.get(x, y), img.get(x, y), "remainder stays in place");
                    }
                }
            }
            if out != img {
                moved += 1;
            }
            assert_eq!(out, shuffle_patches(&img, 8, seed).unwrap(), "deterministic");
        }
        assert_eq!(moved, 20, "a 64-patch shuffle is (almost) never the identity");
        assert_ne!(shuffle_patches(&img, 8, 1).unwrap(), shuffle_patches(&img, 8, 2).unwrap());
        assert_eq!(shuffle_patches(&img, 1, 5).unwrap(), img);
        assert!(shuffle_patches(&img, 100, 5).is_err());
    }
}
