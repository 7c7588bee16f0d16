//! The matched filter for one disc diameter: the disc blurred by the system's Gaussian, made orthogonal to a plane
//! over a round support (so a flat or linearly varying background gives no response), at any sub-pixel position.

use super::numeric::{bessel_i0e, solve};
use crate::imaging::Image;

/// Radial table step, pixels.
const TABLE_STEP: f64 = 0.05;
/// The background ring around the blurred disc is at least this wide, mm.
pub(super) const MIN_BACKGROUND_MM: f64 = 1.0;
/// The support never reaches further than this from the disc centre, mm: a corner disc's centre lies 2.4 mm from
/// the grid lines (0.1 mm half-width, blurred) and 3.7 mm from the centre disc (up to 1 mm radius).
pub(super) const MAX_SUPPORT_MM: f64 = 2.1;

/// A disc template sampled on a radial table.
#[derive(Clone, Debug)]
pub(super) struct DiscFilter {
    /// Template value at radius `k · TABLE_STEP` pixels.
    table: Vec<f64>,
    /// Radius of the template's support, pixels.
    pub support_px: f64,
}

impl DiscFilter {
    /// The filter for a disc `diameter_px` across, blurred by a Gaussian of `sigma_px`, on pixels of `pixel_mm`.
    ///
    /// The support reaches 1.5 disc radii (at least [`MIN_BACKGROUND_MM`]) beyond the blurred disc, so that the
    /// plane under the disc is estimated from several times the disc's area, but no further than
    /// [`MAX_SUPPORT_MM`] from its centre.
    pub fn new(diameter_px: f64, sigma_px: f64, pixel_mm: f64) -> Self {
        let radius = (0.5 * diameter_px).max(0.0);
        let sigma = sigma_px.max(0.3);
        let background = (1.5 * radius).max(MIN_BACKGROUND_MM / pixel_mm).max(2.0);
        let support_px = (radius + 3.0 * sigma + background).min(MAX_SUPPORT_MM / pixel_mm).max(radius + 2.0 * sigma + 1.0);
        let len = (support_px / TABLE_STEP).ceil() as usize + 2;
        let table = (0..len).map(|k| blurred_disc(k as f64 * TABLE_STEP, radius, sigma)).collect();
        Self { table, support_px }
    }

    fn template(&self, rho: f64) -> f64 {
        let x = rho / TABLE_STEP;
        let k = x as usize;
        match (self.table.get(k), self.table.get(k + 1)) {
            (Some(&a), Some(&b)) => a + (x - k as f64) * (b - a),
            _ => 0.0,
        }
    }

    /// The response at `(x, y)`: the template made orthogonal to a plane over the support (so a flat or linearly
    /// varying background gives no response) and scaled to unit energy (so white noise of σ gives a response of σ),
    /// correlated with the image; `None` where the support leaves the image.
    pub fn response(&self, image: &Image, [x, y]: [f64; 2]) -> Option<f64> {
        let r = self.support_px;
        if !(x - r >= 0.0 && y - r >= 0.0 && x + r <= (image.width as f64 - 1.0) && y + r <= (image.height as f64 - 1.0)) {
            return None;
        }
        let (x0, x1) = ((x - r).ceil() as usize, (x + r).floor() as usize);
        let (y0, y1) = ((y - r).ceil() as usize, (y + r).floor() as usize);
        let r2 = r * r;
        // Gram matrix of the plane basis [1, dx, dy], its products with the template and the image.
        let (mut gram, mut bw, mut bi) = ([[0.0f64; 3]; 3], [0.0f64; 3], [0.0f64; 3]);
        let (mut ww, mut wi) = (0.0, 0.0);
        for py in y0..=y1 {
            let dy = py as f64 - y;
            let row = &image.data[py * image.width..(py + 1) * image.width];
            for (px, &v) in row.iter().enumerate().take(x1 + 1).skip(x0) {
                let dx = px as f64 - x;
                let d2 = dx * dx + dy * dy;
                if d2 <= r2 {
                    let w = self.template(d2.sqrt());
                    let v = f64::from(v);
                    let basis = [1.0, dx, dy];
                    for (i, b) in basis.iter().enumerate() {
                        for (j, c) in basis.iter().enumerate().skip(i) {
                            gram[i][j] += b * c;
                        }
                        bw[i] += b * w;
                        bi[i] += b * v;
                    }
                    ww += w * w;
                    wi += w * v;
                }
            }
        }
        (gram[1][0], gram[2][0], gram[2][1]) = (gram[0][1], gram[0][2], gram[1][2]);
        // The template's plane part: coefficients c with G c = Bᵀw.
        let c = solve(gram, bw)?;
        let energy = ww - c.iter().zip(&bw).map(|(c, b)| c * b).sum::<f64>();
        let response = wi - c.iter().zip(&bi).map(|(c, b)| c * b).sum::<f64>();
        (energy > 1e-12 * ww).then(|| response / energy.sqrt())
    }
}

