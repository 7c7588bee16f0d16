//! A stride-2 convolution as a stride-1 convolution of the input's four polyphase components.
//!
//! With `x_ab[i, j] = x[2i + a, 2j + b]` (`a, b ∈ {0, 1}`, stacked as `4C` channels, "space to depth"), output
//! `y[i, j] = Σ w[ty, tx] · x[2i + ty − p, 2j + tx − p]` reads, for tap offset `u = t − p`, phase `u mod 2` at
//! position `i + ⌊u / 2⌋`. So `y` is a stride-1 conv of the phase stack with a `k′ × k′` kernel
//! (`k′ = ⌊(k − 1 − p) / 2⌋ − ⌊−p / 2⌋ + 1`: 2 for 3×3, 3 for 5×5) whose weights are the original ones moved
//! (the rest zero), with asymmetric zero padding. Every step is a candle op with a gradient (reshape, permute,
//! `index_select`, padding) or the fast stride-1 conv, so the backward pass needs no `conv_transpose2d`.

use candle_core::{Result, Tensor};

/// `(phase, offset)` of tap `t` of a kernel with padding `p`: input row `2i + t − p` is phase row `i + offset`.
fn phase_and_offset(t: usize, p: usize) -> (usize, isize) {
    let u = t.cast_signed() - p.cast_signed();
    let phase = u.rem_euclid(2);
    (phase.cast_unsigned(), (u - phase) / 2)
}

/// `x.conv2d(weight, padding, 2, 1, 1)` through the polyphase components (CPU, float dtypes).
pub(super) fn conv2d_stride_2(x: &Tensor, weight: &Tensor, padding: usize) -> Result<Tensor> {
    let (batch, c_in, h, w) = x.dims4()?;
    let (c_out, _, kernel, _) = weight.dims4()?;
    if h + 2 * padding < kernel || w + 2 * padding < kernel {
        candle_core::bail!("conv kernel {kernel} larger than the padded {h}×{w} input");
    }
    let (out_h, out_w) = ((h + 2 * padding - kernel) / 2 + 1, (w + 2 * padding - kernel) / 2 + 1);
    // Even sizes (an extra zero row or column reads like the conv's own zero padding).
    let x = x.pad_with_zeros(2, 0, h % 2)?.pad_with_zeros(3, 0, w % 2)?;
    let (hh, hw) = (h.div_ceil(2), w.div_ceil(2));
    let phases = x.reshape((batch, c_in, hh, 2, hw, 2))?.permute((0, 3, 5, 1, 2, 4))?.reshape((batch, 4 * c_in, hh, hw))?;

    let offsets: Vec<isize> = (0..kernel).map(|t| phase_and_offset(t, padding).1).collect();
    let (lo, hi) = (offsets[0], offsets[kernel - 1]);
    let k2 = (hi - lo + 1).cast_unsigned();
    // For every weight of the phase kernel (c_out-independent layout (4C, k2, k2)), its source in the flattened
    // (C, k, k) kernel, or the appended zero.
    let zero = c_in * kernel * kernel;
    let mut source = vec![u32::try_from(zero).map_err(|_| candle_core::Error::Msg("kernel too large".into()))?; 4 * c_in * k2 * k2];
    for c in 0..c_in {
        for ty in 0..kernel {
            let (ay, oy) = phase_and_offset(ty, padding);
            for tx in 0..kernel {
                let (ax, ox) = phase_and_offset(tx, padding);
                let channel = (ay * 2 + ax) * c_in + c;
                let at = (channel * k2 + (oy - lo).cast_unsigned()) * k2 + (ox - lo).cast_unsigned();
                source[at] = ((c * kernel + ty) * kernel + tx) as u32;
            }
        }
    }
    let source = Tensor::from_vec(source, 4 * c_in * k2 * k2, weight.device())?;
    let flat = weight.reshape((c_out, c_in * kernel * kernel))?;
    let flat = Tensor::cat(&[&flat, &flat.narrow(1, 0, 1)?.zeros_like()?], 1)?;
    let phase_weight = flat.index_select(&source, 1)?.reshape((c_out, 4 * c_in, k2, k2))?;

    // Output row i reads phase rows i + lo ..= i + hi: pad -lo on top and whatever the bottom needs.
    let top = (-lo).cast_unsigned();
    let bottom = |out: usize, len: usize| (out.cast_signed() + hi - len.cast_signed()).max(0).cast_unsigned();
    let padded = phases.pad_with_zeros(2, top, bottom(out_h, hh))?.pad_with_zeros(3, top, bottom(out_w, hw))?;
    let y = super::conv2d(&padded, &phase_weight, 0, 1)?;
    // Tap 0 reads offset ⌊−p / 2⌋ ≤ 0, so nothing is skipped at the start; rows beyond the output are dropped.
    y.narrow(2, 0, out_h)?.narrow(3, 0, out_w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!((0..3).map(|t| phase_and_offset(t, 1)).collect::<Vec<_>>(), [(1, -1), (0, 0), (1, 0)]);
        assert_eq!((0..5).map(|t| phase_and_offset(t, 2)).collect::<Vec<_>>(), [(0, -1), (1, -1), (0, 0), (1, 0), (0, 1)]);
        assert_eq!(phase_and_offset(0, 0), (0, 0));
    }
}
