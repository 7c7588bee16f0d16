//! Which lattice cells are the phantom's: the known 205-cell outline matched against the line evidence under the
//! eight ways to lay the matrix down (four turns, mirrored or not) and every lattice offset.

use std::collections::BTreeSet;

use super::edges::{Along, EdgeMap};
use super::lattice::Lattice;
use crate::phantom::cdmam::geometry::{Cell, PhantomPose};

/// The signed permutation matrices `A` with `(i, j) = A · (u, v) + vertex` in cell units: rotations by 0, 90, 180
/// and 270° (image y down), then the same after mirroring `u`.
const SYMMETRIES: [[[i64; 2]; 2]; 8] = [
    [[1, 0], [0, 1]],
    [[0, -1], [1, 0]],
    [[-1, 0], [0, -1]],
    [[0, 1], [-1, 0]],
    [[-1, 0], [0, 1]],
    [[0, -1], [-1, 0]],
    [[1, 0], [0, -1]],
    [[0, 1], [1, 0]],
];
/// Outlines scoring within this many edges of the best are told apart by the discs (the closest distinct outlines
/// differ by 14 cells).
const TIE_MARGIN: f64 = 8.0;

/// One way to lay the matrix on the lattice.
#[derive(Clone, Copy, Debug)]
pub(super) struct Placement {
    pub symmetry: usize,
    /// The lattice vertex under the matrix centre.
    pub vertex: [i64; 2],
    /// Edge evidence on the outline minus evidence just outside it.
    pub score: f64,
}

/// The lattice cell of every phantom cell (relative to the vertex), the edges the outline expects, and the edges
/// just outside it.
struct Template {
    cells: Vec<(Cell, [i64; 2])>,
    expected: Vec<(Along, i64, i64)>,
    ring: Vec<(Along, i64, i64)>,
}

impl Template {
    fn new(a: [[i64; 2]; 2]) -> Self {
        let cells: Vec<(Cell, [i64; 2])> = Cell::all()
            .map(|cell| {
                // Doubled centre (odd numbers), mapped, back to the lattice cell's lower corner.
                let (u2, v2) = (2 * cell.col as i64 - 15, 2 * cell.row as i64 - 15);
                let (i2, j2) = (a[0][0] * u2 + a[0][1] * v2, a[1][0] * u2 + a[1][1] * v2);
                (cell, [(i2 - 1) / 2, (j2 - 1) / 2])
            })
            .collect();
        let occupied: BTreeSet<[i64; 2]> = cells.iter().map(|c| c.1).collect();
        let edges_of = |[i, j]: [i64; 2]| [(Along::I, i, j), (Along::I, i, j + 1), (Along::J, i, j), (Along::J, i + 1, j)];
        let expected: BTreeSet<_> = occupied.iter().flat_map(|&c| edges_of(c)).collect();
        let ring: BTreeSet<_> = occupied
            .iter()
            .flat_map(|&[i, j]| (-1..=1).flat_map(move |di| (-1..=1).map(move |dj| [i + di, j + dj])))
            .filter(|c| !occupied.contains(c))
            .flat_map(edges_of)
            .filter(|e| !expected.contains(e))
            .collect();
        Self { cells, expected: expected.into_iter().collect(), ring: ring.into_iter().collect() }
    }

    fn score(&self, edges: &EdgeMap, [a, b]: [i64; 2]) -> f64 {
        let sum = |list: &[(Along, i64, i64)]| list.iter().map(|&(k, i, j)| edges.get(k, i + a, j + b)).sum::<f64>();
        sum(&self.expected) - sum(&self.ring)
    }
}