/// A uniform disc of `radius` convolved with a Gaussian of `sigma`, at distance `rho` from its centre:
/// `∫₀ᴿ (r/σ²) exp(−(ρ−r)²/2σ²) I₀e(ρr/σ²) dr` by Simpson's rule.
fn blurred_disc(rho: f64, radius: f64, sigma: f64) -> f64 {
    if radius <= 0.0 {
        return (-rho * rho / (2.0 * sigma * sigma)).exp();
    }
    let intervals = ((8.0 * radius / sigma).ceil() as usize).clamp(32, 4000) & !1;
    let h = radius / intervals as f64;
    let s2 = sigma * sigma;
    let f = |r: f64| r / s2 * (-(rho - r).powi(2) / (2.0 * s2)).exp() * bessel_i0e(rho * r / s2);
    let sum: f64 = (0..=intervals)
        .map(|k| {
            let weight = if k == 0 || k == intervals {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            weight * f(k as f64 * h)
        })
        .sum();
    sum * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blurred_disc_is_one_inside_and_half_at_the_edge() {
        assert!((blurred_disc(0.0, 10.0, 1.0) - 1.0).abs() < 1e-5);
        assert!((blurred_disc(10.0, 10.0, 1.0) - 0.5).abs() < 0.03);
        assert!(blurred_disc(15.0, 10.0, 1.0) < 1e-4);
        // A tiny disc is the Gaussian scaled by its area.
        let tiny = blurred_disc(0.0, 0.1, 1.0);
        assert!((tiny - 0.01 / 2.0).abs() < 1e-4, "{tiny}");
    }

    #[test]
    fn responds_to_a_dark_disc_and_not_to_a_gradient() {
        let (w, h) = (64, 64);
        let ramp: Vec<f32> = (0..w * h).map(|i| 100.0 + (i % w) as f32 * 0.5 + (i / w) as f32 * 0.25).collect();
        let img = Image::new(w, h, ramp.clone()).unwrap();
        let filter = DiscFilter::new(8.0, 1.0, 0.1);
        assert!(filter.response(&img, [31.3, 30.7]).unwrap().abs() < 1e-6);
        let disc: Vec<f32> = ramp
            .iter()
            .enumerate()
            .map(|(i, &v)| if ((i % w) as f64 - 32.0).hypot((i / w) as f64 - 32.0) < 4.0 { v - 10.0 } else { v })
            .collect();
        let img = Image::new(w, h, disc).unwrap();
        let on = filter.response(&img, [32.0, 32.0]).unwrap();
        let off = filter.response(&img, [40.0, 32.0]).unwrap();
        assert!(on < -50.0 && on < 3.0 * off.min(-1.0), "{on} {off}");
        assert!(filter.response(&img, [3.0, 32.0]).is_none());
    }
}
