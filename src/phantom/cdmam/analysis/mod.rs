//! The automated readout statistics: detection matrices → psychometric fits → thresholds → curve, verdicts.

mod bootstrap;
mod chain;
pub mod curve;
pub mod detection;
pub mod error;
pub mod iqf;
mod lstsq;
pub mod matrix;
mod nelder_mead;
pub mod psychometric;
mod readout;
pub mod smoothing;
pub mod truth;
pub mod verdict;

#[cfg(test)]
mod synthetic;

pub use curve::{CurveFit, CurvePoint};
pub use detection::DetectionMatrix;
pub use error::AnalysisError;
pub use matrix::CellMatrix;
pub use psychometric::{FitStatus, PsychometricFit, fit_psychometric, percent_correct};
pub use readout::{CdcReadout, DiameterResult, ReadoutOptions, ReadoutWarning, RowFlag, analyse};
pub use truth::{LayoutCheck, LayoutMatch, TruthSource};
pub use verdict::{HumanThreshold, Verdict, VerdictLevel};

#[cfg(test)]
mod tests;
