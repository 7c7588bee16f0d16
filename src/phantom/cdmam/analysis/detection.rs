//! Per image: which cells the 4-alternative forced choice got right, before and after the nearest-neighbour
//! correction of the CDMAM Analyser / EUREF protocol.
//!
//! The correction uses the *raw* correctness of the neighbours along the matrix axes (not their corrected values,
//! so the result does not depend on the order cells are visited):
//! - a correctly indicated cell stays correct only if at least half of its neighbours are correct (2 of 4);
//! - an incorrectly indicated cell becomes correct if at least three quarters of its neighbours are correct (3 of 4).
//!
//! The protocol states the rule for interior cells with four neighbours. For cells with fewer (the edges and the
//! staircase of the matrix) the same *fractions* are used: with 3 neighbours 2 keep and 3 flip, with 2 neighbours
//! 1 keeps and 2 flip, with 1 neighbour it must be correct to keep or to flip. A neighbour counts only where it
//! exists on the phantom **and** was scored in this image with a known truth; a cell without any such neighbour
//! keeps its raw value.

use crate::phantom::cdmam::geometry::{Cell, Corner};
use crate::phantom::cdmam::scores::ImageScores;

use super::matrix::CellMatrix;

/// One image's detection results: `None` where the cell was not scored or its true corner is unknown.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DetectionMatrix {
    /// Whether the highest corner response is the true corner.
    pub raw: CellMatrix<bool>,
    /// After the nearest-neighbour correction; this is what is summed over images.
    pub corrected: CellMatrix<bool>,
}

impl DetectionMatrix {
    /// Scores one image against its truth and applies the nearest-neighbour correction.
    pub fn new(scores: &ImageScores, truth: &CellMatrix<Corner>) -> Self {
        let raw = raw_correctness(scores, truth);
        Self { corrected: nearest_neighbour_correction(&raw), raw }
    }
}

/// Whether the forced choice (the argmax of the four corner responses) names the true corner, per cell.
pub fn raw_correctness(scores: &ImageScores, truth: &CellMatrix<Corner>) -> CellMatrix<bool> {
    let mut out = CellMatrix::default();
    for cell in Cell::all() {
        if let (Some(choice), Some(true_corner)) = (scores.choice(cell), truth.get(cell)) {
            out.set(cell, Some(choice == true_corner));
        }
    }
    out
}

/// The nearest-neighbour correction of a raw correctness matrix (rules in the module docs).
pub fn nearest_neighbour_correction(raw: &CellMatrix<bool>) -> CellMatrix<bool> {
    let mut out = CellMatrix::default();
    for (cell, correct) in raw.values() {
        let known: Vec<bool> = cell.neighbours().filter_map(|n| raw.get(n)).collect();
        let (k, hits) = (known.len(), known.iter().filter(|&&c| c).count());
        let corrected = match (k, correct) {
            (0, _) => correct,
            (_, true) => 2 * hits >= k,
            (_, false) => 4 * hits >= 3 * k,
        };
        out.set(cell, Some(corrected));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(cells: &[((usize, usize), bool)]) -> CellMatrix<bool> {
        let mut m = CellMatrix::default();
        for &((row, col), v) in cells {
            m.set(Cell { row, col }, Some(v));
        }
        m
    }

    #[test]
    fn interior_cells_follow_the_two_of_four_and_three_of_four_rules() {
        let centre = (7, 7);
        let around = [(6, 7), (8, 7), (7, 6), (7, 8)];
        for hits in 0..=4 {
            for own in [true, false] {
                let mut cells = vec![(centre, own)];
                cells.extend(around.iter().enumerate().map(|(i, &p)| (p, i < hits)));
                let out = nearest_neighbour_correction(&matrix(&cells));
                let expected = if own { hits >= 2 } else { hits >= 3 };
                assert_eq!(out.get(Cell { row: 7, col: 7 }), Some(expected), "own {own}, {hits} of 4 neighbours correct");
            }
        }
    }

    #[test]
    fn edge_cells_use_the_same_fractions() {
        // (0, 1) exists with neighbours (1, 1) and (0, 2) only: half = 1 keeps, three quarters = 2 flip.
        let c = Cell { row: 0, col: 1 };
        assert_eq!(c.neighbours().count(), 2);
        let keep = nearest_neighbour_correction(&matrix(&[((0, 1), true), ((1, 1), true), ((0, 2), false)]));
        assert_eq!(keep.get(c), Some(true));
        let drop = nearest_neighbour_correction(&matrix(&[((0, 1), true), ((1, 1), false), ((0, 2), false)]));
        assert_eq!(drop.get(c), Some(false));
        let no_flip = nearest_neighbour_correction(&matrix(&[((0, 1), false), ((1, 1), true), ((0, 2), false)]));
        assert_eq!(no_flip.get(c), Some(false));
        let flip = nearest_neighbour_correction(&matrix(&[((0, 1), false), ((1, 1), true), ((0, 2), true)]));
        assert_eq!(flip.get(c), Some(true));
        // Three neighbours on the left edge at (5, 0): 2 keep, 3 flip.
        let e = Cell { row: 5, col: 0 };
        assert_eq!(e.neighbours().count(), 3);
        let two = [((4, 0), true), ((6, 0), true), ((5, 1), false)];
        let keep3 = nearest_neighbour_correction(&matrix(&[&[((5, 0), true)], &two[..]].concat()));
        assert_eq!(keep3.get(e), Some(true));
        let no_flip3 = nearest_neighbour_correction(&matrix(&[&[((5, 0), false)], &two[..]].concat()));
        assert_eq!(no_flip3.get(e), Some(false));
    }

    #[test]
    fn unscored_neighbours_do_not_count_and_isolated_cells_keep_their_value() {
        // Only one of (7, 7)'s neighbours is scored, and it is correct: an incorrect centre flips (1 of 1).
        let out = nearest_neighbour_correction(&matrix(&[((7, 7), false), ((6, 7), true)]));
        assert_eq!(out.get(Cell { row: 7, col: 7 }), Some(true));
        let alone = nearest_neighbour_correction(&matrix(&[((7, 7), true), ((9, 9), false)]));
        assert_eq!(alone.get(Cell { row: 7, col: 7 }), Some(true));
        assert_eq!(alone.get(Cell { row: 9, col: 9 }), Some(false));
        assert_eq!(alone.count(), 2);
    }
}
