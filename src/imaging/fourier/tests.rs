//! Filter properties on small images (robustness-lowpass-mammography, "Fourier filtering").

use std::f64::consts::PI;

use rustfft::num_complex::Complex32;

use super::*;
use crate::imaging::{Image, spectrum::fft2};

const NEVER: &(dyn Fn() -> bool + Sync) = &|| false;

/// Deterministic white-ish noise plus an offset (an LCG; no dependency on `rand`'s algorithm).
fn noise_image(width: usize, height: usize, offset: f32) -> Image {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let data = (0..width * height)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            offset + ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 200.0
        })
        .collect();
    Image::new(width, height, data).unwrap()
}

/// `offset + amplitude · cos(2π (fx·x + fy·y))` with frequencies in cycles/mm.
fn sinusoid(width: usize, height: usize, spacing_mm: [f64; 2], f_cycles_per_mm: [f64; 2], amplitude: f64) -> Image {
    let [row_mm, col_mm] = spacing_mm;
    let [fx, fy] = f_cycles_per_mm;
    let mut data = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let phase = 2.0 * PI * (fx * x as f64 * col_mm + fy * y as f64 * row_mm);
            data.push((1000.0 + amplitude * phase.cos()) as f32);
        }
    }
    Image::new(width, height, data).unwrap()
}

/// Amplitude of the `f_cycles_per_mm` component over the image, leaving out a `border` px frame.
fn amplitude(image: &Image, spacing_mm: [f64; 2], f_cycles_per_mm: [f64; 2], border: usize) -> f64 {
    let [row_mm, col_mm] = spacing_mm;
    let [fx, fy] = f_cycles_per_mm;
    let (mut re, mut im, mut n) = (0.0, 0.0, 0.0);
    for y in border..image.height - border {
        for x in border..image.width - border {
            let phase = 2.0 * PI * (fx * x as f64 * col_mm + fy * y as f64 * row_mm);
            let v = f64::from(image.get(x, y).unwrap()) - 1000.0;
            re += v * phase.cos();
            im += v * phase.sin();
            n += 1.0;
        }
    }
    2.0 * (re * re + im * im).sqrt() / n
}

