//! Coarse maps for choosing hard negatives: normalised density and a small-scale ridge (line) response.
//!
//! Both live on a grid of `FACTOR × FACTOR` pixel blocks (0.28 mm). The ridge response is the Hessian of the
//! Gaussian-smoothed (σ = 0.42 mm) normalised image: `max(0, −λ₁) − max(0, −λ₂)` with `λ₁ ≤ λ₂`, large on bright
//! lines (vessels, ducts, 0.5–2 mm wide) and small on blobs and flat tissue.

use crate::imaging::{Image, breast_mask::BreastMask, model_input::InputScaling, tiling::Tile};

/// Pixels per coarse cell side.
pub(super) const FACTOR: usize = 4;
/// Smoothing before the Hessian, in coarse cells.
const SIGMA: f64 = 1.5;

/// Coarse normalised values and ridge response of one image.
pub(super) struct CoarseMaps {
    pub width: usize,
    pub height: usize,
    pub density: Vec<f32>,
    pub ridge: Vec<f32>,
}

/// Separable Gaussian blur with clamped edges.
fn blur(data: &[f32], width: usize, height: usize, sigma: f64) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp() as f32).collect();
    let norm: f32 = kernel.iter().sum();
    let pass = |src: &[f32], along_x: bool| -> Vec<f32> {
        let mut out = vec![0.0f32; src.len()];
        for y in 0..height {
            for x in 0..width {
                let mut acc = 0.0f32;
                for (k, &w) in kernel.iter().enumerate() {
                    let d = k as isize - radius;
                    let (sx, sy) = if along_x {
                        ((x as isize + d).clamp(0, width as isize - 1) as usize, y)
                    } else {
                        (x, (y as isize + d).clamp(0, height as isize - 1) as usize)
                    };
                    acc += w * src[sy * width + sx];
                }
                out[y * width + x] = acc / norm;
            }
        }
        out
    };
    pass(&pass(data, true), false)
}

impl CoarseMaps {
    pub fn new(image: &Image, mask: &BreastMask, scaling: &InputScaling) -> Self {
        let coarse = image.downsample(FACTOR);
        let (w, h) = (coarse.width, coarse.height);
        let density: Vec<f32> = coarse.data.iter().map(|&v| scaling.apply(v)).collect();
        let mut ridge = vec![0.0f32; w * h];
        if w >= 3 && h >= 3 {
            let smooth = blur(&density, w, h, SIGMA);
            let at = |x: usize, y: usize| smooth[y * w + x];
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    if !mask.contains(x * FACTOR + FACTOR / 2, y * FACTOR + FACTOR / 2) {
                        continue;
                    }
                    let dxx = at(x + 1, y) - 2.0 * at(x, y) + at(x - 1, y);
                    let dyy = at(x, y + 1) - 2.0 * at(x, y) + at(x, y - 1);
                    let dxy = 0.25 * (at(x + 1, y + 1) - at(x - 1, y + 1) - at(x + 1, y - 1) + at(x - 1, y - 1));
                    let mean = 0.5 * (dxx + dyy);
                    let spread = (0.25 * (dxx - dyy).powi(2) + dxy * dxy).sqrt();
                    let (l1, l2) = (mean - spread, mean + spread);
                    ridge[y * w + x] = (-l1).max(0.0) - (-l2).max(0.0);
                }
            }
        }
        Self { width: w, height: h, density, ridge }
    }

    /// Mean of `map` over the cells a tile covers.
    pub fn tile_mean(&self, map: &[f32], tile: &Tile) -> f32 {
        let (x0, y0) = (tile.x / FACTOR, tile.y / FACTOR);
        let (x1, y1) = (((tile.x + tile.size) / FACTOR).min(self.width), ((tile.y + tile.size) / FACTOR).min(self.height));
        let (mut sum, mut n) = (0.0f64, 0usize);
        for y in y0..y1 {
            for v in &map[y * self.width + x0.min(x1)..y * self.width + x1] {
                sum += f64::from(*v);
                n += 1;
            }
        }
        if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_respond_more_than_blobs_and_flat_tissue() {
        // Flat tissue with a bright 3 px wide vertical line at x = 100 and a bright 6 px blob at (300, 100).
        let (w, h) = (400, 200);
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                let line = if (x - 100.0).abs() < 4.0 { 800.0 } else { 0.0 };
                let blob = if (x - 300.0).hypot(y - 100.0) < 6.0 { 800.0 } else { 0.0 };
                3000.0 + line + blob
            })
            .collect();
        let image = Image::new(w, h, data).unwrap();
        let mask = BreastMask::from_image(&Image::filled(w, h, 1.0), 0.07);
        let mask = BreastMask { cells: vec![true; mask.cells.len()], ..mask };
        let scaling = InputScaling { lo: 3000.0, hi: 3800.0, invert: false };
        let maps = CoarseMaps::new(&image, &mask, &scaling);
        let tile = |x| Tile { x, y: 40, size: 120 };
        let (line, blob, flat) =
            (maps.tile_mean(&maps.ridge, &tile(40)), maps.tile_mean(&maps.ridge, &tile(240)), maps.tile_mean(&maps.ridge, &tile(150)));
        assert!(line > 3.0 * blob.max(1e-6) && line > 10.0 * flat.max(1e-6), "line {line} blob {blob} flat {flat}");
    }
}
