//! Microcalcification clusters: 0.1–1 mm specks (punctate, amorphous, pleomorphic, linear/branching), faint to
//! obvious. Each speck is a thickness profile (fraction of its peak path length through calcium) rendered with
//! 4 × 4 supersampling into the log-attenuation map; its peak `Δ(μt)` is the truth's `contrast`.

use std::f64::consts::{PI, TAU};

use rand::{Rng, rngs::StdRng};
use rand_distr::{Distribution, Normal};

use super::{
    outline::Outline,
    truth::{Calcification, CalcificationShape, Cluster},
};

/// One speck: primitives in mm relative to its centre, combined by maximum.
#[derive(Clone, Debug)]
enum Primitive {
    /// Ellipse with semi-axes `a`, `b`, rotated by `angle`; `lobes` perturb the radius (pleomorphic).
    Blob { a: f64, b: f64, angle: f64, lobes: [(f64, f64); 3], fuzzy: bool },
    /// Capsule from `p` to `q` with radius `r`.
    Rod { p: [f64; 2], q: [f64; 2], r: f64 },
}

impl Primitive {
    fn fraction(&self, u: f64, v: f64) -> f64 {
        match *self {
            Self::Blob { a, b, angle, lobes, fuzzy } => {
                let (c, s) = (angle.cos(), angle.sin());
                let (x, y) = (c * u + s * v, -s * u + c * v);
                let theta = y.atan2(x);
                let scale = 1.0 + lobes.iter().enumerate().map(|(k, &(amp, ph))| amp * ((k as f64 + 2.0) * theta + ph).cos()).sum::<f64>();
                let q = ((x / a).powi(2) + (y / b).powi(2)) / (scale * scale);
                if fuzzy { (-2.0 * q).exp() } else { (1.0 - q).max(0.0).sqrt() }
            }
            Self::Rod { p, q, r } => {
                let (ux, uy) = (q[0] - p[0], q[1] - p[1]);
                let t = (((u - p[0]) * ux + (v - p[1]) * uy) / (ux * ux + uy * uy).max(1e-12)).clamp(0.0, 1.0);
                let d2 = (u - p[0] - t * ux).powi(2) + (v - p[1] - t * uy).powi(2);
                (1.0 - d2 / (r * r)).max(0.0).sqrt()
            }
        }
    }
}

struct Speck {
    center_mm: [f64; 2],
    parts: Vec<Primitive>,
    extent_mm: f64,
    contrast: f64,
}

fn lobes(rng: &mut StdRng, amount: f64) -> [(f64, f64); 3] {
    std::array::from_fn(|_| (rng.random_range(-amount..=amount), rng.random_range(0.0..TAU)))
}

/// A speck of `shape`; `axis` is the duct direction (radians) for linear specks; returns (parts, size, thickness).
fn make_speck(shape: CalcificationShape, axis: f64, rng: &mut StdRng) -> (Vec<Primitive>, f64, f64) {
    let angle = rng.random_range(0.0..PI);
    match shape {
        CalcificationShape::Punctate => {
            let d = rng.random_range(0.1..0.5);
            let b = 0.5 * d * rng.random_range(0.75..1.0);
            (vec![Primitive::Blob { a: 0.5 * d, b, angle, lobes: lobes(rng, 0.03), fuzzy: false }], d, 2.0 * b)
        }
        CalcificationShape::Amorphous => {
            let d = rng.random_range(0.1..0.35);
            (vec![Primitive::Blob { a: 0.5 * d, b: 0.4 * d, angle, lobes: lobes(rng, 0.15), fuzzy: true }], d, 0.5 * d)
        }
        CalcificationShape::Pleomorphic => {
            let d = rng.random_range(0.2..1.0);
            let b = 0.5 * d * rng.random_range(0.45..0.9);
            (vec![Primitive::Blob { a: 0.5 * d, b, angle, lobes: lobes(rng, 0.22), fuzzy: false }], d, 1.6 * b)
        }
        CalcificationShape::LinearBranching => {
            let len = rng.random_range(0.4..1.0);
            let r = 0.5 * rng.random_range(0.1..0.25);
            let dir = axis + rng.random_range(-0.25..0.25);
            let half = [0.5 * len * dir.cos(), 0.5 * len * dir.sin()];
            let mut parts = vec![Primitive::Rod { p: [-half[0], -half[1]], q: half, r }];
            if rng.random::<f64>() < 0.4 {
                let branch = dir + rng.random_range(0.5..0.9) * if rng.random::<bool>() { 1.0 } else { -1.0 };
                let l = len * rng.random_range(0.3..0.6);
                parts.push(Primitive::Rod { p: half, q: [half[0] + l * branch.cos(), half[1] + l * branch.sin()], r: r * 0.8 });
            }
            (parts, len, 2.0 * r)
        }
    }
}

