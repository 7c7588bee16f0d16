//! The period and phase of the grid lines in one projection: fold the profile over candidate periods (a comb
//! search), then fit a straight line to the individual line positions.

use super::profile::Profile;
use super::sample::{median_f64, robust_sigma};

/// Phase bins of the fold that finds the period.
const PHASES: usize = 16;
/// Phase bins of the fold that finds the phase.
const FINE_PHASES: usize = 64;
/// The smallest period whose fold scores this fraction of the best is taken (a multiple of the period folds as well).
const FIRST_PEAK_FRACTION: f64 = 0.6;
/// Lines weaker than this many profile noise σ are left out of the fit.
const LINE_SIGMA: f64 = 5.0;
/// Alternate teeth of the comb weaker than this fraction of the others are disc columns between the lines.
const PARITY_RATIO: f64 = 0.35;
/// Fewer fitted lines than this is no grid.
const MIN_LINES: usize = 6;

/// The grid lines of one projection: at `phase + k · period` (profile coordinates, coarse pixels).
#[derive(Clone, Copy, Debug)]
pub(super) struct AxisFit {
    pub period: f64,
    pub phase: f64,
    /// Whether the lines are darker than their surroundings.
    pub dark: bool,
    /// Median line strength in noise σ of the profile.
    pub significance: f64,
}

