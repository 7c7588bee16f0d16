//! The CDC deep ensemble as the model the explainability methods run on.

use std::sync::Arc;

use candle_core::{Device, Result, Tensor};

use super::model::MidpointModel;
use crate::models::cdc::CdcEnsemble;

/// A shared [`CdcEnsemble`]: the midpoint is the mean over the 12 points and the members of µ (ln µm).
#[derive(Clone, Debug)]
pub struct EnsembleModel(pub Arc<CdcEnsemble>);

#[allow(clippy::needless_pass_by_value)] // used as map_err(candle_err)
fn candle_err(e: crate::models::error::ModelError) -> candle_core::Error {
    candle_core::Error::Msg(e.to_string())
}

impl MidpointModel for EnsembleModel {
    fn midpoint(&self, x: &Tensor) -> Result<Tensor> {
        self.0.midpoint(x).map_err(candle_err)
    }

    fn midpoint_and_grad(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        self.0.midpoint_and_grad(x).map_err(candle_err)
    }

    fn normalise(&self, raw: &[f32]) -> Vec<f32> {
        self.0.normalise(raw)
    }

    fn input_side(&self) -> usize {
        self.0.input_side()
    }

    fn device(&self) -> &Device {
        self.0.device()
    }
}
