//! A small Nelder–Mead simplex minimiser (standard coefficients: reflection 1, expansion 2, contraction ½,
//! shrink ½), enough for the two-parameter psychometric fits without a dependency.

/// The result of a minimisation.
#[derive(Clone, Copy, Debug)]
pub struct Minimum<const N: usize> {
    pub x: [f64; N],
    /// Whether the simplex shrank below the tolerances before the iteration limit.
    pub converged: bool,
}

/// Minimises `f` from `start` with an initial simplex of `step` along each axis. Stops when both the spread of the
/// simplex's values is below `f_tol` (absolute) and its extent below `x_tol` along every axis, or after
/// `max_iterations`.
pub fn minimise<const N: usize>(
    f: impl Fn([f64; N]) -> f64,
    start: [f64; N],
    step: [f64; N],
    [f_tol, x_tol]: [f64; 2],
    max_iterations: usize,
) -> Minimum<N> {
    let mut simplex: Vec<([f64; N], f64)> = (0..=N)
        .map(|i| {
            let mut x = start;
            if i > 0 {
                x[i - 1] += step[i - 1];
            }
            (x, f(x))
        })
        .collect();
    let along = |a: [f64; N], b: [f64; N], t: f64| -> [f64; N] { std::array::from_fn(|k| a[k] + t * (b[k] - a[k])) };
    let mut converged = false;
    for _ in 0..max_iterations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let spread = simplex[N].1 - simplex[0].1;
        let extent = (0..N).all(|k| simplex.iter().all(|(x, _)| (x[k] - simplex[0].0[k]).abs() <= x_tol));
        if spread <= f_tol && extent {
            converged = true;
            break;
        }
        let centroid: [f64; N] = std::array::from_fn(|k| simplex[..N].iter().map(|(x, _)| x[k]).sum::<f64>() / N as f64);
        let worst = simplex[N];
        // Points on the line from the centroid through the worst vertex: t = −1 reflects, −2 expands, ±½ contracts.
        let reflected = along(centroid, worst.0, -1.0);
        let fr = f(reflected);
        if fr < simplex[0].1 {
            let expanded = along(centroid, worst.0, -2.0);
            let fe = f(expanded);
            simplex[N] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[N - 1].1 {
            simplex[N] = (reflected, fr);
        } else {
            let (t, bound) = if fr < worst.1 { (-0.5, fr) } else { (0.5, worst.1) };
            let contracted = along(centroid, worst.0, t);
            let fc = f(contracted);
            if fc < bound {
                simplex[N] = (contracted, fc);
            } else {
                let best = simplex[0].0;
                for vertex in &mut simplex[1..] {
                    let x = along(best, vertex.0, 0.5);
                    *vertex = (x, f(x));
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    Minimum { x: simplex[0].0, converged }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosenbrock = |[x, y]: [f64; 2]| (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
        let m = minimise(rosenbrock, [-1.2, 1.0], [0.5, 0.5], [1e-14, 1e-8], 2000);
        assert!(m.converged && rosenbrock(m.x) < 1e-10);
        assert!((m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4, "{m:?}");
    }
}