/// Fit the lines of `profile` with a period in `[lo, hi]` coarse pixels; `None` when no comb stands out.
pub(super) fn fit(profile: &Profile, lo: f64, hi: f64) -> Option<AxisFit> {
    let values = &profile.values;
    let n = values.len();
    let (lo, hi) = (lo / profile.bin, hi / profile.bin);
    if !(lo >= 2.0 && hi > lo) || n < 4 * hi as usize {
        return None;
    }
    // Comb search over periods, in bins; the step keeps the phase drift across the profile under a phase bin.
    let mut scan = Vec::new();
    let mut t = lo;
    while t <= hi {
        scan.push((t, fold_score(values, t)));
        t += t * t / (2.0 * PHASES as f64 * n as f64);
    }
    let best = scan.iter().map(|s| s.1).fold(0.0, f64::max);
    if best <= 0.0 {
        return None;
    }
    let first = scan.iter().position(|s| s.1 >= FIRST_PEAK_FRACTION * best)?;
    let t0 = scan[first].0;
    let &(mut period, _) = scan[first..].iter().take_while(|s| s.0 <= 1.04 * t0).max_by(|a, b| a.1.total_cmp(&b.1))?;

    // Phase and polarity from a finer fold.
    let (mut sums, mut counts) = ([0.0f64; FINE_PHASES], [0usize; FINE_PHASES]);
    for (k, &v) in values.iter().enumerate() {
        let b = ((k as f64 / period).fract() * FINE_PHASES as f64) as usize % FINE_PHASES;
        sums[b] += v;
        counts[b] += 1;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let means: Vec<f64> = sums.iter().zip(&counts).map(|(&s, &c)| if c > 0 { s / c as f64 - mean } else { 0.0 }).collect();
    let (peak_bin, &peak) = means.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    let dark = peak < 0.0;
    let sign = if dark { -1.0 } else { 1.0 };
    let phase0 = (peak_bin as f64 + 0.5) / FINE_PHASES as f64 * period;
    let mut lines = comb(values, period, phase0, sign);
    let mut phase0 = phase0;
    // Folding at half the pitch also stacks the columns of discs (same gold, halfway between lines) onto the lines:
    // if every other tooth of the comb is much weaker, those were discs, and the pitch is twice as long.
    if 2.0 * period <= 1.05 * hi {
        let parity = |p: i64| lines.iter().filter(|l| (l.0 as i64).rem_euclid(2) == p).map(|l| l.2.max(0.0)).sum::<f64>();
        let (even, odd) = (parity(0), parity(1));
        if even.min(odd) < PARITY_RATIO * even.max(odd) {
            phase0 += if even >= odd { 0.0 } else { period };
            period *= 2.0;
            lines = comb(values, period, phase0, sign);
        }
    }

    // Noise of the profile away from the lines.
    let off_line: Vec<f64> = (0..n)
        .filter(|&k| {
            let ph = ((k as f64 - phase0) / period).rem_euclid(1.0);
            (0.25..0.75).contains(&ph)
        })
        .map(|k| sign * values[k])
        .collect();
    let noise = robust_sigma(&off_line)?.max(1e-12);
    lines.retain(|l| l.2 > LINE_SIGMA * noise);
    let strongest = {
        let mut s: Vec<f64> = lines.iter().map(|l| l.2).collect();
        s.sort_by(|a, b| b.total_cmp(a));
        s.iter().take(5).copied().collect::<Vec<_>>()
    };
    let floor = 0.2 * median_f64(strongest)?;
    lines.retain(|l| l.2 >= floor);

    // Straight-line fit of position against index, then again without outliers.
    let (mut phase, mut period_fit) = line_fit(&lines)?;
    for _ in 0..2 {
        let residuals: Vec<f64> = lines.iter().map(|l| l.1 - phase - period_fit * l.0).collect();
        let spread = robust_sigma(&residuals)?;
        let limit = (3.0 * spread).max(0.5).min(period / 8.0);
        lines.retain(|l| (l.1 - phase - period_fit * l.0).abs() <= limit);
        (phase, period_fit) = line_fit(&lines)?;
    }
    if lines.len() < MIN_LINES || (period_fit / period - 1.0).abs() > 0.05 {
        return None;
    }
    let significance = median_f64(lines.iter().map(|l| l.2).collect())? / noise;
    Some(AxisFit { period: period_fit * profile.bin, phase: profile.position(phase), dark, significance })
}

/// Each tooth of the comb `phase0 + k · period` (bins): `(k, position, strength)`, the position the extreme of
/// `sign · values` within a sixth of a period (parabolic sub-bin), the strength its height above the local median.
fn comb(values: &[f64], period: f64, phase0: f64, sign: f64) -> Vec<(f64, f64, f64)> {
    let n = values.len();
    let mut lines = Vec::new();
    let k_first = (-(phase0 / period)).ceil() as i64;
    let k_last = ((n as f64 - 1.0 - phase0) / period).floor() as i64;
    for k in k_first..=k_last {
        let centre = phase0 + k as f64 * period;
        let (a, b) = (((centre - period / 6.0).ceil().max(1.0)) as usize, ((centre + period / 6.0).floor() as usize).min(n - 2));
        if a > b {
            continue;
        }
        let Some(i) = (a..=b).max_by(|&i, &j| (sign * values[i]).total_cmp(&(sign * values[j]))) else { continue };
        let (l, c, r) = (sign * values[i - 1], sign * values[i], sign * values[i + 1]);
        let curvature = l - 2.0 * c + r;
        let shift = if curvature < 0.0 { (0.5 * (l - r) / curvature).clamp(-0.5, 0.5) } else { 0.0 };
        let (w0, w1) = (((centre - period / 2.0).max(0.0)) as usize, ((centre + period / 2.0) as usize).min(n - 1));
        let Some(local) = median_f64((w0..=w1).map(|j| sign * values[j]).collect()) else { continue };
        lines.push((k as f64, i as f64 + shift, c - local));
    }
    lines
}

/// The between-phase sum of squares of `values` folded with period `t` (bins): large when `t` is the comb's period.
fn fold_score(values: &[f64], t: f64) -> f64 {
    let (mut sums, mut counts) = ([0.0f64; PHASES], [0usize; PHASES]);
    let step = 1.0 / t;
    let mut phase = 0.0f64;
    for &v in values {
        let b = ((phase * PHASES as f64) as usize).min(PHASES - 1);
        sums[b] += v;
        counts[b] += 1;
        phase += step;
        if phase >= 1.0 {
            phase -= 1.0;
        }
    }
    let total: f64 = sums.iter().sum();
    let between: f64 = sums.iter().zip(&counts).filter(|(_, c)| **c > 0).map(|(&s, &c)| s * s / c as f64).sum();
    between - total * total / values.len() as f64
}

/// Weighted least squares `position = phase + period · k` over `(k, position, weight)`.
fn line_fit(lines: &[(f64, f64, f64)]) -> Option<(f64, f64)> {
    if lines.len() < 2 {
        return None;
    }
    let (mut sw, mut sk, mut sp, mut skk, mut skp) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(k, p, w) in lines {
        sw += w;
        sk += w * k;
        sp += w * p;
        skk += w * k * k;
        skp += w * k * p;
    }
    let det = sw * skk - sk * sk;
    if det.abs() < 1e-12 * sw * skk.max(1.0) {
        return None;
    }
    let period = (sw * skp - sk * sp) / det;
    Some(((sp - period * sk) / sw, period))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comb(n: usize, period: f64, phase: f64, depth: f64, noise_seed: u64) -> Profile {
        let mut state = noise_seed;
        let values = (0..n)
            .map(|k| {
                state = crate::imaging::seed::splitmix64(state);
                let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let ph = ((k as f64 - phase) / period).rem_euclid(1.0);
                let dist = ph.min(1.0 - ph) * period;
                -depth * (-dist * dist / 2.0).exp() + noise
            })
            .collect();
        Profile { origin: 3.0, bin: 0.5, values }
    }

    #[test]
    fn fits_period_phase_and_polarity() {
        let p = comb(1200, 47.3, 11.2, 20.0, 1);
        let fit = fit(&p, 15.0, 40.0).unwrap();
        assert!(fit.dark);
        assert!((fit.period - 47.3 * 0.5).abs() < 0.01, "{fit:?}");
        let k = ((fit.phase - 3.0) / 0.5 - 11.2) / 47.3;
        assert!((k - k.round()).abs() * 47.3 < 0.1, "{fit:?}");
        assert!(fit.significance > 20.0, "{fit:?}");
        // A wide search range does not lock onto twice the period.
        let wide = super::fit(&p, 10.0, 60.0).unwrap();
        assert!((wide.period - 47.3 * 0.5).abs() < 0.01, "{wide:?}");
    }

    #[test]
    fn disc_columns_between_the_lines_do_not_halve_the_period() {
        let mut p = comb(1200, 47.3, 11.2, 20.0, 3);
        for (k, v) in p.values.iter_mut().enumerate() {
            let ph = ((k as f64 - 11.2) / 47.3 + 0.5).rem_euclid(1.0);
            let dist = ph.min(1.0 - ph) * 47.3;
            *v -= 4.0 * (-dist * dist / 18.0).exp();
        }
        let fit = fit(&p, 10.0, 60.0).unwrap();
        assert!((fit.period - 47.3 * 0.5).abs() < 0.01, "{fit:?}");
        let k = ((fit.phase - 3.0) / 0.5 - 11.2) / 47.3;
        assert!((k - k.round()).abs() * 47.3 < 0.1, "{fit:?}");
    }

    #[test]
    fn noise_has_no_comb() {
        let p = comb(1200, 47.3, 11.2, 0.0, 2);
        assert!(fit(&p, 15.0, 40.0).is_none_or(|f| f.significance < 8.0));
        let short = comb(20, 47.3, 11.2, 20.0, 2);
        assert!(fit(&short, 15.0, 40.0).is_none());
    }
}
