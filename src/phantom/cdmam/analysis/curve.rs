//! The threshold-versus-diameter curve: the per-row thresholds smoothed with `T(d) = a + b/d + c/d² + e/d³`.
//!
//! **Domain and weights.** The thresholds span more than a decade (≈ 0.05 µm at 1 mm to ≈ 1 µm at 0.08 mm), and
//! their uncertainty is roughly a constant *fraction* of the threshold (the psychometric fit works in
//! `C ≈ ln(µt)`, a log scale). An unweighted fit in linear `T` would let the few large small-diameter thresholds
//! dominate; a fit of `ln T` would make the model non-linear. So the fit stays linear in `T` (the model is linear in
//! its coefficients) with weights `1/T²`, i.e. it minimises squared *relative* residuals. The weights use the fitted
//! curve rather than the noisy observations (iteratively reweighted, [`IRLS_ITERATIONS`] passes from `1/T_obs²`),
//! since weighting by the observed value favours points that happen to fall low and biases the curve down.
//!
//! Rows whose threshold is out of range (flagged by the psychometric fit) carry only a bound and are left out. At
//! least [`MIN_CURVE_ROWS`] rows are needed (one more than the coefficients, so the curve smooths rather than
//! interpolates), and a curve that is not positive over the whole readout range is rejected. With fewer rows (a
//! very good system sees every disc of the larger diameters, so only the smallest rows have a threshold in range),
//! or when the cubic is rejected, a power law `T = a·d^(−b)` (a straight line in the log-log plot, `b > 0`) is fitted
//! to at least [`MIN_POWER_LAW_ROWS`] rows instead, so the readout still reports a curve.

use crate::phantom::cdmam::tables::{DIAMETERS_MM, HUMAN_FACTOR, READOUT_ROWS};

use super::lstsq::weighted_least_squares;

/// The fewest in-range rows the curve is fitted to.
pub const MIN_CURVE_ROWS: usize = 5;
/// The fewest in-range rows the power-law fallback is fitted to.
pub const MIN_POWER_LAW_ROWS: usize = 2;
/// The range the log-log slope of the continuation beyond the largest fitted diameter is clamped to.
/// (The upper end is about the quantum-limited slope of large discs, where contrast × diameter is constant (Rose);
/// the small rows that feed the slope are steepened by blur, which matters less for larger discs.)
pub const TAIL_SLOPE: (f64, f64) = (0.2, 1.5);
/// Reweighting passes after the first fit.
pub const IRLS_ITERATIONS: usize = 3;
/// The number of points of the dense curve for plotting, log-spaced over the readout diameters.
pub const DENSE_POINTS: usize = 100;

/// A point of the dense curve.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct CurvePoint {
    pub diameter_mm: f64,
    pub automated_um: f64,
    pub human_um: f64,
}

/// The form of the fitted curve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveModel {
    /// `T(d) = a + b/d + c/d² + e/d³` (the protocol's smoothing).
    #[default]
    InversePolynomial,
    /// `T(d) = a·d^(−b)`, coefficients `[ln a, b, 0, 0]` (fallback with few rows in range).
    PowerLaw,
}

/// The fitted curve.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CurveFit {
    pub model: CurveModel,
    /// `[a, b, c, e]` of `T(d) = a + b/d + c/d² + e/d³`, or `[ln a, b, 0, 0]` of the power law; `T` in µm, `d` in mm.
    pub coefficients: [f64; 4],
    /// The number of rows the curve was fitted to.
    pub rows_used: usize,
    /// The largest diameter with a fitted threshold, mm; beyond it the curve continues as a power law.
    pub largest_fitted_mm: f64,
    /// Log-log slope `b` of that continuation `T ∝ d^(−b)`: the power law through the fitted rows, clamped to
    /// [`TAIL_SLOPE`].
    pub tail_slope: f64,
    /// The curve from the largest to the smallest readout diameter.
    pub dense: Vec<CurvePoint>,
}

