//! The CDMAM QA mode's state: the readout of the open phantom images, what is drawn over them, the report export.

use std::path::PathBuf;
use std::sync::Arc;

use crate::phantom::cdmam::readout::{CellMark, SetReadout};

/// Where the readout takes the true corners from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TruthChoice {
    /// The standard CDMAM 3.4 layout chart, checked against the images (consensus when they disagree).
    #[default]
    Standard,
    /// The leave-one-out consensus of the images alone.
    Consensus,
}

/// A finished readout and the open images it read.
#[derive(Clone, Debug)]
pub struct CdmamResult {
    pub readout: Arc<SetReadout>,
    /// The id of the open image behind each input exposure (`ExposureReadout::index` indexes this).
    pub image_ids: Vec<u64>,
    /// Seconds the readout took.
    pub seconds: f64,
}

impl CdmamResult {
    /// The exposure (index into `readout.exposures`) read from image `id`.
    pub fn exposure_of(&self, id: u64) -> Option<usize> {
        let input = self.image_ids.iter().position(|&i| i == id)?;
        self.readout.exposures.iter().position(|e| e.index == input)
    }

    /// The marks over image `id`, if it was read.
    pub fn marks_of(&self, id: u64) -> Option<Vec<CellMark>> {
        self.exposure_of(id).map(|e| self.readout.marks(e))
    }
}

/// The CDMAM mode.
#[derive(Clone, Debug, Default)]
#[allow(clippy::struct_excessive_bools)] // independent request flags and overlay toggles
pub struct CdmamState {
    /// The user asked for a readout of the open images; the GUI starts it and clears this.
    pub requested: bool,
    /// The user asked to stop the running readout; the GUI cancels it and clears this.
    pub cancel: bool,
    pub running: bool,
    pub progress: (u32, u32),
    pub truth: TruthChoice,
    pub result: Option<CdmamResult>,
    pub error: Option<String>,
    /// Draw the detected lattice over the read images.
    pub show_lattice: bool,
    /// Draw the per-cell correct / incorrect marks.
    pub show_marks: bool,
    /// An export the user asked for; the GUI writes it in the background and clears this.
    pub export_requested: Option<PathBuf>,
    /// The last export's outcome, for the panel.
    pub export_status: Option<Result<PathBuf, String>>,
}

impl CdmamState {
    pub fn new() -> Self {
        Self { show_lattice: true, show_marks: true, ..Self::default() }
    }
}
