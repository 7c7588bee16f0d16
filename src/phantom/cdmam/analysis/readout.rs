//! The whole automated readout: per-image corner scores → EUREF verdicts, with bootstrap confidence intervals.
//!
//! Steps (module docs of each step say why it is done that way):
//! 1. truth: the layout chart if the images confirm it, otherwise the leave-one-out consensus ([`super::truth`]);
//! 2. per image, the forced choice against the truth and the nearest-neighbour correction ([`super::detection`]);
//! 3. the corrected matrices summed into fractions correct, smoothed, fitted row by row, and the thresholds
//!    smoothed over diameter ([`super::smoothing`], [`super::psychometric`], [`super::curve`]);
//! 4. predicted human thresholds (human factor × fitted automated threshold), EUREF verdicts, image quality
//!    figures ([`super::verdict`], [`super::iqf`]);
//! 5. confidence intervals by the bootstrap over images ([`super::bootstrap`]).

use crate::phantom::cdmam::layout::Layout;
use crate::phantom::cdmam::scores::ImageScores;
use crate::phantom::cdmam::tables::{DIAMETERS_MM, EUREF_LIMITS, MIN_IMAGES, READOUT_ROWS, RECOMMENDED_IMAGES, human_factor};

use super::curve::CurveFit;
use super::detection::DetectionMatrix;
use super::error::AnalysisError;
use super::matrix::CellMatrix;
use super::psychometric::{FitStatus, PsychometricFit};
use super::truth::{LayoutCheck, LayoutMatch, TruthSource, check_layout, consensus_truth, layout_truth};
use super::verdict::{HumanThreshold, Verdict, VerdictLevel, overall, verdict};
use super::{bootstrap, chain, iqf};

/// Settings of the readout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadoutOptions {
    /// Bootstrap replicates for the confidence intervals (0: no intervals).
    pub bootstrap: usize,
    /// Seed of the bootstrap resampling.
    pub seed: u64,
    /// The fewest images accepted (at least 2 are always needed: the consensus and the layout check leave one out).
    pub min_images: usize,
}

impl Default for ReadoutOptions {
    fn default() -> Self {
        Self { bootstrap: 200, seed: 0, min_images: MIN_IMAGES }
    }
}

/// What is worth knowing about a readout that still produced results.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReadoutWarning {
    /// Fewer images than the protocol asks for: wider intervals.
    FewImages { images: usize, recommended: usize },
    /// The layout chart disagrees with the images; the consensus was used.
    LayoutMismatch { agreement: Option<f64>, decisive_cells: usize },
    /// Too few decisive cells to check the layout chart; the consensus was used.
    LayoutUnverified { decisive_cells: usize },
    /// Too few rows with a threshold in range for the curve: no fitted thresholds, verdicts from the rows' own fits.
    NoCurve { rows_in_range: usize },
}

impl std::fmt::Display for ReadoutWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::FewImages { images, recommended } => {
                write!(f, "only {images} images (the protocol asks for {recommended}): confidence intervals are wider")
            }
            Self::LayoutMismatch { agreement, decisive_cells } => {
                let agreement = agreement.map_or_else(|| "no".to_owned(), |a| format!("{:.0} %", 100.0 * a));
                write!(
                    f,
                    "the layout does not match these images ({agreement} agreement over {decisive_cells} decisive cells): scored against the leave-one-out consensus"
                )
            }
            Self::LayoutUnverified { decisive_cells } => {
                write!(f, "the layout could not be checked ({decisive_cells} decisive cells): scored against the leave-one-out consensus")
            }
            Self::NoCurve { rows_in_range } => write!(f, "only {rows_in_range} diameters have a threshold in range: no threshold curve"),
        }
    }
}

/// Per diameter row, what made its threshold unusual.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowFlag {
    /// Every disc seen: the threshold is below the thinnest disc (`upper_bound_um`), left out of the curve.
    BelowRange,
    /// The discs stay at chance: the threshold is above the thickest disc, left out of the curve.
    AboveRange,
    /// Too few cells scored on the row to fit.
    TooFewPoints,
    /// The fit stopped on a parameter bound or at the iteration limit.
    NotConverged,
}

