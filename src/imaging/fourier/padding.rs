//! Padded transform sizes and the border padding that limits wrap-around ringing.
//!
//! The discrete Fourier transform treats the image as periodic, so a plain transform joins the right edge to the left
//! (and the bottom to the top). When the two edges differ (breast tissue at the chest wall, air on the other side),
//! the join is a step, and an ideal filter turns a step into ringing that reaches into the image.
//!
//! Each axis of length `n` is therefore padded to `padded ≥ n + MIN_PAD_PX`, the smallest length whose prime
//! factors are 2, 3 and 5 (fast for `rustfft`; the row axis, transformed by `realfft`, is also even). The padding
//! after the last sample is a **cross-faded mirror**: it starts as the mirror image of the end of the line
//! (`x[n + j] ≈ x[n − 1 − j]`) and fades, with a raised-cosine weight, into the mirror image of the start of the
//! line as seen from the other side of the period (`x[n + j] ≈ x[padded − n − j − 1]` → `x[0]` at the wrap). The
//! padded line is thus continuous at both image borders and has no step anywhere; what remains is a change of slope
//! spread over the whole margin. The padding is cropped away after the inverse transform.

/// The least padding per axis, in pixels (the margin over which the two mirrors cross-fade).
pub const MIN_PAD_PX: usize = 32;

/// One axis: its length, its padded length, and how to fill the padding.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Axis {
    /// Samples of the image along this axis.
    pub n: usize,
    /// Transform length.
    pub padded: usize,
    /// Per padding sample `n + j`: (source mirrored at the end, source mirrored at the start, weight of the first).
    fill: Vec<(usize, usize, f32)>,
}

impl Axis {
    /// An axis of `n ≥ 1` samples; `even` asks for an even transform length. `None` when the padded length overflows.
    pub fn new(n: usize, even: bool) -> Option<Self> {
        let padded = fast_len(n.checked_add(MIN_PAD_PX)?, even)?;
        let pad = padded - n;
        let fill = (0..pad)
            .map(|j| {
                let from_end = (n - 1).saturating_sub(j);
                let from_start = (pad - j - 1).min(n - 1);
                let t = (j as f64 + 0.5) / pad as f64;
                let weight = 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
                (from_end, from_start, weight as f32)
            })
            .collect();
        Some(Self { n, padded, fill })
    }

    /// Fill `line[n..padded]` from `line[..n]`.
    #[inline]
    pub fn pad<T>(&self, line: &mut [T])
    where
        T: Copy + std::ops::Mul<f32, Output = T> + std::ops::Add<Output = T>,
    {
        let (data, padding) = line.split_at_mut(self.n);
        for (out, &(from_end, from_start, weight)) in padding.iter_mut().zip(&self.fill) {
            *out = data[from_end] * weight + data[from_start] * (1.0 - weight);
        }
    }
}

/// The smallest length `≥ min` whose only prime factors are 2, 3 and 5 (and even when `even`).
pub fn fast_len(min: usize, even: bool) -> Option<usize> {
    (min.max(1)..=min.checked_mul(2)?.max(2)).find(|&len| (!even || len.is_multiple_of(2)) && is_5_smooth(len))
}

fn is_5_smooth(mut len: usize) -> bool {
    for p in [2, 3, 5] {
        while len.is_multiple_of(p) {
            len /= p;
        }
    }
    len == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_lengths() {
        assert_eq!(fast_len(4096, false), Some(4096));
        assert_eq!(fast_len(4096 + MIN_PAD_PX, false), Some(4320));
        assert_eq!(fast_len(3328 + MIN_PAD_PX, false), Some(3375));
        assert_eq!(fast_len(3328 + MIN_PAD_PX, true), Some(3456));
        assert_eq!(fast_len(7, true), Some(8));
        assert_eq!(fast_len(1, false), Some(1));
    }

    #[test]
    fn padding_is_continuous_at_both_borders() {
        let axis = Axis::new(64, true).unwrap();
        let mut line: Vec<f32> = (0..64).map(|i| i as f32).collect();
        line.resize(axis.padded, 0.0);
        axis.pad(&mut line);
        // Just past the end: close to the last value; just before the wrap: close to the first.
        assert!((line[64] - 63.0).abs() < 0.1, "{}", line[64]);
        assert!(line[axis.padded - 1] < 0.6, "{}", line[axis.padded - 1]);
        // No step between neighbours larger than the image's own slope plus the fade.
        let max_step = line.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0f32, f32::max);
        assert!(max_step < 10.0, "{max_step}");
        // Tiny images (padding longer than the image) stay in bounds.
        let tiny = Axis::new(1, true).unwrap();
        let mut line = vec![5.0f32; tiny.padded];
        tiny.pad(&mut line);
        assert!(line.iter().all(|&v| (v - 5.0).abs() < 1e-6));
    }
}
