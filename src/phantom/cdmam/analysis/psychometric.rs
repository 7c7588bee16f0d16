//! The psychometric function of the automated readout and its maximum-likelihood fit along one diameter row.
//!
//! `p(t) = 0.25 + 0.75 / (1 + exp(−f · (C − C_t)))` with `C = ln(1 − exp(−µt))`, `µ` =
//! [`READOUT_MU_PER_UM`] (Young et al. 2008): `C` is the log of the disc's contrast, `f` the slope and `C_t` the
//! contrast at threshold, where `p` = [`THRESHOLD_FRACTION`] = 0.625. The threshold thickness is
//! `t = −ln(1 − exp(C_t)) / µ`, which exists only for `C_t < 0`.
//!
//! **What is fitted.** The protocol fits the *smoothed* fraction-correct matrix, so the rows passed here are smoothed
//! fractions with the number of images scoring each cell as the binomial `n` (expected counts `n · fraction`, not
//! necessarily integers). Smoothing makes neighbouring points correlated and less variable than binomial, so the
//! likelihood is a quasi-likelihood: its maximum is a sound estimate, its curvature is not an honest error bar. The
//! readout's confidence intervals therefore come from the bootstrap over images, never from this fit.
//!
//! **How.** Nelder–Mead on `(ln f, C_t)` (so `f > 0`) from the best point of a coarse grid, inside a box
//! (`f` ∈ [[`F_RANGE`]], `C_t` within [`C_T_MARGIN`] of the row's contrasts) enforced by a quadratic penalty. When
//! the data pin the fit to the box (every disc seen, or none), the threshold lies outside the measured thicknesses
//! and the fit is flagged instead of extrapolated: below the thinnest disc the thinnest thickness is reported as an
//! upper bound; above the thickest no number is given.

use crate::phantom::cdmam::tables::READOUT_MU_PER_UM;
#[cfg(doc)]
use crate::phantom::cdmam::tables::THRESHOLD_FRACTION;

use super::nelder_mead;

/// The guessing rate of a 4-alternative forced choice.
pub const CHANCE: f64 = 0.25;
/// Bounds of the slope `f` (per unit of `C`): from a transition wider than the whole phantom to a step between
/// neighbouring thicknesses (about 0.3 apart in `C`).
pub const F_RANGE: [f64; 2] = [0.2, 50.0];
/// How far outside the row's `C` values the threshold contrast may go during the fit.
pub const C_T_MARGIN: f64 = 2.0;
/// The fewest points a row needs for a two-parameter fit.
pub const MIN_POINTS: usize = 3;

/// Where a row's threshold lies relative to the thicknesses measured on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FitStatus {
    /// The threshold lies within the row's thicknesses.
    InRange,
    /// Every disc was seen: the threshold is below the thinnest disc (reported as an upper bound).
    BelowRange,
    /// The discs stay at chance: the threshold is above the thickest disc (no number, only that bound).
    AboveRange,
    /// Fewer than [`MIN_POINTS`] points: nothing fitted (`f` and `c_t` are NaN, `null` in JSON).
    TooFewPoints,
}

/// The fit of one row.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct PsychometricFit {
    /// Slope per unit of `C`.
    pub f: f64,
    /// Log contrast at threshold.
    pub c_t: f64,
    /// The simplex converged and neither parameter sits on its bound.
    pub converged: bool,
    /// The binomial deviance of the fit (0 for a perfect fit; with raw binomial data about the number of points
    /// minus 2 when the model holds, less on smoothed data).
    pub deviance: f64,
    pub status: FitStatus,
    /// The threshold thickness (µm) when [`FitStatus::InRange`].
    pub threshold_um: Option<f64>,
    /// The thinnest thickness of the row when [`FitStatus::BelowRange`]: the threshold is at most this.
    pub upper_bound_um: Option<f64>,
    /// The thickest thickness of the row when [`FitStatus::AboveRange`]: the threshold is at least this (a bound,
    /// not an estimate).
    pub lower_bound_um: Option<f64>,
}

/// `C = ln(1 − exp(−µt))`, the log contrast of a disc of `thickness_um`.
pub fn log_contrast(thickness_um: f64) -> f64 {
    (-(-READOUT_MU_PER_UM * thickness_um).exp()).ln_1p()
}

/// The thickness (µm) whose log contrast is `c`, if any (`c < 0`).
pub fn thickness_of_log_contrast(c: f64) -> Option<f64> {
    (c < 0.0).then(|| -(-c.exp_m1()).ln() / READOUT_MU_PER_UM)
}

/// The psychometric function: the expected **fraction** correct (0.25 … 1, not a percentage despite the name) at
/// `thickness_um` for slope `f` and threshold contrast `c_t`.
pub fn percent_correct(f: f64, c_t: f64, thickness_um: f64) -> f64 {
    CHANCE + (1.0 - CHANCE) * logistic(f * (log_contrast(thickness_um) - c_t))
}