/// The readout of one diameter row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DiameterResult {
    pub row: usize,
    pub diameter_mm: f64,
    /// The psychometric fit of the row's smoothed fractions.
    pub fit: PsychometricFit,
    /// The row's own threshold (µm) from the fit, when in range.
    pub automated_um: Option<f64>,
    /// When every disc was seen: the threshold is at most this (the thinnest disc).
    pub upper_bound_um: Option<f64>,
    /// The threshold curve at this diameter (µm): the readout's automated threshold.
    pub fitted_um: Option<f64>,
    /// Predicted human threshold: human factor × `fitted_um`.
    pub human_um: Option<f64>,
    pub human_factor: f64,
    /// 95 % bootstrap interval of `fitted_um`.
    pub ci_automated: Option<[f64; 2]>,
    /// 95 % bootstrap interval of `human_um`.
    pub ci_human: Option<[f64; 2]>,
    /// Bootstrap replicates that gave a value here.
    pub bootstrap_valid: usize,
    pub flags: Vec<RowFlag>,
}

/// The automated CDMAM readout of a set of images.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CdcReadout {
    pub truth_source: TruthSource,
    /// Agreement of the supplied layout with the decisive leave-one-out consensus (`None` without a layout).
    pub layout_agreement: Option<f64>,
    pub layout_check: Option<LayoutCheck>,
    pub images: usize,
    pub warnings: Vec<ReadoutWarning>,
    /// Per image, raw and corrected correctness.
    pub per_image: Vec<DetectionMatrix>,
    /// Fraction correct per cell (corrected, over the images scoring the cell).
    pub fraction_correct: CellMatrix<f64>,
    /// The number of images scoring each cell with a known truth: the binomial `n` of the fits.
    pub images_per_cell: CellMatrix<f64>,
    /// The fraction correct smoothed with the protocol's 3 × 3 kernel: what the fits use.
    pub smoothed: CellMatrix<f64>,
    /// The readout rows 1.00 … 0.08 mm.
    pub diameters: Vec<DiameterResult>,
    pub curve: Option<CurveFit>,
    pub verdicts: Vec<Verdict>,
    pub overall: VerdictLevel,
    /// `Σ d · T_human(d)` over the readout rows, mm · µm (see [`super::iqf`]).
    pub iqf: Option<f64>,
    /// `100 / Σ d · T_auto(d)` over the readout rows.
    pub iqf_inv: Option<f64>,
    pub bootstrap_replicates: usize,
}

