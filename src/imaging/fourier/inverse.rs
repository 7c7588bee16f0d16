//! [`Spectrum::filtered`]: mask + inverse transform, reusing the cached forward transform.

use rayon::prelude::*;
use rustfft::num_complex::Complex32;

use super::spectrum::{COL_BLOCK, ROW_BLOCK};
use super::{FourierError, RadialFilter, Spectrum};
use crate::imaging::Image;

impl Spectrum {
    /// The image filtered by `filter`, at its original size. Only the mask and the inverse transform run; the forward
    /// transform is the cached one. `cancelled` is polled between blocks of columns and rows.
    ///
    /// Values are not clamped: an ideal filter rings, so the result can leave the original range.
    pub fn filtered(&self, filter: &RadialFilter, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Image, FourierError> {
        let gain = filter.gain(self.nyquist_cycles_per_mm())?;
        let (fy2, fx2) = self.frequencies2();
        // Columns past the filter's support are all zero: leave them out of both inverse stages.
        let active = gain.support2().map_or(fx2.len(), |support2| fx2.iter().take_while(|&&f2| f2 <= support2).count().max(1));

        let mut guard = self.work.try_lock();
        let mut own = Vec::new();
        let work: &mut Vec<Complex32> = match guard.as_deref_mut() {
            Some(shared) => shared,
            None => &mut own,
        };
        work.resize(self.data.len(), Complex32::default());

        let ny = self.y.padded;
        let col_ifft = &self.col_inverse;
        let span = ny * active;
        work[..span].par_chunks_mut(ny * COL_BLOCK).zip(self.data[..span].par_chunks(ny * COL_BLOCK)).enumerate().try_for_each_init(
            || vec![Complex32::default(); col_ifft.get_inplace_scratch_len()],
            |scratch, (block_index, (out_block, in_block))| {
                if cancelled() {
                    return Err(FourierError::Cancelled);
                }
                let columns = out_block.chunks_exact_mut(ny).zip(in_block.chunks_exact(ny));
                for (c, (out, input)) in columns.enumerate() {
                    let f2x = fx2[block_index * COL_BLOCK + c];
                    for ((o, &v), &f2y) in out.iter_mut().zip(input).zip(&fy2) {
                        *o = v * gain.at(f2x + f2y);
                    }
                    if block_index == 0 && c == 0 {
                        out[0] = input[0]; // DC: the mean is always kept
                    }
                    col_ifft.process_with_scratch(out, scratch);
                }
                Ok(())
            },
        )?;

        let work: &[Complex32] = work;
        let (width, height) = (self.x.n, self.y.n);
        let columns = fx2.len();
        let last_is_real = self.x.padded.is_multiple_of(2);
        let scale = 1.0 / (self.x.padded as f64 * ny as f64) as f32;
        let row_ifft = &self.row_inverse;
        let mut out = vec![0.0f32; width * height];
        out.par_chunks_mut(width * ROW_BLOCK).enumerate().try_for_each_init(
            || (vec![Complex32::default(); columns * ROW_BLOCK], vec![0.0f32; self.x.padded], row_ifft.make_scratch_vec()),
            |(rows, line, scratch), (block_index, out_block)| {
                if cancelled() {
                    return Err(FourierError::Cancelled);
                }
                let y0 = block_index * ROW_BLOCK;
                let count = out_block.len() / width;
                for (kx, column) in work[..span].chunks_exact(ny).enumerate() {
                    for (r, &value) in column[y0..y0 + count].iter().enumerate() {
                        rows[r * columns + kx] = value;
                    }
                }
                for (row, out_row) in rows.chunks_exact_mut(columns).zip(out_block.chunks_exact_mut(width)) {
                    row[active..].fill(Complex32::default());
                    row[0].im = 0.0;
                    if last_is_real {
                        row[columns - 1].im = 0.0;
                    }
                    row_ifft.process_with_scratch(row, line, scratch)?;
                    for (o, &v) in out_row.iter_mut().zip(line.iter()) {
                        *o = v * scale;
                    }
                }
                Ok(())
            },
        )?;
        Ok(Image { width, height, data: out })
    }
}
