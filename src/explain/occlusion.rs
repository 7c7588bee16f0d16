//! Occlusion sensitivity (the paper's comparison method [32]): the value at pixel `i` is
//! `midpoint(x[i]) − midpoint(x)`, where `x[i]` is `x` with pixel `i` set to 0 (zero of the normalised input).
//!
//! Single-pixel occlusion of a 250 × 250 input takes 62 500 forward passes, so square `p × p` blocks can be occluded
//! instead ([`OcclusionParams::patch`]); every pixel of a block gets the block's value. `p = 1` is the paper's
//! definition. Positive values mark pixels whose removal raises the predicted CDC (worse quality).

use candle_core::{DType, Tensor};

use super::error::ExplainError;
use super::model::MidpointModel;

/// How occlusion sensitivity is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcclusionParams {
    /// Side of the square block set to zero at once; 1 is the paper's single-pixel definition. Blocks at the right
    /// and bottom edges are cut to the image.
    pub patch: usize,
    /// Occluded copies per forward pass.
    pub batch: usize,
}

impl Default for OcclusionParams {
    fn default() -> Self {
        Self { patch: 1, batch: 64 }
    }
}

/// Occlusion sensitivity of each image of `x` `(B, 1, H, W)` (normalised input); `(B, 1, H, W)`. `cancelled` is
/// polled before every forward pass.
pub fn occlusion(
    model: &dyn MidpointModel,
    x: &Tensor,
    params: &OcclusionParams,
    cancelled: &dyn Fn() -> bool,
) -> Result<Tensor, ExplainError> {
    if params.patch == 0 || params.batch == 0 {
        return Err(ExplainError::Parameter(format!("occlusion needs a patch and a batch of at least 1, got {params:?}")));
    }
    let (b, _, h, w) = x.dims4()?;
    let x = x.detach();
    let blocks = Blocks { patch: params.patch, height: h, width: w };
    let base = model.midpoint(&x)?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    let mut out = vec![0f32; b * h * w];
    for (sample, base) in base.iter().enumerate() {
        let image = x.narrow(0, sample, 1)?;
        let map = &mut out[sample * h * w..(sample + 1) * h * w];
        let mut first = 0;
        while first < blocks.count() {
            if cancelled() {
                return Err(ExplainError::Cancelled);
            }
            let n = params.batch.min(blocks.count() - first);
            let masks = Tensor::from_vec(blocks.masks(first, n), (n, 1, h, w), x.device())?.to_dtype(x.dtype())?;
            let occluded = masks.broadcast_mul(&image)?;
            let midpoints = model.midpoint(&occluded)?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            for (k, m) in midpoints.iter().enumerate() {
                blocks.fill(first + k, m - base, map);
            }
            first += n;
        }
    }
    Ok(Tensor::from_vec(out, (b, 1, h, w), x.device())?)
}

/// The tiling of an `height × width` image into `patch × patch` blocks, row-major.
struct Blocks {
    patch: usize,
    height: usize,
    width: usize,
}

impl Blocks {
    fn per_row(&self) -> usize {
        self.width.div_ceil(self.patch)
    }

    fn count(&self) -> usize {
        self.per_row() * self.height.div_ceil(self.patch)
    }

    /// `(rows, cols)` ranges of block `k`.
    fn ranges(&self, k: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (r0, c0) = ((k / self.per_row()) * self.patch, (k % self.per_row()) * self.patch);
        (r0..(r0 + self.patch).min(self.height), c0..(c0 + self.patch).min(self.width))
    }

    /// `n` masks (1 everywhere but 0 on the block) for blocks `first..first + n`, concatenated.
    fn masks(&self, first: usize, n: usize) -> Vec<f32> {
        let size = self.height * self.width;
        let mut masks = vec![1f32; n * size];
        for (k, mask) in masks.chunks_exact_mut(size).enumerate() {
            self.fill(first + k, 0.0, mask);
        }
        masks
    }

    /// Sets every pixel of block `k` of `map` to `value`.
    fn fill(&self, k: usize, value: f32, map: &mut [f32]) {
        let (rows, cols) = self.ranges(k);
        for r in rows {
            map[r * self.width + cols.start..r * self.width + cols.end].fill(value);
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // pixels of one block share exactly one value
mod tests {
    use candle_core::Device;

    use super::super::testing::{LinearModel, TanhModel, sample_batch};
    use super::*;

    #[test]
    fn linear_model_gives_minus_w_x_per_pixel() {
        // Removing pixel i from Σ w x + b changes the midpoint by −wᵢ xᵢ.
        let side = 7;
        let weights: Vec<f32> = (0..side * side).map(|i| (i as f32 - 20.0) * 0.1).collect();
        let model = LinearModel::new(weights.clone(), 1.0, side, &Device::Cpu).unwrap();
        let x = sample_batch(2, side, 3, &Device::Cpu).unwrap();
        let xs: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
        let params = OcclusionParams { patch: 1, batch: 10 };
        let map: Vec<f32> = occlusion(&model, &x, &params, &|| false).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        for (k, v) in map.iter().enumerate() {
            let expected = -weights[k % (side * side)] * xs[k];
            assert!((v - expected).abs() < 1e-5, "{k}: {v} vs {expected}");
        }
    }

    #[test]
    fn patches_cover_the_image_and_share_their_value() {
        let side = 10;
        let model = TanhModel::new(side, 4, &Device::Cpu).unwrap();
        let x = sample_batch(1, side, 1, &Device::Cpu).unwrap();
        let params = OcclusionParams { patch: 4, batch: 3 };
        let map: Vec<f32> = occlusion(&model, &x, &params, &|| false).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        // Blocks of rows/cols 0..4, 4..8, 8..10: pixels of one block are equal, and block (2, 2) is its own value.
        let at = |r: usize, c: usize| map[r * side + c];
        assert_eq!(at(0, 0), at(3, 3));
        assert_eq!(at(8, 9), at(9, 8));
        assert_ne!(at(0, 0), at(4, 4));
        // The block value is the midpoint change when the block is zeroed.
        let mut occluded: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
        for r in 8..10 {
            for c in 8..10 {
                occluded[r * side + c] = 0.0;
            }
        }
        let occluded = Tensor::from_vec(occluded, (1, 1, side, side), &Device::Cpu).unwrap();
        let expected =
            model.midpoint(&occluded).unwrap().to_vec1::<f32>().unwrap()[0] - model.midpoint(&x).unwrap().to_vec1::<f32>().unwrap()[0];
        assert!((at(9, 9) - expected).abs() < 1e-6);
    }

    #[test]
    fn cancels_and_rejects_a_zero_patch() {
        let model = LinearModel::constant(1.0, 0.0, 4, &Device::Cpu).unwrap();
        let x = sample_batch(1, 4, 0, &Device::Cpu).unwrap();
        assert!(matches!(occlusion(&model, &x, &OcclusionParams::default(), &|| true), Err(ExplainError::Cancelled)));
        let params = OcclusionParams { patch: 0, batch: 1 };
        assert!(matches!(occlusion(&model, &x, &params, &|| false), Err(ExplainError::Parameter(_))));
    }
}
