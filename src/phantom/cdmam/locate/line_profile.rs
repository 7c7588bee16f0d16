//! The grid line's mean profile across it, fitted with a line of the printed width blurred by a Gaussian: the
//! system blur and the line's depth.

use super::numeric::erf;
use crate::phantom::cdmam::tables::GRID_LINE_WIDTH_MM;

/// Blur σ candidates, pixels: from `FIRST_SIGMA` in steps of `SIGMA_STEP`.
const FIRST_SIGMA: f64 = 0.2;
const SIGMA_STEP: f64 = 0.05;
const SIGMA_STEPS: u32 = 200;
/// Bilinear sampling of the profiles blurs them by this variance, px² (a tent in each axis).
const BILINEAR_VARIANCE: f64 = 1.0 / 6.0;
/// The blur reported is at least this, pixels.
const MIN_BLUR_PX: f64 = 0.3;

/// Fit `profile` (dip positive, baseline about 0, sampled every `step_px` pixels, the line centred on the middle
/// sample) on pixels of `pixel_mm`: the Gaussian σ of the system blur in pixels (the bilinear sampling's own blur
/// removed), and the depth an unblurred line would have.
pub(super) fn fit(profile: &[f64], step_px: f64, pixel_mm: f64) -> (f64, f64) {
    let len = profile.len();
    if len < 5 {
        return (MIN_BLUR_PX, 0.0);
    }
    let centre = (len / 2) as f64;
    let width = GRID_LINE_WIDTH_MM / pixel_mm;
    // Least squares `offset + depth · shape(σ)`: the residual sum of squares and the depth.
    let model = |sigma: f64| -> (f64, f64) {
        let s = sigma * std::f64::consts::SQRT_2;
        let shape: Vec<f64> = (0..len)
            .map(|k| {
                let q = (k as f64 - centre) * step_px;
                0.5 * (erf((q + width / 2.0) / s) - erf((q - width / 2.0) / s))
            })
            .collect();
        let n = len as f64;
        let (sx, sy) = (shape.iter().sum::<f64>(), profile.iter().sum::<f64>());
        let sxx = shape.iter().map(|x| x * x).sum::<f64>();
        let sxy = shape.iter().zip(profile).map(|(x, y)| x * y).sum::<f64>();
        let depth = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        let offset = (sy - depth * sx) / n;
        let rss = shape.iter().zip(profile).map(|(x, y)| (y - offset - depth * x).powi(2)).sum::<f64>();
        (rss, depth)
    };
    let sigmas: Vec<f64> = (0..=SIGMA_STEPS).map(|k| FIRST_SIGMA + SIGMA_STEP * f64::from(k)).collect();
    let fits: Vec<(f64, f64)> = sigmas.iter().map(|&s| model(s)).collect();
    let best = (0..fits.len()).min_by(|&a, &b| fits[a].0.total_cmp(&fits[b].0)).unwrap_or(0);
    let mut sigma = sigmas[best];
    if best > 0 && best + 1 < fits.len() {
        let (l, c, r) = (fits[best - 1].0, fits[best].0, fits[best + 1].0);
        let curvature = l - 2.0 * c + r;
        if curvature > 0.0 {
            sigma += SIGMA_STEP * (0.5 * (l - r) / curvature).clamp(-1.0, 1.0);
        }
    }
    let depth = model(sigma).1;
    let blur = (sigma * sigma - BILINEAR_VARIANCE).max(MIN_BLUR_PX * MIN_BLUR_PX).sqrt();
    (if blur.is_finite() { blur } else { MIN_BLUR_PX }, if depth.is_finite() { depth } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_blur_and_depth_of_a_blurred_line() {
        let (pixel_mm, step) = (0.07, 0.25);
        let width = GRID_LINE_WIDTH_MM / pixel_mm;
        for blur in [0.5, 0.9, 1.6] {
            let s = (blur * blur + BILINEAR_VARIANCE).sqrt() * std::f64::consts::SQRT_2;
            let profile: Vec<f64> = (0..81)
                .map(|k| {
                    let q = (f64::from(k) - 40.0) * step;
                    3.0 + 12.0 * 0.5 * (erf((q + width / 2.0) / s) - erf((q - width / 2.0) / s))
                })
                .collect();
            let (found, depth) = fit(&profile, step, pixel_mm);
            assert!((found - blur).abs() < 0.02, "{blur}: {found}");
            assert!((depth - 12.0).abs() < 0.05, "{blur}: {depth}");
        }
        assert_eq!(fit(&[1.0, 2.0], step, pixel_mm), (MIN_BLUR_PX, 0.0));
    }
}
