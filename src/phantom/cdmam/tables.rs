//! CDMAM 3.4 and European Guidelines numbers, as data.
//!
//! Matrix convention used throughout: **row** = diameter index into [`DIAMETERS_MM`] (row 0 = 2.00 mm, largest),
//! **column** = thickness index into [`THICKNESSES_UM`] (column 0 = 0.03 µm, thinnest). Diameter is constant along a
//! row, thickness along a column.

/// Gold disc diameters, mm, row 0 … 15.
pub const DIAMETERS_MM: [f64; 16] = [2.00, 1.60, 1.25, 1.00, 0.80, 0.63, 0.50, 0.40, 0.31, 0.25, 0.20, 0.16, 0.13, 0.10, 0.08, 0.06];

/// Gold disc thicknesses, µm, column 0 … 15.
pub const THICKNESSES_UM: [f64; 16] = [0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.13, 0.16, 0.20, 0.25, 0.36, 0.50, 0.71, 1.00, 1.42, 2.00];

/// For each diameter row, the first and last thickness column present on the phantom (inclusive). The cells
/// outside these ranges (the matrix corners: thick large discs and thin small ones) do not exist: 205 cells remain.
pub const COLUMN_RANGE: [(usize, usize); 16] = [
    (1, 9),  // 2.00 mm: 0.04–0.25 µm
    (0, 10), // 1.60 mm: 0.03–0.36 µm
    (0, 11), // 1.25 mm: 0.03–0.50 µm
    (0, 12), // 1.00 mm: 0.03–0.71 µm
    (0, 13), // 0.80 mm: 0.03–1.00 µm
    (0, 14), // 0.63 mm: 0.03–1.42 µm
    (0, 15), // 0.50 mm: 0.03–2.00 µm
    (0, 15), // 0.40 mm
    (0, 15), // 0.31 mm
    (1, 15), // 0.25 mm: 0.04–2.00 µm
    (2, 15), // 0.20 mm: 0.05–2.00 µm
    (3, 15), // 0.16 mm: 0.06–2.00 µm
    (4, 15), // 0.13 mm: 0.08–2.00 µm
    (5, 15), // 0.10 mm: 0.10–2.00 µm
    (6, 15), // 0.08 mm: 0.13–2.00 µm
    (7, 14), // 0.06 mm: 0.16–1.42 µm
];

/// Centre-to-centre cell pitch, mm.
pub const CELL_PITCH_MM: f64 = 10.0;
/// Distance of a corner disc's centre from the cell centre along each matrix axis, mm.
pub const CORNER_OFFSET_MM: f64 = 2.6;
/// Width of the printed gold grid lines, mm.
pub const GRID_LINE_WIDTH_MM: f64 = 0.2;
/// Gold thickness of the grid lines, µm.
pub const GRID_LINE_GOLD_UM: f64 = 0.5;
/// Aluminium base plate thickness, mm.
pub const ALUMINIUM_MM: f64 = 0.5;
/// Size of the aluminium plate (width across the diamond, height along it), mm.
pub const PLATE_SIZE_MM: [f64; 2] = [160.0, 240.0];

/// Effective linear attenuation coefficient of gold used by the automated readout's psychometric fit, µm⁻¹
/// (Young et al. 2008).
pub const READOUT_MU_PER_UM: f64 = 0.19;
/// Fraction correct at threshold in the 4-alternative forced choice: halfway between chance (0.25) and 1.
pub const THRESHOLD_FRACTION: f64 = 0.625;
/// The minimum number of images the automated readout accepts (the CDMAM Analyser and the EUREF protocol ask for
/// at least 16; fewer are allowed down to this with a warning about wider confidence intervals).
pub const MIN_IMAGES: usize = 8;
/// The number of images the protocol asks for.
pub const RECOMMENDED_IMAGES: usize = 16;

/// The rows the automated readout reports: 1.00 mm (row 3) … 0.08 mm (row 14), the paper's 12-point CDC.
pub const READOUT_ROWS: std::ops::RangeInclusive<usize> = 3..=14;

/// Predicted human threshold = factor × automated threshold, for the readout rows 1.00 … 0.08 mm
/// (European Guidelines supplement, Young et al.).
pub const HUMAN_FACTOR: [f64; 12] = [2.11, 2.06, 2.01, 1.98, 1.94, 1.88, 1.82, 1.75, 1.68, 1.60, 1.50, 1.40];

/// One row of the EUREF limiting values: threshold gold thickness (µm) for a disc diameter.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct EurefLimit {
    pub diameter_mm: f64,
    pub acceptable_um: f64,
    pub achievable_um: f64,
}

/// The European Guidelines' acceptable and achievable threshold gold thicknesses.
pub const EUREF_LIMITS: [EurefLimit; 5] = [
    EurefLimit { diameter_mm: 2.00, acceptable_um: 0.069, achievable_um: 0.038 },
    EurefLimit { diameter_mm: 1.00, acceptable_um: 0.091, achievable_um: 0.056 },
    EurefLimit { diameter_mm: 0.50, acceptable_um: 0.150, achievable_um: 0.103 },
    EurefLimit { diameter_mm: 0.25, acceptable_um: 0.352, achievable_um: 0.244 },
    EurefLimit { diameter_mm: 0.10, acceptable_um: 1.68, achievable_um: 1.10 },
];

/// The human factor for a diameter row, if the row is reported by the automated readout.
pub fn human_factor(row: usize) -> Option<f64> {
    READOUT_ROWS.contains(&row).then(|| HUMAN_FACTOR[row - READOUT_ROWS.start()])
}

/// The diameter row of a diameter in mm (exact table values, to 1 µm).
pub fn row_of_diameter(diameter_mm: f64) -> Option<usize> {
    DIAMETERS_MM.iter().position(|&d| (d - diameter_mm).abs() < 1e-3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_ordered_and_limits_sit_on_diameters() {
        assert!(DIAMETERS_MM.windows(2).all(|w| w[0] > w[1]));
        assert!(THICKNESSES_UM.windows(2).all(|w| w[0] < w[1]));
        for limit in EUREF_LIMITS {
            assert!(row_of_diameter(limit.diameter_mm).is_some(), "{limit:?}");
            assert!(limit.achievable_um < limit.acceptable_um);
        }
        assert_eq!(READOUT_ROWS.clone().count(), HUMAN_FACTOR.len());
        assert_eq!(human_factor(3), Some(2.11));
        assert_eq!(human_factor(14), Some(1.40));
        assert_eq!(human_factor(2), None);
        assert!((DIAMETERS_MM[3] - 1.0).abs() < 1e-12 && (DIAMETERS_MM[14] - 0.08).abs() < 1e-12);
    }
}
