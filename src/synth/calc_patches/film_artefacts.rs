//! Film-like artefacts painted onto normalised model patches (0.07 mm/px; the breast's p1…p99 is 0…1), a training
//! augmentation for the calcification classifier.
//!
//! On digitised film the shipped models mark what the simulator never shows: screen dust (tiny, unblurred, far
//! brighter than any speck of that size could be), lint and hairs (thin continuous curves several millimetres long)
//! and the scanner's straight lines. Painted onto patches of both classes with the same probability, they teach
//! that such a structure alone does not make a patch positive, without changing the simulator or its test sets.
//!
//! - **Dust**: a disc of radius 0.7–1.5 px (50–105 µm) and amplitude 0.6–1.5, so that its top-hat contrast (the
//!   patch minus its 3 px blur) is about 0.4 or more: above 99 % of the simulated positives' brightest speck (median
//!   0.12, 99th percentile 0.35, on the seed-2031 training patches) and above what a calcification that small can
//!   show (its contrast scales with its thickness). An earlier range (radius 0.5–1.5, amplitude 0.25–1.0, top-hat
//!   contrast from 0.2) overlapped the bright positives and cost whole-image sensitivity.
//! - **Fibre**: a smooth random curve 40–200 px (2.8–14 mm) long with a Gaussian cross-section (σ 0.5–1.2 px) and
//!   amplitude 0.05–0.4: uniform and unbroken, unlike a linear cluster of specks.
//! - **Scanner line**: a straight line across the whole patch, σ 0.5 px, amplitude ±0.02–0.15.

use rand::{Rng, SeedableRng, rngs::StdRng};

/// Which artefacts [`paint`] drew, for tests and statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Painted {
    pub dust: usize,
    pub fibres: usize,
    pub lines: usize,
}

impl Painted {
    pub fn total(&self) -> usize {
        self.dust + self.fibres + self.lines
    }
}

/// With probability `probability`, paints 1–3 artefacts onto the square `patch` (`size`²) from `seed`.
pub fn paint(patch: &mut [f32], size: usize, probability: f64, seed: u64) -> Painted {
    let mut painted = Painted::default();
    let mut rng = StdRng::seed_from_u64(seed);
    if probability <= 0.0 || size == 0 || !rng.random_bool(probability.min(1.0)) {
        return painted;
    }
    let count = match rng.random_range(0..10) {
        0..5 => 1,
        5..8 => 2,
        _ => 3,
    };
    for _ in 0..count {
        match rng.random_range(0..10) {
            0..4 => {
                dust(patch, size, &mut rng);
                painted.dust += 1;
            }
            4..8 => {
                fibre(patch, size, &mut rng);
                painted.fibres += 1;
            }
            _ => {
                scanner_line(patch, size, &mut rng);
                painted.lines += 1;
            }
        }
    }
    painted
}

/// A bright disc, its edge anti-aliased by 4 × 4 supersampling of each pixel.
fn dust(patch: &mut [f32], size: usize, rng: &mut StdRng) {
    let s = size as f64;
    let (cx, cy) = (rng.random_range(0.0..s), rng.random_range(0.0..s));
    let radius: f64 = rng.random_range(0.7..1.5);
    let amplitude: f64 = rng.random_range(0.6..1.5);
    for_pixels_near(size, cx, cy, radius + 1.0, |x, y| {
        let mut inside = 0u32;
        for sy in 0..4 {
            for sx in 0..4 {
                let px = x + (f64::from(sx) + 0.5) / 4.0;
                let py = y + (f64::from(sy) + 0.5) / 4.0;
                inside += u32::from((px - cx).hypot(py - cy) <= radius);
            }
        }
        amplitude * f64::from(inside) / 16.0
    })
    .for_each(|(i, v)| patch[i] += v as f32);
}

/// A smooth random curve: unit steps with a persistent curvature and a small random turn at each step; each pixel
/// takes the largest Gaussian profile of the curve's points (no brighter where the curve crosses itself).
fn fibre(patch: &mut [f32], size: usize, rng: &mut StdRng) {
    let s = size as f64;
    let length = rng.random_range(40..=200);
    let sigma: f64 = rng.random_range(0.5..1.2);
    let amplitude: f64 = rng.random_range(0.05..0.4);
    let curvature: f64 = rng.random_range(-0.03..0.03);
    let (mut x, mut y) = (rng.random_range(0.0..s), rng.random_range(0.0..s));
    let mut heading: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    let mut added = vec![0f64; size * size];
    let reach = 3.0 * sigma;
    for _ in 0..length {
        for (i, v) in for_pixels_near(size, x, y, reach, |px, py| {
            let d2 = (px + 0.5 - x).powi(2) + (py + 0.5 - y).powi(2);
            amplitude * (-d2 / (2.0 * sigma * sigma)).exp()
        }) {
            added[i] = added[i].max(v);
        }
        heading += curvature + rng.random_range(-0.08..0.08);
        x += heading.cos();
        y += heading.sin();
    }
    for (p, a) in patch.iter_mut().zip(&added) {
        *p += *a as f32;
    }
}

/// A straight line along one axis across the whole patch (the batch's flips and rotations turn it).
fn scanner_line(patch: &mut [f32], size: usize, rng: &mut StdRng) {
    let position = rng.random_range(0.0..size as f64);
    let magnitude: f64 = rng.random_range(0.02..0.15);
    let amplitude = if rng.random_bool(0.5) { magnitude } else { -magnitude };
    for c in 0..size {
        let d = c as f64 + 0.5 - position;
        let weight = (-d * d / (2.0 * 0.25)).exp();
        if weight < 1e-3 {
            continue;
        }
        for row in 0..size {
            patch[row * size + c] += (amplitude * weight) as f32;
        }
    }
}

