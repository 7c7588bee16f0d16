//! Weighted linear least squares by Householder QR, for the small, badly scaled design of the threshold curve
//! (columns `1, 1/d, 1/d², 1/d³` span six orders of magnitude; normal equations would square that).

/// The `N` coefficients minimising `Σ wᵢ (yᵢ − xᵢ · β)²`, or `None` when the design is rank deficient (fewer
/// points than coefficients, or collinear columns).
pub fn weighted_least_squares<const N: usize>(x: &[[f64; N]], y: &[f64], w: &[f64]) -> Option<[f64; N]> {
    let m = x.len();
    if m < N || y.len() != m || w.len() != m || w.iter().any(|&w| !(w >= 0.0 && w.is_finite())) {
        return None;
    }
    // Rows scaled by √w; columns scaled to unit norm so the rank test is relative.
    let mut a: Vec<[f64; N]> = x.iter().zip(w).map(|(row, &w)| row.map(|v| v * w.sqrt())).collect();
    let mut b: Vec<f64> = y.iter().zip(w).map(|(&y, &w)| y * w.sqrt()).collect();
    let mut scale = [0.0; N];
    for (k, s) in scale.iter_mut().enumerate() {
        *s = a.iter().map(|row| row[k] * row[k]).sum::<f64>().sqrt();
        if *s == 0.0 {
            return None;
        }
        for row in &mut a {
            row[k] /= *s;
        }
    }
    for k in 0..N {
        let norm = a[k..].iter().map(|row| row[k] * row[k]).sum::<f64>().sqrt();
        if norm < 1e-12 {
            return None;
        }
        let alpha = if a[k][k] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[k..].iter().map(|row| row[k]).collect();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        if vv == 0.0 {
            continue;
        }
        for j in k..N {
            let dot: f64 = v.iter().zip(&a[k..]).map(|(vi, row)| vi * row[j]).sum();
            for (vi, row) in v.iter().zip(&mut a[k..]) {
                row[j] -= 2.0 * dot / vv * vi;
            }
        }
        let dot: f64 = v.iter().zip(&b[k..]).map(|(vi, bi)| vi * bi).sum();
        for (vi, bi) in v.iter().zip(&mut b[k..]) {
            *bi -= 2.0 * dot / vv * vi;
        }
    }
    let mut beta = [0.0; N];
    for k in (0..N).rev() {
        let tail: f64 = (k + 1..N).map(|j| a[k][j] * beta[j]).sum();
        beta[k] = (b[k] - tail) / a[k][k];
    }
    Some(std::array::from_fn(|k| beta[k] / scale[k]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_cubic_in_one_over_d() {
        let truth = [0.01, 0.03, 0.002, 0.0004];
        let d: Vec<f64> = (0..12).map(|i| 1.0 * 0.8_f64.powi(i)).collect();
        let x: Vec<[f64; 4]> = d.iter().map(|&d| [1.0, 1.0 / d, 1.0 / d.powi(2), 1.0 / d.powi(3)]).collect();
        let y: Vec<f64> = x.iter().map(|r| r.iter().zip(truth).map(|(a, b)| a * b).sum()).collect();
        let w: Vec<f64> = y.iter().map(|y| 1.0 / (y * y)).collect();
        let beta = weighted_least_squares(&x, &y, &w).unwrap();
        for (b, t) in beta.iter().zip(truth) {
            assert!((b - t).abs() < 1e-9 * (1.0 + t.abs()) + 1e-12, "{beta:?}");
        }
    }

    #[test]
    fn fits_a_line_by_weighted_least_squares_and_refuses_rank_deficiency() {
        // y = 1 + 2x with one outlier given no weight.
        let x = [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]];
        let beta = weighted_least_squares(&x, &[1.0, 3.0, 50.0, 7.0], &[1.0, 1.0, 0.0, 1.0]).unwrap();
        assert!((beta[0] - 1.0).abs() < 1e-12 && (beta[1] - 2.0).abs() < 1e-12, "{beta:?}");
        assert_eq!(weighted_least_squares(&[[1.0, 2.0], [2.0, 4.0]], &[1.0, 2.0], &[1.0, 1.0]), None);
        assert_eq!(weighted_least_squares(&[[1.0, 2.0]], &[1.0], &[1.0]), None);
    }
}
