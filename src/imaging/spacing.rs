//! Physical pixel spacing and the attribute it came from.

use serde::Serialize;

/// Where a pixel spacing came from (IHE Mammography Image profile order; see `dicom::spacing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SpacingSource {
    /// Pixel Spacing (0028,0030) with a Pixel Spacing Calibration Type (e.g. FIDUCIAL, GEOMETRY).
    CalibratedPixelSpacing,
    /// Imager Pixel Spacing (0018,1164) divided by Estimated Radiographic Magnification Factor (0018,1114).
    ImagerSpacingCorrectedByMagnification,
    /// Imager Pixel Spacing (0018,1164): size at the detector plane.
    ImagerPixelSpacing,
    /// Pixel Spacing (0028,0030) without calibration information.
    PixelSpacing,
    /// Nominal Scanned Pixel Spacing (0018,2010) of digitised film.
    NominalScannedPixelSpacing,
    /// Given by the user (flag or dialog) for research images.
    User,
}

impl SpacingSource {
    /// A human-readable description naming the DICOM attribute(s).
    pub fn describe(self) -> &'static str {
        match self {
            Self::CalibratedPixelSpacing => "Pixel Spacing (0028,0030), calibrated (Pixel Spacing Calibration Type)",
            Self::ImagerSpacingCorrectedByMagnification => {
                "Imager Pixel Spacing (0018,1164) / Estimated Radiographic Magnification Factor (0018,1114)"
            }
            Self::ImagerPixelSpacing => "Imager Pixel Spacing (0018,1164), at the detector",
            Self::PixelSpacing => "Pixel Spacing (0028,0030)",
            Self::NominalScannedPixelSpacing => "Nominal Scanned Pixel Spacing (0018,2010)",
            Self::User => "given by the user",
        }
    }
}

/// Distance between pixel centres in mm: `row_mm` between rows (vertical), `col_mm` between columns.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spacing {
    pub row_mm: f64,
    pub col_mm: f64,
    pub source: SpacingSource,
}

impl Spacing {
    /// Physical distance in mm between two points given in image pixel coordinates.
    pub fn distance_mm(&self, a: [f64; 2], b: [f64; 2]) -> f64 {
        let dx = (b[0] - a[0]) * self.col_mm;
        let dy = (b[1] - a[1]) * self.row_mm;
        dx.hypot(dy)
    }
}
