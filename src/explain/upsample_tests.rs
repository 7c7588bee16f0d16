//! Tests of [`super::Upsampler`] and [`super::upsample`].

#![allow(clippy::float_cmp)] // scattered values must land exactly where they came from

use std::cell::RefCell;

use candle_core::Device;

use super::super::occlusion::OcclusionParams;
use super::super::omig::OmigParams;
use super::super::testing::LinearModel;
use super::*;

fn ramp(width: usize, height: usize) -> Vec<f32> {
    (0..width * height).map(|i| i as f32).collect()
}

#[test]
fn constant_gradient_maps_to_minus_c_c0_times_coverage_over_n() {
    // ∂midpoint/∂x = c0 everywhere: no outliers, so every draw's Δx is −c·c0 at each chosen pixel.
    let (w, h, side, c0) = (23, 17, 6, 0.75f32);
    let model = LinearModel::constant(c0, 0.0, side, &Device::Cpu).unwrap();
    let params = OmigParams { steps: 8, c: 1.5, z_threshold: 3.0 };
    let mut upsampler = Upsampler::new(w, h, 11);
    for batch in [3, 1, 4] {
        upsampler.run_batch(&model, &ramp(w, h), &Method::Omig(params), batch, &|| false).unwrap();
    }
    assert_eq!(upsampler.draws(), 8);
    let n = upsampler.draws() as f32;
    let delta = -(params.c as f32) * c0;
    for (v, &k) in upsampler.map().iter().zip(upsampler.coverage()) {
        assert!((v - delta * k as f32 / n).abs() < 1e-5, "{v} vs {}", delta * k as f32 / n);
    }
    assert_eq!(upsampler.coverage().iter().map(|&k| k as usize).sum::<usize>(), 8 * side * side);
    // The midpoint drops by c·Σw² = c·side²·c0².
    let expected = -params.c * (side * side) as f64 * f64::from(c0 * c0);
    assert!((upsampler.mean_midpoint_change().unwrap() - expected).abs() < 1e-3);
    // Enough draws cover every block of the preview with the same value.
    let preview = upsampler.preview();
    assert!(preview.values.iter().zip(&preview.samples).all(|(&v, &k)| k == 0 || (v - delta).abs() < 1e-5));
}

#[test]
fn scatter_puts_each_value_back_where_it_came_from() {
    // Occlusion of pixel i on Σ xᵢ (identity normalisation) is −xᵢ: one draw's map is −raw at the chosen pixels.
    // Small integers keep the f32 sums exact.
    let (w, h, side) = (15, 12, 5);
    let model = LinearModel::constant(1.0, 0.0, side, &Device::Cpu).unwrap();
    let raw = ramp(w, h);
    let mut upsampler = Upsampler::new(w, h, 2);
    let method = Method::Occlusion(OcclusionParams { patch: 1, batch: 7 });
    upsampler.run_batch(&model, &raw, &method, 1, &|| false).unwrap();
    let chosen: Vec<usize> = upsampler.coverage().iter().enumerate().filter(|&(_, &k)| k > 0).map(|(i, _)| i).collect();
    assert_eq!(chosen.len(), side * side);
    for (i, v) in upsampler.map().iter().enumerate() {
        assert_eq!(*v, if chosen.contains(&i) { -raw[i] } else { 0.0 });
    }
}

#[test]
fn deterministic_in_the_seed_and_independent_of_batching() {
    let (w, h, side) = (20, 20, 4);
    let model = LinearModel::new((0..16).map(|i| i as f32 * 0.1).collect(), 0.0, side, &Device::Cpu).unwrap();
    let run = |seed: u64, batches: &[usize]| {
        let mut upsampler = Upsampler::new(w, h, seed);
        for &b in batches {
            upsampler.run_batch(&model, &ramp(w, h), &Method::Sensitivity, b, &|| false).unwrap();
        }
        upsampler.map()
    };
    assert_eq!(run(5, &[6]), run(5, &[2, 3, 1]));
    assert_ne!(run(5, &[6]), run(6, &[6]));
}

#[test]
fn a_cancelled_batch_changes_nothing() {
    let (w, h, side) = (12, 12, 4);
    let model = LinearModel::constant(1.0, 0.0, side, &Device::Cpu).unwrap();
    let method = Method::default();
    let mut upsampler = Upsampler::new(w, h, 3);
    let cancelled = upsampler.run_batch(&model, &ramp(w, h), &method, 2, &|| true);
    assert!(matches!(cancelled, Err(ExplainError::Cancelled)));
    assert_eq!(upsampler.draws(), 0);
    upsampler.run_batch(&model, &ramp(w, h), &method, 2, &|| false).unwrap();
    let mut fresh = Upsampler::new(w, h, 3);
    fresh.run_batch(&model, &ramp(w, h), &method, 2, &|| false).unwrap();
    assert_eq!(upsampler.map(), fresh.map());
}

#[test]
fn upsample_reports_progress_and_checks_sizes() {
    let (w, h, side) = (10, 9, 3);
    let model = LinearModel::constant(0.5, 0.0, side, &Device::Cpu).unwrap();
    let params = UpsampleParams { method: Method::Sensitivity, draws: 7, batch: 3, seed: 1 };
    let steps = RefCell::new(Vec::new());
    let map = upsample(&model, &ramp(w, h), w, h, &params, &|done, total| steps.borrow_mut().push((done, total)), &|| false).unwrap();
    assert_eq!(steps.into_inner(), [(3, 7), (6, 7), (7, 7)]);
    assert_eq!(map.len(), w * h);
    assert!(matches!(upsample(&model, &[0.0; 5], w, h, &params, &|_, _| {}, &|| false), Err(ExplainError::ImageSize { .. })));
    let tiny = upsample(&model, &[0.0; 4], 2, 2, &params, &|_, _| {}, &|| false);
    assert!(matches!(tiny, Err(ExplainError::Downsample(DownsampleError::TooSmall { .. }))));
}
