//! The choice of explainability method, and one batch of maps computed with it.

use candle_core::Tensor;

use super::error::ExplainError;
use super::model::MidpointModel;
use super::occlusion::{OcclusionParams, occlusion};
use super::omig::{OmigParams, omig};
use super::sensitivity::sensitivity;

/// An explainability method, each giving a map of the input's size with the same sign convention: positive where
/// raising the intensity lowers (improves) the predicted CDC.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// OMIG (Algorithm 1): the gradient path `Δx = x_L − x`.
    Omig(OmigParams),
    /// Sensitivity analysis: `−R(x)`.
    Sensitivity,
    /// Occlusion sensitivity: the midpoint change when a pixel (or `patch × patch` block) is zeroed.
    Occlusion(OcclusionParams),
}

impl Default for Method {
    fn default() -> Self {
        Self::Omig(OmigParams::default())
    }
}

impl Method {
    /// A short label for menus and reports.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Omig(_) => "OMIG",
            Self::Sensitivity => "Sensitivity analysis",
            Self::Occlusion(_) => "Occlusion sensitivity",
        }
    }

    /// The maps of a batch `x` `(B, 1, H, W)` of normalised inputs.
    pub fn maps(&self, model: &dyn MidpointModel, x: &Tensor, cancelled: &dyn Fn() -> bool) -> Result<Maps, ExplainError> {
        match self {
            Self::Omig(params) => {
                let result = omig(model, x, params, cancelled)?;
                let change = result.midpoint_end.iter().zip(&result.midpoint_start).map(|(end, start)| end - start).collect();
                Ok(Maps { delta: result.delta, midpoint_change: Some(change) })
            }
            Self::Sensitivity => {
                if cancelled() {
                    return Err(ExplainError::Cancelled);
                }
                Ok(Maps { delta: sensitivity(model, x)?, midpoint_change: None })
            }
            Self::Occlusion(params) => Ok(Maps { delta: occlusion(model, x, params, cancelled)?, midpoint_change: None }),
        }
    }
}

/// The maps of one batch.
#[derive(Debug, Clone)]
pub struct Maps {
    /// `(B, 1, H, W)`.
    pub delta: Tensor,
    /// OMIG only: the midpoint change along each path, `midpoint(x_L) − midpoint(x)` (negative when lowered).
    pub midpoint_change: Option<Vec<f32>>,
}
