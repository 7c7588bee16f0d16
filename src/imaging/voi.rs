//! VOI (value of interest) transforms: the CPU reference of `shaders/image.wgsl`.
//!
//! The formulas are DICOM PS3.3 C.11.2.1.2 (`LINEAR`, `LINEAR_EXACT`, `SIGMOID`) and C.11.2.1.1 (VOI LUT).
//! The output is a display value in `[0, 1]`; inversion and gamma follow, as in the shader:
//!
//! ```
//! use mammoscope::imaging::voi::{Display, VoiFunction, Window};
//! let d = Display { window: Window { center: 2048.0, width: 4096.0 }, function: VoiFunction::Linear, ..Display::default() };
//! assert!((d.display_value(2048.0, None) - 0.5).abs() < 1e-3);
//! ```

use serde::Serialize;

/// A window centre and width in modality units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Window {
    pub center: f64,
    pub width: f64,
}

impl Window {
    /// The window spanning `[lo, hi]`.
    pub fn from_range(lo: f64, hi: f64) -> Self {
        Self { center: 0.5 * (lo + hi), width: (hi - lo).max(1.0) }
    }
}

/// VOI LUT Function (0028,1056).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum VoiFunction {
    #[default]
    Linear,
    LinearExact,
    Sigmoid,
}

impl VoiFunction {
    /// Parse the DICOM code string; unknown values fall back to LINEAR as the standard requires.
    pub fn from_dicom(s: &str) -> Self {
        match s.trim() {
            "LINEAR_EXACT" => Self::LinearExact,
            "SIGMOID" => Self::Sigmoid,
            _ => Self::Linear,
        }
    }

    pub fn dicom_name(self) -> &'static str {
        match self {
            Self::Linear => "LINEAR",
            Self::LinearExact => "LINEAR_EXACT",
            Self::Sigmoid => "SIGMOID",
        }
    }

    /// Index used by the shader uniform. Keep in sync with `shaders/image.wgsl`.
    pub fn shader_index(self) -> u32 {
        match self {
            Self::Linear => 0,
            Self::LinearExact => 1,
            Self::Sigmoid => 2,
        }
    }
}

/// A VOI LUT from the VOI LUT Sequence (0028,3010): descriptor plus data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VoiLut {
    /// LUT Explanation (0028,3003), or a generated name.
    pub explanation: String,
    /// First input value mapped (descriptor value 2), in modality units.
    pub first_mapped: f64,
    /// Bits per entry (descriptor value 3); the output range is `0 ..= 2^bits - 1`.
    pub bits: u32,
    /// LUT Data (0028,3006), one entry per input value from `first_mapped` on.
    #[serde(skip)]
    pub data: Vec<u16>,
}

impl VoiLut {
    /// Display value in `[0, 1]` for a modality value: inputs below the first entry map to the first,
    /// above the last to the last (PS3.3 C.11.2.1.1).
    pub fn lookup(&self, value: f64) -> f32 {
        let Some(last) = self.data.len().checked_sub(1) else { return 0.0 };
        let idx = (value - self.first_mapped).floor().clamp(0.0, last as f64) as usize;
        let max = ((1u64 << self.bits.clamp(1, 16)) - 1) as f32;
        f32::from(self.data[idx]) / max
    }
}

/// Everything that turns a modality value into a grey level. Mirrors the shader's uniforms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Display {
    pub window: Window,
    pub function: VoiFunction,
    /// Show dark as bright (MONOCHROME1, or the user's invert toggle; the two combine by XOR).
    pub inverted: bool,
    /// Display gamma: `out = y^(1/gamma)`; 1 leaves the VOI output unchanged.
    pub gamma: f32,
    /// Use the VOI LUT instead of the window when one is given.
    pub use_lut: bool,
}

impl Default for Display {
    fn default() -> Self {
        Self {
            window: Window { center: 2048.0, width: 4096.0 },
            function: VoiFunction::Linear,
            inverted: false,
            gamma: 1.0,
            use_lut: false,
        }
    }
}

/// The windowing formula of PS3.3 C.11.2.1.2, returning `[0, 1]`. Computed in `f32` like the shader.
pub fn window_value(x: f32, window: Window, function: VoiFunction) -> f32 {
    let c = window.center as f32;
    match function {
        VoiFunction::Linear => {
            let w = (window.width as f32).max(1.0);
            if w <= 1.0 {
                return if x <= c - 0.5 { 0.0 } else { 1.0 };
            }
            ((x - (c - 0.5)) / (w - 1.0) + 0.5).clamp(0.0, 1.0)
        }
        VoiFunction::LinearExact => {
            let w = (window.width as f32).max(f32::MIN_POSITIVE);
            ((x - c) / w + 0.5).clamp(0.0, 1.0)
        }
        VoiFunction::Sigmoid => {
            let w = (window.width as f32).max(f32::MIN_POSITIVE);
            1.0 / (1.0 + (-4.0 * (x - c) / w).exp())
        }
    }
}

impl Display {
    /// Grey level in `[0, 1]` for one modality value.
    pub fn display_value(&self, x: f32, lut: Option<&VoiLut>) -> f32 {
        let y = match lut {
            Some(lut) if self.use_lut => lut.lookup(f64::from(x)),
            _ => window_value(x, self.window, self.function),
        };
        let y = if self.inverted { 1.0 - y } else { y };
        if (self.gamma - 1.0).abs() > f32::EPSILON { y.max(0.0).powf(1.0 / self.gamma.max(0.01)) } else { y }
    }

    /// 8-bit grey level, rounded as the GPU does when it writes a unorm target.
    pub fn grey8(&self, x: f32, lut: Option<&VoiLut>) -> u8 {
        (self.display_value(x, lut) * 255.0).round().clamp(0.0, 255.0) as u8
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point of these tests
mod tests {
    use super::*;

    #[test]
    fn linear_matches_standard_breakpoints() {
        // PS3.3 C.11.2.1.2.1: c = 2048, w = 4096 → x ≤ 0 is 0, x > 4095 is 1.
        let w = Window { center: 2048.0, width: 4096.0 };
        assert_eq!(window_value(0.0, w, VoiFunction::Linear), 0.0);
        assert_eq!(window_value(4095.0, w, VoiFunction::Linear), 1.0);
        assert!((window_value(2047.5, w, VoiFunction::Linear) - 0.5).abs() < 1e-6);
        assert!((window_value(2048.0, w, VoiFunction::LinearExact) - 0.5).abs() < 1e-6);
        assert!((window_value(2048.0, w, VoiFunction::Sigmoid) - 0.5).abs() < 1e-6);
        // Sigmoid at c + w/2 is 1 / (1 + e^-2).
        let s = window_value(4096.0, w, VoiFunction::Sigmoid);
        assert!((s - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
    }

    #[test]
    fn lut_clamps_and_scales() {
        let lut = VoiLut { explanation: "t".into(), first_mapped: 10.0, bits: 8, data: vec![0, 255, 51] };
        assert_eq!(lut.lookup(0.0), 0.0);
        assert_eq!(lut.lookup(11.0), 1.0);
        assert!((lut.lookup(100.0) - 0.2).abs() < 1e-6);
    }

    #[test]
    fn invert_and_gamma() {
        let d = Display {
            window: Window { center: 50.0, width: 100.0 },
            function: VoiFunction::LinearExact,
            inverted: true,
            gamma: 2.0,
            use_lut: false,
        };
        assert!((d.display_value(50.0, None) - 0.5f32.sqrt()).abs() < 1e-6);
        assert_eq!(d.grey8(0.0, None), 255);
    }
}
