//! Confidence intervals by the bootstrap over images.
//!
//! Each replicate draws the images with replacement (as many as there are) and reruns the whole chain from their
//! nearest-neighbour-corrected matrices (fraction → smoothing → fits → curve); the interval of a row is the
//! 2.5th–97.5th percentile of the fitted curve's automated threshold there. The truth (layout or consensus) and
//! the per-image correction are computed once from all images and not redone per replicate: they are per-image
//! quantities, and the resampling unit is the image.
//!
//! A replicate contributes to a row only when it yields a curve. If fewer than half of the replicates do, the row
//! gets no interval (a percentile of the lucky half would be too narrow); the count is reported either way.
//! Replicate `b` draws from its own generator seeded from `(seed, b)`, so results do not depend on rayon's
//! scheduling.

use rand::{Rng as _, SeedableRng as _, rngs::StdRng};
use rayon::prelude::*;

use crate::imaging::seed::splitmix64;
use crate::phantom::cdmam::tables::{DIAMETERS_MM, READOUT_ROWS};

use super::chain;
use super::matrix::CellMatrix;

/// The interval of one readout row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowInterval {
    /// 2.5th and 97.5th percentiles of the fitted automated threshold, µm.
    pub automated_um: Option<[f64; 2]>,
    /// The number of replicates that gave a value on this row.
    pub valid: usize,
}

/// Percentile intervals of the fitted automated thresholds for each readout row, in [`READOUT_ROWS`] order.
pub fn intervals(corrected: &[CellMatrix<bool>], replicates: usize, seed: u64) -> Vec<RowInterval> {
    let n = corrected.len();
    let replicates = if n == 0 { 0 } else { replicates };
    let samples: Vec<Option<Vec<f64>>> = (0..replicates)
        .into_par_iter()
        .map(|b| {
            let mut rng = StdRng::seed_from_u64(splitmix64(seed ^ splitmix64(b as u64)));
            let draw: Vec<&CellMatrix<bool>> = (0..n).map(|_| &corrected[rng.random_range(0..n)]).collect();
            let curve = chain::run(draw).curve?;
            Some(READOUT_ROWS.map(|row| curve.automated_um(DIAMETERS_MM[row])).collect())
        })
        .collect();
    READOUT_ROWS
        .enumerate()
        .map(|(i, _)| {
            let mut values: Vec<f64> = samples.iter().flatten().map(|v| v[i]).filter(|v| v.is_finite()).collect();
            values.sort_by(f64::total_cmp);
            let enough = values.len() >= 2 && 2 * values.len() >= replicates;
            RowInterval { automated_um: enough.then(|| [percentile(&values, 0.025), percentile(&values, 0.975)]), valid: values.len() }
        })
        .collect()
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics (Hyndman–Fan type 7, the
/// `NumPy` default).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [2.5, 50, 97.5]) → [1.1, 3.0, 9.4]
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((percentile(&v, 0.025) - 1.1).abs() < 1e-12);
        assert!((percentile(&v, 0.5) - 3.0).abs() < 1e-12);
        assert!((percentile(&v, 0.975) - 9.4).abs() < 1e-12);
        assert!((percentile(&[2.0], 0.9) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn no_replicates_give_no_intervals() {
        for rows in [intervals(&[CellMatrix::default(); 3], 0, 1), intervals(&[], 10, 1)] {
            assert_eq!(rows.len(), 12);
            assert!(rows.iter().all(|r| r.automated_um.is_none() && r.valid == 0));
        }
    }
}
