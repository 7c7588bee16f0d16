//! [`Spectrum`]: the cached forward transform of one image.

use std::sync::Arc;

use parking_lot::Mutex;
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner, num_complex::Complex32};

use super::FourierError;
use super::padding::Axis;
use crate::imaging::Image;

/// Image rows per parallel task in the row stages.
pub(super) const ROW_BLOCK: usize = 16;
/// Spectrum columns per parallel task in the column stages.
pub(super) const COL_BLOCK: usize = 8;

/// The forward 2-D FFT of one image, plus what is needed to filter and invert it: the original and padded sizes, the
/// pixel spacing, the FFT plans and a reusable work buffer.
///
/// Layout: `padded_width / 2 + 1` spectrum columns (horizontal frequency `kx`), each a contiguous run of
/// `padded_height` values (vertical frequency `ky`, in FFT order). Unnormalised.
pub struct Spectrum {
    pub(super) x: Axis,
    pub(super) y: Axis,
    pub(super) spacing_mm: [f64; 2],
    pub(super) data: Vec<Complex32>,
    pub(super) row_forward: Arc<dyn RealToComplex<f32>>,
    pub(super) row_inverse: Arc<dyn ComplexToReal<f32>>,
    pub(super) col_forward: Arc<dyn Fft<f32>>,
    pub(super) col_inverse: Arc<dyn Fft<f32>>,
    /// Same size as `data`; reused by [`Spectrum::filtered`] (a concurrent call allocates its own).
    pub(super) work: Mutex<Vec<Complex32>>,
}

impl std::fmt::Debug for Spectrum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spectrum")
            .field("size", &self.size())
            .field("padded_size", &self.padded_size())
            .field("spacing_mm", &self.spacing_mm)
            .finish_non_exhaustive()
    }
}

impl Spectrum {
    /// Transform `image` (pixel spacing `[row_mm, col_mm]`). `cancelled` is polled between blocks of rows and columns.
    pub fn forward(image: &Image, spacing_mm: [f64; 2], cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Self, FourierError> {
        let (width, height) = (image.width, image.height);
        if width == 0 || height == 0 {
            return Err(FourierError::Empty { width, height });
        }
        if image.data.len() != width.saturating_mul(height) {
            return Err(FourierError::DataLength { width, height, len: image.data.len() });
        }
        if !spacing_mm.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(FourierError::Spacing(spacing_mm));
        }
        let too_large = FourierError::TooLarge { width, height };
        let (Some(x), Some(y)) = (Axis::new(width, true), Axis::new(height, false)) else { return Err(too_large) };
        let columns = x.padded / 2 + 1;
        let Some(len) = columns.checked_mul(y.padded).filter(|&n| n <= isize::MAX as usize / 8) else { return Err(too_large) };

        let mut real_planner = RealFftPlanner::<f32>::new();
        let mut planner = FftPlanner::<f32>::new();
        let spectrum = Self {
            row_forward: real_planner.plan_fft_forward(x.padded),
            row_inverse: real_planner.plan_fft_inverse(x.padded),
            col_forward: planner.plan_fft_forward(y.padded),
            col_inverse: planner.plan_fft_inverse(y.padded),
            x,
            y,
            spacing_mm,
            data: vec![Complex32::default(); len],
            work: Mutex::new(vec![Complex32::default(); len]),
        };
        spectrum.transform(image, cancelled)
    }

    /// Rows into the work buffer (row-major, `height × columns`), then transpose + pad + column FFTs into `data`.
    fn transform(mut self, image: &Image, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Self, FourierError> {
        let (x, y) = (&self.x, &self.y);
        let columns = x.padded / 2 + 1;
        let mut work = std::mem::take(self.work.get_mut());
        let rows = &mut work[..y.n * columns];
        let row_fft = &self.row_forward;
        rows.par_chunks_mut(columns * ROW_BLOCK).zip(image.data.par_chunks(x.n * ROW_BLOCK)).try_for_each_init(
            || (vec![0.0f32; x.padded], row_fft.make_scratch_vec()),
            |(line, scratch), (out_block, in_block)| {
                if cancelled() {
                    return Err(FourierError::Cancelled);
                }
                for (out, input) in out_block.chunks_exact_mut(columns).zip(in_block.chunks_exact(x.n)) {
                    line[..x.n].copy_from_slice(input);
                    x.pad(line);
                    row_fft.process_with_scratch(line, out, scratch)?;
                }
                Ok(())
            },
        )?;

        let rows = &work[..y.n * columns];
        let col_fft = &self.col_forward;
        self.data.par_chunks_mut(y.padded * COL_BLOCK).enumerate().try_for_each_init(
            || vec![Complex32::default(); col_fft.get_inplace_scratch_len()],
            |scratch, (block_index, block)| {
                if cancelled() {
                    return Err(FourierError::Cancelled);
                }
                let kx0 = block_index * COL_BLOCK;
                let count = block.len() / y.padded;
                for (row_index, row) in rows.chunks_exact(columns).enumerate() {
                    for (c, &value) in row[kx0..kx0 + count].iter().enumerate() {
                        block[c * y.padded + row_index] = value;
                    }
                }
                for column in block.chunks_exact_mut(y.padded) {
                    y.pad(column);
                    col_fft.process_with_scratch(column, scratch);
                }
                Ok(())
            },
        )?;
        *self.work.get_mut() = work;
        Ok(self)
    }

    /// The Nyquist frequency of the image's pixel spacing, cycles/mm (see [`super::nyquist_cycles_per_mm`]).
    pub fn nyquist_cycles_per_mm(&self) -> f64 {
        super::nyquist_cycles_per_mm(self.spacing_mm)
    }

    /// The original image size (width, height).
    pub fn size(&self) -> (usize, usize) {
        (self.x.n, self.y.n)
    }

    /// The transform size (width, height) after padding.
    pub fn padded_size(&self) -> (usize, usize) {
        (self.x.padded, self.y.padded)
    }

    /// Pixel spacing `[row_mm, col_mm]`.
    pub fn spacing_mm(&self) -> [f64; 2] {
        self.spacing_mm
    }

    /// Squared frequency (cycles/mm)² of each vertical frequency index `ky` (FFT order), and of each column `kx`.
    pub(super) fn frequencies2(&self) -> (Vec<f32>, Vec<f32>) {
        let [row_mm, col_mm] = self.spacing_mm;
        let (nx, ny) = (self.x.padded, self.y.padded);
        let fy2 = (0..ny)
            .map(|k| {
                let signed = if k <= ny / 2 { k as f64 } else { k as f64 - ny as f64 };
                let f = signed / (ny as f64 * row_mm);
                (f * f) as f32
            })
            .collect();
        let fx2 = (0..=nx / 2)
            .map(|k| {
                let f = k as f64 / (nx as f64 * col_mm);
                (f * f) as f32
            })
            .collect();
        (fy2, fx2)
    }
}