fn max_abs_diff(a: &Image, b: &Image) -> f32 {
    a.data.iter().zip(&b.data).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn cutoff_at_or_above_nyquist_is_identity() {
    let image = noise_image(50, 37, 2000.0);
    let stats = image.stats();
    let range = stats.max - stats.min;
    for spacing in [[0.1, 0.1], [0.05, 0.1]] {
        let spectrum = Spectrum::forward(&image, spacing, NEVER).unwrap();
        let nyquist = spectrum.nyquist_cycles_per_mm();
        for filter in [
            RadialFilter::ideal_low_pass(nyquist),
            RadialFilter::ideal_low_pass(2.0 * nyquist),
            RadialFilter::LowPass { cutoff_cycles_per_mm: nyquist, butterworth_order: Some(4) },
        ] {
            let out = spectrum.filtered(&filter, NEVER).unwrap();
            assert_eq!((out.width, out.height), (50, 37));
            let error = max_abs_diff(&out, &image) / range;
            assert!(error < 1e-4, "{filter:?} at {spacing:?}: relative error {error}");
        }
    }
}

#[test]
fn low_pass_removes_energy_above_cutoff() {
    let (w, h, spacing, cutoff) = (96, 80, [0.1, 0.1], 1.5);
    let image = noise_image(w, h, 500.0);
    let out = Spectrum::forward(&image, spacing, NEVER).unwrap().filtered(&RadialFilter::ideal_low_pass(cutoff), NEVER).unwrap();
    // Energy beyond R (plus a few bins for the window's leakage) of the Hann-windowed, mean-free images.
    let high_energy = |img: &Image| {
        let mean = img.stats().mean as f32;
        let hann = |i: usize, n: usize| (0.5 - 0.5 * (2.0 * PI * (i as f64 + 0.5) / n as f64).cos()) as f32;
        let mut buf: Vec<Complex32> =
            (0..w * h).map(|i| Complex32::new((img.data[i] - mean) * hann(i % w, w) * hann(i / w, h), 0.0)).collect();
        fft2(&mut buf, w, h, false);
        let margin = 4.0 / (w.min(h) as f64 * 0.1);
        let mut energy = 0.0f64;
        for (i, v) in buf.iter().enumerate() {
            let signed = |k: usize, n: usize| if k <= n / 2 { k as f64 } else { k as f64 - n as f64 };
            let fx = signed(i % w, w) / (w as f64 * spacing[1]);
            let fy = signed(i / w, h) / (h as f64 * spacing[0]);
            if fx.hypot(fy) > cutoff + margin {
                energy += f64::from(v.norm_sqr());
            }
        }
        energy
    };
    let ratio = high_energy(&out) / high_energy(&image);
    assert!(ratio < 1e-3, "energy above R kept: {ratio}");
}

#[test]
fn same_physical_cutoff_at_any_spacing() {
    // 2 cycles/mm: removed by R = 1.5, kept by R = 2.5, whatever the sampling (and for anisotropic pixels).
    let cases = [([0.05, 0.05], [2.0, 0.0]), ([0.1, 0.1], [2.0, 0.0]), ([0.1, 0.05], [1.2, 1.6]), ([0.05, 0.1], [0.0, 2.0])];
    for (spacing, f) in cases {
        let image = sinusoid(120, 100, spacing, f, 100.0);
        let spectrum = Spectrum::forward(&image, spacing, NEVER).unwrap();
        let removed = spectrum.filtered(&RadialFilter::ideal_low_pass(1.5), NEVER).unwrap();
        let kept = spectrum.filtered(&RadialFilter::ideal_low_pass(2.5), NEVER).unwrap();
        let a_removed = amplitude(&removed, spacing, f, 20);
        let a_kept = amplitude(&kept, spacing, f, 20);
        assert!(a_removed < 5.0, "{spacing:?} {f:?}: amplitude after R = 1.5 is {a_removed}");
        assert!(a_kept > 95.0, "{spacing:?} {f:?}: amplitude after R = 2.5 is {a_kept}");
    }
}

#[test]
fn high_pass_keeps_mean_and_removes_low_frequencies() {
    let spacing = [0.1, 0.1];
    let mut image = sinusoid(120, 100, spacing, [0.5, 0.0], 300.0);
    let noise = noise_image(120, 100, 0.0);
    image.data.iter_mut().zip(&noise.data).for_each(|(v, n)| *v += n);
    let spectrum = Spectrum::forward(&image, spacing, NEVER).unwrap();
    let high = spectrum.filtered(&RadialFilter::ideal_high_pass(1.5), NEVER).unwrap();
    let mean_in = image.stats().mean;
    let mean_out = high.stats().mean;
    assert!((mean_out - mean_in).abs() < 0.05 * 300.0, "mean {mean_in} → {mean_out}");
    assert!(amplitude(&high, spacing, [0.5, 0.0], 20) < 10.0);
    // Low-pass + high-pass at the same R give the image back plus the mean.
    let low = spectrum.filtered(&RadialFilter::ideal_low_pass(1.5), NEVER).unwrap();
    let sum: Vec<f32> = low.data.iter().zip(&high.data).map(|(l, h)| l + h - mean_in as f32).collect();
    let sum = Image::new(120, 100, sum).unwrap();
    assert!(max_abs_diff(&sum, &image) < 0.5, "{}", max_abs_diff(&sum, &image));
    // At the end stop only the mean is left.
    let flat = spectrum.filtered(&RadialFilter::ideal_high_pass(10.0), NEVER).unwrap();
    let stats = flat.stats();
    assert!(stats.max - stats.min < 0.05 && (stats.mean - mean_in).abs() < 0.05);
}

#[test]
fn steep_butterworth_high_pass_stays_finite() {
    // (r/R)^2n overflows f32 far above a small cut-off with a high order: the gain must be 1 there, not NaN.
    let spacing = [0.05, 0.05];
    let image = noise_image(96, 80, 500.0);
    let spectrum = Spectrum::forward(&image, spacing, NEVER).unwrap();
    let filter = RadialFilter::HighPass { cutoff_cycles_per_mm: 0.2, butterworth_order: Some(16) };
    let high = spectrum.filtered(&filter, NEVER).unwrap();
    assert!(high.data.iter().all(|v| v.is_finite()));
}

#[test]
fn butterworth_rings_less_than_ideal() {
    let (w, h, spacing) = (128, 64, [0.1, 0.1]);
    // A vertical edge from 0 to 1000 in the middle; the padding mirrors it smoothly at the borders.
    let data = (0..w * h).map(|i| if (i % w) < w / 2 { 0.0 } else { 1000.0 }).collect();
    let image = Image::new(w, h, data).unwrap();
    let spectrum = Spectrum::forward(&image, spacing, NEVER).unwrap();
    let overshoot = |order| {
        let filter = RadialFilter::LowPass { cutoff_cycles_per_mm: 1.0, butterworth_order: order };
        let out = spectrum.filtered(&filter, NEVER).unwrap();
        let row = &out.data[(h / 2) * w..(h / 2 + 1) * w];
        row[w / 4..3 * w / 4].iter().fold(0.0f32, |m, &v| m.max(v - 1000.0).max(-v))
    };
    let ideal = overshoot(None);
    let smooth = overshoot(Some(2));
    assert!(ideal > 50.0, "ideal overshoot {ideal}");
    assert!(smooth < 0.5 * ideal, "Butterworth overshoot {smooth} vs ideal {ideal}");
}

#[test]
fn cancellation_and_errors() {
    let image = noise_image(40, 30, 0.0);
    let always: &(dyn Fn() -> bool + Sync) = &|| true;
    assert!(matches!(Spectrum::forward(&image, [0.1, 0.1], always), Err(FourierError::Cancelled)));
    let spectrum = Spectrum::forward(&image, [0.1, 0.1], NEVER).unwrap();
    assert!(matches!(spectrum.filtered(&RadialFilter::ideal_low_pass(1.0), always), Err(FourierError::Cancelled)));
    // The shared work buffer survives a cancelled call.
    assert!(spectrum.filtered(&RadialFilter::ideal_low_pass(1.0), NEVER).is_ok());
    assert!(matches!(spectrum.filtered(&RadialFilter::ideal_low_pass(0.0), NEVER), Err(FourierError::Cutoff(_))));
    let zero_order = RadialFilter::HighPass { cutoff_cycles_per_mm: 1.0, butterworth_order: Some(0) };
    assert!(matches!(spectrum.filtered(&zero_order, NEVER), Err(FourierError::ButterworthOrder(0))));
    assert!(matches!(Spectrum::forward(&image, [0.0, 0.1], NEVER), Err(FourierError::Spacing(_))));
    let empty = Image::new(0, 0, Vec::new()).unwrap();
    assert!(matches!(Spectrum::forward(&empty, [0.1, 0.1], NEVER), Err(FourierError::Empty { .. })));
    assert_eq!(spectrum.size(), (40, 30));
    assert_eq!(spectrum.padded_size(), (72, 64));
}

#[test]
fn nyquist_and_feature_size() {
    assert!((nyquist_cycles_per_mm([0.05, 0.1]) - 5.0).abs() < 1e-12);
    assert!((nyquist_cycles_per_mm([0.07, 0.07]) - 7.142_857_142_857_143).abs() < 1e-12);
    assert!((feature_size_mm(2.0) - 0.25).abs() < 1e-12);
}
