//! Radial filters: the gain as a function of the spatial frequency radius in cycles/mm.

use super::FourierError;

/// A radially symmetric filter, with the cut-off radius R in cycles/mm on the detector (the paper's R = 1.0–3.0).
///
/// - **Ideal** (`butterworth_order: None`, the paper's default): the low-pass keeps `|f| ≤ R` and removes the rest,
///   the high-pass keeps `|f| > R`. Sharp edges in the spectrum ring in the image.
/// - **Butterworth** of order `n`: gain `1 / (1 + (|f|/R)^(2n))` (low-pass) or `1 / (1 + (R/|f|)^(2n))` (high-pass),
///   −3 dB at R, smooth, so it rings far less.
///
/// The radius uses the pixel spacing of each axis: `|f|² = fx² + fy²` with `fx = kx / (Nx · col_mm)` and
/// `fy = ky / (Ny · row_mm)`, so anisotropic pixels are handled and the same R removes the same physical detail
/// at any spacing.
///
/// Two rules keep the result displayable and the slider's end stop meaningful:
/// - the **high-pass keeps the DC term** (the image mean), so the result stays around the original grey level
///   instead of around zero;
/// - a cut-off **at or above the Nyquist frequency** ([`super::nyquist_cycles_per_mm`]) means "everything below
///   Nyquist": the low-pass is then the identity (the diagonal corners of the spectrum, up to √2 × Nyquist, are kept
///   too) and the high-pass keeps only the mean.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub enum RadialFilter {
    LowPass { cutoff_cycles_per_mm: f64, butterworth_order: Option<u32> },
    HighPass { cutoff_cycles_per_mm: f64, butterworth_order: Option<u32> },
}

impl RadialFilter {
    /// The ideal low-pass of the paper.
    pub fn ideal_low_pass(cutoff_cycles_per_mm: f64) -> Self {
        Self::LowPass { cutoff_cycles_per_mm, butterworth_order: None }
    }

    /// The ideal high-pass of the paper.
    pub fn ideal_high_pass(cutoff_cycles_per_mm: f64) -> Self {
        Self::HighPass { cutoff_cycles_per_mm, butterworth_order: None }
    }

    pub fn cutoff_cycles_per_mm(&self) -> f64 {
        match *self {
            Self::LowPass { cutoff_cycles_per_mm, .. } | Self::HighPass { cutoff_cycles_per_mm, .. } => cutoff_cycles_per_mm,
        }
    }

    pub fn butterworth_order(&self) -> Option<u32> {
        match *self {
            Self::LowPass { butterworth_order, .. } | Self::HighPass { butterworth_order, .. } => butterworth_order,
        }
    }

    pub fn is_low_pass(&self) -> bool {
        matches!(self, Self::LowPass { .. })
    }

    /// The gain function for an image whose Nyquist frequency is `nyquist_cycles_per_mm`.
    pub(super) fn gain(&self, nyquist_cycles_per_mm: f64) -> Result<Gain, FourierError> {
        let cutoff = self.cutoff_cycles_per_mm();
        if !(cutoff.is_finite() && cutoff > 0.0) {
            return Err(FourierError::Cutoff(cutoff));
        }
        let low = self.is_low_pass();
        if cutoff >= nyquist_cycles_per_mm {
            return Ok(if low { Gain::All } else { Gain::MeanOnly });
        }
        let cutoff2 = (cutoff * cutoff) as f32;
        Ok(match self.butterworth_order() {
            None => Gain::Ideal { low, cutoff2 },
            Some(0) => return Err(FourierError::ButterworthOrder(0)),
            Some(order) => Gain::Butterworth { low, inv_cutoff2: 1.0 / cutoff2, order: order.min(64) as i32 },
        })
    }
}

/// The gain at a squared radius (cycles/mm)². The DC term always has gain 1 (the high-pass keeps the mean).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Gain {
    All,
    MeanOnly,
    Ideal { low: bool, cutoff2: f32 },
    Butterworth { low: bool, inv_cutoff2: f32, order: i32 },
}

impl Gain {
    #[inline]
    pub fn at(self, radius2: f32) -> f32 {
        match self {
            Self::All => 1.0,
            Self::MeanOnly => 0.0,
            Self::Ideal { low, cutoff2 } => f32::from(u8::from((radius2 <= cutoff2) == low)),
            Self::Butterworth { low, inv_cutoff2, order } => {
                let q = (radius2 * inv_cutoff2).powi(order);
                if low {
                    1.0 / (1.0 + q)
                } else if q.is_finite() {
                    q / (1.0 + q)
                } else {
                    1.0 // (r/R)^2n overflowed: far above the cut-off, where the high-pass passes everything
                }
            }
        }
    }

    /// The largest squared radius with a non-zero gain, when the filter is band-limited (an ideal low-pass).
    pub fn support2(self) -> Option<f32> {
        match self {
            Self::Ideal { low: true, cutoff2 } => Some(cutoff2),
            Self::MeanOnly => Some(0.0),
            _ => None,
        }
    }
}