impl CurveFit {
    /// The fitted automated threshold (µm) at `diameter_mm`: the polynomial in `1/d`, held non-increasing with the
    /// diameter (a larger disc of the same gold is never harder to see). Without this, the cubic turns up beyond the
    /// largest diameter whose row had a threshold in range (rows where every disc was seen are left out of the fit).
    pub fn automated_um(&self, diameter_mm: f64) -> f64 {
        let smallest = readout_diameters()[readout_diameters().len() - 1];
        if diameter_mm <= smallest {
            return self.polynomial(diameter_mm);
        }
        if diameter_mm > self.largest_fitted_mm {
            // Rows larger than every fitted one had all their discs seen: a cubic extrapolated there swings freely,
            // so the curve continues from its last fitted point along the fitted rows' log-log slope.
            return self.automated_um(self.largest_fitted_mm) * (diameter_mm / self.largest_fitted_mm).powf(-self.tail_slope);
        }
        if self.model == CurveModel::PowerLaw {
            return self.polynomial(diameter_mm);
        }
        // The minimum of the cubic in r = 1/d over r ∈ [1/d, 1/smallest]: at an end or where its derivative
        // b + 2c·r + 3e·r² vanishes.
        let (r_lo, r_hi) = (1.0 / diameter_mm, 1.0 / smallest);
        let [_, b, c, e] = self.coefficients;
        let mut candidates = vec![r_lo, r_hi];
        if e.abs() > f64::EPSILON * (b.abs() + c.abs() + 1.0) {
            let disc = 4.0 * c * c - 12.0 * e * b;
            if disc >= 0.0 {
                candidates.extend([(-2.0 * c + disc.sqrt()) / (6.0 * e), (-2.0 * c - disc.sqrt()) / (6.0 * e)]);
            }
        } else if c.abs() > f64::EPSILON {
            candidates.push(-b / (2.0 * c));
        }
        candidates.into_iter().filter(|r| (r_lo..=r_hi).contains(r)).map(|r| self.polynomial(1.0 / r)).fold(f64::INFINITY, f64::min)
    }

    /// The fitted function itself (the polynomial in `1/d`, or the power law).
    pub fn polynomial(&self, diameter_mm: f64) -> f64 {
        match self.model {
            CurveModel::InversePolynomial => basis(diameter_mm).iter().zip(self.coefficients).map(|(x, c)| x * c).sum(),
            CurveModel::PowerLaw => (self.coefficients[0] - self.coefficients[1] * diameter_mm.ln()).exp(),
        }
    }

    /// The predicted human threshold (µm) at `diameter_mm`: [`human_factor_at`] × the automated threshold.
    pub fn human_um(&self, diameter_mm: f64) -> f64 {
        human_factor_at(diameter_mm) * self.automated_um(diameter_mm)
    }
}

fn basis(d: f64) -> [f64; 4] {
    let r = 1.0 / d;
    [1.0, r, r * r, r * r * r]
}

/// The readout diameters, largest first (1.00 … 0.08 mm).
fn readout_diameters() -> &'static [f64] {
    &DIAMETERS_MM[*READOUT_ROWS.start()..=*READOUT_ROWS.end()]
}

/// The human factor at any diameter: the tabulated factors of the readout rows, interpolated linearly in `ln d`
/// between them and held constant beyond the ends (only used between tabulated rows by the dense curve).
pub fn human_factor_at(diameter_mm: f64) -> f64 {
    let d = readout_diameters();
    if diameter_mm >= d[0] {
        return HUMAN_FACTOR[0];
    }
    for (i, pair) in d.windows(2).enumerate() {
        if diameter_mm >= pair[1] {
            let s = (diameter_mm / pair[0]).ln() / (pair[1] / pair[0]).ln();
            return HUMAN_FACTOR[i] + s * (HUMAN_FACTOR[i + 1] - HUMAN_FACTOR[i]);
        }
    }
    HUMAN_FACTOR[HUMAN_FACTOR.len() - 1]
}

/// Fits the curve to `(diameter_mm, threshold_um)` points (positive thresholds only): the inverse polynomial with
/// enough rows, else the power law (module docs).
pub fn fit_curve(points: &[(f64, f64)]) -> Option<CurveFit> {
    let points: Vec<(f64, f64)> = points.iter().copied().filter(|&(d, t)| d > 0.0 && t > 0.0 && t.is_finite()).collect();
    let cubic = (points.len() >= MIN_CURVE_ROWS).then(|| fit_inverse_polynomial(&points)).flatten();
    cubic.or_else(|| fit_power_law(&points))
}

