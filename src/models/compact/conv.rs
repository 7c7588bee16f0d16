//! A 2-D convolution layer that is faster on the CPU than candle's, forward and backward; shared by every network here.
//!
//! On the CPU, candle 0.11.1's `conv2d` gathers its im2col tiles element by element (3–5× slower than needed at
//! 224² with 16 channels), back-propagates to the input through a `conv_transpose2d` (a direct loop, 3–10× slower
//! than its `conv2d`) even when the input needs no gradient, and to the weights through a conv whose kernel is the
//! whole output gradient; the gradient of a per-channel bias sums over `(0, 2, 3)` at once, ~50× slower than one
//! axis at a time. Here, on the CPU:
//! - a stride-1 conv is one matrix product per sample over an im2col matrix assembled from nine (k²) contiguous
//!   slices of the padded image laid out row after row; a stride-2 conv is a stride-1 conv of the input's four
//!   polyphase components (`polyphase`), so it takes the same path forward and backward; other strides use
//!   candle's `conv2d`;
//! - the backward pass is a custom op: the input gradient (only when the input tracks gradients) is, for stride 1, a
//!   stride-1 conv of the output gradient with the flipped, transposed kernel (candle's `conv_transpose2d` for larger
//!   strides); the weight gradient one batched matrix product per kernel tap; the bias gradient two one-axis sums.
//!
//! Inference without gradients on the CPU has a faster path still, on NHWC activations (`nhwc`). Other devices use
//! candle's own kernels. The tests compare values and gradients with candle's and with finite
//! differences.

use candle_core::{CpuStorage, CustomOp3, D, DType, Layout, Result, Shape, Tensor};
use candle_nn::{Init, Module, VarBuilder};

/// A conv layer with torch's `(out, in, k, k)` weight layout (tensors `weight` and, optionally, `bias`).
#[derive(Debug, Clone)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: usize,
    padding: usize,
}

/// Kernel size, stride, padding and bias of a [`Conv2d`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvSpec {
    /// Square kernel side.
    pub kernel: usize,
    /// Stride in both directions.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
    /// Whether the layer has a bias.
    pub bias: bool,
}

impl Conv2d {
    /// Builds the layer from `vb`, initialised as candle-nn's `conv2d` (He-normal weights, uniform bias).
    pub fn new(c_in: usize, c_out: usize, spec: ConvSpec, vb: &VarBuilder) -> Result<Self> {
        let weight = vb.get_with_hints((c_out, c_in, spec.kernel, spec.kernel), "weight", candle_nn::init::DEFAULT_KAIMING_NORMAL)?;
        let bias = if spec.bias {
            let bound = 1.0 / (c_in as f64).sqrt();
            Some(vb.get_with_hints(c_out, "bias", Init::Uniform { lo: -bound, up: bound })?)
        } else {
            None
        };
        Ok(Self { weight, bias, stride: spec.stride, padding: spec.padding })
    }

    /// `scale · conv(x) + shift` per output channel (`scale`, `shift`: `(O,)`), with the scale folded into the weights:
    /// batch norm in evaluation mode after this conv, as one conv with a bias.
    pub fn forward_affine(&self, x: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<Tensor> {
        let (weight, bias) = self.folded(scale, shift)?;
        add_channel_bias(&conv2d(x, &weight, self.padding, self.stride)?, &bias)
    }

    /// [`Self::forward_affine`]'s conv for NHWC inference (no gradients; see [`nhwc`]).
    pub fn nhwc_affine(&self, scale: &Tensor, shift: &Tensor) -> Result<nhwc::NhwcConv> {
        let (weight, bias) = self.folded(scale, shift)?;
        nhwc::NhwcConv::new(&weight, &bias, self.stride, self.padding)
    }

    /// Weights and bias of `scale · conv(x) + shift`.
    fn folded(&self, scale: &Tensor, shift: &Tensor) -> Result<(Tensor, Tensor)> {
        let weight = self.weight.broadcast_mul(&scale.reshape(((), 1, 1, 1))?)?;
        let bias = match &self.bias {
            Some(bias) => ((bias * scale)? + shift)?,
            None => shift.clone(),
        };
        Ok((weight, bias))
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = conv2d(x, &self.weight, self.padding, self.stride)?;
        match &self.bias {
            Some(bias) => add_channel_bias(&y, bias),
            None => Ok(y),
        }
    }
}

/// `x.conv2d(weight, padding, stride, 1, 1)`, faster on the CPU (see the module docs).
pub fn conv2d(x: &Tensor, weight: &Tensor, padding: usize, stride: usize) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return x.conv2d(weight, padding, stride, 1, 1);
    }
    if stride == 2 && fast_dtype(x) {
        return polyphase::conv2d_stride_2(x, weight, padding);
    }
    let (x_value, weight_value) = (x.detach(), weight.detach());
    let y = if stride == 1 && fast_dtype(x) {
        conv_stride_1(&x_value, &weight_value, Pads { top: padding, bottom: padding, left: padding, right: padding })?
    } else {
        x_value.conv2d(&weight_value, padding, stride, 1, 1)?
    };
    if x.track_op() || weight.track_op() { x.apply_op3(weight, &y, ConvBackward { padding, stride }) } else { Ok(y) }
}

