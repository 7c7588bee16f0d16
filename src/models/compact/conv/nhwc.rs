//! Evaluation-only convolutions on NHWC activations: the compact network's inference path on the CPU.
//!
//! `bench calc --stages` against `PyTorch` showed where the NCHW path loses (batch of 16, ms, candle / torch):
//! the stride-2 layers run as polyphase convs with 16/9 of the multiply-adds (enc.1 23 / 7.8, head.1 13 / 2.6), every
//! conv is one small matrix product per sample, and candle's matrix product (gemm) is at its best when the long
//! dimension is the rows of the left matrix (~160 GFLOP/s) and at its worst with a few output channels as those rows
//! (~80–100). Here a conv is:
//! - one im2col pass (a custom op, safe Rust, rayon): row `(b, y, x)` holds the `k × k × C` input values the output
//!   pixel reads, in `(ky, kx, c)` order, then a 1 (the bias); the previous layer's `ReLU` is applied while copying;
//! - one matrix product `(n·H_out·W_out) × (k²C + 1)` by `(k²C + 1) × O` for every `n` samples (about 2048 output
//!   pixels at a time, so the column matrix stays a few MB), whose output is already NHWC.
//!
//! So a layer costs one copy and a few large matrix products, with no separate bias, `ReLU` or layout passes. No
//! gradients flow (FGSM and training take the NCHW path); the tests compare it with candle's `conv2d`.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Output pixels per im2col matrix and matrix product (whole samples; at least one).
const ROWS_PER_PRODUCT: usize = 2048;

/// The output length of a conv along an axis of `len` pixels.
fn out_len(len: usize, kernel: usize, stride: usize, padding: usize) -> Result<usize> {
    match (len + 2 * padding).checked_sub(kernel) {
        Some(span) if stride > 0 => Ok(span / stride + 1),
        _ => candle_core::bail!("conv kernel {kernel} larger than the padded axis of {len}"),
    }
}

/// im2col of a contiguous f32 NHWC tensor, with a trailing 1 per row and optionally `ReLU` on the input.
struct Im2Col {
    kernel: usize,
    stride: usize,
    padding: usize,
    relu: bool,
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "im2col-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(all) = storage else { candle_core::bail!("im2col-nhwc takes f32") };
        let Some((start, end)) = layout.contiguous_offsets() else { candle_core::bail!("im2col-nhwc takes a contiguous tensor") };
        let x = &all[start..end];
        let (batch, h, w, c) = layout.shape().dims4()?;
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let (out_h, out_w) = (out_len(h, k, s, p)?, out_len(w, k, s, p)?);
        let row = k * k * c + 1;
        let mut out = vec![0f32; batch * out_h * out_w * row];
        // One output row (b, y) per task: its `out_w` im2col rows.
        out.par_chunks_mut(out_w * row).enumerate().for_each(|(r, rows)| {
            let (b, oy) = (r / out_h, r % out_h);
            for (ox, dst) in rows.chunks_exact_mut(row).enumerate() {
                dst[row - 1] = 1.0;
                // The taps of one kernel row read adjacent pixels, contiguous in NHWC: one copy per kernel row, of
                // the taps that fall inside the image.
                let left = (ox * s).cast_signed() - p.cast_signed();
                let first = (-left).clamp(0, k.cast_signed()).cast_unsigned();
                let end = (w.cast_signed() - left).clamp(0, k.cast_signed()).cast_unsigned();
                if first >= end {
                    continue;
                }
                let (ix, len) = ((left + first.cast_signed()).cast_unsigned(), (end - first) * c);
                for ky in 0..k {
                    let Some(iy) = (oy * s + ky).checked_sub(p).filter(|&iy| iy < h) else { continue };
                    let src = &x[((b * h + iy) * w + ix) * c..][..len];
                    let to = &mut dst[(ky * k + first) * c..][..len];
                    if self.relu {
                        to.iter_mut().zip(src).for_each(|(o, &v)| *o = v.max(0.0));
                    } else {
                        to.copy_from_slice(src);
                    }
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((batch * out_h * out_w, row))))
    }
}

/// A conv with bias, ready for NHWC inference: the `(k²C + 1, O)` matrix of weights and bias.
#[derive(Debug, Clone)]
pub struct NhwcConv {
    matrix: Tensor,
    kernel: usize,
    stride: usize,
    padding: usize,
}

impl NhwcConv {
    /// From torch-layout weights `(O, C, k, k)` and a bias `(O,)` (any float dtype; kept as f32).
    pub fn new(weight: &Tensor, bias: &Tensor, stride: usize, padding: usize) -> Result<Self> {
        let (c_out, c_in, kernel, _) = weight.dims4()?;
        let taps = weight.to_dtype(DType::F32)?.permute((2, 3, 1, 0))?.reshape((kernel * kernel * c_in, c_out))?;
        let matrix = Tensor::cat(&[&taps, &bias.to_dtype(DType::F32)?.reshape((1, c_out))?], 0)?.contiguous()?;
        Ok(Self { matrix, kernel, stride, padding })
    }