fn fit_inverse_polynomial(points: &[(f64, f64)]) -> Option<CurveFit> {
    let x: Vec<[f64; 4]> = points.iter().map(|&(d, _)| basis(d)).collect();
    let y: Vec<f64> = points.iter().map(|&(_, t)| t).collect();
    let mut weights: Vec<f64> = y.iter().map(|t| 1.0 / (t * t)).collect();
    let mut coefficients = weighted_least_squares(&x, &y, &weights)?;
    for _ in 0..IRLS_ITERATIONS {
        for (w, row) in weights.iter_mut().zip(&x) {
            let fitted: f64 = row.iter().zip(coefficients).map(|(a, b)| a * b).sum();
            if fitted > 0.0 {
                *w = 1.0 / (fitted * fitted);
            }
        }
        coefficients = weighted_least_squares(&x, &y, &weights)?;
    }
    let tail_slope = fit_power_law(points).map_or(1.0, |p| p.coefficients[1]).clamp(TAIL_SLOPE.0, TAIL_SLOPE.1);
    let largest_fitted_mm = points.iter().map(|p| p.0).fold(0.0, f64::max);
    finish(CurveFit {
        model: CurveModel::InversePolynomial,
        coefficients,
        rows_used: points.len(),
        largest_fitted_mm,
        tail_slope,
        dense: Vec::new(),
    })
}

/// `ln T = ln a − b·ln d` by least squares; rejected unless the thresholds fall with the diameter (`b > 0`).
fn fit_power_law(points: &[(f64, f64)]) -> Option<CurveFit> {
    if points.len() < MIN_POWER_LAW_ROWS {
        return None;
    }
    let x: Vec<[f64; 2]> = points.iter().map(|&(d, _)| [1.0, -d.ln()]).collect();
    let y: Vec<f64> = points.iter().map(|&(_, t)| t.ln()).collect();
    let [ln_a, b] = weighted_least_squares(&x, &y, &vec![1.0; points.len()])?;
    if !(b > 0.0 && ln_a.is_finite()) {
        return None;
    }
    let largest_fitted_mm = points.iter().map(|p| p.0).fold(0.0, f64::max);
    let tail_slope = b.clamp(TAIL_SLOPE.0, TAIL_SLOPE.1);
    let fit = CurveFit {
        model: CurveModel::PowerLaw,
        coefficients: [ln_a, b, 0.0, 0.0],
        rows_used: points.len(),
        largest_fitted_mm,
        tail_slope,
        dense: Vec::new(),
    };
    finish(fit)
}