/// The dtypes of the matrix-product path (candle's CPU matmul also takes f16, but sums over 144+ terms need more bits).
fn fast_dtype(x: &Tensor) -> bool {
    matches!(x.dtype(), DType::F32 | DType::F64)
}

/// Zero padding of the two spatial axes.
#[derive(Clone, Copy, Debug)]
struct Pads {
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
}

/// Stride-1 correlation of `x` `(B, C, H, W)` with `weight` `(O, C, k, k)` and zero padding `pads`, computed per sample
/// as `weight (O × k²C) · columns (k²C × H_out·W_p)`. With the padded rows laid end to end (row length `W_p`), the
/// input of kernel tap `(ky, kx)` for every output pixel is the contiguous slice starting at `ky·W_p + kx`; the `W_p −
/// W_out` extra columns of each output row are computed and dropped. One spare zero row keeps the last slice in
/// bounds.
fn conv_stride_1(x: &Tensor, weight: &Tensor, pads: Pads) -> Result<Tensor> {
    let (batch, c_in, h, w) = x.dims4()?;
    let (c_out, _, kernel, _) = weight.dims4()?;
    let (out_h, out_w) = ((h + pads.top + pads.bottom + 1).saturating_sub(kernel), (w + pads.left + pads.right + 1).saturating_sub(kernel));
    if out_h == 0 || out_w == 0 {
        candle_core::bail!("conv kernel {kernel} larger than the padded {h}×{w} input");
    }
    let row = w + pads.left + pads.right;
    let len = out_h * row;
    let weight = weight.permute((0, 2, 3, 1))?.reshape((c_out, kernel * kernel * c_in))?;
    let samples = (0..batch)
        .map(|i| {
            let padded =
                x.get(i)?.pad_with_zeros(1, pads.top, pads.bottom + 1)?.pad_with_zeros(2, pads.left, pads.right)?.flatten_from(1)?;
            let taps =
                (0..kernel * kernel).map(|tap| padded.narrow(1, (tap / kernel) * row + tap % kernel, len)).collect::<Result<Vec<_>>>()?;
            weight.matmul(&Tensor::cat(&taps, 0)?)?.reshape((c_out, out_h, row))?.narrow(2, 0, out_w)
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::stack(&samples, 0)?.contiguous()
}

/// `y + bias[c]` on `(B, C, H, W)`, with the cheaper bias gradient on the CPU.
pub fn add_channel_bias(y: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let bias_map = bias.reshape((1, (), 1, 1))?;
    if !y.device().is_cpu() || !(y.track_op() || bias.track_op()) {
        return y.broadcast_add(&bias_map);
    }
    let sum = y.detach().broadcast_add(&bias_map.detach())?;
    y.apply_op3(bias, &sum, BiasBackward)
}

/// A copy of a contiguous float CPU storage: the forward pass of the carrier ops below.
pub(crate) fn copy_contiguous(storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
    let Some((start, end)) = layout.contiguous_offsets() else { candle_core::bail!("expected a contiguous tensor") };
    let copy = match storage {
        CpuStorage::F32(v) => CpuStorage::F32(v[start..end].to_vec()),
        CpuStorage::F64(v) => CpuStorage::F64(v[start..end].to_vec()),
        CpuStorage::F16(v) => CpuStorage::F16(v[start..end].to_vec()),
        CpuStorage::BF16(v) => CpuStorage::BF16(v[start..end].to_vec()),
        _ => candle_core::bail!("expected a float tensor"),
    };
    Ok((copy, layout.shape().clone()))
}

/// Carries a precomputed `y + bias` (third argument) and back-propagates to `y` (first) and `bias` (second).
struct BiasBackward;

impl CustomOp3 for BiasBackward {
    fn name(&self) -> &'static str {
        "channel-bias-cpu-backward"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        sum: &CpuStorage,
        layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        copy_contiguous(sum, layout)
    }

    fn bwd(
        &self,
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        Ok((Some(grad.clone()), Some(grad.flatten_from(2)?.sum(2)?.sum(0)?), None))
    }
}

/// Carries a precomputed conv output (third argument) and back-propagates to the input (first) and the kernel (second).
struct ConvBackward {
    padding: usize,
    stride: usize,
}

impl CustomOp3 for ConvBackward {
    fn name(&self) -> &'static str {
        "conv2d-cpu-backward"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        y: &CpuStorage,
        layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        copy_contiguous(y, layout)
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _: &Tensor,
        _: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad_x = if x.track_op() { Some(self.input_grad(x, weight, grad)?) } else { None };
        let grad_w = if weight.track_op() { Some(self.weight_grad(x, weight, grad)?) } else { None };
        Ok((grad_x, grad_w, None))
    }
}

