//! The single-image CDC prediction and the explainability heatmap of one open image: what the user asked for, what
//! was computed on which input (the frame, or the perturbed image of a lab version), and the latest results.

use std::sync::Arc;

use crate::models::cdc::CdcPrediction;

/// The explainability method of the heatmap (the OMIG paper's Figure 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HeatmapMethod {
    /// Oriented, modified integrated gradients (Algorithm 1), upsampled by Algorithm 2.
    #[default]
    Omig,
    /// Sensitivity analysis: −∂(CDC midpoint)/∂x.
    Sensitivity,
    /// Occlusion sensitivity on 5 × 5 blocks of the downsampled input.
    Occlusion,
}

impl HeatmapMethod {
    pub const ALL: [HeatmapMethod; 3] = [HeatmapMethod::Omig, HeatmapMethod::Sensitivity, HeatmapMethod::Occlusion];

    pub fn label(self) -> &'static str {
        match self {
            HeatmapMethod::Omig => "OMIG",
            HeatmapMethod::Sensitivity => "Sensitivity",
            HeatmapMethod::Occlusion => "Occlusion",
        }
    }
}

/// What a prediction or heatmap was computed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CdcInput {
    pub frame: usize,
    /// The lab's parameter version when the image was perturbed, `None` for the original.
    pub perturb_version: Option<u32>,
}

/// What the user set for this image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CdcSettings {
    /// Predict the CDC from this image and plot it.
    pub predict: bool,
    /// Compute and show the heatmap.
    pub heatmap: bool,
    pub method: HeatmapMethod,
    /// Downsampling draws the heatmap accumulates (Algorithm 2's N).
    pub draws: usize,
    /// Heatmap opacity over the image, 0–1.
    pub opacity: f32,
    /// Colour gain: |Δx| at (robust maximum / gain) is full colour.
    pub gain: f32,
    /// Show the magnified cutout under the pointer.
    pub cutout: bool,
}

impl Default for CdcSettings {
    fn default() -> Self {
        Self { predict: false, heatmap: false, method: HeatmapMethod::Omig, draws: 500, opacity: 0.75, gain: 1.0, cutout: true }
    }
}

/// A finished prediction.
#[derive(Clone, Debug)]
pub struct CdcPredictionResult {
    pub input: CdcInput,
    pub prediction: CdcPrediction,
    /// Downsampling draws averaged.
    pub draws: usize,
    pub seconds: f64,
}

/// The heatmap so far (Algorithm 2 after `draws` of `target` draws).
#[derive(Clone, Debug)]
pub struct HeatmapSnapshot {
    pub input: CdcInput,
    pub method: HeatmapMethod,
    pub draws: usize,
    pub target: usize,
    /// Full-resolution map (image size, row-major): the mean over draws of Δx scattered to the chosen pixels.
    pub map: Arc<Vec<f32>>,
    pub width: usize,
    pub height: usize,
    /// A display version: block means of Δx over the draws that chose each block, `block` image pixels per value.
    pub display: Arc<Vec<f32>>,
    pub display_width: usize,
    pub display_height: usize,
    pub block: usize,
    /// Robust scale of `display` (99th percentile of |value|), for the colour map.
    pub scale: f32,
    /// Seconds so far.
    pub seconds: f64,
    /// Bumped on every snapshot (the UI rebuilds its texture when it changes).
    pub version: u64,
}

/// The CDC prediction and heatmap state of one image.
#[derive(Clone, Debug, Default)]
pub struct CdcState {
    pub settings: CdcSettings,
    pub prediction: Option<CdcPredictionResult>,
    pub predicting: bool,
    pub prediction_error: Option<String>,
    /// The input of the last prediction started (finished, running or failed).
    pub prediction_attempted: Option<CdcInput>,
    pub heatmap: Option<HeatmapSnapshot>,
    pub heatmap_running: bool,
    pub heatmap_error: Option<String>,
    /// The (input, method, draws) of the last heatmap job started.
    pub heatmap_attempted: Option<(CdcInput, HeatmapMethod, usize)>,
    /// Set to stop the running heatmap job (the GUI cancels it and clears this).
    pub cancel_heatmap: bool,
}
