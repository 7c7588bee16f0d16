//! Tests of the psychometric fit, including its recovery of known thresholds from synthetic binomial rows.

use rand::{SeedableRng as _, rngs::StdRng};
use rand_distr::{Binomial, Distribution as _};

use super::*;
use crate::phantom::cdmam::tables::{COLUMN_RANGE, THICKNESSES_UM, THRESHOLD_FRACTION};

/// The thicknesses of diameter row 6 (0.50 mm): all 16 columns.
fn row_thicknesses() -> Vec<f64> {
    let (first, last) = COLUMN_RANGE[6];
    THICKNESSES_UM[first..=last].to_vec()
}

#[test]
fn the_threshold_is_where_the_function_crosses_0_625() {
    for t in [0.05, 0.2, 1.3] {
        let c_t = log_contrast(t);
        assert!((thickness_of_log_contrast(c_t).unwrap() - t).abs() < 1e-12);
        assert!((percent_correct(4.0, c_t, t) - THRESHOLD_FRACTION).abs() < 1e-12);
        assert!(percent_correct(4.0, c_t, 10.0 * t) > 0.9 && percent_correct(4.0, c_t, t / 10.0) < 0.3);
    }
    assert_eq!(thickness_of_log_contrast(0.1), None);
}

#[test]
fn noiseless_data_give_back_the_parameters() {
    let t = row_thicknesses();
    for (f, t_thr) in [(2.0, 0.1), (5.0, 0.3), (12.0, 0.06)] {
        let c_t = log_contrast(t_thr);
        let y: Vec<f64> = t.iter().map(|&t| percent_correct(f, c_t, t)).collect();
        let fit = fit_psychometric(&t, &y, 16.0);
        assert_eq!(fit.status, FitStatus::InRange);
        assert!(fit.converged, "{fit:?}");
        assert!((fit.f - f).abs() < 1e-3 * f && (fit.c_t - c_t).abs() < 1e-4, "{fit:?} vs f {f}, C_t {c_t}");
        assert!((fit.threshold_um.unwrap() / t_thr - 1.0).abs() < 1e-3);
    }
}

/// Relative errors `t̂ / t − 1` of fits to `seeds` synthetic binomial rows with `n` images each (rows whose
/// threshold leaves the range count as a large error of the right sign).
fn recovery(f: f64, t_thr: f64, n: u64, seeds: u64) -> Vec<f64> {
    let t = row_thicknesses();
    let c_t = log_contrast(t_thr);
    (0..seeds)
        .map(|seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let y: Vec<f64> =
                t.iter().map(|&t| Binomial::new(n, percent_correct(f, c_t, t)).unwrap().sample(&mut rng) as f64 / n as f64).collect();
            let fit = fit_psychometric(&t, &y, n as f64);
            match fit.status {
                FitStatus::InRange => fit.threshold_um.unwrap() / t_thr - 1.0,
                FitStatus::BelowRange => -1.0,
                _ => 10.0,
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { 0.5 * (v[m - 1] + v[m]) }
}

#[test]
fn synthetic_binomial_rows_recover_the_threshold() {
    // Measured over 400 seeds per case: with 64 images the median absolute relative error is 2–4 % (90th
    // percentile 6–10 %), with 16 images 4–8 % (90th percentile 10–19 %); the median signed error (bias) stays
    // within ±1.1 %. The bounds leave margin for other seeds and platforms.
    for (f, t_thr) in [(2.0, 0.1), (4.0, 0.25), (8.0, 0.08)] {
        for (n, max_median_abs, max_bias) in [(64, 0.08, 0.03), (16, 0.15, 0.04)] {
            let errors = recovery(f, t_thr, n, 400);
            let bias = median(errors.clone());
            let mut abs_errors: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
            abs_errors.sort_by(f64::total_cmp);
            let abs = median(abs_errors.clone());
            let p90 = abs_errors[abs_errors.len() * 9 / 10];
            let mean = errors.iter().filter(|e| e.abs() < 1.0).sum::<f64>() / errors.len() as f64;
            eprintln!("f {f}, t {t_thr} µm, n {n}: median |rel err| {abs:.3}, p90 {p90:.3}, median {bias:+.4}, mean {mean:+.4}");
            assert!(abs < max_median_abs, "f {f}, t {t_thr}, n {n}: median |rel err| {abs:.3}");
            assert!(bias.abs() < max_bias, "f {f}, t {t_thr}, n {n}: bias {bias:+.3}");
        }
    }
}

#[test]
fn rows_seen_entirely_or_not_at_all_are_flagged() {
    let t = row_thicknesses();
    let all = fit_psychometric(&t, &vec![1.0; t.len()], 16.0);
    assert_eq!(all.status, FitStatus::BelowRange, "{all:?}");
    assert_eq!((all.threshold_um, all.upper_bound_um), (None, Some(t[0])));

    for chance in [0.25, 0.1, 0.0] {
        let none = fit_psychometric(&t, &vec![chance; t.len()], 16.0);
        assert_eq!(none.status, FitStatus::AboveRange, "{chance}: {none:?}");
        assert_eq!((none.threshold_um, none.upper_bound_um, none.lower_bound_um), (None, None, Some(t[t.len() - 1])));
    }
    // Nearly all correct with the thinnest disc at 0.9: still below the range.
    let mut y = vec![1.0; t.len()];
    y[0] = 0.9;
    assert_eq!(fit_psychometric(&t, &y, 16.0).status, FitStatus::BelowRange);

    let few = fit_psychometric(&t[..2], &[0.3, 0.9], 16.0);
    assert_eq!(few.status, FitStatus::TooFewPoints);
    assert!(few.f.is_nan() && serde_json::to_value(few).unwrap()["f"].is_null());
}

#[test]
fn points_without_trials_are_ignored() {
    let t = row_thicknesses();
    let c_t = log_contrast(0.2);
    let mut y: Vec<f64> = t.iter().map(|&t| percent_correct(4.0, c_t, t)).collect();
    let mut n = vec![16.0; t.len()];
    y[3] = 1.0; // an outlier that carries no weight
    n[3] = 0.0;
    let fit = fit_psychometric_weighted(&t, &y, &n);
    assert!((fit.threshold_um.unwrap() / 0.2 - 1.0).abs() < 1e-3, "{fit:?}");
}
