//! Grid-line evidence along every edge of the coarse lattice: is there a printed line between these two vertices?

use super::LocateError;
use super::lattice::Lattice;
use super::sample::{bilinear, median_f64, robust_sigma};
use crate::imaging::Image;

/// Where the background beside a line is sampled, cells from the line (1.2 mm: clear of the line's blur and of the
/// largest corner discs).
const OFF_LINE: f64 = 0.12;
/// The part of an edge sampled (away from the crossings).
const EDGE_SPAN: (f64, f64) = (0.2, 0.8);
/// Present edges must stand this many σ of the absent ones above them.
const MIN_SEPARATION: f64 = 5.0;
/// More lattice cells over the image than this is no CDMAM (a 30 × 40 cm image at a 10 mm pitch has 1 200).
const MAX_CELLS: usize = 100_000;
/// The smallest spread of the edge evidence without a line, noise σ (a floor for images with flat parts).
const MIN_SPREAD: f64 = 0.02;
/// Fewer present edges than this is no grid (the matrix has about 440).
const MIN_PRESENT: usize = 60;

/// The direction of an edge in the lattice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Along {
    /// From vertex `(i, j)` to `(i + 1, j)`.
    I,
    /// From vertex `(i, j)` to `(i, j + 1)`.
    J,
}

/// Line evidence of every lattice edge over the image, scaled so that a typical printed line is 1 and no line is 0.
pub(super) struct EdgeMap {
    /// The cells covered: `[i0, i1) × [j0, j1)`.
    pub range: [i64; 4],
    along_i: Vec<f64>,
    along_j: Vec<f64>,
}

impl EdgeMap {
    /// Measure every edge of the lattice over `high` (noise units); `dark`: the lines are darker than the plate.
    pub fn measure(high: &Image, lattice: &Lattice, dark: bool) -> Result<Self, LocateError> {
        let range = lattice.cell_range(high.width, high.height);
        let [i0, i1, j0, j1] = range;
        let (ni, nj) = ((i1 - i0) as usize, (j1 - j0) as usize);
        if ni.saturating_mul(nj) > MAX_CELLS {
            return Err(LocateError::NoGrid(format!("a pitch of {:.1} px is too fine for a CDMAM grid", lattice.period)));
        }
        let sign = if dark { 1.0 } else { -1.0 };
        let samples = ((EDGE_SPAN.1 - EDGE_SPAN.0) * lattice.period).ceil().max(2.0) as usize;
        let edge = |along: Along, i: i64, j: i64| -> f64 {
            let (mut on, mut off) = (0.0, 0.0);
            for k in 0..samples {
                let a = EDGE_SPAN.0 + (EDGE_SPAN.1 - EDGE_SPAN.0) * (k as f64 + 0.5) / samples as f64;
                let at = |o: f64| {
                    let p = match along {
                        Along::I => [i as f64 + a, j as f64 + o],
                        Along::J => [i as f64 + o, j as f64 + a],
                    };
                    let [x, y] = lattice.to_px(p);
                    bilinear(high, x, y)
                };
                let (Some(c), Some(l), Some(r)) = (at(0.0), at(-OFF_LINE), at(OFF_LINE)) else { return f64::NAN };
                on += c;
                off += 0.5 * (l + r);
            }
            sign * (off - on) / samples as f64
        };
        let mut along_i = Vec::with_capacity(ni * (nj + 1));
        for j in j0..=j1 {
            along_i.extend((i0..i1).map(|i| edge(Along::I, i, j)));
        }
        let mut along_j = Vec::with_capacity((ni + 1) * nj);
        for j in j0..j1 {
            along_j.extend((i0..=i1).map(|i| edge(Along::J, i, j)));
        }

        let measured: Vec<f64> = along_i.iter().chain(&along_j).copied().filter(|v| v.is_finite()).collect();
        let split = otsu(&measured).ok_or_else(|| LocateError::NoGrid("no grid lines stand out".into()))?;
        let absent: Vec<f64> = measured.iter().copied().filter(|&v| v < split).collect();
        let present: Vec<f64> = measured.iter().copied().filter(|&v| v >= split).collect();
        let (Some(m0), Some(m1), Some(s0)) = (median_f64(absent.clone()), median_f64(present.clone()), spread(&absent)) else {
            return Err(LocateError::NoGrid("no grid lines stand out".into()));
        };
        if m1 <= 0.0 {
            // The stronger class is no line at all (lines of the other polarity, or flat parts of the image).
            return Err(LocateError::NoGrid(format!(
                "no grid edges stand above the background (the strongest {} of {} edges: median {m1:.2} σ)",
                present.len(),
                measured.len()
            )));
        }
        let separation = (m1 - m0) / s0;
        if present.len() < MIN_PRESENT || separation < MIN_SEPARATION {
            return Err(LocateError::NoGrid(format!(
                "{} grid edges stand {separation:.1} σ above the background (need {MIN_PRESENT} at {MIN_SEPARATION} σ)",
                present.len()
            )));
        }
        let scale = |v: &mut f64| *v = if v.is_finite() { (*v / m1).clamp(-1.0, 1.5) } else { 0.0 };
        along_i.iter_mut().for_each(scale);
        along_j.iter_mut().for_each(scale);
        Ok(Self { range, along_i, along_j })
    }

