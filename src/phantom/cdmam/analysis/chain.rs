//! The part of the readout that the bootstrap repeats: corrected detection matrices → fraction correct → smoothed
//! matrix → one psychometric fit per readout row → threshold curve.

use crate::phantom::cdmam::geometry::Cell;
use crate::phantom::cdmam::tables::{COLUMN_RANGE, DIAMETERS_MM, READOUT_ROWS};

use super::curve::{CurveFit, fit_curve};
use super::matrix::CellMatrix;
use super::psychometric::{FitStatus, PsychometricFit, fit_psychometric_weighted};
use super::smoothing::smooth;

/// Everything computed from one set of corrected matrices.
pub struct Chain {
    /// Fraction of the images scoring a cell that detected it (after the nearest-neighbour correction).
    pub fraction: CellMatrix<f64>,
    /// The number of images scoring each cell: the binomial `n` of the fits.
    pub trials: CellMatrix<f64>,
    pub smoothed: CellMatrix<f64>,
    /// One fit per readout row, in [`READOUT_ROWS`] order.
    pub fits: Vec<PsychometricFit>,
    pub curve: Option<CurveFit>,
}

/// Runs the chain on corrected detection matrices (one per image; an image may appear several times, as in a
/// bootstrap resample).
pub fn run<'a>(corrected: impl IntoIterator<Item = &'a CellMatrix<bool>>) -> Chain {
    let (mut hits, mut trials) = ([[0.0_f64; 16]; 16], CellMatrix::<f64>::default());
    for matrix in corrected {
        for (cell, correct) in matrix.values() {
            hits[cell.row][cell.col] += f64::from(u8::from(correct));
            trials.set(cell, Some(trials.get(cell).unwrap_or(0.0) + 1.0));
        }
    }
    let mut fraction = CellMatrix::default();
    for (cell, n) in trials.values() {
        fraction.set(cell, Some(hits[cell.row][cell.col] / n));
    }
    let smoothed = smooth(&fraction);
    let fits: Vec<PsychometricFit> = READOUT_ROWS.map(|row| fit_row(row, &smoothed, &trials)).collect();
    let in_range: Vec<(f64, f64)> = READOUT_ROWS
        .zip(&fits)
        .filter(|(_, fit)| fit.status == FitStatus::InRange)
        .filter_map(|(row, fit)| Some((DIAMETERS_MM[row], fit.threshold_um?)))
        .collect();
    let curve = fit_curve(&in_range);
    Chain { fraction, trials, smoothed, fits, curve }
}

/// The psychometric fit of one diameter row of the smoothed matrix.
fn fit_row(row: usize, smoothed: &CellMatrix<f64>, trials: &CellMatrix<f64>) -> PsychometricFit {
    let (first, last) = COLUMN_RANGE[row];
    let (mut t, mut y, mut n) = (Vec::new(), Vec::new(), Vec::new());
    for col in first..=last {
        let cell = Cell { row, col };
        if let (Some(fraction), Some(count)) = (smoothed.get(cell), trials.get(cell)) {
            t.push(cell.thickness_um());
            y.push(fraction);
            n.push(count);
        }
    }
    fit_psychometric_weighted(&t, &y, &n)
}
