//! [`LocateOptions`] in, [`Located`] out.

use crate::phantom::cdmam::geometry::{Cell, Corner, PhantomPose};

/// How to search for the phantom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocateOptions {
    /// Pixel size from the file (DICOM Pixel Spacing), mm; `None` guesses it from the image size. The grid period
    /// measures the true size in the phantom plane either way.
    pub pixel_mm_hint: Option<f64>,
    /// How far the true pixel size may differ from the hint (magnification, a detector-plane spacing), as a fraction.
    pub hint_tolerance: f64,
    /// Pixel size of the coarse search image, mm.
    pub coarse_mm: f64,
    /// Refine each cell's position from its centre disc where that disc is clearly visible.
    pub refine_cells: bool,
}

impl Default for LocateOptions {
    fn default() -> Self {
        Self { pixel_mm_hint: None, hint_tolerance: 0.3, coarse_mm: 0.4, refine_cells: true }
    }
}

impl LocateOptions {
    /// The defaults with a pixel size hint.
    pub fn with_hint(pixel_mm: f64) -> Self {
        Self { pixel_mm_hint: Some(pixel_mm), ..Self::default() }
    }
}

/// Where the phantom is in an image, and how well that is known.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Located {
    /// Maps the phantom frame to image pixels: `pose.cell_centre_px(cell)` is the centre of that cell.
    pub pose: PhantomPose,
    /// Phantom cells whose four edges show a grid line on the coarse image (of 205).
    pub cells_found: usize,
    /// Depth of a grid line (0.2 mm, 0.5 µm gold) relative to the plate's signal.
    pub grid_contrast: f64,
    /// RMS distance of the measured grid-line segments from the fitted pose, pixels.
    pub fit_residual_px: f64,
    /// Grid-line segments the fit used.
    pub segments_fitted: usize,
    /// Whether gold is darker than the plate (raw detector values); the scores are signed to match.
    pub discs_dark: bool,
    /// Gaussian σ of the system blur measured on the grid lines, pixels.
    pub blur_sigma_px: f64,
    /// Per-cell correction of the centre, pixels (`[row][col]`), from the centre disc where it is clearly visible.
    pub cell_offsets_px: [[[f32; 2]; 16]; 16],
    /// Cells whose centre was refined.
    pub cells_refined: usize,
}

impl Located {
    /// The image position of a cell centre, with its local correction.
    pub fn cell_centre_px(&self, cell: Cell) -> [f64; 2] {
        self.corrected(cell, self.pose.cell_centre_px(cell))
    }

    /// The image position of a corner disc's centre, with the cell's local correction.
    pub fn corner_px(&self, cell: Cell, corner: Corner) -> [f64; 2] {
        self.corrected(cell, self.pose.corner_px(cell, corner))
    }

    /// The image position of a point given relative to a cell centre in the phantom frame (mm).
    pub fn cell_point_px(&self, cell: Cell, offset_mm: [f64; 2]) -> [f64; 2] {
        let [u, v] = cell.centre_mm();
        self.corrected(cell, self.pose.to_image([u + offset_mm[0], v + offset_mm[1]]))
    }

    fn corrected(&self, cell: Cell, [x, y]: [f64; 2]) -> [f64; 2] {
        let [dx, dy] = self.cell_offsets_px.get(cell.row).and_then(|r| r.get(cell.col)).copied().unwrap_or_default();
        [x + f64::from(dx), y + f64::from(dy)]
    }
}
