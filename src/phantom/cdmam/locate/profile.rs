//! Projections of the coarse high-passed image along a direction: the 1-D profiles in which grid lines are peaks.

use crate::imaging::Image;

/// Below this many noise σ a coarse pixel is left out of the projections (noise alone, it only adds variance).
const POINT_SIGMA: f32 = 1.5;

/// The coarse pixels that carry structure: positions and high-passed values.
pub(super) struct Points {
    pub width: usize,
    pub height: usize,
    xs: Vec<f32>,
    ys: Vec<f32>,
    values: Vec<f32>,
}

impl Points {
    /// The pixels of `high` (in noise σ) beyond [`POINT_SIGMA`].
    pub fn from_high(high: &Image) -> Self {
        let (mut xs, mut ys, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for (i, &v) in high.data.iter().enumerate() {
            if v.abs() >= POINT_SIGMA {
                xs.push((i % high.width) as f32);
                ys.push((i / high.width) as f32);
                values.push(v);
            }
        }
        Self { width: high.width, height: high.height, xs, ys, values }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }
}

/// A projection: `values[k]` sums the points whose coordinate along the direction is `origin + k · bin`
/// (linear splatting between neighbouring bins).
pub(super) struct Profile {
    pub origin: f64,
    pub bin: f64,
    pub values: Vec<f64>,
}

impl Profile {
    /// Project `points` onto the unit vector `dir`.
    pub fn project(points: &Points, dir: [f64; 2], bin: f64) -> Self {
        let (w, h) = (points.width as f64, points.height as f64);
        let dots = [0.0, dir[0] * w, dir[1] * h, dir[0] * w + dir[1] * h];
        let lo = dots.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = dots.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let origin = lo - 2.0 * bin;
        let len = ((hi - origin) / bin).ceil() as usize + 3;
        let mut values = vec![0.0f64; len];
        let (dx, dy) = (dir[0] / bin, dir[1] / bin);
        let offset = -origin / bin;
        for ((&x, &y), &v) in points.xs.iter().zip(&points.ys).zip(&points.values) {
            let s = offset + f64::from(x) * dx + f64::from(y) * dy;
            let k = s as usize;
            let f = s - k as f64;
            let v = f64::from(v);
            if let [a, b, ..] = &mut values[k..] {
                *a += v * (1.0 - f);
                *b += v * f;
            }
        }
        Self { origin, bin, values }
    }

    /// The sum of squared deviations from the mean: large when lines line up with the direction.
    pub fn variance(&self) -> f64 {
        let n = self.values.len() as f64;
        let (sum, sum2) = self.values.iter().fold((0.0, 0.0), |(s, s2), &v| (s + v, s2 + v * v));
        sum2 - sum * sum / n
    }

    /// The coordinate of (fractional) bin `k`.
    pub fn position(&self, k: f64) -> f64 {
        self.origin + k * self.bin
    }
}

/// The unit vectors of a lattice at angle `theta`: `d` along the angle, `n` a quarter turn further (image y down).
pub(super) fn axes(theta: f64) -> ([f64; 2], [f64; 2]) {
    let (s, c) = theta.sin_cos();
    ([c, s], [-s, c])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_projects_to_one_peak() {
        let mut img = Image::filled(40, 30, 0.0);
        for y in 0..30 {
            img.data[y * 40 + 17] = -5.0;
        }
        let points = Points::from_high(&img);
        assert_eq!(points.len(), 30);
        let along_x = Profile::project(&points, [1.0, 0.0], 0.5);
        let (k, v) = along_x.values.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        assert!((along_x.position(k as f64) - 17.0).abs() < 1e-9, "{}", along_x.position(k as f64));
        assert!((v + 150.0).abs() < 1e-9);
        let along_y = Profile::project(&points, [0.0, 1.0], 0.5);
        assert!(along_x.variance() > 10.0 * along_y.variance());
    }
}
