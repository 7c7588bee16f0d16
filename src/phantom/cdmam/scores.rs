//! What the locating step hands to the analysis: per image, each cell's four corner responses.

use super::geometry::{Cell, Corner};

/// Matched-filter responses of one image: for each cell the response at its four corners, in units of the
/// response's noise standard deviation (higher = more like a gold disc). `None` where the cell does not exist or
/// could not be scored (outside the image).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageScores {
    /// `corners[row][col][Corner::index()]`.
    pub corners: [[Option<[f32; 4]>; 16]; 16],
}

impl ImageScores {
    pub fn get(&self, cell: Cell) -> Option<[f32; 4]> {
        self.corners.get(cell.row)?.get(cell.col).copied().flatten()
    }

    pub fn set(&mut self, cell: Cell, scores: [f32; 4]) {
        self.corners[cell.row][cell.col] = Some(scores);
    }

    /// The corner the 4-alternative forced choice picks: the highest response (ties to the first).
    pub fn choice(&self, cell: Cell) -> Option<Corner> {
        let s = self.get(cell)?;
        let best = (0..4).fold(0, |b, i| if s[i] > s[b] { i } else { b });
        Some(Corner::ALL[best])
    }

    /// The number of cells scored.
    pub fn scored(&self) -> usize {
        Cell::all().filter(|&c| self.get(c).is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_is_the_highest_corner() {
        let mut s = ImageScores::default();
        let cell = Cell { row: 3, col: 4 };
        assert_eq!(s.choice(cell), None);
        s.set(cell, [0.1, -2.0, 3.5, 1.0]);
        assert_eq!(s.choice(cell), Some(Corner::BottomRight));
        assert_eq!(s.scored(), 1);
    }
}
