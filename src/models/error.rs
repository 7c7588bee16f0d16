//! The error type of the `models` layer.

use std::path::PathBuf;

/// Everything that can go wrong while building, running, training, saving or loading a network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A tensor operation failed (shape mismatch, unsupported dtype, device error, …).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),

    /// Reading or writing a file failed.
    #[error("i/o error: {source} ({path:?})")]
    Io { source: std::io::Error, path: PathBuf },

    /// A weights or optimiser-state file is malformed or does not match the network.
    #[error("invalid weights file: {0}")]
    Format(String),

    /// A preset name that is not one of `compact`, `resnet18`, `resnet50`.
    #[error("unknown network preset {0:?} (expected one of: compact, resnet18, resnet50)")]
    UnknownPreset(String),

    /// A long-running operation (detection, training, evaluation) was cancelled by the user.
    #[error("cancelled")]
    Cancelled,

    /// The input tensor does not have the shape the network expects.
    #[error("invalid input: {0}")]
    Input(String),
}

impl ModelError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(source: std::io::Error, path: impl Into<PathBuf>) -> Self {
        Self::Io { source, path: path.into() }
    }
}