fn pick_shape(rng: &mut StdRng) -> CalcificationShape {
    match rng.random_range(0..10) {
        0..=2 => CalcificationShape::Punctate,
        3..=4 => CalcificationShape::Amorphous,
        5..=7 => CalcificationShape::Pleomorphic,
        _ => CalcificationShape::LinearBranching,
    }
}

/// Places clusters inside the breast (preferring glandular tissue) and adds them to `attenuation`.
pub(crate) fn generate(
    outline: &Outline,
    gland: &[f32],
    clusters: u32,
    max_specks: u32,
    rng: &mut StdRng,
    attenuation: &mut [f32],
) -> (Vec<Cluster>, Vec<Calcification>) {
    let s = outline.spacing_mm;
    let (w_mm, h_mm) = (outline.width as f64 * s, outline.height as f64 * s);
    let (mut out_clusters, mut out_specks) = (Vec::new(), Vec::new());
    for id in 0..clusters {
        let mut center = [0.5 * outline.nipple_mm[0], outline.nipple_mm[1]];
        for _ in 0..200 {
            let c = [rng.random_range(0.0..w_mm), rng.random_range(0.0..h_mm)];
            let polar = outline.polar(c);
            let g = gland.get((c[1] / s) as usize * outline.width + (c[0] / s) as usize).copied().unwrap_or(0.0);
            if polar.rho < 0.85
                && polar.skin_distance_mm > 8.0
                && outline.pectoral_depth_mm(c) < -5.0
                && rng.random::<f32>() < 0.15 + 1.2 * g
            {
                center = c;
                break;
            }
        }
        let shape = pick_shape(rng);
        let single = rng.random::<f64>() < 0.15;
        let count = if single { 1 } else { 2 + (f64::from(max_specks.saturating_sub(2)) * rng.random::<f64>().powf(1.3)) as u32 };
        let radius_mm: f64 = if single { 0.0 } else { rng.random_range(1.5..7.0) };
        let mu_calcium = (rng.random_range(0.25f64.ln()..3.0f64.ln())).exp();
        let axis = (outline.nipple_mm[1] - center[1]).atan2(outline.nipple_mm[0] - center[0]);
        let spread = Normal::new(0.0, (0.45 * radius_mm).max(1e-6)).ok();
        let mut placed = 0;
        for _ in 0..count * 4 {
            if placed == count {
                break;
            }
            let offset = if shape == CalcificationShape::LinearBranching {
                let along = rng.random_range(-radius_mm..=radius_mm.max(1e-6));
                let across = spread.map_or(0.0, |n| 0.15 * n.sample(rng));
                [along * axis.cos() - across * axis.sin(), along * axis.sin() + across * axis.cos()]
            } else {
                spread.map_or([0.0, 0.0], |n| [n.sample(rng), n.sample(rng)])
            };
            let p = [center[0] + offset[0], center[1] + offset[1]];
            if outline.polar(p).rho > 0.95 || p[0] < 1.0 || p[1] < 1.0 || p[1] > h_mm - 1.0 {
                continue;
            }
            let (parts, size_mm, thickness_mm) = make_speck(shape, axis, rng);
            let contrast = mu_calcium * thickness_mm * rng.random_range(0.75..1.25);
            let speck = Speck { center_mm: p, parts, extent_mm: size_mm, contrast };
            render(&speck, outline, attenuation);
            out_specks.push(Calcification { cluster_id: id, center_px: [p[0] / s, p[1] / s], center_mm: p, size_mm, contrast, shape });
            placed += 1;
        }
        out_clusters.push(Cluster {
            id,
            center_px: [center[0] / s, center[1] / s],
            center_mm: center,
            radius_mm,
            shape,
            specks: placed as usize,
        });
    }
    (out_clusters, out_specks)
}

/// Adds one speck with 4 × 4 supersampling.
fn render(speck: &Speck, outline: &Outline, attenuation: &mut [f32]) {
    const SUB: usize = 4;
    let s = outline.spacing_mm;
    let reach = speck.extent_mm + s;
    let lo = |v: f64| ((v - reach) / s).floor().max(0.0) as usize;
    let (x0, y0) = (lo(speck.center_mm[0]), lo(speck.center_mm[1]));
    let x1 = (((speck.center_mm[0] + reach) / s).ceil() as usize).min(outline.width - 1);
    let y1 = (((speck.center_mm[1] + reach) / s).ceil() as usize).min(outline.height - 1);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let mut sum = 0.0;
            for sy in 0..SUB {
                for sx in 0..SUB {
                    let u = (x as f64 + (sx as f64 + 0.5) / SUB as f64) * s - speck.center_mm[0];
                    let v = (y as f64 + (sy as f64 + 0.5) / SUB as f64) * s - speck.center_mm[1];
                    sum += speck.parts.iter().map(|p| p.fraction(u, v)).fold(0.0, f64::max);
                }
            }
            attenuation[y * outline.width + x] += (speck.contrast * sum / (SUB * SUB) as f64) as f32;
        }
    }
}
