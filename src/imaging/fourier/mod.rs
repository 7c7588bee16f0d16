//! Fourier filtering of full-resolution images: a cached 2-D real FFT and radial (ideal or Butterworth) low-/high-pass
//! filters with the cut-off in cycles/mm (robustness-lowpass-mammography, "Fourier filtering": R = 1.0–3.0 cycles/mm).
//!
//! [`Spectrum::forward`] transforms an image once; [`Spectrum::filtered`] applies a [`RadialFilter`] and the inverse
//! transform only, so moving the cut-off slider never repeats the forward transform.
//!
//! How: rows with `realfft` (real-to-complex), a blocked transpose, columns with `rustfft`; each stage runs in parallel
//! over blocks of rows or columns with rayon, with per-thread scratch. FFT plans and the full-size work buffer live in
//! the [`Spectrum`] and are reused by every [`Spectrum::filtered`] call. Each axis is padded to a fast length
//! (factors 2, 3, 5) with a cross-faded mirror of the image borders ([`padding`]) to limit wrap-around ringing. With
//! an ideal low-pass, the columns of the spectrum beyond R are all zero and their inverse transforms are skipped.
//!
//! ```
//! use mammoscope::imaging::Image;
//! use mammoscope::imaging::fourier::{RadialFilter, Spectrum, feature_size_mm};
//! let image = Image::filled(64, 48, 100.0);
//! let spectrum = Spectrum::forward(&image, [0.1, 0.1], &|| false).unwrap();
//! assert!((spectrum.nyquist_cycles_per_mm() - 5.0).abs() < 1e-12);
//! let blurred = spectrum.filtered(&RadialFilter::ideal_low_pass(2.0), &|| false).unwrap();
//! assert_eq!((blurred.width, blurred.height), (64, 48));
//! assert!((feature_size_mm(2.0) - 0.25).abs() < 1e-12);
//! ```

mod filter;
mod inverse;
pub mod padding;
mod spectrum;
#[cfg(test)]
mod tests;

pub use filter::RadialFilter;
pub use spectrum::Spectrum;

/// Why a transform or filter could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FourierError {
    #[error("cancelled")]
    Cancelled,
    #[error("cannot transform an empty image ({width}×{height} px)")]
    Empty { width: usize, height: usize },
    #[error("image has {len} values, expected {width}×{height}")]
    DataLength { width: usize, height: usize, len: usize },
    #[error("image of {width}×{height} px is too large to transform")]
    TooLarge { width: usize, height: usize },
    #[error("pixel spacing must be positive and finite, got {0:?} mm")]
    Spacing([f64; 2]),
    #[error("cut-off must be positive and finite, got {0} cycles/mm")]
    Cutoff(f64),
    #[error("Butterworth order must be at least 1, got {0}")]
    ButterworthOrder(u32),
    #[error("FFT failed: {0}")]
    Fft(#[from] realfft::FftError),
}

/// The Nyquist frequency in cycles/mm of pixel spacing `[row_mm, col_mm]`: the smaller of the two axes' `1 / (2 · spacing)`.
pub fn nyquist_cycles_per_mm(spacing_mm: [f64; 2]) -> f64 {
    let [row_mm, col_mm] = spacing_mm;
    (0.5 / row_mm).min(0.5 / col_mm)
}

/// The smallest feature a low-pass at `cutoff_cycles_per_mm` keeps: the half-period `1 / (2R)` in mm.
pub fn feature_size_mm(cutoff_cycles_per_mm: f64) -> f64 {
    0.5 / cutoff_cycles_per_mm
}
