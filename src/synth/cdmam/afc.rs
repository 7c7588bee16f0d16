//! The 4-alternative forced choice: fraction correct of an ideal observer as a function of its detectability d'.

/// Complementary error function (Numerical Recipes' Chebyshev fit, fractional error below 1.2·10⁻⁷).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Standard normal distribution function Φ.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// `Pc(d') = ∫ φ(x − d') Φ(x)^(m−1) dx` for `m` = 4 alternatives (Simpson's rule over ±10 σ).
pub fn four_afc_fraction_correct(d_prime: f64) -> f64 {
    let (a, b) = (d_prime.min(0.0) - 10.0, d_prime.max(0.0) + 10.0);
    let n = 4000;
    let h = (b - a) / f64::from(n);
    let f = |x: f64| (-(x - d_prime).powi(2) / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * normal_cdf(x).powi(3);
    let inner: f64 = (1..n).map(|i| f(a + f64::from(i) * h) * if i % 2 == 1 { 4.0 } else { 2.0 }).sum();
    (f(a) + inner + f(b)) * h / 3.0
}

/// The d' at which the 4-AFC fraction correct reaches `pc` (bisection; `pc` in (0.25, 1)).
pub fn d_prime_for_fraction_correct(pc: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 10.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if four_afc_fraction_correct(mid) < pc {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chance_is_a_quarter_and_threshold_is_near_0_9() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7 && (normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((four_afc_fraction_correct(0.0) - 0.25).abs() < 1e-6);
        assert!(four_afc_fraction_correct(4.0) > 0.99);
        let d = d_prime_for_fraction_correct(0.625);
        assert!((four_afc_fraction_correct(d) - 0.625).abs() < 1e-9);
        // Reference: the same integral by a plain Riemann sum in Python (math.erfc), Pc(1.235) = 0.62500.
        assert!((d - 1.235).abs() < 0.002, "{d}");
    }
}
