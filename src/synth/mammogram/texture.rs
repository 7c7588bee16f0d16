//! Fibroglandular tissue. A smooth power-law (1/f^β, β ≈ 3.4) field, sampled in nipple-centred coordinates
//! (mildly elongated toward the nipple), plus an anatomical bias (dense centrally and under the areola, fading toward
//! the skin, the chest wall and the upper and lower edges) is soft-thresholded (a logistic ramp, not a step) at the
//! level that gives the BI-RADS class's glandular fraction. Fat lobules (cellular noise, a few mm) carve rounded
//! dark holes into the glandular tissue, and some of the walls between them show as broad, faint Cooper's
//! ligaments in the fat.

use rayon::prelude::*;

use super::{cells, outline::Outline, params::Density, rng::derive};
use crate::imaging::spectrum::power_law_noise;

/// Grid spacing of the texture fields in mm (finer detail is below the quantum noise).
const TEXTURE_MM: f64 = 0.2;
/// Radial elongation of the glandular texture (structures run toward the nipple).
const ELONGATION: f64 = 1.5;
/// Spectral exponent of the glandular field.
const GLAND_BETA: f64 = 3.3;
/// Width of the soft threshold, in standard deviations of the glandular field.
const SOFTNESS: f64 = 0.5;
/// Fat lobule (cell) size in the warped coordinates, mm.
const LOBULE_MM: f64 = 6.0;
/// Half-width of a Cooper's ligament, mm.
const LIGAMENT_MM: f64 = 0.6;
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
        Self { width, height, origin_mm, data: noise.data }
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

/// Where glandular tissue can be at all: away from the skin (subcutaneous fat), the chest wall (retromammary
/// fat) and the pectoral muscle.
fn envelope(outline: &Outline, p: [f64; 2]) -> f64 {
    let polar = outline.polar(p);
    if polar.rho >= 1.0 {
        return 0.0;
    }
    smoothstep(2.0, 8.0, polar.skin_distance_mm) * smoothstep(2.0, 12.0, p[0]) * (1.0 - smoothstep(-4.0, 4.0, outline.pectoral_depth_mm(p)))
}

/// Anatomical bias added to the glandular field before thresholding (0 in the central and subareolar region,
/// negative toward the skin, the chest wall and the upper and lower edges), in standard deviations.
fn bias(outline: &Outline, p: [f64; 2]) -> f64 {
    let polar = outline.polar(p);
    -2.0 * (1.0 - smoothstep(4.0, 30.0, polar.skin_distance_mm))
        - 1.2 * (1.0 - smoothstep(6.0, 30.0, p[0]))
        - 1.2 * smoothstep(0.3, 1.1, polar.psi.abs())
}

pub(crate) fn generate(outline: &Outline, density: Density, seed: u64) -> Tissue {
    let (w, h, s) = (outline.width, outline.height, outline.spacing_mm);
    let corners = [[0.0, 0.0], [w as f64 * s, 0.0], [0.0, h as f64 * s], [w as f64 * s, h as f64 * s]];
    let r_max = corners.iter().map(|&c| (c[0] - outline.nipple_mm[0]).hypot(c[1] - outline.nipple_mm[1])).fold(0.0, f64::max);
    let v_max = std::f64::consts::PI * (r_max + NIPPLE_OFFSET_MM);
    let glands = Field::new([r_max / ELONGATION + 1.0, 2.0 * v_max + 1.0], [0.0, -v_max], GLAND_BETA, 30.0, derive(seed, 1));
    let ligaments = Field::new([r_max / ELONGATION + 1.0, 2.0 * v_max + 1.0], [0.0, -v_max], 3.0, 20.0, derive(seed, 2));
    let strands = Field::new([2.0 * r_max / ELONGATION + 1.0, 2.0 * v_max + 1.0], [0.0, -v_max], 3.2, 10.0, derive(seed, 4));
    let lobule_seed = derive(seed, 3);

    let mut env = vec![0.0f32; w * h];
    let mut raw = vec![0.0f32; w * h];
    env.par_chunks_mut(w).zip(raw.par_chunks_mut(w)).enumerate().for_each(|(y, (env_row, raw_row))| {
        for x in 0..w {
            let p = outline.pixel_mm(x, y);
            env_row[x] = envelope(outline, p) as f32;
            raw_row[x] = (f64::from(glands.sample(warp(outline, p))) + bias(outline, p)) as f32;
        }
    });
    // Threshold at the quantile that fills the density class's fraction of the envelope.
    let mut inside: Vec<f32> = raw.iter().zip(&env).filter(|&(_, &e)| e > 0.5).map(|(&r, _)| r).collect();
    let target = density.glandular_fraction();
    let level = if inside.is_empty() {
        0.0
    } else {
        let k = (((1.0 - target) * inside.len() as f64) as usize).min(inside.len() - 1);
        f64::from(*inside.select_nth_unstable_by(k, f32::total_cmp).1)
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
            let e = f64::from(env[i]);
            let fibro = 1.0 / (1.0 + (-(f64::from(raw[i]) - level) / SOFTNESS).exp());
            let warped = warp(outline, p);
            let cell = cells::sample([warped[0] / LOBULE_MM, warped[1] / LOBULE_MM], 0.9, lobule_seed);
            let wall_mm = cell.wall_distance() * LOBULE_MM;
            // A fat lobule in about half of the cells: a rounded hole with soft edges.
            let hole = if cell.unit() < 0.5 { (0.3 + 0.4 * cell.unit()) * smoothstep(0.3, 2.5, wall_mm) } else { 0.0 };
            let visible = smoothstep(0.2, 1.0, f64::from(ligaments.sample(warped)));
            let wall = (-(wall_mm / LIGAMENT_MM).powi(2)).exp()
                * visible
                * smoothstep(1.0, 5.0, polar.skin_distance_mm)
                * (1.0 - smoothstep(-4.0, 4.0, outline.pectoral_depth_mm(p)));
            // Wispy strands toward the nipple within the glandular region.
            let strand = f64::from(strands.sample([warped[0] * 2.0, warped[1]]));
            let fluff = 0.7 + 0.3 * strand.tanh();
            let frac = MAX_PATH_FRACTION * e * fibro * fluff * (1.0 - hole) + 0.04 * e + 0.12 * wall * (1.0 - fibro * e);
            *g = frac.clamp(0.0, 1.0) as f32;
        }
    });
    Tissue { gland }
}
