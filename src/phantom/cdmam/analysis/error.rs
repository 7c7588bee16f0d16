//! Why the readout could not produce a contrast-detail curve at all.

/// Failures of [`super::analyse`]. Partial failures (a row without a threshold, no curve) are not errors: they are
/// flagged in the readout so the report can still show what was measured.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnalysisError {
    #[error("too few images for the CDMAM readout: got {got}, need at least {need}")]
    TooFewImages { got: usize, need: usize },
    #[error("no cell could be scored: the images have no corner scores, or no true corner is known for any scored cell")]
    NoCellsScored,
}
