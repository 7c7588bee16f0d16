//! The model card's evaluation of the CDC ensemble on held-out settings: per image a prediction (from random draws of
//! its stored row/column selection, the same distribution as draws from the full image), compared with the setting's
//! 16-image readout (the label) and with the ideal observer; summarised per test group (the paper's scenarios #1–#4,
//! OOD): mean absolute error, 95 % band coverage, mean predicted σ.

use rand::{SeedableRng, rngs::StdRng};
use serde::Serialize;

use super::cdc::{CDC_POINTS, CdcEnsemble, CdcPrediction};
use super::cdc_image::DrawAccumulator;
use super::error::ModelError;
use crate::imaging::downsample::Selection;
use crate::imaging::seed::splitmix64;
use crate::synth::cdc_data::SettingData;

/// One test image's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct ImageEval {
    pub group: String,
    pub setting: String,
    pub image: usize,
    pub prediction: CdcPrediction,
    /// ln of the 16-image readout's thresholds (the label).
    pub label_ln: [f64; CDC_POINTS],
    /// ln of the ideal observer's thresholds.
    pub ideal_ln: [f64; CDC_POINTS],
}

/// Predicts every stored image of `settings` from `draws` random 250 × 250 draws each; `progress(done, total)`.
///
/// # Errors
/// Model errors or cancellation.
pub fn evaluate(
    ensemble: &CdcEnsemble,
    settings: &[SettingData],
    draws: usize,
    seed: u64,
    progress: &dyn Fn(usize, usize),
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<ImageEval>, ModelError> {
    let side = ensemble.input_side();
    let total: usize = settings.iter().map(|s| s.images.len()).sum();
    let mut out = Vec::with_capacity(total);
    for s in settings {
        for (i, img) in s.images.iter().enumerate() {
            if cancelled() {
                return Err(ModelError::Cancelled);
            }
            let mut rng = StdRng::seed_from_u64(splitmix64(seed ^ s.spec.seed ^ (i as u64)));
            let mut raw = Vec::with_capacity(draws * side * side);
            for _ in 0..draws.max(1) {
                let sel = Selection::random(img.selection.width(), img.selection.height(), side, &mut rng)
                    .map_err(|e| ModelError::Input(e.to_string()))?;
                let px = sel.gather(&img.pixels, img.selection.width()).map_err(|e| ModelError::Input(e.to_string()))?;
                raw.extend(px.into_iter().map(f32::from));
            }
            let mut acc = DrawAccumulator::new(ensemble);
            acc.add(ensemble, &ensemble.input_tensor(&raw)?)?;
            out.push(ImageEval {
                group: s.spec.group.clone(),
                setting: s.spec.name.clone(),
                image: i,
                prediction: acc.prediction()?,
                label_ln: s.label_um.map(f64::ln),
                ideal_ln: s.ideal_um.map(f64::ln),
            });
            progress(out.len(), total);
        }
    }
    Ok(out)
}

/// The σ calibration factor that makes the 95 % band cover `coverage` of the (image, point) pairs of `evals`
/// (computed with an uncalibrated ensemble): the `coverage` quantile of |µ − label| / `σ_total`, over 1.96.
pub fn sigma_scale_for(evals: &[ImageEval], coverage: f64) -> Option<f64> {
    let mut z: Vec<f64> = evals
        .iter()
        .flat_map(|e| (0..CDC_POINTS).map(move |k| (e.prediction.mean[k] - e.label_ln[k]).abs() / e.prediction.total[k]))
        .filter(|v| v.is_finite())
        .collect();
    if z.is_empty() {
        return None;
    }
    z.sort_by(f64::total_cmp);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = ((z.len() - 1) as f64 * coverage.clamp(0.0, 1.0)).round() as usize;
    Some(z[i] / super::cdc::combine::Z_95).filter(|s| *s > 0.0)
}

/// A test group's summary.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    pub group: String,
    pub settings: usize,
    pub images: usize,
    /// Mean over images and the 12 points of |µ − ln label| (ln µm ≈ relative error).
    pub mae_ln: f64,
    /// Per diameter.
    pub mae_ln_per_point: [f64; CDC_POINTS],
    /// Median over images and points of |exp(µ − ln label) − 1|, percent.
    pub median_abs_error_pct: f64,
    /// Fraction of (image, point) pairs whose label lies inside µ ± 1.96 `σ_total`.
    pub coverage_95: f64,
    /// Fraction of images whose whole curve (12 points) lies inside the band.
    pub coverage_95_whole_curve: f64,
    pub mean_sigma_total: f64,
    pub mean_sigma_epistemic: f64,
    pub mean_sigma_aleatoric: f64,
    /// Mean |µ − ln ideal| of the prediction, and |ln label − ln ideal| of the 16-image readout itself.
    pub mae_ln_vs_ideal_prediction: f64,
    pub mae_ln_vs_ideal_readout: f64,
}