/// Adds the dense curve; rejects a curve that is not positive over the readout range.
fn finish(mut fit: CurveFit) -> Option<CurveFit> {
    let diameters = readout_diameters();
    let (largest, smallest) = (diameters[0], diameters[diameters.len() - 1]);
    fit.dense = (0..DENSE_POINTS)
        .map(|i| {
            let d = largest * (smallest / largest).powf(i as f64 / (DENSE_POINTS - 1) as f64);
            CurvePoint { diameter_mm: d, automated_um: fit.automated_um(d), human_um: fit.human_um(d) }
        })
        .collect();
    let positive = fit.dense.iter().all(|p| p.automated_um > 0.0 && p.automated_um.is_finite())
        && diameters.iter().all(|&d| fit.automated_um(d) > 0.0);
    positive.then_some(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_human_factor_matches_the_table_on_the_readout_rows() {
        for (i, &d) in readout_diameters().iter().enumerate() {
            assert!((human_factor_at(d) - HUMAN_FACTOR[i]).abs() < 1e-12);
        }
        let between = human_factor_at(0.9);
        assert!(between < HUMAN_FACTOR[0] && between > HUMAN_FACTOR[1]);
        assert!((human_factor_at(2.0) - HUMAN_FACTOR[0]).abs() < 1e-12);
        assert!((human_factor_at(0.01) - HUMAN_FACTOR[11]).abs() < 1e-12);
    }

    #[test]
    fn the_curve_never_rises_with_the_diameter() {
        // 0.1 − 0.05/d + 0.01/d² dips to 0.0375 at d = 0.4 mm and turns up to 0.06 at 1 mm.
        let fit = CurveFit {
            model: CurveModel::InversePolynomial,
            coefficients: [0.1, -0.05, 0.01, 0.0],
            rows_used: 5,
            largest_fitted_mm: 1.0,
            tail_slope: 1.0,
            dense: Vec::new(),
        };
        assert!((fit.polynomial(1.0) - 0.06).abs() < 1e-12);
        let sweep: Vec<f64> = (0..50).map(|i| fit.automated_um(0.08 * (12.5f64).powf(f64::from(i) / 49.0))).collect();
        assert!(sweep.windows(2).all(|w| w[1] <= w[0] + 1e-15), "{sweep:?}");
        assert!((fit.automated_um(1.0) - 0.0375).abs() < 1e-3, "{}", fit.automated_um(1.0));
        assert!((fit.automated_um(0.08) - fit.polynomial(0.08)).abs() < 1e-12);
    }

    #[test]
    fn a_curve_of_the_model_family_is_recovered_and_noise_is_smoothed() {
        let truth = [0.02, 0.015, 0.002, 0.0003];
        let model = |d: f64| basis(d).iter().zip(truth).map(|(x, c)| x * c).sum::<f64>();
        let exact: Vec<(f64, f64)> = readout_diameters().iter().map(|&d| (d, model(d))).collect();
        let fit = fit_curve(&exact).unwrap();
        assert_eq!(fit.rows_used, 12);
        for &(d, t) in &exact {
            assert!((fit.automated_um(d) / t - 1.0).abs() < 1e-9);
        }
        assert_eq!(fit.dense.len(), DENSE_POINTS);
        assert!((fit.dense[0].diameter_mm - 1.0).abs() < 1e-12 && (fit.dense[DENSE_POINTS - 1].diameter_mm - 0.08).abs() < 1e-12);
        assert!(fit.dense.windows(2).all(|w| w[1].automated_um > w[0].automated_um), "thresholds rise as discs shrink");

        // ±10 % alternating noise: the curve stays within a few per cent of the truth.
        let noisy: Vec<(f64, f64)> = exact.iter().enumerate().map(|(i, &(d, t))| (d, t * if i % 2 == 0 { 1.1 } else { 0.9 })).collect();
        let fit = fit_curve(&noisy).unwrap();
        for &(d, t) in &exact {
            assert!((fit.automated_um(d) / t - 1.0).abs() < 0.06, "d {d}: {} vs {t}", fit.automated_um(d));
        }
    }

    #[test]
    fn beyond_the_largest_fitted_row_the_curve_follows_the_rows_slope() {
        // Eight rows (0.40 … 0.08 mm) on T = 0.02 / d^1.2, noise-free: the cubic fits them; at 1 mm the value is the
        // continuation along slope 1.2, not the cubic's extrapolation.
        let points: Vec<(f64, f64)> = readout_diameters().iter().skip(4).map(|&d| (d, 0.02 / d.powf(1.2))).collect();
        let fit = fit_curve(&points).unwrap();
        assert_eq!(fit.model, CurveModel::InversePolynomial);
        assert!((fit.largest_fitted_mm - 0.4).abs() < 1e-12);
        assert!((fit.tail_slope - 1.2).abs() < 1e-6, "{}", fit.tail_slope);
        let expected = fit.automated_um(0.4) * (1.0f64 / 0.4).powf(-1.2);
        assert!((fit.automated_um(1.0) - expected).abs() < 1e-12);
        assert!((fit.automated_um(1.0) / 0.02 - 1.0).abs() < 0.05, "{}", fit.automated_um(1.0));
    }

    #[test]
    fn few_rows_give_a_power_law_and_one_row_no_curve() {
        // Four rows on T = 0.05 / d: the power law recovers it exactly (b = 1).
        let points: Vec<(f64, f64)> = readout_diameters().iter().skip(8).map(|&d| (d, 0.05 / d)).collect();
        let fit = fit_curve(&points).unwrap();
        assert_eq!(fit.model, CurveModel::PowerLaw);
        assert!((fit.coefficients[1] - 1.0).abs() < 1e-9);
        assert!((fit.automated_um(1.0) - 0.05).abs() < 1e-9);
        let with_invalid: Vec<(f64, f64)> = points.iter().copied().chain([(0.1, -1.0), (0.08, f64::NAN)]).collect();
        assert_eq!(fit_curve(&with_invalid).unwrap().rows_used, 4);
        // Thresholds rising with the diameter are not a contrast-detail curve.
        assert!(fit_curve(&[(0.1, 0.5), (0.2, 0.8)]).is_none());
        assert!(fit_curve(&points[..1]).is_none());
    }
}
