//! Small numerical helpers: the error function, the scaled Bessel function I₀, a dense linear solve.

/// The error function (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
pub(super) fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

/// `exp(-x) · I₀(x)` for `x ≥ 0` (Abramowitz & Stegun 9.8.1–9.8.2, relative error below 2e-7).
pub(super) fn bessel_i0e(x: f64) -> f64 {
    let x = x.abs();
    if x <= 3.75 {
        let t = (x / 3.75).powi(2);
        let i0 = 1.0 + t * (3.515_622_9 + t * (3.089_942_4 + t * (1.206_749_2 + t * (0.265_973_2 + t * (0.036_076_8 + t * 0.004_581_3)))));
        i0 * (-x).exp()
    } else {
        let t = 3.75 / x;
        let poly = 0.398_942_28
            + t * (0.013_285_92
                + t * (0.002_253_19
                    + t * (-0.001_575_65
                        + t * (0.009_162_81 + t * (-0.020_577_06 + t * (0.026_355_37 + t * (-0.016_476_33 + t * 0.003_923_77)))))));
        poly / x.sqrt()
    }
}

/// Solve the `n × n` system `a · x = b` (row-major `a`) by Gaussian elimination with partial pivoting; `None` when
/// singular.
pub(super) fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    if !(scale > 0.0 && scale.is_finite()) {
        return None;
    }
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-13 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..N {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (v, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *v -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let tail: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_functions_match_reference_values() {
        // scipy.special.erf(0.5) = 0.5204998778, i0e(1) = 0.4657596077, i0e(10) = 0.1278333371
        assert!((erf(0.5) - 0.520_499_877_8).abs() < 2e-7);
        assert!((erf(-0.5) + 0.520_499_877_8).abs() < 2e-7);
        assert!((bessel_i0e(1.0) - 0.465_759_607_7).abs() < 1e-6);
        assert!((bessel_i0e(10.0) - 0.127_833_337_1).abs() < 1e-6);
    }

    #[test]
    fn solves_and_detects_singular() {
        let x = solve([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0]).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
        assert!(solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0]).is_none());
    }
}