/// Summaries per group, in first-seen order, then "all in distribution" (every group but "ood").
pub fn summarise(evals: &[ImageEval]) -> Vec<GroupSummary> {
    let mut groups: Vec<String> = Vec::new();
    for e in evals {
        if !groups.contains(&e.group) {
            groups.push(e.group.clone());
        }
    }
    let mut out: Vec<GroupSummary> =
        groups.iter().map(|g| summary(g, &evals.iter().filter(|e| &e.group == g).collect::<Vec<_>>())).collect();
    let in_dist: Vec<&ImageEval> = evals.iter().filter(|e| e.group != "ood").collect();
    if groups.len() > 1 && !in_dist.is_empty() {
        out.push(summary("all in distribution", &in_dist));
    }
    out
}

fn summary(group: &str, evals: &[&ImageEval]) -> GroupSummary {
    let n = evals.len().max(1) as f64;
    let points = n * CDC_POINTS as f64;
    let mut per_point = [0.0; CDC_POINTS];
    let (mut covered, mut whole, mut s_tot, mut s_epi, mut s_ale, mut vs_ideal, mut readout_ideal) =
        (0usize, 0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut rel = Vec::with_capacity(evals.len() * CDC_POINTS);
    for e in evals {
        let mut all_in = true;
        #[allow(clippy::needless_range_loop)] // k indexes five arrays at once
        for k in 0..CDC_POINTS {
            let p = &e.prediction;
            let err = p.mean[k] - e.label_ln[k];
            per_point[k] += err.abs() / n;
            rel.push((err.exp() - 1.0).abs() * 100.0);
            let [lo, hi] = p.band_ln(k);
            if (lo..=hi).contains(&e.label_ln[k]) {
                covered += 1;
            } else {
                all_in = false;
            }
            s_tot += p.total[k] / points;
            s_epi += p.epistemic[k] / points;
            s_ale += p.aleatoric[k] / points;
            vs_ideal += (p.mean[k] - e.ideal_ln[k]).abs() / points;
            readout_ideal += (e.label_ln[k] - e.ideal_ln[k]).abs() / points;
        }
        whole += usize::from(all_in);
    }
    rel.sort_by(f64::total_cmp);
    let settings = {
        let mut names: Vec<&str> = evals.iter().map(|e| e.setting.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    GroupSummary {
        group: group.to_owned(),
        settings,
        images: evals.len(),
        mae_ln: per_point.iter().sum::<f64>() / CDC_POINTS as f64,
        mae_ln_per_point: per_point,
        median_abs_error_pct: rel.get(rel.len() / 2).copied().unwrap_or(f64::NAN),
        coverage_95: covered as f64 / points,
        coverage_95_whole_curve: whole as f64 / n,
        mean_sigma_total: s_tot,
        mean_sigma_epistemic: s_epi,
        mean_sigma_aleatoric: s_ale,
        mae_ln_vs_ideal_prediction: vs_ideal,
        mae_ln_vs_ideal_readout: readout_ideal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(group: &str, mean: f64, total: f64, label: f64) -> ImageEval {
        let prediction = CdcPrediction { mean: [mean; 12], epistemic: [0.0; 12], aleatoric: [total; 12], total: [total; 12] };
        ImageEval { group: group.into(), setting: format!("{group}-s"), image: 0, prediction, label_ln: [label; 12], ideal_ln: [label; 12] }
    }

    #[test]
    fn calibration_scales_to_the_requested_coverage() {
        // Errors 0.01 … 1.00 (×100 images) at σ = 1: the 95th percentile of |z| is 0.95 → scale 0.95 / 1.96.
        let evals: Vec<ImageEval> = (1..=100).map(|i| eval("1", f64::from(i) / 100.0, 1.0, 0.0)).collect();
        let s = sigma_scale_for(&evals, 0.95).unwrap();
        assert!((s - 0.95 / 1.96).abs() < 0.011, "{s}");
        let scaled: Vec<ImageEval> = evals.into_iter().map(|e| ImageEval { prediction: e.prediction.with_sigma_scale(s), ..e }).collect();
        let c = summarise(&scaled)[0].coverage_95;
        assert!((0.94..=0.96).contains(&c), "{c}");
    }

    #[test]
    fn coverage_and_errors_count_as_stated() {
        // Band ±1.96·0.1 = ±0.196: an error of 0.1 is inside, 0.3 outside.
        let evals = vec![eval("1", 0.1, 0.1, 0.0), eval("1", 0.3, 0.1, 0.0), eval("ood", 0.0, 0.1, 0.0)];
        let s = summarise(&evals);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].group, "1");
        assert!((s[0].coverage_95 - 0.5).abs() < 1e-12);
        assert!((s[0].coverage_95_whole_curve - 0.5).abs() < 1e-12);
        assert!((s[0].mae_ln - 0.2).abs() < 1e-12);
        assert!((s[1].coverage_95 - 1.0).abs() < 1e-12);
        assert_eq!(s[2].group, "all in distribution");
        assert_eq!(s[2].images, 2);
    }
}
