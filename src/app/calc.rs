//! The calcification overlay's per-image state: on/off, threshold, the latest detection and for which input it
//! was made (the original, or the perturbed image of a given lab version), the robustness curve.

use std::sync::Arc;
use std::time::Instant;

use crate::models::detector::{Detection, PatchScore};
use crate::models::robustness::RobustnessCurve;

/// What a detection was computed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectionInput {
    pub frame: usize,
    /// The lab's parameter version when the image was perturbed, `None` for the original.
    pub perturb_version: Option<u32>,
    /// The model it came from (index into the catalogue).
    pub model: usize,
    pub stride: usize,
    /// Bumped when the pixel spacing changes (the model's scale depends on it).
    pub spacing_version: u32,
}

/// A finished detection.
#[derive(Clone, Debug)]
pub struct DetectionResult {
    pub input: DetectionInput,
    pub detection: Arc<Detection>,
    /// The model's whole-image operating point ([`crate::models::detector::CalcDetector::default_threshold`]).
    pub default_threshold: f32,
    pub seconds: f64,
}

/// The robustness sweep's state.
#[derive(Clone, Debug, Default)]
pub struct RobustnessState {
    pub curve: Option<RobustnessCurve>,
    pub running: bool,
    /// The patch it was run for (`None`: the whole breast).
    pub patch: Option<PatchScore>,
    /// Set to ask the job runner to start a sweep.
    pub requested: bool,
    pub error: Option<String>,
}

/// The overlay's state for one image.
#[derive(Clone, Debug)]
pub struct CalcState {
    pub enabled: bool,
    /// Patches at or above it are drawn; `None` until the model's operating point is known.
    pub threshold: Option<f32>,
    pub result: Option<DetectionResult>,
    /// Last time an input changed; the job starts after a short quiet period (debounce).
    pub changed_at: Instant,
    pub running: bool,
    /// (done, total) patches of the running job.
    pub progress: (usize, usize),
    pub error: Option<String>,
    /// The patch selected in the list (zoomed to).
    pub selected: Option<PatchScore>,
    pub spacing_version: u32,
    /// The input of the last detection started (finished, running or failed).
    pub attempted: Option<DetectionInput>,
    pub robustness: RobustnessState,
}

impl Default for CalcState {
    fn default() -> Self {
        Self {
            enabled: false,
            threshold: None,
            result: None,
            changed_at: Instant::now(),
            running: false,
            progress: (0, 0),
            error: None,
            selected: None,
            spacing_version: 0,
            attempted: None,
            robustness: RobustnessState::default(),
        }
    }
}

impl CalcState {
    /// The model works at a fixed physical scale: a new spacing means a new detection.
    pub fn spacing_changed(&mut self) {
        self.spacing_version += 1;
        self.changed_at = Instant::now();
    }

    /// The threshold in use: the user's, else the model's operating point, else 0.5.
    pub fn threshold_or_default(&self) -> f32 {
        self.threshold.or(self.result.as_ref().map(|r| r.default_threshold)).unwrap_or(0.5)
    }

    /// Patches to outline: at or above the threshold, one per finding (a weaker overlapping patch only when its evidence
    /// point is a finding of its own; [`crate::models::detector::Detection::marks`]), most probable first.
    pub fn visible(&self) -> Vec<PatchScore> {
        self.result.as_ref().map(|r| r.detection.marks(self.threshold_or_default())).unwrap_or_default()
    }
}
