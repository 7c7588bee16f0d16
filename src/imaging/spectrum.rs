//! Radial power spectra of image regions, power-law (1/f^β) fits, and power-law noise synthesis.
//!
//! Mammographic parenchyma has a power spectrum close to `P(f) ∝ 1/f^β` with β ≈ 3 (Burgess et al. 2001).
//! [`radial_power_spectrum`] measures it on a square region: the weighted mean is removed, a 2-D Hann window applied,
//! `|FFT|²` averaged over rings one frequency bin wide, frequencies in cycles/mm from the pixel spacing.
//! [`fit_beta`] fits a line to `log P` against `log f` over a band and returns β = −slope.
//!
//! ```
//! use mammoscope::imaging::spectrum::{fit_beta, power_law_noise, radial_power_spectrum};
//! let noise = power_law_noise(128, 128, 3.0, 0.0, 7);
//! let spectrum = radial_power_spectrum(&noise, [0, 0], 128, 0.1).unwrap();
//! let beta = fit_beta(&spectrum, 0.2, 2.0).unwrap();
//! assert!((beta - 3.0).abs() < 0.5);
//! ```

use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use rustfft::{FftPlanner, num_complex::Complex32};

use super::Image;

/// Why a spectrum could not be measured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpectrumError {
    #[error("region at ({x}, {y}) of {size}×{size} px does not fit in a {width}×{height} image")]
    RegionOutside { x: usize, y: usize, size: usize, width: usize, height: usize },
    #[error("region of {0} px is too small (at least 16 px)")]
    RegionTooSmall(usize),
    #[error("pixel spacing must be positive and finite, got {0} mm")]
    Spacing(f64),
    #[error("fewer than 3 frequency rings between {lo_cyc_per_mm} and {hi_cyc_per_mm} cycles/mm")]
    Band { lo_cyc_per_mm: f64, hi_cyc_per_mm: f64 },
}

/// Ring-averaged power spectrum: `power[i]` at `frequency_cyc_per_mm[i]` (value² · mm²).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RadialSpectrum {
    pub frequency_cyc_per_mm: Vec<f64>,
    pub power: Vec<f64>,
}

impl RadialSpectrum {
    /// Ring-wise mean of several spectra of the same region size and spacing (`None` when empty or mismatched).
    pub fn average(spectra: &[Self]) -> Option<Self> {
        let first = spectra.first()?;
        if spectra.iter().any(|s| s.power.len() != first.power.len()) {
            return None;
        }
        let n = spectra.len() as f64;
        let power = (0..first.power.len()).map(|i| spectra.iter().map(|s| s.power[i]).sum::<f64>() / n).collect();
        Some(Self { frequency_cyc_per_mm: first.frequency_cyc_per_mm.clone(), power })
    }
}

/// In-place 2-D FFT of a row-major `width × height` complex buffer (unnormalised both ways).
pub(crate) fn fft2(data: &mut [Complex32], width: usize, height: usize, inverse: bool) {
    let mut planner = FftPlanner::<f32>::new();
    let (row_fft, col_fft) = if inverse {
        (planner.plan_fft_inverse(width), planner.plan_fft_inverse(height))
    } else {
        (planner.plan_fft_forward(width), planner.plan_fft_forward(height))
    };
    data.par_chunks_mut(width).for_each(|row| row_fft.process(row));
    let mut transposed = vec![Complex32::default(); data.len()];
    for (y, row) in data.chunks(width).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            transposed[x * height + y] = v;
        }
    }
    transposed.par_chunks_mut(height).for_each(|col| col_fft.process(col));
    for (x, col) in transposed.chunks(height).enumerate() {
        for (y, &v) in col.iter().enumerate() {
            data[y * width + x] = v;
        }
    }
}

/// Signed frequency index of FFT bin `k` of an `n`-point transform.
fn signed_index(k: usize, n: usize) -> f64 {
    if k <= n / 2 { k as f64 } else { k as f64 - n as f64 }
}

/// Radial power spectrum of the square region with top-left `corner` (`[x, y]`) and side `size` px.
pub fn radial_power_spectrum(image: &Image, corner: [usize; 2], size: usize, spacing_mm: f64) -> Result<RadialSpectrum, SpectrumError> {
    let [x0, y0] = corner;
    if size < 16 {
        return Err(SpectrumError::RegionTooSmall(size));
    }
    if !(spacing_mm.is_finite() && spacing_mm > 0.0) {
        return Err(SpectrumError::Spacing(spacing_mm));
    }
    if x0 + size > image.width || y0 + size > image.height {
        let (width, height) = (image.width, image.height);
        return Err(SpectrumError::RegionOutside { x: x0, y: y0, size, width, height });
    }
    let hann: Vec<f64> = (0..size).map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * (i as f64 + 0.5) / size as f64).cos()).collect();
    let (mut weighted_sum, mut weight_sum, mut weight_sq) = (0.0, 0.0, 0.0);
    for y in 0..size {
        for x in 0..size {
            let w = hann[x] * hann[y];
            weighted_sum += w * f64::from(image.data[(y0 + y) * image.width + x0 + x]);
            weight_sum += w;
            weight_sq += w * w;
        }
    }
    let mean = weighted_sum / weight_sum;
    let mut buf: Vec<Complex32> = (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            let v = (f64::from(image.data[(y0 + y) * image.width + x0 + x]) - mean) * hann[x] * hann[y];
            Complex32::new(v as f32, 0.0)
        })
        .collect();
    fft2(&mut buf, size, size, false);
    let rings = size / 2;
    let mut sums = vec![0.0f64; rings + 1];
    let mut counts = vec![0usize; rings + 1];
    let norm = spacing_mm * spacing_mm / weight_sq;
    for (i, c) in buf.iter().enumerate() {
        let (kx, ky) = (signed_index(i % size, size), signed_index(i / size, size));
        let ring = kx.hypot(ky).round() as usize;
        if (1..=rings).contains(&ring) {
            sums[ring] += f64::from(c.norm_sqr()) * norm;
            counts[ring] += 1;
        }
    }
    let df = 1.0 / (size as f64 * spacing_mm);
    let (frequency_cyc_per_mm, power) = (1..=rings).filter(|&r| counts[r] > 0).map(|r| (r as f64 * df, sums[r] / counts[r] as f64)).unzip();
    Ok(RadialSpectrum { frequency_cyc_per_mm, power })
}

