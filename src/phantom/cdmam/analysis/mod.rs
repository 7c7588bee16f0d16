//! The automated readout statistics: detection matrices → psychometric fits → thresholds → curve, verdicts.
//!
//! The EUREF protocol for the CDMAM 3.4 (the CDMAM Analyser's method, Young et al. 2008), on the corner scores
//! [`ImageScores`] that `locate` produces for each image of a set:
//!
//! | step | file |
//! |---|---|
//! | truth: layout chart checked against the images, or leave-one-out consensus | `truth` |
//! | forced choice vs truth, nearest-neighbour correction, per image | `detection` |
//! | sum over images, 3 × 3 smoothing | `chain`, `smoothing` |
//! | psychometric fit per diameter (Nelder–Mead maximum likelihood) | `psychometric`, `nelder_mead` |
//! | threshold curve `a + b/d + c/d² + e/d³` | `curve`, `lstsq` |
//! | human thresholds, EUREF verdicts, IQF | `verdict`, `iqf` |
//! | bootstrap over images | `bootstrap` |
//! | everything together | `readout` ([`analyse`]) |
//!
//! ```no_run
//! use mammoscope::phantom::cdmam::{ImageScores, Layout, analysis};
//!
//! # fn scores_of_each_image() -> Vec<ImageScores> { Vec::new() }
//! let scores: Vec<ImageScores> = scores_of_each_image();
//! let readout = analysis::analyse(&scores, Some(&Layout::standard()), &analysis::ReadoutOptions::default())?;
//! for row in &readout.diameters {
//!     println!("{:.2} mm: {:?} µm (human {:?}, 95 % CI {:?})", row.diameter_mm, row.fitted_um, row.human_um, row.ci_human);
//! }
//! println!("EUREF: {:?}, IQF {:?}", readout.overall, readout.iqf);
//! # Ok::<(), analysis::AnalysisError>(())
//! ```
//!
//! Pure computation: no I/O; the bootstrap replicates run on rayon's pool.

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

#[cfg(doc)]
use crate::phantom::cdmam::scores::ImageScores;

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
