//! Exact area coverage of pixels by a disc, so that discs smaller than a pixel (0.06 mm at 0.07 mm pixels) keep
//! their gold mass.
//!
//! Pixel convention (here and in the truth): pixel `(i, j)` is the unit square centred on image coordinates
//! `(i, j)`, i.e. it covers `[i − ½, i + ½) × [j − ½, j + ½)`.

/// Area of `{X² + Y² < r², 0 ≤ X ≤ x, 0 ≤ Y ≤ y}`, extended as an odd function of `x` and of `y`.
fn quadrant_area(x: f64, y: f64, r: f64) -> f64 {
    let sign = x.signum() * y.signum();
    let (ax, ay) = (x.abs().min(r), y.abs().min(r));
    let area = if ax * ax + ay * ay <= r * r {
        ax * ay
    } else {
        // Full height `ay` up to where the circle drops below it, then under the arc.
        let primitive = |t: f64| 0.5 * (t * (r * r - t * t).max(0.0).sqrt() + r * r * (t / r).clamp(-1.0, 1.0).asin());
        let xs = (r * r - ay * ay).max(0.0).sqrt();
        ay * xs + primitive(ax) - primitive(xs)
    };
    sign * area
}

/// Area of the intersection of the disc of radius `r` centred at the origin with `[x0, x1] × [y0, y1]`.
pub(crate) fn disc_rect_area(r: f64, [x0, x1]: [f64; 2], [y0, y1]: [f64; 2]) -> f64 {
    if r <= 0.0 {
        return 0.0;
    }
    (quadrant_area(x1, y1, r) - quadrant_area(x0, y1, r) - quadrant_area(x1, y0, r) + quadrant_area(x0, y0, r)).max(0.0)
}

/// Adds `value` × (fraction of each pixel covered by the disc) to `buf` (`width` × `height`, row-major).
pub(crate) fn paint_disc(buf: &mut [f32], [width, height]: [usize; 2], centre_px: [f64; 2], radius_px: f64, value: f64) {
    let [cx, cy] = centre_px;
    let range = |c: f64, len: usize| {
        let lo = (c - radius_px + 0.5).floor().max(0.0) as usize;
        let hi = ((c + radius_px + 0.5).floor().max(-1.0) + 1.0).min(len as f64) as usize;
        lo..hi
    };
    for y in range(cy, height) {
        let dy = [y as f64 - 0.5 - cy, y as f64 + 0.5 - cy];
        for x in range(cx, width) {
            let dx = [x as f64 - 0.5 - cx, x as f64 + 0.5 - cx];
            let covered = disc_rect_area(radius_px, dx, dy);
            if covered > 0.0 {
                buf[y * width + x] += (value * covered) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_exact() {
        let r = 1.3;
        let full = std::f64::consts::PI * r * r;
        assert!((disc_rect_area(r, [-2.0, 2.0], [-2.0, 2.0]) - full).abs() < 1e-12);
        assert!((disc_rect_area(r, [0.0, 2.0], [-2.0, 2.0]) - full / 2.0).abs() < 1e-12);
        assert!((disc_rect_area(r, [0.0, 5.0], [0.0, 5.0]) - full / 4.0).abs() < 1e-12);
        assert!((disc_rect_area(r, [-0.5, 0.5], [-0.5, 0.5]) - 1.0).abs() < 1e-12);
        assert!(disc_rect_area(r, [1.3, 2.0], [0.0, 1.0]).abs() < 1e-12);
        // A cap: x ≥ 1 of a unit-radius … radius-1.3 disc, by integration.
        let n = 200_000;
        let cap: f64 = (0..n)
            .map(|i| 1.0 + (f64::from(i) + 0.5) * 0.3 / f64::from(n))
            .map(|x| 2.0 * (r * r - x * x).sqrt() * 0.3 / f64::from(n))
            .sum();
        assert!((disc_rect_area(r, [1.0, 3.0], [-3.0, 3.0]) - cap).abs() < 1e-6);
    }

    #[test]
    fn painted_mass_is_the_disc_area_anywhere_on_the_grid() {
        for (r, c) in [(0.43, [5.0, 5.0]), (0.43, [5.37, 4.81]), (3.7, [8.2, 7.9]), (0.2, [6.5, 6.5])] {
            let mut buf = vec![0.0f32; 20 * 20];
            paint_disc(&mut buf, [20, 20], c, r, 1.0);
            let mass: f64 = buf.iter().map(|&v| f64::from(v)).sum();
            let area = std::f64::consts::PI * r * r;
            assert!((mass / area - 1.0).abs() < 1e-5, "r {r} at {c:?}: {mass} vs {area}");
        }
    }
}
