//! Image quality figures: one number summarising the contrast-detail curve over the 12 readout diameters.
//!
//! - `IQF = Σ d · T_human(d)` (mm · µm) over the readout diameters 1.00 … 0.08 mm, with `T_human` the predicted
//!   human threshold of the fitted curve: lower is better. This is the classic CDMAM image quality figure (the sum
//!   of diameter × threshold thickness) restricted to the rows the automated readout reports, on the human scale so
//!   it compares with human readings of the same rows.
//! - `IQF_inv = 100 / Σ d · T_auto(d)` with the fitted *automated* thresholds: higher is better. This follows the
//!   inverse image quality figure of the CDRAD/CDMAM literature (100 over the sum of diameter × threshold) on the
//!   automated scale, which is free of the human-factor model.
//!
//! Both use the fitted curve, which gives a value on every row, rather than the raw per-row fits, which can be
//! missing or flagged.

/// `Σ d · t` over `(diameter_mm, threshold_um)` points.
fn weighted_sum(points: &[(f64, f64)]) -> f64 {
    points.iter().map(|&(d, t)| d * t).sum()
}

/// `IQF` from `(diameter_mm, human threshold µm)` points.
pub fn iqf(human: &[(f64, f64)]) -> f64 {
    weighted_sum(human)
}

/// `IQF_inv` from `(diameter_mm, automated threshold µm)` points; `None` when the sum is not positive.
pub fn iqf_inv(automated: &[(f64, f64)]) -> Option<f64> {
    let sum = weighted_sum(automated);
    (sum > 0.0).then(|| 100.0 / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_follow_their_definitions() {
        let points = [(1.0, 0.05), (0.5, 0.1), (0.1, 1.0)];
        assert!((iqf(&points) - 0.2).abs() < 1e-12);
        assert!((iqf_inv(&points).unwrap() - 500.0).abs() < 1e-9);
        assert_eq!(iqf_inv(&[]), None);
    }
}