/// Runs the readout on the corner scores of `images` (one phantom, same exposure settings), scored against
/// `layout` when the images confirm it.
pub fn analyse(images: &[ImageScores], layout: Option<&Layout>, options: &ReadoutOptions) -> Result<CdcReadout, AnalysisError> {
    let need = options.min_images.max(2);
    if images.len() < need {
        return Err(AnalysisError::TooFewImages { got: images.len(), need });
    }
    let mut warnings = Vec::new();
    if images.len() < RECOMMENDED_IMAGES {
        warnings.push(ReadoutWarning::FewImages { images: images.len(), recommended: RECOMMENDED_IMAGES });
    }

    let layout_check = layout.map(|layout| check_layout(images, layout));
    let (truth_source, truths) = match (layout, layout_check) {
        (Some(layout), Some(check)) if check.outcome == LayoutMatch::Matches => {
            (TruthSource::Layout, vec![layout_truth(layout); images.len()])
        }
        (_, check) => {
            if let Some(LayoutCheck { agreement, decisive_cells, outcome, .. }) = check {
                warnings.push(if outcome == LayoutMatch::DoesNotMatch {
                    ReadoutWarning::LayoutMismatch { agreement, decisive_cells }
                } else {
                    ReadoutWarning::LayoutUnverified { decisive_cells }
                });
            }
            (TruthSource::Consensus, consensus_truth(images))
        }
    };

    let per_image: Vec<DetectionMatrix> = images.iter().zip(&truths).map(|(scores, truth)| DetectionMatrix::new(scores, truth)).collect();
    if per_image.iter().all(|m| m.corrected.count() == 0) {
        return Err(AnalysisError::NoCellsScored);
    }
    let corrected: Vec<CellMatrix<bool>> = per_image.iter().map(|m| m.corrected).collect();
    let chain = chain::run(&corrected);
    let intervals = bootstrap::intervals(&corrected, options.bootstrap, options.seed);
    if chain.curve.is_none() {
        let rows_in_range = chain.fits.iter().filter(|f| f.status == FitStatus::InRange).count();
        warnings.push(ReadoutWarning::NoCurve { rows_in_range });
    }

    let diameters: Vec<DiameterResult> = READOUT_ROWS
        .zip(chain.fits.iter().zip(&intervals))
        .map(|(row, (fit, interval))| diameter_result(row, fit, interval, chain.curve.as_ref()))
        .collect();
    let verdicts: Vec<Verdict> = EUREF_LIMITS
        .iter()
        .map(|limit| {
            let row = diameters.iter().find(|r| (r.diameter_mm - limit.diameter_mm).abs() < 1e-9);
            verdict(limit, row.map_or(HumanThreshold::Unknown, human_threshold))
        })
        .collect();
    let fitted = |value: fn(&DiameterResult) -> Option<f64>| -> Option<Vec<(f64, f64)>> {
        diameters.iter().map(|r| Some((r.diameter_mm, value(r)?))).collect()
    };
    Ok(CdcReadout {
        truth_source,
        layout_agreement: layout_check.and_then(|c| c.agreement),
        layout_check,
        images: images.len(),
        warnings,
        per_image,
        fraction_correct: chain.fraction,
        images_per_cell: chain.trials,
        smoothed: chain.smoothed,
        overall: overall(&verdicts),
        iqf: fitted(|r| r.human_um).map(|p| iqf::iqf(&p)),
        iqf_inv: fitted(|r| r.fitted_um).and_then(|p| iqf::iqf_inv(&p)),
        diameters,
        curve: chain.curve,
        verdicts,
        bootstrap_replicates: options.bootstrap,
    })
}

fn diameter_result(row: usize, fit: &PsychometricFit, interval: &bootstrap::RowInterval, curve: Option<&CurveFit>) -> DiameterResult {
    let diameter_mm = DIAMETERS_MM[row];
    let factor = human_factor(row).unwrap_or(f64::NAN);
    let mut flags = Vec::new();
    match fit.status {
        FitStatus::InRange => {}
        FitStatus::BelowRange => flags.push(RowFlag::BelowRange),
        FitStatus::AboveRange => flags.push(RowFlag::AboveRange),
        FitStatus::TooFewPoints => flags.push(RowFlag::TooFewPoints),
    }
    if !fit.converged && fit.status != FitStatus::TooFewPoints {
        flags.push(RowFlag::NotConverged);
    }
    let fitted_um = curve.map(|c| c.automated_um(diameter_mm));
    DiameterResult {
        row,
        diameter_mm,
        fit: *fit,
        automated_um: fit.threshold_um,
        upper_bound_um: fit.upper_bound_um,
        fitted_um,
        human_um: fitted_um.map(|t| factor * t),
        human_factor: factor,
        ci_automated: interval.automated_um,
        ci_human: interval.automated_um.map(|ci| ci.map(|t| factor * t)),
        bootstrap_valid: interval.valid,
        flags,
    }
}

/// What the row tells about the human threshold: the curve's value, else the row's own fit or its bound.
fn human_threshold(row: &DiameterResult) -> HumanThreshold {
    let f = row.human_factor;
    if let Some(h) = row.human_um {
        return HumanThreshold::Value(h);
    }
    match (row.fit.threshold_um, row.fit.upper_bound_um, row.fit.lower_bound_um) {
        (Some(t), _, _) => HumanThreshold::Value(f * t),
        (_, Some(t), _) => HumanThreshold::AtMost(f * t),
        (_, _, Some(t)) => HumanThreshold::AtLeast(f * t),
        _ => HumanThreshold::Unknown,
    }
}