    /// The evidence of one edge (0 outside the measured range).
    pub fn get(&self, along: Along, i: i64, j: i64) -> f64 {
        let [i0, i1, j0, j1] = self.range;
        let index = match along {
            Along::I if (i0..i1).contains(&i) && (j0..=j1).contains(&j) => ((j - j0) * (i1 - i0) + (i - i0)) as usize,
            Along::J if (i0..=i1).contains(&i) && (j0..j1).contains(&j) => ((j - j0) * (i1 - i0 + 1) + (i - i0)) as usize,
            _ => return 0.0,
        };
        let values = if along == Along::I { &self.along_i } else { &self.along_j };
        values.get(index).copied().unwrap_or(0.0)
    }
}

/// The spread of the edges without a line, in noise σ of the coarse image: robust (MAD) where it can be, the RMS
/// deviation from the median where most values are identical (flat, clipped or empty parts of the image), and never
/// below [`MIN_SPREAD`] (an edge averages a few dozen coarse pixels of unit noise: its true spread is ~0.3).
fn spread(values: &[f64]) -> Option<f64> {
    let robust = robust_sigma(values)?;
    let s = if robust > 0.0 {
        robust
    } else {
        let m = median_f64(values.to_vec())?;
        (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
    };
    Some(s.max(MIN_SPREAD))
}

/// Otsu's threshold of `values`: the split that maximises the between-class variance.
fn otsu(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n < 4 {
        return None;
    }
    let total: f64 = sorted.iter().sum();
    let (mut below, mut best, mut split) = (0.0, f64::NEG_INFINITY, None);
    for k in 1..n {
        below += sorted[k - 1];
        let (w0, w1) = (k as f64, (n - k) as f64);
        let between = w0 * w1 * (below / w0 - (total - below) / w1).powi(2);
        if between > best && sorted[k] > sorted[k - 1] {
            best = between;
            split = Some(0.5 * (sorted[k - 1] + sorted[k]));
        }
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_two_clusters() {
        let mut v: Vec<f64> = (0..100).map(|k| f64::from(k % 7) * 0.1).collect();
        v.extend((0..30).map(|k| 10.0 + f64::from(k % 5) * 0.1));
        let t = otsu(&v).unwrap();
        assert!(t > 0.6 && t < 10.0, "{t}");
        assert!(otsu(&[1.0, 1.0, 1.0, 1.0]).is_none());
    }

    /// Bright lines measured as dark ones, over half of an otherwise flat image: the edges on the lines are the
    /// weaker class, all alike (zero spread), and the flat edges the stronger, at 0. No grid, and a sane message.
    #[test]
    fn lines_of_the_wrong_polarity_on_a_flat_image_are_no_grid() {
        let (w, h) = (240, 240);
        let data = (0..w * h).map(|i| if (i % w) % 20 == 0 && i % w < 120 { 6.0 } else { 0.0 }).collect();
        let high = Image::new(w, h, data).unwrap();
        let lattice = Lattice { theta: 0.0, period: 20.0, phase: [0.0, 0.0] };
        let Err(LocateError::NoGrid(message)) = EdgeMap::measure(&high, &lattice, true) else { panic!("a grid") };
        assert!(message.contains("no grid edges stand above"), "{message}");
        // Dark lines of the same layout are a grid, or at least are judged on a finite spread.
        let dark = Image::new(w, h, high.data.iter().map(|v| -v).collect()).unwrap();
        match EdgeMap::measure(&dark, &lattice, true) {
            Ok(_) => {}
            Err(e) => assert!(e.to_string().len() < 200 && !e.to_string().contains("e+"), "{e}"),
        }
    }

    #[test]
    fn the_spread_has_a_floor_and_survives_identical_values() {
        assert!((spread(&[0.5; 10]).unwrap() - MIN_SPREAD).abs() < 1e-12);
        let mostly: Vec<f64> = (0..10).map(|k| if k < 7 { 1.0 } else { 4.0 }).collect();
        let s = spread(&mostly).unwrap();
        assert!(s > 1.0 && s < 3.0, "{s}");
    }
}
