//! Which corner holds the second disc of each cell: the truth the 4-alternative forced choice is scored against.

use super::geometry::{Cell, Corner};

/// The corner of the off-centre disc for every cell of the matrix (`None` where no cell exists).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// `corners[row][col]`.
    pub corners: [[Option<Corner>; 16]; 16],
}

/// The CDMAM 3.4 layout chart as tabulated by the WAD-QC CDMAM plugin (codes 1 = top right, 2 = bottom right,
/// 3 = bottom left, 4 = top left; 0 = no cell). Rows are diameters 2.00 … 0.06 mm, columns thicknesses 0.03 … 2.00 µm.
/// Its orientation convention against the physical phantom is not verified here; the readout checks any layout
/// against the images (see the readout's truth check) before trusting it.
const STANDARD_CODES: [[u8; 16]; 16] = [
    [0, 3, 2, 1, 4, 3, 2, 1, 2, 3, 0, 0, 0, 0, 0, 0],
    [1, 1, 2, 3, 2, 3, 3, 1, 2, 1, 4, 0, 0, 0, 0, 0],
    [1, 3, 1, 1, 4, 4, 1, 4, 3, 3, 4, 2, 0, 0, 0, 0],
    [2, 4, 3, 4, 3, 2, 1, 3, 2, 3, 1, 4, 2, 0, 0, 0],
    [1, 1, 3, 1, 2, 1, 4, 2, 4, 2, 2, 3, 3, 1, 0, 0],
    [4, 2, 1, 4, 2, 1, 4, 1, 3, 4, 1, 2, 2, 4, 1, 0],
    [1, 4, 2, 4, 4, 2, 1, 3, 2, 2, 3, 1, 3, 1, 4, 2],
    [2, 1, 1, 2, 3, 3, 4, 1, 4, 4, 3, 1, 2, 1, 4, 1],
    [3, 3, 1, 4, 1, 4, 2, 2, 3, 2, 4, 3, 2, 3, 1, 2],
    [0, 2, 4, 2, 1, 3, 3, 1, 1, 4, 3, 3, 4, 4, 1, 1],
    [0, 0, 1, 3, 4, 2, 4, 3, 2, 2, 3, 4, 3, 3, 4, 4],
    [0, 0, 0, 4, 1, 4, 2, 2, 4, 4, 2, 4, 2, 1, 3, 1],
    [0, 0, 0, 0, 2, 4, 4, 3, 4, 2, 3, 1, 2, 4, 2, 1],
    [0, 0, 0, 0, 0, 2, 1, 2, 3, 2, 3, 4, 3, 4, 3, 4],
    [0, 0, 0, 0, 0, 0, 3, 2, 3, 3, 1, 1, 4, 3, 3, 2],
    [0, 0, 0, 0, 0, 0, 0, 4, 2, 2, 4, 2, 2, 3, 4, 0],
];

impl Layout {
    /// The standard CDMAM 3.4 layout.
    pub fn standard() -> Self {
        let mut corners = [[None; 16]; 16];
        for (row, codes) in STANDARD_CODES.iter().enumerate() {
            for (col, &code) in codes.iter().enumerate() {
                corners[row][col] = match code {
                    1 => Some(Corner::TopRight),
                    2 => Some(Corner::BottomRight),
                    3 => Some(Corner::BottomLeft),
                    4 => Some(Corner::TopLeft),
                    _ => None,
                };
            }
        }
        Self { corners }
    }

    /// A layout with every corner drawn uniformly from `seed` (a different phantom design; for tests of the readout's
    /// truth check and for training data that must not learn one layout).
    pub fn random(seed: u64) -> Self {
        let mut corners = [[None; 16]; 16];
        for cell in Cell::all() {
            let h = crate::imaging::seed::splitmix64(seed ^ crate::imaging::seed::splitmix64((cell.row * 16 + cell.col) as u64));
            corners[cell.row][cell.col] = Some(Corner::ALL[(h >> 32) as usize % 4]);
        }
        Self { corners }
    }

    /// The true corner of `cell`.
    pub fn corner(&self, cell: Cell) -> Option<Corner> {
        self.corners.get(cell.row)?.get(cell.col).copied().flatten()
    }

    /// Whether the layout has a corner exactly where the phantom has a cell.
    pub fn is_complete(&self) -> bool {
        (0..16).all(|row| (0..16).all(|col| Cell::exists(row, col) == self.corners[row][col].is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_layout_covers_exactly_the_205_cells() {
        let layout = Layout::standard();
        assert!(layout.is_complete());
        let counts = Corner::ALL.map(|c| Cell::all().filter(|&cell| layout.corner(cell) == Some(c)).count());
        assert_eq!(counts.iter().sum::<usize>(), 205);
        assert!(counts.iter().all(|&n| n > 35), "corners are balanced: {counts:?}");
    }

    #[test]
    fn random_layouts_are_complete_and_seeded() {
        let a = Layout::random(3);
        assert!(a.is_complete());
        assert_eq!(a, Layout::random(3));
        assert_ne!(a, Layout::random(4));
        assert_ne!(a, Layout::standard());
    }
}
