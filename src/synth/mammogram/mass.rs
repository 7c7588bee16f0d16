//! An optional mass: an ellipsoid of tissue denser than its surroundings with a lobulated outline, and for a
//! spiculated mass thin tapering spicules radiating from it.

use std::f64::consts::TAU;

use rand::{Rng, rngs::StdRng};

use super::{
    outline::Outline,
    truth::Mass,
    vessels::{self, Tube},
};

/// Attenuation excess of the mass over the tissue it displaces (1/mm).
const DELTA_MU_PER_MM: f64 = 0.028;

/// Places a mass in the glandular region and adds it to `attenuation`.
pub(crate) fn generate(outline: &Outline, rng: &mut StdRng, attenuation: &mut [f32]) -> Mass {
    let s = outline.spacing_mm;
    let mut center = [0.55 * outline.nipple_mm[0], outline.nipple_mm[1]];
    for _ in 0..100 {
        let c = [rng.random_range(0.2..0.8) * outline.nipple_mm[0], rng.random_range(0.0..outline.height as f64 * s)];
        let polar = outline.polar(c);
        if polar.rho < 0.7 && polar.skin_distance_mm > 15.0 && outline.pectoral_depth_mm(c) < -10.0 {
            center = c;
            break;
        }
    }
    let radius_mm: f64 = rng.random_range(4.0..11.0);
    let spiculated = rng.random::<bool>();
    let half_depth = radius_mm.min(0.4 * outline.thickness_mm);
    let aspect = rng.random_range(0.75..1.0);
    let angle = rng.random_range(0.0..TAU);
    let lobes: Vec<(f64, f64)> = (0..3).map(|_| (rng.random_range(-0.08..0.08), rng.random_range(0.0..TAU))).collect();
    let reach = radius_mm * 1.3;
    let (x0, y0) = (((center[0] - reach) / s).max(0.0) as usize, ((center[1] - reach) / s).max(0.0) as usize);
    let x1 = (((center[0] + reach) / s) as usize).min(outline.width - 1);
    let y1 = (((center[1] + reach) / s) as usize).min(outline.height - 1);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = outline.pixel_mm(x, y);
            let (dx, dy) = (p[0] - center[0], p[1] - center[1]);
            let (u, v) = (angle.cos() * dx + angle.sin() * dy, -angle.sin() * dx + angle.cos() * dy);
            let theta = v.atan2(u);
            let scale = 1.0 + lobes.iter().enumerate().map(|(k, &(a, ph))| a * ((k as f64 + 2.0) * theta + ph).cos()).sum::<f64>();
            let q = ((u / radius_mm).powi(2) + (v / (radius_mm * aspect)).powi(2)) / (scale * scale);
            if q < 1.0 {
                attenuation[y * outline.width + x] += (DELTA_MU_PER_MM * 2.0 * half_depth * (1.0 - q).sqrt()) as f32;
            }
        }
    }
    if spiculated {
        let spicules: Vec<Tube> = (0..rng.random_range(10..22))
            .map(|_| {
                let dir = rng.random_range(0.0..TAU);
                let len = radius_mm * rng.random_range(0.8..2.2);
                let n = 12;
                let points_mm = (0..=n)
                    .map(|i| {
                        let t = radius_mm * 0.7 + len * f64::from(i) / f64::from(n);
                        [center[0] + t * dir.cos(), center[1] + t * dir.sin()]
                    })
                    .collect();
                let r0 = rng.random_range(0.15..0.4);
                let radii_mm = (0..=n).map(|i| r0 * (1.0 - 0.85 * f64::from(i) / f64::from(n))).collect();
                Tube { points_mm, radii_mm, delta_mu_per_mm: 0.06 }
            })
            .collect();
        vessels::render(&spicules, outline, attenuation);
    }
    Mass {
        center_px: [center[0] / s, center[1] / s],
        center_mm: center,
        radius_mm,
        spiculated,
        contrast: DELTA_MU_PER_MM * 2.0 * half_depth,
    }
}
