//! The deep ensemble: M [`CdcNet`] members run one after another in evaluation mode, their Gaussians merged by
//! [`CdcPrediction::combine`]; the midpoint (mean of µ over the 12 points and the members) and its gradient with respect
//! to the input, which the explanation maps (OMIG, sensitivity) are built from.

use candle_core::{Device, Tensor, Var};

use super::combine::CdcPrediction;
use super::net::CdcNet;
use super::normalisation::Normalisation;
use super::preset::{CDC_POINTS, CdcPreset};
use crate::models::error::ModelError;

/// A trained (or freshly built) ensemble with the normalisation of its training data.
#[derive(Debug, Clone)]
pub struct CdcEnsemble {
    members: Vec<CdcNet>,
    preset: CdcPreset,
    norm: Normalisation,
    device: Device,
    /// SHA-256 of each member's weights file, when loaded from a folder.
    sha256: Vec<String>,
    /// Factor on every predicted σ, fitted on validation settings by `train cdc` (1: uncalibrated).
    sigma_scale: f64,
}

impl CdcEnsemble {
    /// An ensemble of `members` (at least one, all of one preset and input size) on `device`.
    pub fn new(members: Vec<CdcNet>, norm: Normalisation, device: &Device) -> Result<Self, ModelError> {
        let Some(first) = members.first() else { return Err(ModelError::Input("an ensemble needs at least one member".to_owned())) };
        let (preset, side) = (first.preset(), first.input_side());
        if members.iter().any(|m| m.preset() != preset || m.input_side() != side) {
            return Err(ModelError::Input("every ensemble member must have the same preset and input size".to_owned()));
        }
        Ok(Self { members, preset, norm, device: device.clone(), sha256: Vec::new(), sigma_scale: 1.0 })
    }

    /// The ensemble with its σ scaled by `scale` (finite, > 0; otherwise 1) — see [`Self::sigma_scale`].
    #[must_use]
    pub fn with_sigma_scale(mut self, scale: f64) -> Self {
        self.sigma_scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
        self
    }

    /// The calibration factor applied to every predicted σ (epistemic, aleatoric, total): the validation settings'
    /// 95th percentile of |error| / σ over 1.96, written by `train cdc` into `ensemble.json`; 1 when absent.
    pub fn sigma_scale(&self) -> f64 {
        self.sigma_scale
    }

    /// Records the SHA-256 of the members' weights files (see [`Self::weights_sha256`]).
    pub(crate) fn with_sha256(mut self, sha256: Vec<String>) -> Self {
        self.sha256 = sha256;
        self
    }

    /// The members.
    pub fn members(&self) -> &[CdcNet] {
        &self.members
    }

    /// The members' preset.
    pub fn preset(&self) -> CdcPreset {
        self.preset
    }

    /// The training set's pixel statistics.
    pub fn normalisation(&self) -> Normalisation {
        self.norm
    }

    /// The device the members run on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Side of the square input (250).
    pub fn input_side(&self) -> usize {
        self.members.first().map_or(0, CdcNet::input_side)
    }

    /// SHA-256 (lower-case hex) of each member's weights file, in member order; empty for an ensemble not loaded from
    /// files.
    pub fn weights_sha256(&self) -> &[String] {
        &self.sha256
    }

    /// `(v − mean) / std` with the training set's statistics.
    pub fn normalise(&self, raw: &[f32]) -> Vec<f32> {
        self.norm.normalise(raw)
    }

    /// Normalises `raw` (`B` row-major `side × side` images, raw pixel values) into a `(B, 1, side, side)` f32 tensor
    /// on the ensemble's device.
    pub fn input_tensor(&self, raw: &[f32]) -> Result<Tensor, ModelError> {
        let side = self.input_side();
        let per_image = side * side;
        if per_image == 0 || raw.is_empty() || !raw.len().is_multiple_of(per_image) {
            return Err(ModelError::Input(format!("{} values are not a whole number of {side}×{side} images", raw.len())));
        }
        Ok(Tensor::from_vec(self.normalise(raw), (raw.len() / per_image, 1, side, side), &self.device)?)
    }

    /// The ensemble prediction for each image of `x` `(B, 1, side, side)` (normalised), in evaluation mode.
    pub fn predict(&self, x: &Tensor) -> Result<Vec<CdcPrediction>, ModelError> {
        let batch = x.dim(0)?;
        let mut mus = vec![Vec::with_capacity(self.members.len()); batch];
        let mut sigmas = vec![Vec::with_capacity(self.members.len()); batch];
        for member in &self.members {
            let (mu, sigma) = member.forward_t(x, false)?;
            for (b, (mu_b, sigma_b)) in rows_f64(&mu)?.into_iter().zip(rows_f64(&sigma)?).enumerate() {
                mus[b].push(mu_b);
                sigmas[b].push(sigma_b);
            }
        }
        mus.iter().zip(&sigmas).map(|(m, s)| CdcPrediction::combine(m, s)).collect()
    }

    /// The midpoint `(B,)`: the mean over the 12 points and over the members of µ, in evaluation mode.
    pub fn midpoint(&self, x: &Tensor) -> Result<Tensor, ModelError> {
        let mut total: Option<Tensor> = None;
        for member in &self.members {
            let m = member.midpoint(x)?;
            total = Some(match total {
                Some(t) => (t + m)?,
                None => m,
            });
        }
        let total = total.ok_or_else(|| ModelError::Input("the ensemble has no members".to_owned()))?;
        Ok((total / self.members.len() as f64)?)
    }

    /// The midpoint `(B,)` and its gradient with respect to the input `(B, 1, side, side)`, by back-propagation. The
    /// midpoints are summed over the batch before the backward pass: in evaluation mode the samples are independent,
    /// so each image gets its own gradient.
    pub fn midpoint_and_grad(&self, x: &Tensor) -> Result<(Tensor, Tensor), ModelError> {
        let input = Var::from_tensor(&x.detach())?;
        let midpoint = self.midpoint(input.as_tensor())?;
        let grads = midpoint.sum_all()?.backward()?;
        let grad = grads.get(input.as_tensor()).ok_or_else(|| ModelError::Input("no gradient reached the input".to_owned()))?.detach();
        Ok((midpoint.detach(), grad))
    }
}

/// The rows of a `(B, 12)` tensor as f64 arrays.
fn rows_f64(t: &Tensor) -> Result<Vec<[f64; CDC_POINTS]>, ModelError> {
    t.to_dtype(candle_core::DType::F64)?
        .to_vec2::<f64>()?
        .into_iter()
        .map(|row| <[f64; CDC_POINTS]>::try_from(row).map_err(|r| ModelError::Input(format!("expected 12 outputs, got {}", r.len()))))
        .collect()
}