impl ConvBackward {
    /// `∂/∂x`: for stride 1, a stride-1 conv of the gradient with the flipped, transposed kernel and padding `k − 1 − p`;
    /// for larger strides candle's `conv_transpose2d` (a conv of the zero-dilated gradient would do 4× the work).
    fn input_grad(&self, x: &Tensor, weight: &Tensor, grad: &Tensor) -> Result<Tensor> {
        let kernel = weight.dim(2)?;
        let p = self.padding;
        if self.stride == 1 && p < kernel && fast_dtype(grad) {
            let reversed = Tensor::from_vec((0..kernel as u32).rev().collect::<Vec<_>>(), kernel, weight.device())?;
            let flipped = weight.index_select(&reversed, 2)?.index_select(&reversed, 3)?.transpose(0, 1)?.contiguous()?;
            let pad = kernel - 1 - p;
            return conv_stride_1(&grad.detach(), &flipped, Pads { top: pad, bottom: pad, left: pad, right: pad });
        }
        // The transposed conv, with the output padding that restores the input size. It is one number for both axes
        // (candle's own backward takes the height's for both and fails when their remainders differ), so use the
        // larger and crop: output padding only appends rows or columns.
        let (_, _, h, w) = x.dims4()?;
        let (_, _, out_h, out_w) = grad.dims4()?;
        let restored = |out: usize| (out - 1) * self.stride + kernel - 2 * p;
        let output_padding = (h - restored(out_h)).max(w - restored(out_w));
        grad.conv_transpose2d(weight, p, output_padding, self.stride, 1)?.narrow(2, 0, h)?.narrow(3, 0, w)
    }

    /// `∂/∂w[o, c, ky, kx] = Σ_{b, i, j} grad[b, o, i, j] · x_padded[b, c, ky + s·i, kx + s·j]`: per tap, a batch of
    /// `(O × P)·(P × C)` products summed over the batch.
    fn weight_grad(&self, x: &Tensor, weight: &Tensor, grad: &Tensor) -> Result<Tensor> {
        let (c_out, c_in, kernel, _) = weight.dims4()?;
        let (batch, _, out_h, out_w) = grad.dims4()?;
        let (p, s) = (self.padding, self.stride);
        let taps = if s == 1 {
            // Rows of the padded input laid end to end: the window of tap (ky, kx) is then the contiguous range that
            // starts at `ky·W_p + kx`, a view the matrix product reads in place, if the gradient is laid out with the
            // same row length (zeros in the extra columns). One spare row keeps the last window in bounds.
            let x = x.detach().pad_with_zeros(2, p, p + 1)?.pad_with_zeros(3, p, p)?.contiguous()?;
            let (row, len) = (x.dim(3)?, out_h * x.dim(3)?);
            let x = x.flatten_from(2)?;
            let grad = grad.detach().pad_with_zeros(3, 0, row - out_w)?.reshape((batch, c_out, len))?;
            (0..kernel * kernel)
                .map(|tap| grad.matmul(&x.narrow(2, (tap / kernel) * row + tap % kernel, len)?.transpose(1, 2)?)?.sum(0))
                .collect::<Result<Vec<_>>>()?
        } else {
            // Zero padding, plus `s` spare rows and columns so that every strided window can be grouped.
            let x = x.detach().pad_with_zeros(2, p, p + s)?.pad_with_zeros(3, p, p + s)?;
            let grad = grad.detach().contiguous()?.reshape((batch, c_out, out_h * out_w))?;
            (0..kernel * kernel)
                .map(|tap| {
                    let window = strided(&strided(&x, 2, tap / kernel, out_h, s)?, 3, tap % kernel, out_w, s)?;
                    grad.matmul(&window.contiguous()?.reshape((batch, c_in, out_h * out_w))?.transpose(1, 2)?)?.sum(0)
                })
                .collect::<Result<Vec<_>>>()?
        };
        Tensor::stack(&taps, D::Minus1)?.reshape((c_out, c_in, kernel, kernel))
    }
}

/// Elements `start, start + stride, …` (`count` of them) of `dim`; needs `start + stride·count ≤ len`.
fn strided(x: &Tensor, dim: usize, start: usize, count: usize, stride: usize) -> Result<Tensor> {
    if stride == 1 {
        return x.narrow(dim, start, count);
    }
    let mut grouped = x.dims().to_vec();
    grouped[dim] = count;
    grouped.insert(dim + 1, stride);
    x.narrow(dim, start, stride * count)?.reshape(grouped)?.narrow(dim + 1, 0, 1)?.squeeze(dim + 1)
}

pub mod nhwc;
mod polyphase;
#[cfg(test)]
mod tests;
