//! Fibroglandular tissue: a power-law (β ≈ 3) texture, elongated toward the nipple, thresholded softly inside an
//! anatomical envelope to reach the glandular fraction of the BI-RADS density class; plus Cooper's ligaments
//! (thin septa between fat lobules) drawn along the zero crossings of a second power-law field.

use rayon::prelude::*;

use super::{outline::Outline, params::Density, rng::derive};
use crate::imaging::spectrum::power_law_noise;

/// Grid spacing of the texture fields in mm (finer detail is below the quantum noise).
const TEXTURE_MM: f64 = 0.2;
/// Radial elongation of the glandular texture (structures run toward the nipple).
const ELONGATION: f64 = 2.2;
/// Offset that keeps the angular scale finite at the nipple, mm.
const NIPPLE_OFFSET_MM: f64 = 12.0;
/// Largest fraction of the X-ray path that fibroglandular tissue fills.
const MAX_PATH_FRACTION: f64 = 0.72;

/// A noise field on a regular grid with origin `origin_mm` and spacing [`TEXTURE_MM`], sampled bilinearly.
struct Field {
    width: usize,
    height: usize,
    origin_mm: [f64; 2],
    data: Vec<f32>,
}

impl Field {
    fn new(extent_mm: [f64; 2], origin_mm: [f64; 2], beta: f64, corner_mm: f64, seed: u64) -> Self {
        let width = (extent_mm[0] / TEXTURE_MM).ceil() as usize + 2;
        let height = (extent_mm[1] / TEXTURE_MM).ceil() as usize + 2;
        let noise = power_law_noise(width, height, beta, TEXTURE_MM / corner_mm, seed);
        Self {
            width,
            height,
            origin_mm,
            data: noise.data,
        }
    }

    fn sample(&self, p_mm: [f64; 2]) -> f32 {
        let gx = ((p_mm[0] - self.origin_mm[0]) / TEXTURE_MM).clamp(0.0, (self.width - 2) as f64);
        let gy = ((p_mm[1] - self.origin_mm[1]) / TEXTURE_MM).clamp(0.0, (self.height - 2) as f64);
        let (x0, y0) = (gx as usize, gy as usize);
        let (fx, fy) = ((gx - x0 as f64) as f32, (gy - y0 as f64) as f32);
        let at = |x: usize, y: usize| self.data[y * self.width + x];
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

fn smoothstep(lo: f64, hi: f64, x: f64) -> f64 {
    let t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Nipple-centred warped coordinates: radial distance stretched by [`ELONGATION`], arc length about the nipple.
fn warp(outline: &Outline, p: [f64; 2]) -> [f64; 2] {
    let (dx, dy) = (outline.nipple_mm[0] - p[0], p[1] - outline.nipple_mm[1]);
    let r = dx.hypot(dy);
    [r / ELONGATION, dy.atan2(dx) * (r + NIPPLE_OFFSET_MM)]
}

/// Per-pixel fractions of the X-ray path through fibroglandular tissue and through ligaments (0..1 each).
pub(crate) struct Tissue {
    pub gland: Vec<f32>,
}

/// Where glandular tissue can be: away from the skin (subcutaneous fat), the chest wall (retromammary fat)
/// and the pectoral muscle, densest on the nipple axis.
fn envelope(outline: &Outline, p: [f64; 2]) -> f64 {
    let polar = outline.polar(p);
    if polar.rho >= 1.0 {
        return 0.0;
    }
    let axis = 1.0 - 0.55 * (polar.psi / 1.4).powi(2).min(1.0);
    smoothstep(3.0, 16.0, polar.skin_distance_mm)
        * smoothstep(3.0, 22.0, p[0])
        * (1.0 - smoothstep(-4.0, 4.0, outline.pectoral_depth_mm(p)))
        * axis
}

pub(crate) fn generate(outline: &Outline, density: Density, seed: u64) -> Tissue {
    let (w, h, s) = (outline.width, outline.height, outline.spacing_mm);
    let corners = [
        [0.0, 0.0],
        [w as f64 * s, 0.0],
        [0.0, h as f64 * s],
        [w as f64 * s, h as f64 * s],
    ];
    let r_max = corners
        .iter()
        .map(|&c| (c[0] - outline.nipple_mm[0]).hypot(c[1] - outline.nipple_mm[1]))
        .fold(0.0, f64::max);
    let v_max = std::f64::consts::PI * (r_max + NIPPLE_OFFSET_MM);
    let glands = Field::new(
        [r_max / ELONGATION + 1.0, 2.0 * v_max + 1.0],
        [0.0, -v_max],
        3.0,
        25.0,
        derive(seed, 1),
    );
    let lobules = Field::new(
        [1.6 * r_max / ELONGATION + 1.0, 2.0 * v_max + 1.0],
        [0.0, -v_max],
        4.0,
        6.0,
        derive(seed, 2),
    );
    let detail = Field::new(
        [w as f64 * s + 1.0, h as f64 * s + 1.0],
        [0.0, 0.0],
        3.0,
        4.0,
        derive(seed, 3),
    );

    let mut env = vec![0.0f32; w * h];
    let mut raw = vec![0.0f32; w * h];
    env.par_chunks_mut(w)
        .zip(raw.par_chunks_mut(w))
        .enumerate()
        .for_each(|(y, (env_row, raw_row))| {
            for x in 0..w {
                let p = outline.pixel_mm(x, y);
                env_row[x] = envelope(outline, p) as f32;
                raw_row[x] = glands.sample(warp(outline, p)) + 0.05 * detail.sample(p);
            }
        });
    // Threshold at the quantile that fills the density class's fraction of the envelope.
    let mut inside: Vec<f32> = raw
        .iter()
        .zip(&env)
        .filter(|&(_, &e)| e > 0.5)
        .map(|(&r, _)| r)
        .collect();
    let target = density.glandular_fraction();
    let level = if inside.is_empty() {
        0.0
    } else {
        let k = (((1.0 - target) * inside.len() as f64) as usize).min(inside.len() - 1);
        *inside.select_nth_unstable_by(k, f32::total_cmp).1
    };
    let mut gland = vec![0.0f32; w * h];
    gland.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, g) in row.iter_mut().enumerate() {
            let i = y * w + x;
            let p = outline.pixel_mm(x, y);
            let polar = outline.polar(p);
            if polar.rho >= 1.0 {
                continue;
            }
            let fibro = 1.0 / (1.0 + (-(f64::from(raw[i]) - f64::from(level)) / 0.55).exp());
            let e = f64::from(env[i]);
            let warped = warp(outline, p);
            let web = f64::from(lobules.sample([warped[0] * 1.6, warped[1]]));
            let septa = (-(web / 0.3).powi(2)).exp() * smoothstep(1.0, 6.0, polar.skin_distance_mm);
            let frac = MAX_PATH_FRACTION * e * fibro * (1.0 - 0.15 * (1.0 - septa))
                + 0.04 * e
                + 0.07 * septa * (1.0 - fibro * e);
            *g = frac.clamp(0.0, 1.0) as f32;
        }
    });
    Tissue { gland }
}
