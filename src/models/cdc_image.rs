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

/// Images whose median lies more than this factor away from the training pixels' mean are rescaled to it first.
pub const LEVEL_TOLERANCE: f64 = 1.25;

/// The factor that brings `image`'s median to the training pixels' mean when it is off by more than
/// [`LEVEL_TOLERANCE`] (another system's gain or bit depth; the simulator's gain follows the exposure, as a calibrated
/// detector's does, so training images all sit near the same level). `None`: the level is within tolerance.
pub fn level_factor(ensemble: &CdcEnsemble, image: &Image) -> Option<f64> {
    let step = (image.data.len() / 200_000).max(1);
    let mut sample: Vec<f32> = image.data.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
    if sample.is_empty() {
        return None;
    }
    let mid = sample.len() / 2;
    let (_, median, _) = sample.select_nth_unstable_by(mid, f32::total_cmp);
    let (median, target) = (f64::from(*median), f64::from(ensemble.normalisation().mean));
    if median <= 0.0 || target <= 0.0 {
        return None;
    }
    let ratio = target / median;
    (!(1.0 / LEVEL_TOLERANCE..=LEVEL_TOLERANCE).contains(&ratio)).then_some(ratio)
}

/// `image` at the training level (see [`level_factor`]), and the factor applied.
pub fn at_training_level<'a>(ensemble: &CdcEnsemble, image: &'a Image) -> (std::borrow::Cow<'a, Image>, Option<f64>) {
    match level_factor(ensemble, image) {
        #[allow(clippy::cast_possible_truncation)]
        Some(f) => {
            let data = image.data.iter().map(|v| (f64::from(*v) * f) as f32).collect();
            (std::borrow::Cow::Owned(Image { width: image.width, height: image.height, data }), Some(f))
        }
        None => (std::borrow::Cow::Borrowed(image), None),
    }
}

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
    let mut acc = DrawAccumulator::new(ensemble);
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
    sigma_scale: f64,
}

impl DrawAccumulator {
    /// An empty accumulator for `ensemble`'s members (its σ calibration is applied to the prediction).
    pub fn new(ensemble: &CdcEnsemble) -> Self {
        let members = ensemble.members().len();
        Self {
            mu_sum: vec![[0.0; CDC_POINTS]; members],
            var_sum: vec![[0.0; CDC_POINTS]; members],
            draws: 0,
            sigma_scale: ensemble.sigma_scale(),
        }
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
        Ok(CdcPrediction::combine(&mus, &sigmas)?.with_sigma_scale(self.sigma_scale))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};

    use super::*;
    use crate::models::cdc::{CdcNet, CdcPreset, Normalisation};

    fn small_ensemble() -> CdcEnsemble {
        let members = (0..2)
            .map(|_| {
                let varmap = VarMap::new();
                CdcNet::with_input_side(CdcPreset::Compact, 32, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap()
            })
            .collect();
        CdcEnsemble::new(members, Normalisation::new(6000.0, 700.0).unwrap(), &Device::Cpu).unwrap()
    }

    #[test]
    fn level_is_corrected_only_when_far_off() {
        let e = small_ensemble();
        let image = |level: f32| Image { width: 40, height: 40, data: (0..1600).map(|i| level + (i % 7) as f32).collect() };
        assert!(level_factor(&e, &image(5800.0)).is_none());
        let f = level_factor(&e, &image(1500.0)).unwrap();
        assert!((f - 6000.0 / 1503.0).abs() < 0.01, "{f}");
        let low = image(1500.0);
        let (scaled, applied) = at_training_level(&e, &low);
        assert!(applied.is_some() && (scaled.data[0] - 1500.0 * f as f32).abs() < 1.0);
    }

    #[test]
    fn predicts_finite_curves_and_refuses_small_images() {
        let e = small_ensemble();
        let image = Image { width: 50, height: 60, data: (0..3000).map(|i| 6000.0 + (i % 13) as f32 * 10.0).collect() };
        let p = predict_image(&e, &image, 3, 1, &|| false).unwrap();
        assert!(p.mean.iter().chain(&p.total).all(|v| v.is_finite()));
        let small = Image { width: 20, height: 60, data: vec![0.0; 1200] };
        assert!(predict_image(&e, &small, 1, 1, &|| false).is_err());
        assert!(matches!(predict_image(&e, &image, 3, 1, &|| true), Err(ModelError::Cancelled)));
    }
}
