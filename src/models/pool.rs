//! Pooling written from `narrow`, `reshape` and `max`, whose gradients candle gets right.
//!
//! candle 0.11.1's `Tensor::max_pool2d` back-propagates 0.25 instead of 1 to the maximum (and misplaces it on odd sizes),
//! so the networks use these instead; the tests compare them with naive loops and with finite differences.

use candle_core::{D, Result, Tensor};

/// Fill value of the padding of [`max_pool_3x3_s2_p1`]: never the maximum of a window that holds a real pixel.
const PAD_VALUE: f64 = -1e30;

/// 2×2 max pool with stride 2 on `(B, C, H, W)`; an odd last row or column is dropped (like torch `MaxPool2d(2)`).
pub fn max_pool_2x2(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (out_h, out_w) = (h / 2, w / 2);
    if out_h == 0 || out_w == 0 {
        candle_core::bail!("max_pool_2x2 needs at least 2×2 pixels, got {h}×{w}");
    }
    x.narrow(2, 0, 2 * out_h)?.narrow(3, 0, 2 * out_w)?.reshape((b, c, out_h, 2, out_w, 2))?.max(5)?.max(3)
}

/// 3×3 max pool, stride 2, padding 1 on `(B, C, H, W)` (the `ResNet` stem): the output is
/// `((H − 1) / 2 + 1, (W − 1) / 2 + 1)`, as torch `MaxPool2d(3, 2, 1)`.
///
/// The 3×3 window is separable: a max over three row-shifted views, then over three column-shifted views.
pub fn max_pool_3x3_s2_p1(x: &Tensor) -> Result<Tensor> {
    x.dims4()?;
    max_3_stride_2_along(&max_3_stride_2_along(x, 2)?, 3)
}

/// Max over windows of 3 along `dim`, stride 2, one padding element each side.
fn max_3_stride_2_along(x: &Tensor, dim: usize) -> Result<Tensor> {
    let len = x.dim(dim)?;
    if len == 0 {
        candle_core::bail!("max pool over an empty dimension");
    }
    let out = (len - 1) / 2 + 1;
    // One padding element before, two after: window `i` covers padded indices 2i, 2i+1, 2i+2 ≤ len + 1, and the
    // narrow of length 2·out starting at shift 2 still fits (the extra element only lands in discarded odd slots).
    let padded = pad_along(x, dim, 1, 2)?;
    let mut grouped_dims = padded.dims().to_vec();
    grouped_dims[dim] = out;
    grouped_dims.insert(dim + 1, 2);
    let views = (0..3)
        .map(|shift| padded.narrow(dim, shift, 2 * out)?.reshape(grouped_dims.as_slice())?.narrow(dim + 1, 0, 1)?.squeeze(dim + 1))
        .collect::<Result<Vec<_>>>()?;
    Tensor::stack(&views, 0)?.max(0)
}

/// Pads `dim` with [`PAD_VALUE`].
fn pad_along(x: &Tensor, dim: usize, before: usize, after: usize) -> Result<Tensor> {
    let fill = |n: usize| {
        let mut dims = x.dims().to_vec();
        dims[dim] = n;
        Tensor::full(PAD_VALUE, dims, x.device())?.to_dtype(x.dtype())
    };
    Tensor::cat(&[fill(before)?, x.clone(), fill(after)?], dim)
}

/// Maximum over the spatial dimensions: `(B, C, H, W)` → `(B, C)`.
pub fn global_max(x: &Tensor) -> Result<Tensor> {
    x.dims4()?;
    x.flatten_from(2)?.max(D::Minus1)
}

/// Mean over the spatial dimensions: `(B, C, H, W)` → `(B, C)`.
pub fn global_mean(x: &Tensor) -> Result<Tensor> {
    x.dims4()?;
    x.flatten_from(2)?.mean(D::Minus1)
}

/// Finite-difference gradient checks shared by the tests of this layer.
#[cfg(test)]
pub(crate) mod fd {
    use candle_core::{DType, Device, Result, Tensor, Var};

