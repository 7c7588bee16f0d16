//! A 2 × 2, stride-2 max pool as one custom CPU op with an exact backward pass (the gradient goes to the first maximum
//! of each window, as torch does).
//!
//! [`crate::models::pool::max_pool_2x2`] is correct but builds its gradient from candle's `max` backward: two
//! broadcast comparisons over `(B, C, H/2, 2, W/2, 2)` whose innermost broadcast runs are 2 elements long, which made
//! this network's training step ~3 × slower than its convolutions. Other devices and dtypes than f32/f64 on the CPU
//! use that function.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};

use crate::models::pool::max_pool_2x2;

/// 2 × 2 max pool with stride 2 on `(B, C, H, W)`; an odd last row or column is dropped (as torch `MaxPool2d(2)`).
pub fn max_pool_2x2_fast(x: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    if !x.device().is_cpu() || !matches!(x.dtype(), candle_core::DType::F32 | candle_core::DType::F64) || h < 2 || w < 2 {
        return max_pool_2x2(x);
    }
    x.contiguous()?.apply_op1(MaxPool)
}

/// Index of the first maximum of each 2 × 2 window, as flat offsets into `(B·C, H, W)`, per output element.
fn argmax_windows<T: Copy + PartialOrd>(x: &[T], planes: usize, h: usize, w: usize) -> Vec<usize> {
    let (out_h, out_w) = (h / 2, w / 2);
    let mut out = Vec::with_capacity(planes * out_h * out_w);
    for plane in 0..planes {
        let base = plane * h * w;
        for oy in 0..out_h {
            let row = base + 2 * oy * w;
            for ox in 0..out_w {
                let first = row + 2 * ox;
                let mut best = first;
                for candidate in [first + 1, first + w, first + w + 1] {
                    if x[candidate] > x[best] {
                        best = candidate;
                    }
                }
                out.push(best);
            }
        }
    }
    out
}

/// `(planes, h, w)` of a contiguous `(B, C, H, W)` layout, and its data range.
fn geometry(layout: &Layout) -> Result<(usize, usize, usize, usize, usize)> {
    let Some((start, end)) = layout.contiguous_offsets() else { candle_core::bail!("max pool: expected a contiguous tensor") };
    let (b, c, h, w) = layout.shape().dims4()?;
    Ok((b * c, h, w, start, end))
}

/// The forward op.
struct MaxPool;

impl CustomOp1 for MaxPool {
    fn name(&self) -> &'static str {
        "max-pool-2x2-cpu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (planes, h, w, start, end) = geometry(layout)?;
        let (b, c, _, _) = layout.shape().dims4()?;
        let shape = Shape::from((b, c, h / 2, w / 2));
        let pooled = match storage {
            CpuStorage::F32(v) => {
                let x = &v[start..end];
                CpuStorage::F32(argmax_windows(x, planes, h, w).into_iter().map(|i| x[i]).collect())
            }
            CpuStorage::F64(v) => {
                let x = &v[start..end];
                CpuStorage::F64(argmax_windows(x, planes, h, w).into_iter().map(|i| x[i]).collect())
            }
            _ => candle_core::bail!("max pool: expected f32 or f64"),
        };
        Ok((pooled, shape))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(arg.apply_op2_no_bwd(&grad_res.contiguous()?, &MaxPoolBackward)?))
    }
}

/// `(input, output gradient)` → input gradient: each output gradient lands on its window's first maximum.
struct MaxPoolBackward;

impl CustomOp2 for MaxPoolBackward {
    fn name(&self) -> &'static str {
        "max-pool-2x2-cpu-backward"
    }

    fn cpu_fwd(&self, x: &CpuStorage, x_layout: &Layout, grad: &CpuStorage, grad_layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (planes, h, w, start, end) = geometry(x_layout)?;
        let Some((g_start, g_end)) = grad_layout.contiguous_offsets() else {
            candle_core::bail!("max pool: expected a contiguous gradient")
        };
        let scatter = |targets: Vec<usize>, grad: &[f64]| {
            let mut out = vec![0.0; planes * h * w];
            for (i, g) in targets.into_iter().zip(grad) {
                out[i] += g;
            }
            out
        };
        let result = match (x, grad) {
            (CpuStorage::F32(x), CpuStorage::F32(g)) => {
                let g: Vec<f64> = g[g_start..g_end].iter().map(|&v| f64::from(v)).collect();
                CpuStorage::F32(scatter(argmax_windows(&x[start..end], planes, h, w), &g).into_iter().map(|v| v as f32).collect())
            }
            (CpuStorage::F64(x), CpuStorage::F64(g)) => {
                CpuStorage::F64(scatter(argmax_windows(&x[start..end], planes, h, w), &g[g_start..g_end]))
            }
            _ => candle_core::bail!("max pool backward: expected f32 or f64 input and gradient of one dtype"),
        };
        Ok((result, x_layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::pool::fd::{relative_gradient_error, spread};

    #[test]
    fn matches_the_reference_pool_in_value_and_gradient() {
        for (h, w) in [(4, 6), (5, 7), (2, 3), (250, 250)] {
            let x = spread(&[2, 3, h, w], 4).unwrap();
            let fast = max_pool_2x2_fast(&x).unwrap();
            assert_eq!(fast.dims(), [2, 3, h / 2, w / 2]);
            let reference = max_pool_2x2(&x).unwrap();
            assert_eq!(fast.flatten_all().unwrap().to_vec1::<f64>().unwrap(), reference.flatten_all().unwrap().to_vec1::<f64>().unwrap());
            let weights = spread(&[2, 3, h / 2, w / 2], 9).unwrap();
            let f = |x: &Tensor| max_pool_2x2_fast(x)?.mul(&weights)?.sum_all();
            let g = |x: &Tensor| max_pool_2x2(x)?.mul(&weights)?.sum_all();
            let at: Vec<usize> = (0..x.elem_count()).step_by(if h > 10 { 997 } else { 1 }).collect();
            assert!(relative_gradient_error(f, &x, Some(&at), 1e-6).unwrap() < 1e-8);
            let (vf, vg) = (candle_core::Var::from_tensor(&x).unwrap(), candle_core::Var::from_tensor(&x).unwrap());
            let gf = f(vf.as_tensor())
                .unwrap()
                .backward()
                .unwrap()
                .get(vf.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let gg = g(vg.as_tensor())
                .unwrap()
                .backward()
                .unwrap()
                .get(vg.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            assert_eq!(gf, gg);
        }
    }

    #[test]
    fn f32_and_non_contiguous_inputs() {
        let x = spread(&[1, 2, 6, 4], 2).unwrap().to_dtype(candle_core::DType::F32).unwrap().transpose(2, 3).unwrap();
        let fast: Vec<f32> = max_pool_2x2_fast(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let reference: Vec<f32> = max_pool_2x2(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(fast, reference);
    }
}