/// The placements of the matrix whose outline fits the line evidence best: one per orientation, best first, within
/// [`TIE_MARGIN`] of the best. The outline is symmetric under one flip (`(row, col)` → `(15 − col, 15 − row)`), so
/// there are always at least two; the discs tell them apart.
pub(super) fn candidates(edges: &EdgeMap) -> Vec<Placement> {
    let [i0, i1, j0, j1] = edges.range;
    let mut placements: Vec<Placement> = SYMMETRIES
        .iter()
        .enumerate()
        .filter_map(|(symmetry, &a)| {
            let template = Template::new(a);
            let (score, vertex) = (i0..=i1)
                .flat_map(|i| (j0..=j1).map(move |j| [i, j]))
                .map(|v| (template.score(edges, v), v))
                .max_by(|x, y| x.0.total_cmp(&y.0))?;
            Some(Placement { symmetry, vertex, score })
        })
        .collect();
    placements.sort_by(|x, y| y.score.total_cmp(&x.score));
    let Some(top) = placements.first().map(|p| p.score) else { return placements };
    placements.retain(|p| p.score >= top - TIE_MARGIN);
    placements
}

/// The number of phantom cells whose four edges show a line.
pub(super) fn cells_found(placement: &Placement, edges: &EdgeMap) -> usize {
    let template = Template::new(SYMMETRIES[placement.symmetry]);
    let [a, b] = placement.vertex;
    template
        .cells
        .iter()
        .filter(|(_, [i, j])| {
            let (i, j) = (i + a, j + b);
            let e = [(Along::I, i, j), (Along::I, i, j + 1), (Along::J, i, j), (Along::J, i + 1, j)];
            e.iter().map(|&(k, i, j)| edges.get(k, i, j)).sum::<f64>() >= 2.0
        })
        .count()
}

impl Placement {
    /// The pose in coarse image pixels.
    pub fn pose(&self, lattice: &Lattice) -> PhantomPose {
        let a = SYMMETRIES[self.symmetry];
        let mirrored = a[0][0] * a[1][1] - a[0][1] * a[1][0] < 0;
        // R(angle) · M = R(theta) · A, so R(angle - theta) = A · M.
        let b = if mirrored { [[-a[0][0], a[0][1]], [-a[1][0], a[1][1]]] } else { a };
        let turn = (b[1][0] as f64).atan2(b[0][0] as f64);
        let angle = (lattice.theta + turn).rem_euclid(std::f64::consts::TAU);
        let centre_px = lattice.to_px([self.vertex[0] as f64, self.vertex[1] as f64]);
        PhantomPose { centre_px, angle_rad: angle, pixel_mm: 10.0 / lattice.period, mirrored }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_map_cells_onto_the_lattice() {
        let lattice = Lattice { theta: 0.7, period: 25.0, phase: [4.0, -3.0] };
        for (symmetry, &a) in SYMMETRIES.iter().enumerate() {
            let placement = Placement { symmetry, vertex: [2, 5], score: 0.0 };
            let pose = placement.pose(&lattice);
            let template = Template::new(a);
            assert_eq!(template.cells.len(), 205);
            for &(cell, [i, j]) in &template.cells {
                let want = lattice.to_px([(i + 2) as f64 + 0.5, (j + 5) as f64 + 0.5]);
                let got = pose.cell_centre_px(cell);
                assert!((want[0] - got[0]).abs() < 1e-6 && (want[1] - got[1]).abs() < 1e-6, "{symmetry} {cell:?}");
            }
        }
    }

    #[test]
    fn the_outline_has_one_twin_and_differs_from_the_rest_by_14_cells() {
        let templates: Vec<Template> = SYMMETRIES.iter().map(|&a| Template::new(a)).collect();
        for (k, t) in templates.iter().enumerate() {
            let mine: BTreeSet<_> = t.cells.iter().map(|c| c.1).collect();
            let mut differences: Vec<usize> = templates
                .iter()
                .enumerate()
                .filter(|&(l, _)| l != k)
                .map(|(_, other)| mine.symmetric_difference(&other.cells.iter().map(|c| c.1).collect()).count())
                .collect();
            differences.sort_unstable();
            assert_eq!(differences[0], 0, "{k}: {differences:?}");
            assert!(differences[1] >= 14, "{k}: {differences:?}");
        }
    }
}