    /// A deterministic f64 tensor with values spread over roughly `[-1, 1]` (no ties).
    pub(crate) fn spread(shape: &[usize], seed: u64) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        let values: Vec<f64> =
            (0..n).map(|i| ((i as f64 + 1.0) * 0.618_033_988_749_895 + seed as f64 * 0.371).fract() * 2.0 - 1.0).collect();
        Tensor::from_vec(values, shape, &Device::Cpu)
    }

    /// Overwrites the variables of `varmap` with seeded pseudo-random values (He-scaled uniform weights, batch-norm
    /// scales near 1, small biases), so that finite-difference tests do not depend on candle's unseeded initialisation.
    pub(crate) fn seeded_init(varmap: &candle_nn::VarMap, seed: u64) -> Result<()> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let data = varmap.data().lock().expect("varmap lock");
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        for name in names {
            let var = &data[name];
            let dims = var.dims().to_vec();
            let fan_in: usize = dims.iter().skip(1).product();
            let (center, half_width) = match name.rsplit('.').next() {
                // Batch-norm scales and running variances near 1.
                Some("running_var") => (1.0, 0.2),
                Some("weight") if dims.len() == 1 => (1.0, 0.2),
                Some("weight") => (0.0, (6.0 / fan_in as f64).sqrt()),
                // Biases and running means.
                _ => (0.0, 0.1),
            };
            let values: Vec<f64> = (0..var.elem_count()).map(|_| center + half_width * rng.random_range(-1.0..1.0)).collect();
            var.set(&Tensor::from_vec(values, dims, &Device::Cpu)?.to_dtype(var.dtype())?)?;
        }
        Ok(())
    }

    /// Compares the gradient of the scalar `f(x)` with central differences at the flat positions `at` (all when `None`);
    /// returns the largest error relative to the largest gradient magnitude.
    pub(crate) fn relative_gradient_error(
        f: impl Fn(&Tensor) -> Result<Tensor>,
        x: &Tensor,
        at: Option<&[usize]>,
        step: f64,
    ) -> Result<f64> {
        assert_eq!(x.dtype(), DType::F64, "finite differences need f64");
        let var = Var::from_tensor(&x.detach())?;
        let grads = f(var.as_tensor())?.backward()?;
        let analytic: Vec<f64> = grads.get(var.as_tensor()).expect("no gradient reached the input").flatten_all()?.to_vec1()?;
        let base: Vec<f64> = x.flatten_all()?.to_vec1()?;
        let positions: Vec<usize> = at.map_or_else(|| (0..base.len()).collect(), <[usize]>::to_vec);
        let eval_at = |i: usize, delta: f64| -> Result<f64> {
            let mut values = base.clone();
            values[i] += delta;
            f(&Tensor::from_vec(values, x.shape(), x.device())?)?.to_scalar::<f64>()
        };
        let (mut max_err, mut max_grad) = (0.0_f64, 1e-12_f64);
        for i in positions {
            let numeric = (eval_at(i, step)? - eval_at(i, -step)?) / (2.0 * step);
            max_err = max_err.max((numeric - analytic[i]).abs());
            max_grad = max_grad.max(analytic[i].abs()).max(numeric.abs());
        }
        Ok(max_err / max_grad)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // the pools must pick exactly the maximum
mod tests {
    use super::fd::{relative_gradient_error, spread};
    use super::*;

    fn naive_max_pool(x: &Tensor, kernel: usize, stride: usize, pad: usize) -> Vec<f64> {
        let (b, c, h, w) = x.dims4().unwrap();
        let data: Vec<f64> = x.flatten_all().unwrap().to_vec1().unwrap();
        let (out_h, out_w) = ((h + 2 * pad - kernel) / stride + 1, (w + 2 * pad - kernel) / stride + 1);
        let mut out = Vec::new();
        for plane in 0..b * c {
            for oy in 0..out_h {
                for ox in 0..out_w {
                    let mut best = f64::NEG_INFINITY;
                    for ky in 0..kernel {
                        for kx in 0..kernel {
                            let (y, x) = ((oy * stride + ky) as isize - pad as isize, (ox * stride + kx) as isize - pad as isize);
                            if (0..h as isize).contains(&y) && (0..w as isize).contains(&x) {
                                best = best.max(data[plane * h * w + y as usize * w + x as usize]);
                            }
                        }
                    }
                    out.push(best);
                }
            }
        }
        out
    }

    #[test]
    fn max_pool_2x2_matches_naive_loop() {
        for (h, w) in [(4, 6), (5, 7), (2, 3)] {
            let x = spread(&[2, 3, h, w], 1).unwrap();
            let y = max_pool_2x2(&x).unwrap();
            assert_eq!(y.dims(), [2, 3, h / 2, w / 2]);
            assert_eq!(y.flatten_all().unwrap().to_vec1::<f64>().unwrap(), naive_max_pool(&x, 2, 2, 0));
        }
    }

    #[test]
    fn max_pool_3x3_matches_naive_loop_and_torch_size() {
        for (h, w) in [(8, 8), (7, 9), (1, 2), (112, 111)] {
            let x = spread(&[1, 2, h, w], 2).unwrap();
            let y = max_pool_3x3_s2_p1(&x).unwrap();
            assert_eq!(y.dims(), [1, 2, (h + 2 - 3) / 2 + 1, (w + 2 - 3) / 2 + 1]);
            assert_eq!(y.flatten_all().unwrap().to_vec1::<f64>().unwrap(), naive_max_pool(&x, 3, 2, 1));
        }
    }

    #[test]
    fn global_pools() {
        let x = spread(&[2, 3, 4, 5], 3).unwrap();
        let data: Vec<f64> = x.flatten_all().unwrap().to_vec1().unwrap();
        let max: Vec<f64> = global_max(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let mean: Vec<f64> = global_mean(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        for (plane, chunk) in data.chunks(20).enumerate() {
            assert_eq!(max[plane], chunk.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            assert!((mean[plane] - chunk.iter().sum::<f64>() / 20.0).abs() < 1e-12);
        }
    }

    #[test]
    fn pool_gradients_match_finite_differences() {
        let weights = spread(&[2, 2, 4, 4], 7).unwrap();
        let err = relative_gradient_error(
            |x| max_pool_2x2(x)?.mul(&weights.narrow(2, 0, 3)?.narrow(3, 0, 3)?)?.sum_all(),
            &spread(&[2, 2, 7, 6], 4).unwrap(),
            None,
            1e-6,
        )
        .unwrap();
        assert!(err < 1e-3, "max_pool_2x2: {err}");
        let err =
            relative_gradient_error(|x| max_pool_3x3_s2_p1(x)?.mul(&weights)?.sum_all(), &spread(&[2, 2, 7, 8], 5).unwrap(), None, 1e-6)
                .unwrap();
        assert!(err < 1e-3, "max_pool_3x3_s2_p1: {err}");
        let w2 = weights.narrow(2, 0, 1).unwrap().narrow(3, 0, 1).unwrap().squeeze(3).unwrap().squeeze(2).unwrap();
        for pool in [global_max, global_mean] {
            let err = relative_gradient_error(|x| pool(x)?.mul(&w2)?.sum_all(), &spread(&[2, 2, 5, 3], 6).unwrap(), None, 1e-6).unwrap();
            assert!(err < 1e-3, "global pool: {err}");
        }
    }
}