/// `(index, value)` of `value(x, y)` for the pixels whose corner `(x, y)` lies within `reach` of `(cx, cy)` (in
/// pixel units, pixel `x` spanning `[x, x + 1)`), inside the patch.
fn for_pixels_near(size: usize, cx: f64, cy: f64, reach: f64, value: impl Fn(f64, f64) -> f64) -> impl Iterator<Item = (usize, f64)> {
    let range = |c: f64| {
        let clamp = |v: f64| v.clamp(0.0, size as f64) as usize;
        clamp((c - reach).floor())..clamp((c + reach).ceil() + 1.0)
    };
    let xs = range(cx);
    range(cy).flat_map(move |y| xs.clone().map(move |x| (x, y))).filter_map(move |(x, y)| {
        let v = value(x as f64, y as f64);
        (v > 0.0).then_some((y * size + x, v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: usize = 96;

    fn painted(seed: u64) -> (Vec<f32>, Painted) {
        let mut patch = vec![0.5f32; SIZE * SIZE];
        let what = paint(&mut patch, SIZE, 1.0, seed);
        (patch, what)
    }

    #[test]
    fn probability_zero_leaves_the_patch_alone_and_one_always_paints() {
        let mut patch = vec![0.5f32; SIZE * SIZE];
        assert_eq!(paint(&mut patch, SIZE, 0.0, 3).total(), 0);
        assert!(patch.iter().all(|&v| (v - 0.5).abs() < 1e-9));
        for seed in 0..50 {
            let (p, what) = painted(seed);
            assert!((1..=3).contains(&what.total()), "{what:?}");
            assert!(p.iter().any(|&v| (v - 0.5).abs() > 1e-3), "seed {seed} painted nothing visible");
        }
    }

    #[test]
    fn the_same_seed_paints_the_same_and_half_the_patches_are_painted_at_one_half() {
        assert_eq!(painted(11), painted(11));
        let hits = (0..400).filter(|&s| paint(&mut vec![0.0; SIZE * SIZE], SIZE, 0.5, s).total() > 0).count();
        assert!((160..240).contains(&hits), "{hits} of 400");
    }

    #[test]
    fn dust_is_small_and_bright() {
        for seed in 0..40 {
            let mut patch = vec![0f32; SIZE * SIZE];
            dust(&mut patch, SIZE, &mut StdRng::seed_from_u64(seed));
            let touched = patch.iter().filter(|&&v| v > 0.0).count();
            let peak = patch.iter().copied().fold(0f32, f32::max);
            // A disc of radius ≤ 1.5 px touches at most 4 × 4 pixels; one wholly inside reaches its amplitude.
            assert!((1..=16).contains(&touched) || touched == 0, "seed {seed}: {touched} pixels");
            assert!(peak <= 1.5, "seed {seed}: {peak}");
        }
        // Away from the edges, the brightest pixel of a dust speck is far above any simulated speck (≤ 0.1).
        let bright = (0..40)
            .filter(|&seed| {
                let mut patch = vec![0f32; SIZE * SIZE];
                dust(&mut patch, SIZE, &mut StdRng::seed_from_u64(seed));
                patch.iter().copied().fold(0f32, f32::max) > 0.1
            })
            .count();
        assert!(bright >= 30, "{bright} of 40");
    }

    #[test]
    fn a_fibre_is_long_thin_and_no_brighter_than_its_amplitude() {
        const SIZE: usize = 224;
        for seed in 0..20 {
            let mut patch = vec![0f32; SIZE * SIZE];
            fibre(&mut patch, SIZE, &mut StdRng::seed_from_u64(seed));
            let peak = patch.iter().copied().fold(0f32, f32::max);
            assert!(peak <= 0.4 + 1e-6, "seed {seed}: {peak}");
            if peak == 0.0 {
                continue; // started at an edge and left the patch at once
            }
            let bright = patch.iter().filter(|&&v| v > peak * 0.5).count();
            // Thin: under ~4 px of width per step of length; long: more than a speck's few pixels.
            assert!(bright <= 4 * 200, "seed {seed}: {bright}");
        }
        let long = (0..20)
            .filter(|&seed| {
                let mut patch = vec![0f32; SIZE * SIZE];
                fibre(&mut patch, SIZE, &mut StdRng::seed_from_u64(seed));
                let peak = patch.iter().copied().fold(0f32, f32::max);
                patch.iter().filter(|&&v| v > peak * 0.5).count() >= 30
            })
            .count();
        assert!(long >= 15, "{long} of 20 fibres cover ≥ 30 px");
    }

    #[test]
    fn a_scanner_line_spans_the_patch_along_one_axis() {
        let mut patch = vec![0f32; SIZE * SIZE];
        scanner_line(&mut patch, SIZE, &mut StdRng::seed_from_u64(5));
        let column: Vec<f32> = (0..SIZE).map(|c| patch[c]).collect();
        let strongest = column.iter().map(|v| v.abs()).fold(0f32, f32::max);
        assert!((0.01..=0.15).contains(&strongest), "{strongest}");
        for row in 1..SIZE {
            assert_eq!(&patch[row * SIZE..(row + 1) * SIZE], column.as_slice());
        }
        assert!(column.iter().filter(|v| v.abs() > strongest * 0.5).count() <= 2);
    }
}
