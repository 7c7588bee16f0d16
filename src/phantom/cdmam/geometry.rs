//! Where things are on the CDMAM 3.4: cells, corners, and the pose that maps phantom millimetres to image pixels.
//!
//! Phantom frame: millimetres in the plane of the gold layer, origin at the centre of the 16 × 16 matrix, `u` along
//! increasing thickness (columns), `v` along decreasing diameter (rows). The printed matrix is axis-aligned in this
//! frame; on the detector it appears rotated by about 45° (a diamond), which [`PhantomPose`] carries.

use super::tables::{CELL_PITCH_MM, COLUMN_RANGE, CORNER_OFFSET_MM, DIAMETERS_MM, THICKNESSES_UM};

/// The number of cells on a CDMAM 3.4 (each with two discs: 410 discs).
pub const CELL_COUNT: usize = 205;

/// One cell of the matrix: `row` indexes the diameter, `col` the thickness (see [`super::tables`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Cell {
    pub row: usize,
    pub col: usize,
}

impl Cell {
    /// Whether this matrix position holds a cell on the phantom.
    pub fn exists(row: usize, col: usize) -> bool {
        COLUMN_RANGE.get(row).is_some_and(|&(first, last)| (first..=last).contains(&col))
    }

    /// Every cell of the phantom, row by row.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..16).flat_map(|row| (0..16).filter(move |&col| Self::exists(row, col)).map(move |col| Self { row, col }))
    }

    pub fn diameter_mm(self) -> f64 {
        DIAMETERS_MM[self.row]
    }

    pub fn thickness_um(self) -> f64 {
        THICKNESSES_UM[self.col]
    }

    /// The cell centre in the phantom frame, mm.
    pub fn centre_mm(self) -> [f64; 2] {
        [(self.col as f64 - 7.5) * CELL_PITCH_MM, (self.row as f64 - 7.5) * CELL_PITCH_MM]
    }

    /// The centre of the disc in `corner`, phantom frame, mm.
    pub fn corner_mm(self, corner: Corner) -> [f64; 2] {
        let [u, v] = self.centre_mm();
        let [du, dv] = corner.direction();
        [u + du * CORNER_OFFSET_MM, v + dv * CORNER_OFFSET_MM]
    }

    /// The four (row, col) neighbours along the matrix axes that exist on the phantom.
    pub fn neighbours(self) -> impl Iterator<Item = Self> {
        let (r, c) = (self.row as isize, self.col as isize);
        [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)].into_iter().filter_map(|(r, c)| {
            let (row, col) = (usize::try_from(r).ok()?, usize::try_from(c).ok()?);
            Self::exists(row, col).then_some(Self { row, col })
        })
    }
}

/// The four corners of a cell, in the phantom frame (`Top` = towards row 0, `Left` = towards column 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomRight,
    BottomLeft,
}

impl Corner {
    pub const ALL: [Self; 4] = [Self::TopLeft, Self::TopRight, Self::BottomRight, Self::BottomLeft];

    /// Unit steps (u, v) from the cell centre towards this corner.
    pub fn direction(self) -> [f64; 2] {
        match self {
            Self::TopLeft => [-1.0, -1.0],
            Self::TopRight => [1.0, -1.0],
            Self::BottomRight => [1.0, 1.0],
            Self::BottomLeft => [-1.0, 1.0],
        }
    }

    /// Index into [`Corner::ALL`].
    pub fn index(self) -> usize {
        match self {
            Self::TopLeft => 0,
            Self::TopRight => 1,
            Self::BottomRight => 2,
            Self::BottomLeft => 3,
        }
    }
}

/// The similarity transform from the phantom frame (mm) to image pixels (x right, y down).
///
/// `image = centre + R(angle) · M · phantom / pixel_mm`, where `M` mirrors `u` when `mirrored` (the phantom imaged
/// face down) and `R` is a rotation in image coordinates (y down): a positive angle turns the `u` axis from +x
/// towards +y. Any of the eight ways to lay the phantom on the detector is an angle near π/4 + k·π/2, mirrored or not.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhantomPose {
    /// Image position (pixels) of the matrix centre.
    pub centre_px: [f64; 2],
    /// Rotation of the phantom's `u` axis from the image x axis, radians (about π/4 on a normal exposure).
    pub angle_rad: f64,
    /// Size of one pixel in the phantom plane, mm.
    pub pixel_mm: f64,
    /// Whether `u` is mirrored before rotating.
    pub mirrored: bool,
}

