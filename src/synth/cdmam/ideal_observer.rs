//! The threshold gold thickness of an ideal observer on the simulated images: signal known exactly (the blurred
//! disc at a known place), Gaussian noise of the Poisson variance of the background plus the electronic noise.
//!
//! `d'² = Σ_k |ΔQ(k)|² / NPS(k) / N²` over the discrete Fourier transform of the blurred disc signal `Δq` on an
//! `N × N` pixel grid (disc centred on a pixel centre), with `NPS(k) = q + σ_e² · |G(k)|² / mean|G|²` (white
//! Poisson noise of the background `q`, electronic noise `σ_e` filtered by `G`). For white electronic noise this is
//! `Σ_i Δq_i² / (q + σ_e²)`. The Poisson variance is taken at the background (the discs at threshold remove a few
//! per cent of it), and the heel effect is ignored (centre of the field). The signal scales with the gold's
//! contrast `1 − T(t)`, so `d'(t) = contrast(t) · d'₁`, solved for `Pc = 62.5 %` by bisection on `log t`.

use rustfft::{FftPlanner, num_complex::Complex};

use super::{afc::d_prime_for_fraction_correct, blur, coverage::paint_disc, params::CdmamParams, spectrum::Beam};
use crate::phantom::cdmam::tables::THRESHOLD_FRACTION;

/// The thickness range searched, µm; thresholds outside it are clamped to its ends.
pub const THICKNESS_RANGE_UM: [f64; 2] = [0.005, 10.0];

/// d' per unit contrast: the detectability of a disc of `diameter_mm` that removes all of the background.
fn d_prime_per_contrast(params: &CdmamParams, beam: &Beam, diameter_mm: f64) -> f64 {
    let px = params.pixel_mm;
    let psf = blur::kernel(params.blur_mm / px);
    let corr = blur::kernel(params.noise_corr_mm / px);
    let reach = diameter_mm / px + psf.len() as f64 + 8.0;
    let n = (reach.ceil() as usize).max(2 * corr.len()).max(16).next_power_of_two();
    let mut disc = vec![0.0f32; n * n];
    let centre = (n / 2) as f64;
    paint_disc(&mut disc, [n, n], [centre, centre], diameter_mm / 2.0 / px, 1.0);
    let shape = blur::separable(&disc, [n, n], &psf);
    let q = beam.background_quanta;
    let sigma2 = params.noise * params.noise;
    if corr.len() <= 1 {
        let energy: f64 = shape.iter().map(|&s| f64::from(s).powi(2)).sum();
        return q * (energy / (q + sigma2)).sqrt();
    }
    // Transfer function of the separable noise filter, and its mean square (Parseval: (Σ k²)²).
    let r = corr.len() / 2;
    let g: Vec<f64> = (0..n)
        .map(|k| {
            let w = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            corr.iter().enumerate().map(|(j, &c)| c * (w * (j as f64 - r as f64)).cos()).sum()
        })
        .collect();
    let mean_g2 = corr.iter().map(|c| c * c).sum::<f64>().powi(2);
    let spectrum = fft2(&shape, n);
    let mut sum = 0.0;
    for (ky, &gy) in g.iter().enumerate() {
        for (kx, &gx) in g.iter().enumerate() {
            let nps = q + sigma2 * (gx * gy).powi(2) / mean_g2;
            sum += spectrum[ky * n + kx].norm_sqr() / nps;
        }
    }
    q * (sum / (n * n) as f64).sqrt()
}

/// The 2-D discrete Fourier transform of a real `n × n` image.
fn fft2(data: &[f32], n: usize) -> Vec<Complex<f64>> {
    let fft = FftPlanner::new().plan_fft_forward(n);
    let mut buf: Vec<Complex<f64>> = data.iter().map(|&v| Complex::new(f64::from(v), 0.0)).collect();
    for row in buf.chunks_mut(n) {
        fft.process(row);
    }
    let mut column = vec![Complex::new(0.0, 0.0); n];
    for x in 0..n {
        for (y, c) in column.iter_mut().enumerate() {
            *c = buf[y * n + x];
        }
        fft.process(&mut column);
        for (y, c) in column.iter().enumerate() {
            buf[y * n + x] = *c;
        }
    }
    buf
}

/// The ideal observer's d' for a disc of `diameter_mm` and `thickness_um` of gold.
pub fn ideal_observer_d_prime(params: &CdmamParams, diameter_mm: f64, thickness_um: f64) -> f64 {
    let beam = Beam::new(params);
    beam.gold_contrast(thickness_um) * d_prime_per_contrast(params, &beam, diameter_mm)
}

/// The gold thickness (µm) at which the ideal observer reaches 62.5 % correct in the 4-alternative forced choice
/// for discs of `diameter_mm`, within [`THICKNESS_RANGE_UM`]. Assumes valid `params` (see `CdmamParams::validate`).
pub fn ideal_observer_threshold_um(params: &CdmamParams, diameter_mm: f64) -> f64 {
    let beam = Beam::new(params);
    let per_contrast = d_prime_per_contrast(params, &beam, diameter_mm);
    let target = d_prime_for_fraction_correct(THRESHOLD_FRACTION);
    let d_prime = |t: f64| beam.gold_contrast(t) * per_contrast;
    let [lo_um, hi_um] = THICKNESS_RANGE_UM;
    if d_prime(lo_um) >= target {
        return lo_um;
    }
    let thickest = d_prime(hi_um);
    if thickest.is_nan() || thickest < target {
        return hi_um;
    }
    let (mut lo, mut hi) = (lo_um.ln(), hi_um.ln());
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if d_prime(mid.exp()) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}
