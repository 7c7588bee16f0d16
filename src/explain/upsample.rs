//! Algorithm 2: explainability maps of many random `side × side` selections of a large image, scattered back to where
//! their pixels came from and averaged, as an incremental accumulator a background job can refresh a viewer from.

use candle_core::{DType, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::error::ExplainError;
use super::method::Method;
use super::model::MidpointModel;
use super::preview::Preview;
use crate::imaging::downsample::{DownsampleError, Selection};

/// The running sums of Algorithm 2 over the draws made so far.
#[derive(Debug, Clone)]
pub struct Upsampler {
    width: usize,
    height: usize,
    /// Σ over draws of δ (the draw's map at its chosen pixels, zero elsewhere), row-major `width × height`.
    sum: Vec<f32>,
    /// How many draws chose each pixel.
    coverage: Vec<u32>,
    draws: usize,
    rng: StdRng,
    /// OMIG only: Σ over draws of `midpoint(x_L) − midpoint(x)`, and the number of terms.
    midpoint_change: (f64, usize),
}

impl Upsampler {
    /// An empty accumulator for a `width × height` image; `seed` fixes the sequence of selections.
    pub fn new(width: usize, height: usize, seed: u64) -> Self {
        Self {
            width,
            height,
            sum: vec![0.0; width * height],
            coverage: vec![0; width * height],
            draws: 0,
            rng: StdRng::seed_from_u64(seed),
            midpoint_change: (0.0, 0),
        }
    }

    /// Runs `batch` more draws, all in one batch of the model: each a fresh [`Selection::random`] of the model's input
    /// side, its raw pixels gathered and normalised by the model; the batch's maps (computed with `method`) are
    /// scattered into the sums with weight 1.
    ///
    /// On an error or cancellation nothing is accumulated and the random sequence is not advanced, so the draws stay
    /// those of the seed. The sequence of selections does not depend on how the draws are split into batches.
    pub fn run_batch(
        &mut self,
        model: &dyn MidpointModel,
        raw: &[f32],
        method: &Method,
        batch: usize,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(), ExplainError> {
        if raw.len() != self.width * self.height {
            return Err(ExplainError::ImageSize { width: self.width, height: self.height, got: raw.len() });
        }
        if batch == 0 {
            return Ok(());
        }
        let side = model.input_side();
        let per_draw = side * side;
        let mut rng = self.rng.clone();
        let mut selections = Vec::with_capacity(batch);
        let mut input = Vec::with_capacity(batch * per_draw);
        for _ in 0..batch {
            let selection = Selection::random(self.width, self.height, side, &mut rng)?;
            let normalised = model.normalise(&selection.gather(raw, self.width)?);
            if normalised.len() != per_draw {
                return Err(DownsampleError::Length { what: "normalised input", expected: per_draw, got: normalised.len() }.into());
            }
            input.extend(normalised);
            selections.push(selection);
        }
        let x = Tensor::from_vec(input, (batch, 1, side, side), model.device())?;
        let maps = method.maps(model, &x, cancelled)?;
        let values = maps.delta.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        if values.len() != batch * per_draw {
            return Err(DownsampleError::Length { what: "explainability maps", expected: batch * per_draw, got: values.len() }.into());
        }
        for (selection, delta) in selections.iter().zip(values.chunks_exact(per_draw)) {
            selection.scatter_add(delta, 1.0, &mut self.sum, self.width)?;
            for &r in &selection.rows {
                let row = &mut self.coverage[r * self.width..(r + 1) * self.width];
                for &c in &selection.cols {
                    row[c] += 1;
                }
            }
        }
        if let Some(change) = maps.midpoint_change {
            self.midpoint_change.0 += change.iter().map(|&c| f64::from(c)).sum::<f64>();
            self.midpoint_change.1 += change.len();
        }
        self.draws += batch;
        self.rng = rng;
        Ok(())
    }

    /// Algorithm 2's output after `n` draws: `Σ δ / n`, full resolution; pixels never chosen are 0. As in the paper the
    /// division is by `n`, not by how often a pixel was chosen, so values scale with the coverage (`≈ n·side²/(w·h)`).
    pub fn map(&self) -> Vec<f32> {
        if self.draws == 0 {
            return vec![0.0; self.sum.len()];
        }
        let n = self.draws as f32;
        self.sum.iter().map(|s| s / n).collect()
    }

    /// A display version that is useful after few draws: see [`Preview`].
    pub fn preview(&self) -> Preview {
        Preview::new(&self.sum, &self.coverage, self.width, self.height)
    }

    /// Draws made so far.
    pub fn draws(&self) -> usize {
        self.draws
    }

    /// `(width, height)` of the image.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// How many draws chose each pixel, row-major.
    pub fn coverage(&self) -> &[u32] {
        &self.coverage
    }

    /// OMIG only: the mean over draws of `midpoint(x_L) − midpoint(x)` (negative: the CDC was lowered).
    pub fn mean_midpoint_change(&self) -> Option<f64> {
        let (sum, n) = self.midpoint_change;
        (n > 0).then(|| sum / n as f64)
    }
}

/// The parameters of [`upsample`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpsampleParams {
    /// The explainability method run on each draw.
    pub method: Method,
    /// Number of draws `N` (paper: 5000).
    pub draws: usize,
    /// Draws per model batch.
    pub batch: usize,
    /// Seed of the selections.
    pub seed: u64,
}

/// Algorithm 2 in one call: `params.draws` draws in batches, `progress(done, total)` after each batch; returns
/// [`Upsampler::map`]. `raw` is the row-major `width × height` image.
pub fn upsample(
    model: &dyn MidpointModel,
    raw: &[f32],
    width: usize,
    height: usize,
    params: &UpsampleParams,
    progress: &dyn Fn(usize, usize),
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<f32>, ExplainError> {
    if params.batch == 0 {
        return Err(ExplainError::Parameter("upsampling needs a batch of at least one draw".to_owned()));
    }
    let mut upsampler = Upsampler::new(width, height, params.seed);
    while upsampler.draws() < params.draws {
        let batch = params.batch.min(params.draws - upsampler.draws());
        upsampler.run_batch(model, raw, &params.method, batch, cancelled)?;
        progress(upsampler.draws(), params.draws);
    }
    Ok(upsampler.map())
}

#[cfg(test)]
#[path = "upsample_tests.rs"]
mod tests;
