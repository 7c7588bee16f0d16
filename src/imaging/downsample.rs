//! The OMIG paper's downsampling: `side` rows and `side` columns of an image chosen at random, kept in their original
//! order, and the chosen indices returned so a map computed on the small image can be scattered back (Algorithm 2).
//!
//! A uniformly random `k`-subset of a uniformly random `m`-subset (`k ≤ m`) is a uniformly random `k`-subset of the
//! whole, so a stored `m × m` selection of an image (the training cache) yields draws with the same distribution as
//! draws from the full image ([`Selection::compose`]).

use rand::Rng;

/// The side of the networks' input in the paper: 250 × 250 pixels.
pub const SIDE: usize = 250;

/// Why a selection cannot be made or applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownsampleError {
    #[error("the image is {width} × {height} pixels: too small to choose {side} rows and {side} columns")]
    TooSmall { width: usize, height: usize, side: usize },
    #[error("{what}: expected {expected} values, got {got}")]
    Length { what: &'static str, expected: usize, got: usize },
}

/// Chosen rows and columns of an image, each strictly increasing.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Selection {
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
}

/// `k` distinct indices out of `0..n`, uniformly at random, in increasing order.
///
/// # Panics
/// When `k > n` (callers check).
pub fn choose_sorted(n: usize, k: usize, rng: &mut impl Rng) -> Vec<usize> {
    assert!(k <= n, "cannot choose {k} of {n}");
    let mut chosen = rand::seq::index::sample(rng, n, k).into_vec();
    chosen.sort_unstable();
    chosen
}

impl Selection {
    /// `side` random rows of `height` and `side` random columns of `width`.
    ///
    /// # Errors
    /// When the image has fewer than `side` rows or columns.
    pub fn random(width: usize, height: usize, side: usize, rng: &mut impl Rng) -> Result<Self, DownsampleError> {
        if width < side || height < side || side == 0 {
            return Err(DownsampleError::TooSmall { width, height, side });
        }
        let rows = choose_sorted(height, side, rng);
        let cols = choose_sorted(width, side, rng);
        Ok(Self { rows, cols })
    }

    /// Output width (chosen columns).
    pub fn width(&self) -> usize {
        self.cols.len()
    }

    /// Output height (chosen rows).
    pub fn height(&self) -> usize {
        self.rows.len()
    }

    /// The chosen pixels of a row-major `width`-wide image, row-major (`height() × width()`).
    ///
    /// # Errors
    /// When `data` is not `width × (largest row + 1)` or more, or a column is out of range.
    pub fn gather<T: Copy>(&self, data: &[T], width: usize) -> Result<Vec<T>, DownsampleError> {
        self.check_bounds(data.len(), width)?;
        let mut out = Vec::with_capacity(self.rows.len() * self.cols.len());
        for &r in &self.rows {
            let row = &data[r * width..(r + 1) * width];
            out.extend(self.cols.iter().map(|&c| row[c]));
        }
        Ok(out)
    }

    /// Adds `values` (row-major, `height() × width()`) times `weight` into the chosen pixels of `map` (row-major,
    /// `width` wide): one iteration of Algorithm 2 with `weight = 1/N`.
    ///
    /// # Errors
    /// On length mismatches or out-of-range indices.
    pub fn scatter_add(&self, values: &[f32], weight: f32, map: &mut [f32], width: usize) -> Result<(), DownsampleError> {
        let expected = self.rows.len() * self.cols.len();
        if values.len() != expected {
            return Err(DownsampleError::Length { what: "values to scatter", expected, got: values.len() });
        }
        self.check_bounds(map.len(), width)?;
        for (i, &r) in self.rows.iter().enumerate() {
            let src = &values[i * self.cols.len()..(i + 1) * self.cols.len()];
            let dst = &mut map[r * width..(r + 1) * width];
            for (&c, &v) in self.cols.iter().zip(src) {
                dst[c] += weight * v;
            }
        }
        Ok(())
    }

    /// The selection of the original image that `inner` (a selection of this selection's output) picks.
    ///
    /// # Panics
    /// When `inner` indexes beyond this selection (callers build `inner` from this selection's size).
    #[must_use]
    pub fn compose(&self, inner: &Selection) -> Selection {
        Selection { rows: inner.rows.iter().map(|&i| self.rows[i]).collect(), cols: inner.cols.iter().map(|&j| self.cols[j]).collect() }
    }

    fn check_bounds(&self, len: usize, width: usize) -> Result<(), DownsampleError> {
        let max_col = self.cols.last().copied().unwrap_or(0);
        let rows_needed = self.rows.last().map_or(0, |&r| r + 1);
        if width == 0 || max_col >= width || len < rows_needed * width {
            return Err(DownsampleError::Length { what: "image", expected: rows_needed * width.max(max_col + 1), got: len });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    #[test]
    #[allow(clippy::float_cmp)] // integer-valued floats, exact by construction
    fn keeps_order_and_the_scatter_inverts_the_gather() {
        let mut rng = StdRng::seed_from_u64(3);
        let (w, h) = (37, 53);
        let image: Vec<f32> = (0..w * h).map(|i| i as f32).collect();
        let s = Selection::random(w, h, 20, &mut rng).unwrap();
        assert!(s.rows.windows(2).all(|p| p[0] < p[1]) && s.cols.windows(2).all(|p| p[0] < p[1]));
        let small = s.gather(&image, w).unwrap();
        // Order kept: the value at (i, j) is the original pixel (rows[i], cols[j]).
        for (i, &r) in s.rows.iter().enumerate() {
            for (j, &c) in s.cols.iter().enumerate() {
                assert_eq!(small[i * 20 + j], (r * w + c) as f32);
            }
        }
        let mut map = vec![0.0; w * h];
        s.scatter_add(&small, 1.0, &mut map, w).unwrap();
        for (k, &v) in map.iter().enumerate() {
            let (r, c) = (k / w, k % w);
            let chosen = s.rows.contains(&r) && s.cols.contains(&c);
            assert_eq!(v, if chosen { image[k] } else { 0.0 });
        }
    }

    #[test]
    fn composed_selections_index_the_original() {
        let mut rng = StdRng::seed_from_u64(9);
        let (w, h) = (40, 30);
        let image: Vec<u16> = (0..w * h).map(|i| u16::try_from(i).unwrap()).collect();
        let outer = Selection::random(w, h, 25, &mut rng).unwrap();
        let stored = outer.gather(&image, w).unwrap();
        let inner = Selection::random(25, 25, 10, &mut rng).unwrap();
        let direct = outer.compose(&inner).gather(&image, w).unwrap();
        assert_eq!(inner.gather(&stored, 25).unwrap(), direct);
    }

    #[test]
    fn every_index_is_equally_likely() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut counts = [0usize; 10];
        for _ in 0..20_000 {
            for i in choose_sorted(10, 3, &mut rng) {
                counts[i] += 1;
            }
        }
        // Expected 6000 each; binomial sd ≈ 65.
        assert!(counts.iter().all(|&c| (5700..6300).contains(&c)), "{counts:?}");
    }

    #[test]
    fn refuses_small_images_and_bad_lengths() {
        let mut rng = StdRng::seed_from_u64(1);
        assert!(matches!(Selection::random(10, 300, 250, &mut rng), Err(DownsampleError::TooSmall { .. })));
        let s = Selection::random(30, 30, 5, &mut rng).unwrap();
        assert!(s.gather(&[0f32; 10], 30).is_err());
        assert!(s.scatter_add(&[0.0; 3], 1.0, &mut [0.0; 900], 30).is_err());
    }
}