    /// `conv(relu?(x)) + bias` of `x` `(B, H, W, C)` f32 on the CPU → `(B, H_out, W_out, O)`; `relu_input` applies
    /// `ReLU` to `x` first (the previous layer's activation).
    pub fn forward(&self, x: &Tensor, relu_input: bool) -> Result<Tensor> {
        let (batch, h, w, _) = x.dims4()?;
        let (out_h, out_w) = (out_len(h, self.kernel, self.stride, self.padding)?, out_len(w, self.kernel, self.stride, self.padding)?);
        let op = Im2Col { kernel: self.kernel, stride: self.stride, padding: self.padding, relu: relu_input };
        let x = x.contiguous()?;
        // A few samples at a time: the column matrix stays a few MB (cache-sized, and reused by the allocator
        // instead of fresh pages), with enough rows for an efficient matrix product.
        let per_chunk = ROWS_PER_PRODUCT.div_ceil(out_h * out_w).clamp(1, batch.max(1));
        let outputs = (0..batch)
            .step_by(per_chunk)
            .map(|b0| x.narrow(0, b0, per_chunk.min(batch - b0))?.apply_op1_no_bwd(&op)?.matmul(&self.matrix))
            .collect::<Result<Vec<_>>>()?;
        Tensor::cat(&outputs, 0)?.reshape((batch, out_h, out_w, ()))
    }
}

/// Whether `x` can take the NHWC path: f32 on the CPU, with no gradient wanted.
pub fn applies_to(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32 && !x.track_op()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
    }

    #[test]
    fn equals_candle_conv_with_bias_and_input_relu() {
        let device = Device::Cpu;
        for (c_in, c_out, kernel, stride, padding, h, w) in
            [(2, 16, 5, 2, 2, 13, 12), (16, 32, 3, 2, 1, 10, 11), (32, 8, 3, 1, 1, 7, 9), (3, 4, 1, 1, 0, 5, 5), (4, 6, 3, 1, 0, 6, 6)]
        {
            let x = Tensor::randn(0f32, 1.0, (3, c_in, h, w), &device).unwrap();
            let weight = Tensor::randn(0f32, 1.0, (c_out, c_in, kernel, kernel), &device).unwrap();
            let bias = Tensor::randn(0f32, 1.0, c_out, &device).unwrap();
            let conv = NhwcConv::new(&weight, &bias, stride, padding).unwrap();
            let nhwc = x.permute((0, 2, 3, 1)).unwrap();
            for relu in [false, true] {
                let input = if relu { x.relu().unwrap() } else { x.clone() };
                let expected =
                    input.conv2d(&weight, padding, stride, 1, 1).unwrap().broadcast_add(&bias.reshape((1, (), 1, 1)).unwrap()).unwrap();
                let got = conv.forward(&nhwc, relu).unwrap().permute((0, 3, 1, 2)).unwrap();
                assert_eq!(got.dims(), expected.dims());
                let diff = max_diff(&got, &expected);
                assert!(diff < 1e-4, "{c_in}→{c_out} k{kernel} s{stride} p{padding}: {diff}");
            }
        }
    }

    #[test]
    fn refuses_gradients_other_dtypes_and_kernels_larger_than_the_input() {
        let device = Device::Cpu;
        let var = candle_core::Var::zeros((1, 4, 4, 1), DType::F32, &device).unwrap();
        assert!(!applies_to(var.as_tensor()));
        assert!(!applies_to(&Tensor::zeros((1, 4, 4, 1), DType::F64, &device).unwrap()));
        assert!(applies_to(&Tensor::zeros((1, 4, 4, 1), DType::F32, &device).unwrap()));
        let conv = NhwcConv::new(
            &Tensor::zeros((1, 1, 7, 7), DType::F32, &device).unwrap(),
            &Tensor::zeros(1, DType::F32, &device).unwrap(),
            1,
            1,
        )
        .unwrap();
        assert!(conv.forward(&Tensor::zeros((1, 4, 4, 1), DType::F32, &device).unwrap(), false).is_err());
    }
}