/// Least-squares fit of `log P = c − β log f` over `lo..=hi` cycles/mm; returns β.
pub fn fit_beta(spectrum: &RadialSpectrum, lo_cyc_per_mm: f64, hi_cyc_per_mm: f64) -> Result<f64, SpectrumError> {
    let points: Vec<(f64, f64)> = spectrum
        .frequency_cyc_per_mm
        .iter()
        .zip(&spectrum.power)
        .filter(|&(&f, &p)| f >= lo_cyc_per_mm && f <= hi_cyc_per_mm && p > 0.0)
        .map(|(&f, &p)| (f.ln(), p.ln()))
        .collect();
    if points.len() < 3 {
        return Err(SpectrumError::Band { lo_cyc_per_mm, hi_cyc_per_mm });
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    Ok(-sxy / sxx)
}

/// Zero-mean, unit-variance Gaussian noise with power spectrum `∝ 1/(f² + f_c²)^(β/2)` (periodic edges).
///
/// White noise is filtered in the Fourier domain; `corner_cycles_per_px` (`f_c`) caps the size of the largest
/// structures (0 gives a pure power law with the DC term removed).
pub fn power_law_noise(width: usize, height: usize, beta: f64, corner_cycles_per_px: f64, seed: u64) -> Image {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut buf: Vec<Complex32> = (0..width * height).map(|_| Complex32::new(StandardNormal.sample(&mut rng), 0.0)).collect();
    if buf.is_empty() {
        return Image::filled(width, height, 0.0);
    }
    fft2(&mut buf, width, height, false);
    let fc2 = corner_cycles_per_px * corner_cycles_per_px;
    for (i, c) in buf.iter_mut().enumerate() {
        let fx = signed_index(i % width, width) / width as f64;
        let fy = signed_index(i / width, height) / height as f64;
        let f2 = fx * fx + fy * fy;
        let gain = if i == 0 { 0.0 } else { (f2 + fc2).powf(-beta / 4.0) };
        *c *= gain as f32;
    }
    fft2(&mut buf, width, height, true);
    let mut data: Vec<f32> = buf.iter().map(|c| c.re).collect();
    let n = data.len() as f64;
    let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = data.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    let scale = if var > 0.0 { 1.0 / var.sqrt() } else { 0.0 };
    for v in &mut data {
        *v = ((f64::from(*v) - mean) * scale) as f32;
    }
    Image { width, height, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured_beta(beta: f64, seed: u64) -> f64 {
        let noise = power_law_noise(256, 256, beta, 0.0, seed);
        let spectra: Vec<_> = [[0, 0], [128, 0], [0, 128], [128, 128], [64, 64]]
            .iter()
            .map(|&c| radial_power_spectrum(&noise, c, 128, 0.1).unwrap())
            .collect();
        fit_beta(&RadialSpectrum::average(&spectra).unwrap(), 0.1, 2.0).unwrap()
    }

    #[test]
    fn recovers_beta_of_power_law_noise() {
        for (beta, seed) in [(1.5, 1), (2.0, 2), (3.0, 3), (3.5, 4)] {
            let got = measured_beta(beta, seed);
            assert!((got - beta).abs() < 0.3, "β {beta}: measured {got}");
        }
    }

    #[test]
    fn white_noise_is_flat_and_noise_is_seeded() {
        assert!(measured_beta(0.0, 9).abs() < 0.3);
        assert_eq!(power_law_noise(32, 16, 3.0, 0.01, 5), power_law_noise(32, 16, 3.0, 0.01, 5));
        let n = power_law_noise(32, 16, 3.0, 0.01, 5);
        let mean = n.data.iter().map(|&v| f64::from(v)).sum::<f64>() / n.data.len() as f64;
        assert!(mean.abs() < 1e-4);
    }

    #[test]
    fn rejects_bad_regions() {
        let img = Image::filled(64, 64, 1.0);
        assert!(radial_power_spectrum(&img, [40, 0], 32, 0.1).is_err());
        assert!(radial_power_spectrum(&img, [0, 0], 8, 0.1).is_err());
        assert!(radial_power_spectrum(&img, [0, 0], 32, 0.0).is_err());
    }
}
