//! Per-cell refinement: where a cell's centre disc is clearly visible, the peak of its matched filter corrects the
//! cell's position, and the same correction moves its corners (the two discs were printed together).

use rayon::prelude::*;

use super::located::Located;
use super::score::Scorer;
use crate::imaging::Image;
use crate::phantom::cdmam::geometry::Cell;

/// Only centre discs this many noise σ strong move their cell.
const MIN_Z: f64 = 8.0;
/// The search grid: `±SEARCH_STEPS · STEP_PX` pixels in x and y.
const SEARCH_STEPS: i32 = 3;
const STEP_PX: f64 = 0.5;
/// A shift is applied only where it exceeds this many standard errors of the peak position.
const SIGNIFICANT_SIGMA: f64 = 3.0;

/// The evidence that the discs are where `located` puts them, with the sizes it says: the sum over cells of the
/// centre disc's z-score under the row's matched filter (each limited to −10 … 100). Tells apart the two
/// orientations with the same outline.
pub(super) fn disc_evidence(image: &Image, located: &Located) -> f64 {
    let scorer = Scorer::new(image, located);
    let cells: Vec<Cell> = Cell::all().collect();
    cells.par_iter().filter_map(|&cell| scorer.z(image, cell.row, located.cell_centre_px(cell))).map(|z| z.clamp(-10.0, 100.0)).sum()
}

/// Fill `located.cell_offsets_px` from the centre discs of `image`.
pub(super) fn refine_cells(image: &Image, located: &mut Located) {
    located.cell_offsets_px = [[[0.0; 2]; 16]; 16];
    let scorer = Scorer::new(image, located);
    let cells: Vec<Cell> = Cell::all().collect();
    let offsets: Vec<(Cell, Option<[f64; 2]>)> =
        cells.par_iter().map(|&cell| (cell, peak_offset(image, &scorer, cell, located.cell_centre_px(cell)))).collect();
    let mut refined = 0;
    for (cell, offset) in offsets {
        if let Some([dx, dy]) = offset {
            located.cell_offsets_px[cell.row][cell.col] = [dx as f32, dy as f32];
            refined += 1;
        }
    }
    located.cells_refined = refined;
}

/// The sub-pixel peak of the centre-disc response within ±1.5 px of `centre`, as an offset; `None` when the disc is
/// not clearly visible or the peak lies on the edge of the search.
fn peak_offset(image: &Image, scorer: &Scorer, cell: Cell, centre: [f64; 2]) -> Option<[f64; 2]> {
    if scorer.z(image, cell.row, centre)? < MIN_Z {
        return None;
    }
    let n = (2 * SEARCH_STEPS + 1) as usize;
    let mut grid = vec![f64::NEG_INFINITY; n * n];
    for (k, value) in grid.iter_mut().enumerate() {
        let (ix, iy) = ((k % n) as i32 - SEARCH_STEPS, (k / n) as i32 - SEARCH_STEPS);
        let p = [centre[0] + f64::from(ix) * STEP_PX, centre[1] + f64::from(iy) * STEP_PX];
        *value = scorer.z(image, cell.row, p)?;
    }
    let best = (0..grid.len()).max_by(|&a, &b| grid[a].total_cmp(&grid[b]))?;
    let (bx, by) = (best % n, best / n);
    if bx == 0 || by == 0 || bx == n - 1 || by == n - 1 {
        return None;
    }
    // Along each axis: the parabolic vertex, and its standard error from the curvature (σ ≈ 1 / √(z · |z″|)); a
    // shift within 3 σ of none is noise and is not applied.
    let axis = |b: usize, l: f64, c: f64, r: f64| -> f64 {
        let curvature = l - 2.0 * c + r;
        if curvature >= 0.0 {
            return 0.0;
        }
        let shift = (b as f64 - f64::from(SEARCH_STEPS) + (0.5 * (l - r) / curvature).clamp(-0.5, 0.5)) * STEP_PX;
        let sigma = STEP_PX / (c * -curvature).sqrt();
        if shift.abs() > SIGNIFICANT_SIGMA * sigma { shift } else { 0.0 }
    };
    let at = |x: usize, y: usize| grid[y * n + x];
    let offset = [axis(bx, at(bx - 1, by), at(bx, by), at(bx + 1, by)), axis(by, at(bx, by - 1), at(bx, by), at(bx, by + 1))];
    (offset != [0.0, 0.0]).then_some(offset)
}
