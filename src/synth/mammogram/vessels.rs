//! Curvilinear structures: branching ducts that converge on the nipple and meandering blood vessels that enter
//! from the chest wall. Each is a tube (persistent random walk, tapering radius) that adds `Δμ · chord` of log
//! attenuation, where `chord = 2√(r² − d²)` is the path through a cylinder of radius `r` at distance `d`.

use rand::{Rng, rngs::StdRng};
use rand_distr::{Distribution, Normal};

use super::outline::Outline;

/// A tube: centre line, radius at each point, and its attenuation excess over the surrounding tissue (1/mm).
#[derive(Clone, Debug)]
#[allow(clippy::struct_field_names)] // units in names (STYLE.md)
pub(crate) struct Tube {
    pub points_mm: Vec<[f64; 2]>,
    pub radii_mm: Vec<f64>,
    pub delta_mu_per_mm: f64,
}

const STEP_MM: f64 = 0.8;

struct Walk {
    start: [f64; 2],
    heading: f64,
    radius: f64,
    max_len_mm: f64,
    wiggle: f64,
    branch_prob: f64,
    depth: u32,
}

fn grow(outline: &Outline, walk: &Walk, delta_mu: f64, rng: &mut StdRng, out: &mut Vec<Tube>) {
    let Ok(turn) = Normal::new(0.0, walk.wiggle) else {
        return;
    };
    let (mut p, mut heading, mut radius) = (walk.start, walk.heading, walk.radius);
    let mut tube = Tube { points_mm: vec![p], radii_mm: vec![radius], delta_mu_per_mm: delta_mu };
    let steps = (walk.max_len_mm / STEP_MM) as usize;
    for _ in 0..steps {
        heading += turn.sample(rng) + 0.08 * (walk.heading - heading);
        p = [p[0] + STEP_MM * heading.cos(), p[1] + STEP_MM * heading.sin()];
        let polar = outline.polar(p);
        if polar.rho > 0.97 || polar.skin_distance_mm < 2.0 || p[0] < 0.5 {
            break;
        }
        radius *= 0.994;
        tube.points_mm.push(p);
        tube.radii_mm.push(radius);
        if walk.depth < 3 && rng.random::<f64>() < walk.branch_prob {
            let side = if rng.random::<bool>() { 1.0 } else { -1.0 };
            let child = Walk {
                start: p,
                heading: heading + side * rng.random_range(0.3..0.7),
                radius: radius * 0.7,
                max_len_mm: walk.max_len_mm * 0.5,
                depth: walk.depth + 1,
                ..*walk
            };
            grow(outline, &child, delta_mu, rng, out);
        }
    }
    if tube.points_mm.len() > 2 {
        out.push(tube);
    }
}

/// Ducts fanning from the nipple toward the chest wall and vessels running from the chest wall forward.
pub(crate) fn generate(outline: &Outline, rng: &mut StdRng) -> Vec<Tube> {
    let mut tubes = Vec::new();
    let nipple = outline.nipple_mm;
    let center = outline.chest_center_mm();
    let axis = (center[1] - nipple[1]).atan2(center[0] - nipple[0]);
    for _ in 0..rng.random_range(9..16) {
        let heading = axis + rng.random_range(-0.75..0.75);
        let back = rng.random_range(2.0..6.0);
        let walk = Walk {
            start: [nipple[0] + back * heading.cos(), nipple[1] + back * heading.sin()],
            heading,
            radius: rng.random_range(0.3..0.55),
            max_len_mm: nipple[0] * rng.random_range(0.35..0.8),
            wiggle: 0.07,
            branch_prob: 0.035,
            depth: 0,
        };
        grow(outline, &walk, 0.03, rng, &mut tubes);
    }
    let height_mm = outline.height as f64 * outline.spacing_mm;
    for _ in 0..rng.random_range(3..7) {
        let mut start = [0.8, rng.random_range(0.1..0.9) * height_mm];
        for _ in 0..20 {
            if outline.polar(start).rho < 0.8 {
                break;
            }
            start[1] = rng.random_range(0.1..0.9) * height_mm;
        }
        let walk = Walk {
            start,
            heading: (nipple[1] - start[1]).atan2(nipple[0]) * 0.5 + rng.random_range(-0.4..0.4),
            radius: rng.random_range(0.45..0.95),
            max_len_mm: nipple[0] * rng.random_range(0.5..1.0),
            wiggle: 0.11,
            branch_prob: 0.012,
            depth: 1,
        };
        grow(outline, &walk, 0.035, rng, &mut tubes);
    }
    tubes
}

/// Adds each tube's log attenuation to `attenuation` (row-major, the outline's grid).
pub(crate) fn render(tubes: &[Tube], outline: &Outline, attenuation: &mut [f32]) {
    let s = outline.spacing_mm;
    for tube in tubes {
        let r_max = tube.radii_mm.iter().copied().fold(0.0, f64::max);
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in &tube.points_mm {
            (x0, y0, x1, y1) = (x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1]));
        }
        let px = |v: f64| (v / s).floor().max(0.0) as usize;
        let (bx0, by0) = (px(x0 - r_max), px(y0 - r_max));
        let (bx1, by1) = (px(x1 + r_max).min(outline.width - 1), px(y1 + r_max).min(outline.height - 1));
        if bx0 > bx1 || by0 > by1 {
            continue;
        }
        let bw = bx1 - bx0 + 1;
        let mut chord = vec![0.0f32; bw * (by1 - by0 + 1)];
        for (i, seg) in tube.points_mm.windows(2).enumerate() {
            let (a, b) = (seg[0], seg[1]);
            let (ra, rb) = (tube.radii_mm[i], tube.radii_mm[i + 1]);
            let r = ra.max(rb);
            let sx0 = px(a[0].min(b[0]) - r).max(bx0);
            let sy0 = px(a[1].min(b[1]) - r).max(by0);
            let sx1 = px(a[0].max(b[0]) + r).min(bx1);
            let sy1 = px(a[1].max(b[1]) + r).min(by1);
            let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
            let len2 = (ux * ux + uy * uy).max(1e-12);
            for y in sy0..=sy1 {
                for x in sx0..=sx1 {
                    let p = outline.pixel_mm(x, y);
                    let t = (((p[0] - a[0]) * ux + (p[1] - a[1]) * uy) / len2).clamp(0.0, 1.0);
                    let d2 = (p[0] - a[0] - t * ux).powi(2) + (p[1] - a[1] - t * uy).powi(2);
                    let rt = ra + t * (rb - ra);
                    if d2 < rt * rt {
                        let c = &mut chord[(y - by0) * bw + x - bx0];
                        *c = c.max((2.0 * (rt * rt - d2).sqrt()) as f32);
                    }
                }
            }
        }
        for (j, row) in chord.chunks(bw).enumerate() {
            let base = (by0 + j) * outline.width + bx0;
            for (k, &c) in row.iter().enumerate() {
                attenuation[base + k] += c * tube.delta_mu_per_mm as f32;
            }
        }
    }
}
