//! The CDC prediction of one whole image: several random 250 × 250 row/column draws (the OMIG paper's
//! downsampling), each through every member of the ensemble; per member, µ is averaged over the draws and σ² too,
//! then the members are combined as a deep ensemble (mean, epistemic, aleatoric, total). One draw is the paper's
//! prediction; averaging a few removes most of the luck of the draw (which disc rows and grid lines it keeps).

use candle_core::Tensor;
use rand::{SeedableRng, rngs::StdRng};

use super::cdc::{CDC_POINTS, CdcEnsemble, CdcPrediction};
use super::error::ModelError;
use crate::imaging::Image;
use crate::imaging::downsample::Selection;

/// Default number of draws averaged per image.
pub const DEFAULT_DRAWS: usize = 8;
/// Draws per forward pass.
const BATCH: usize = 8;

/// `draws` random selections of `image` (seeded), as normalised network inputs `(draws, 1, side, side)`.
///
/// # Errors
/// An image smaller than the network's input side.
pub fn draw_inputs(ensemble: &CdcEnsemble, image: &Image, draws: usize, seed: u64) -> Result<Tensor, ModelError> {
    let side = ensemble.input_side();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut raw = Vec::with_capacity(draws * side * side);
    for _ in 0..draws {
        let s = Selection::random(image.width, image.height, side, &mut rng).map_err(|e| ModelError::Input(e.to_string()))?;
        raw.extend(s.gather(&image.data, image.width).map_err(|e| ModelError::Input(e.to_string()))?);
    }
    ensemble.input_tensor(&raw)
}

/// The ensemble's prediction for `image` from `draws` (≥ 1) random downsamplings; `cancelled` is checked between
/// batches.
///
/// # Errors
/// An image smaller than 250 × 250, a model error, or [`ModelError::Cancelled`].
pub fn predict_image(
    ensemble: &CdcEnsemble,
    image: &Image,
    draws: usize,
    seed: u64,
    cancelled: &dyn Fn() -> bool,
) -> Result<CdcPrediction, ModelError> {
    let draws = draws.max(1);
    let mut acc = DrawAccumulator::new(ensemble.members().len());
    let mut done = 0;
    while done < draws {
        if cancelled() {
            return Err(ModelError::Cancelled);
        }
        let n = BATCH.min(draws - done);
        let x = draw_inputs(ensemble, image, n, seed.wrapping_add(done as u64))?;
        acc.add(ensemble, &x)?;
        done += n;
    }
    acc.prediction()
}

/// Per-member sums of µ and σ² over draws: `µ_m` and `σ²_m` are averaged over the draws, then the members combined.
#[derive(Clone, Debug)]
pub struct DrawAccumulator {
    mu_sum: Vec<[f64; CDC_POINTS]>,
    var_sum: Vec<[f64; CDC_POINTS]>,
    draws: usize,
}

impl DrawAccumulator {
    pub fn new(members: usize) -> Self {
        Self { mu_sum: vec![[0.0; CDC_POINTS]; members], var_sum: vec![[0.0; CDC_POINTS]; members], draws: 0 }
    }

    /// Adds the draws of `x` `(D, 1, side, side)` (normalised) run through every member.
    ///
    /// # Errors
    /// Model errors.
    pub fn add(&mut self, ensemble: &CdcEnsemble, x: &Tensor) -> Result<(), ModelError> {
        for (m, member) in ensemble.members().iter().enumerate() {
            let (mu, sigma) = member.forward_t(x, false)?;
            let (mu, sigma) =
                (mu.to_dtype(candle_core::DType::F64)?.to_vec2::<f64>()?, sigma.to_dtype(candle_core::DType::F64)?.to_vec2::<f64>()?);
            for (row_mu, row_sigma) in mu.iter().zip(&sigma) {
                for k in 0..CDC_POINTS {
                    self.mu_sum[m][k] += row_mu[k];
                    self.var_sum[m][k] += row_sigma[k] * row_sigma[k];
                }
            }
        }
        self.draws += x.dim(0)?;
        Ok(())
    }

    /// The combined prediction of the draws so far.
    ///
    /// # Errors
    /// When nothing was added.
    pub fn prediction(&self) -> Result<CdcPrediction, ModelError> {
        if self.draws == 0 {
            return Err(ModelError::Input("no draws to combine".to_owned()));
        }
        let d = self.draws as f64;
        let mus: Vec<[f64; CDC_POINTS]> = self.mu_sum.iter().map(|s| s.map(|v| v / d)).collect();
        let sigmas: Vec<[f64; CDC_POINTS]> = self.var_sum.iter().map(|s| s.map(|v| (v / d).sqrt())).collect();
        CdcPrediction::combine(&mus, &sigmas)
    }
}