impl PhantomPose {
    /// The nominal pose: matrix centre at `centre_px`, rotated 45° (the long diagonal of the diamond vertical).
    pub fn nominal(centre_px: [f64; 2], pixel_mm: f64) -> Self {
        Self { centre_px, angle_rad: std::f64::consts::FRAC_PI_4, pixel_mm, mirrored: false }
    }

    /// Phantom mm → image pixels.
    pub fn to_image(&self, [u, v]: [f64; 2]) -> [f64; 2] {
        let u = if self.mirrored { -u } else { u };
        let (s, c) = self.angle_rad.sin_cos();
        [self.centre_px[0] + (c * u - s * v) / self.pixel_mm, self.centre_px[1] + (s * u + c * v) / self.pixel_mm]
    }

    /// Image pixels → phantom mm.
    pub fn to_phantom(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        let (dx, dy) = ((x - self.centre_px[0]) * self.pixel_mm, (y - self.centre_px[1]) * self.pixel_mm);
        let (s, c) = self.angle_rad.sin_cos();
        let u = c * dx + s * dy;
        let v = -s * dx + c * dy;
        [if self.mirrored { -u } else { u }, v]
    }

    /// The image position of a cell centre.
    pub fn cell_centre_px(&self, cell: Cell) -> [f64; 2] {
        self.to_image(cell.centre_mm())
    }

    /// The image position of a corner disc's centre.
    pub fn corner_px(&self, cell: Cell, corner: Corner) -> [f64; 2] {
        self.to_image(cell.corner_mm(corner))
    }

    /// The axis-aligned image bounding box `[x0, y0, x1, y1]` of the outer edges of all cells.
    pub fn matrix_bounds_px(&self) -> [f64; 4] {
        let half = CELL_PITCH_MM / 2.0;
        let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for cell in Cell::all() {
            let [u, v] = cell.centre_mm();
            for [du, dv] in [[-half, -half], [half, -half], [half, half], [-half, half]] {
                let [x, y] = self.to_image([u + du, v + dv]);
                b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phantom_has_205_cells_and_410_discs() {
        assert_eq!(Cell::all().count(), CELL_COUNT);
        assert_eq!(2 * Cell::all().count(), 410);
        assert!(!Cell::exists(0, 0) && !Cell::exists(0, 15) && !Cell::exists(15, 0) && !Cell::exists(15, 15));
        assert!(Cell::exists(6, 0) && Cell::exists(6, 15) && !Cell::exists(16, 3));
        // Diameter constant along a row, thickness along a column.
        let a = Cell { row: 4, col: 2 };
        let b = Cell { row: 4, col: 9 };
        assert!((a.diameter_mm() - b.diameter_mm()).abs() < 1e-12 && a.thickness_um() < b.thickness_um());
    }

    #[test]
    fn neighbours_are_on_the_phantom() {
        assert_eq!(Cell { row: 7, col: 7 }.neighbours().count(), 4);
        assert_eq!(Cell { row: 0, col: 1 }.neighbours().count(), 2); // (1,1) below, (0,2) right
        assert!(Cell::all().all(|c| c.neighbours().count() >= 2));
    }

    #[test]
    fn pose_round_trips_and_rotates_the_matrix_into_a_tall_diamond() {
        for mirrored in [false, true] {
            let pose = PhantomPose { centre_px: [1500.0, 2100.0], angle_rad: 0.81, pixel_mm: 0.07, mirrored };
            for p in [[0.0, 0.0], [12.5, -40.0], [-75.0, 75.0]] {
                let q = pose.to_phantom(pose.to_image(p));
                assert!((q[0] - p[0]).abs() < 1e-9 && (q[1] - p[1]).abs() < 1e-9, "{p:?} → {q:?}");
            }
        }
        let pose = PhantomPose::nominal([0.0, 0.0], 0.1);
        let [x0, y0, x1, y1] = pose.matrix_bounds_px();
        let (w, h) = ((x1 - x0) * 0.1, (y1 - y0) * 0.1);
        assert!(h > 1.5 * w, "diamond {w:.0} × {h:.0} mm");
        assert!((120.0..140.0).contains(&w) && (210.0..235.0).contains(&h), "{w} × {h}");
        // Corner discs sit inside their cell, the four corners distinct.
        let cell = Cell { row: 5, col: 5 };
        let c = cell.centre_mm();
        for corner in Corner::ALL {
            let p = cell.corner_mm(corner);
            assert!((p[0] - c[0]).abs() < CELL_PITCH_MM / 2.0 && (p[1] - c[1]).abs() < CELL_PITCH_MM / 2.0);
            assert_eq!(Corner::ALL[corner.index()], corner);
        }
    }
}
