//! The whole automated readout of a set of exposures: locate and score each image, then the statistics.
//!
//! Images in which the phantom cannot be found are reported and left out; the readout fails with a clear message
//! when fewer than the minimum number of images remain.

use std::sync::Arc;

use super::analysis::{self, AnalysisError, CdcReadout, CellMatrix, ReadoutOptions, TruthSource};
use super::geometry::{Cell, Corner, PhantomPose};
use super::layout::Layout;
use super::locate::{self, LocateOptions, Located};
use super::scores::ImageScores;
use crate::imaging::Image;

/// One exposure to read.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// A name for messages and the report (the file name; never patient data).
    pub name: String,
    pub image: Arc<Image>,
    /// The pixel size the file states (Pixel Spacing), a hint for the grid search.
    pub pixel_mm: Option<f64>,
}

/// What was found in one exposure.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExposureReadout {
    /// Index of the exposure in the input of [`read_set`].
    pub index: usize,
    pub name: String,
    pub pose: PhantomPose,
    pub cells_found: usize,
    pub fit_residual_px: f64,
    #[serde(skip)]
    pub scores: ImageScores,
}

/// The per-cell outcome in one exposure, for the marks over the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CellMark {
    pub cell: Cell,
    /// The corner the matched filter chose.
    pub picked: Corner,
    /// The corner the truth says.
    pub truth: Corner,
    /// After the nearest-neighbour correction.
    pub corrected: bool,
}

impl CellMark {
    pub fn correct(&self) -> bool {
        self.picked == self.truth
    }
}

/// Why a set could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadoutError {
    #[error("no CDMAM phantom found in any of the {0} images")]
    NothingFound(usize),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error("cancelled")]
    Cancelled,
}

/// A read set: the exposures used, those left out and why, and the contrast-detail result.
#[derive(Clone, Debug)]
pub struct SetReadout {
    pub exposures: Vec<ExposureReadout>,
    /// `(name, reason)` of the exposures left out.
    pub failures: Vec<(String, String)>,
    pub cdc: CdcReadout,
    /// The true corners each exposure was scored against (the layout, or its leave-one-out consensus).
    pub truth: Vec<CellMatrix<Corner>>,
}

impl SetReadout {
    /// The marks of exposure `index` (into `exposures`).
    pub fn marks(&self, index: usize) -> Vec<CellMark> {
        let (Some(exposure), Some(detection), Some(truth)) =
            (self.exposures.get(index), self.cdc.per_image.get(index), self.truth.get(index))
        else {
            return Vec::new();
        };
        Cell::all()
            .filter_map(|cell| {
                Some(CellMark {
                    cell,
                    picked: exposure.scores.choice(cell)?,
                    truth: truth.get(cell)?,
                    corrected: detection.corrected.get(cell)?,
                })
            })
            .collect()
    }
}

/// Locate the phantom in one image and score its cells.
///
/// # Errors
/// When the phantom cannot be found (the locate step's message).
pub fn read_exposure(exposure: &Exposure) -> Result<ExposureReadout, locate::LocateError> {
    read_image(&exposure.name, &exposure.image, exposure.pixel_mm)
}

/// [`read_exposure`] on borrowed pixels.
///
/// # Errors
/// When the phantom cannot be found (the locate step's message).
pub fn read_image(name: &str, image: &Image, pixel_mm: Option<f64>) -> Result<ExposureReadout, locate::LocateError> {
    let options = LocateOptions { pixel_mm_hint: pixel_mm, ..LocateOptions::default() };
    let located: Located = locate::locate(image, &options)?;
    let scores = locate::score(image, &located);
    Ok(ExposureReadout {
        index: 0,
        name: name.to_owned(),
        pose: located.pose,
        cells_found: located.cells_found,
        fit_residual_px: located.fit_residual_px,
        scores,
    })
}

/// Read a whole set: every exposure (progress after each; `cancelled` checked between images), then the analysis.
///
/// # Errors
/// [`ReadoutError::NothingFound`] when no image holds a phantom, the analysis's errors (too few images), or
/// [`ReadoutError::Cancelled`].
pub fn read_set(
    exposures: &[Exposure],
    layout: Option<&Layout>,
    options: &ReadoutOptions,
    progress: &dyn Fn(usize, usize),
    cancelled: &dyn Fn() -> bool,
) -> Result<SetReadout, ReadoutError> {
    let mut read = Vec::new();
    let mut failures = Vec::new();
    for (i, exposure) in exposures.iter().enumerate() {
        if cancelled() {
            return Err(ReadoutError::Cancelled);
        }
        progress(i, exposures.len());
        match read_exposure(exposure) {
            Ok(r) => read.push(ExposureReadout { index: i, ..r }),
            Err(e) => failures.push((exposure.name.clone(), e.to_string())),
        }
    }
    progress(exposures.len(), exposures.len());
    finish_set(read, failures, layout, options)
}

/// The statistics over exposures already read one by one with [`read_exposure`] (callers that stream large files
/// read each image, keep its scores and drop its pixels); `failures` are the `(name, reason)` of those left out.
///
/// # Errors
/// [`ReadoutError::NothingFound`] when nothing was read, or the analysis's errors.
pub fn finish_set(
    read: Vec<ExposureReadout>,
    failures: Vec<(String, String)>,
    layout: Option<&Layout>,
    options: &ReadoutOptions,
) -> Result<SetReadout, ReadoutError> {
    if read.is_empty() {
        return Err(ReadoutError::NothingFound(failures.len()));
    }
    let scores: Vec<ImageScores> = read.iter().map(|r| r.scores.clone()).collect();
    let cdc = analysis::analyse(&scores, layout, options)?;
    let truth = match (cdc.truth_source, layout) {
        (TruthSource::Layout, Some(layout)) => vec![analysis::truth::layout_truth(layout); scores.len()],
        _ => analysis::truth::consensus_truth(&scores),
    };
    Ok(SetReadout { exposures: read, failures, cdc, truth })
}