/// Fits one row: `fraction[i]` correct out of `trials` at `thickness_um[i]`.
pub fn fit_psychometric(thickness_um: &[f64], fraction: &[f64], trials: f64) -> PsychometricFit {
    fit_psychometric_weighted(thickness_um, fraction, &vec![trials; thickness_um.len()])
}

/// Fits one row with a number of trials per point (cells scored in only some images count less).
pub fn fit_psychometric_weighted(thickness_um: &[f64], fraction: &[f64], trials: &[f64]) -> PsychometricFit {
    let used: Vec<(f64, f64, f64)> = thickness_um
        .iter()
        .zip(fraction)
        .zip(trials)
        .filter(|&((t, y), n)| *t > 0.0 && y.is_finite() && *n > 0.0)
        .map(|((&t, &y), &n)| (t, y.clamp(0.0, 1.0), n))
        .collect();
    if used.len() < MIN_POINTS {
        let status = FitStatus::TooFewPoints;
        return PsychometricFit {
            f: f64::NAN,
            c_t: f64::NAN,
            converged: false,
            deviance: f64::NAN,
            status,
            threshold_um: None,
            upper_bound_um: None,
            lower_bound_um: None,
        };
    }
    let thinnest = used.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let thickest = used.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let points: Vec<(f64, f64, f64)> = used.iter().map(|&(t, y, n)| (log_contrast(t), y, n)).collect();
    let c_lo = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let c_hi = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let lower = [F_RANGE[0].ln(), c_lo - C_T_MARGIN];
    let upper = [F_RANGE[1].ln(), c_hi + C_T_MARGIN];
    let clamp = |x: [f64; 2]| -> [f64; 2] { std::array::from_fn(|k| x[k].clamp(lower[k], upper[k])) };
    let objective = |x: [f64; 2]| {
        let inside = clamp(x);
        let excess: f64 = (0..2).map(|k| (x[k] - inside[k]).powi(2)).sum();
        deviance(&points, inside[0].exp(), inside[1]) + 1e3 * excess
    };

    // Start from the best point of a coarse grid: slopes 1 … 16, thresholds at the row's contrasts and beyond.
    let c_grid: Vec<f64> = points.iter().map(|p| p.0).chain([c_lo - 1.0, c_hi + 1.0]).collect();
    let start = [1.0_f64, 2.0, 4.0, 8.0, 16.0]
        .iter()
        .flat_map(|f| c_grid.iter().map(move |&c| [f.ln(), c]))
        .min_by(|a, b| objective(*a).total_cmp(&objective(*b)))
        .unwrap_or([0.0, 0.5 * (c_lo + c_hi)]);
    let minimum = nelder_mead::minimise(objective, start, [0.3, 0.3], [1e-10, 1e-7], 1000);
    let [ln_f, c_t] = clamp(minimum.x);
    let on_bound = (0..2).any(|k| minimum.x[k] <= lower[k] + 1e-4 || minimum.x[k] >= upper[k] - 1e-4);

    let (status, threshold_um, upper_bound_um, lower_bound_um) = if c_t > c_hi || c_t >= 0.0 {
        (FitStatus::AboveRange, None, None, Some(thickest))
    } else if c_t < c_lo {
        (FitStatus::BelowRange, None, Some(thinnest), None)
    } else {
        (FitStatus::InRange, thickness_of_log_contrast(c_t), None, None)
    };
    let (f, converged) = (ln_f.exp(), minimum.converged && !on_bound);
    let deviance = deviance(&points, f, c_t);
    PsychometricFit { f, c_t, converged, deviance, status, threshold_um, upper_bound_um, lower_bound_um }
}

/// The binomial deviance of the points `(C, fraction, n)` (twice the negative log-likelihood minus its saturated
/// value, so a perfect fit scores 0 and the simplex's absolute tolerance is meaningful).
fn deviance(points: &[(f64, f64, f64)], f: f64, c_t: f64) -> f64 {
    points
        .iter()
        .map(|&(c, y, n)| {
            let z = f * (c - c_t);
            // ln p and ln(1 − p) with 1 − p = 0.75 · σ(−z), stable for large |z|.
            let ln_p = (CHANCE + (1.0 - CHANCE) * logistic(z)).ln();
            let ln_q = (1.0 - CHANCE).ln() - softplus(z);
            2.0 * n * (xlogx(y) + xlogx(1.0 - y) - y * ln_p - (1.0 - y) * ln_q)
        })
        .sum()
}

fn logistic(z: f64) -> f64 {
    if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) }
}

/// `ln(1 + eᶻ)` without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn xlogx(x: f64) -> f64 {
    if x > 0.0 { x * x.ln() } else { 0.0 }
}

#[cfg(test)]
#[path = "psychometric_tests.rs"]
mod tests;
