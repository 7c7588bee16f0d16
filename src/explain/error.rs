//! The error type of the explainability layer.

use crate::imaging::downsample::DownsampleError;

/// Why an explainability map could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// A tensor operation of the model or of a method failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The image is too small for the network's input, or a buffer has the wrong length.
    #[error("downsampling failed: {0}")]
    Downsample(#[from] DownsampleError),
    /// The raw image does not have `width × height` pixels.
    #[error("the image buffer holds {got} values, expected {width} × {height}")]
    ImageSize { width: usize, height: usize, got: usize },
    /// A parameter is outside its range (zero steps, zero patch size, …).
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// The caller asked to stop; partial results were discarded.
    #[error("cancelled")]
    Cancelled,
}
