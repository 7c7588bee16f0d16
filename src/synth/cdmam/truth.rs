//! The ground truth of one exposure, as a JSON sidecar: the settings, the pose, and every cell's disc positions.
//!
//! Positions are image pixel coordinates with pixel centres on integers (pixel `(i, j)` covers
//! `[i − ½, i + ½) × [j − ½, j + ½)`), x to the right, y down.

use serde::{Deserialize, Serialize};

use super::{exposure::CdmamExposure, params::CdmamParams, spectrum::Beam};
use crate::phantom::cdmam::{
    geometry::{Cell, Corner, PhantomPose},
    layout::Layout,
};

/// One cell: its two discs (centre and corner).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellTruth {
    pub row: usize,
    pub col: usize,
    pub diameter_mm: f64,
    pub thickness_um: f64,
    /// The corner holding the second disc.
    pub corner: Corner,
    /// Energy-weighted fraction of the background signal the disc's gold removes (before blur).
    pub contrast: f64,
    /// Centre disc, image pixels.
    pub centre_px: [f64; 2],
    /// Corner disc, image pixels.
    pub corner_px: [f64; 2],
}

/// Everything needed to score or re-create one simulated exposure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub params: CdmamParams,
    pub seed: u64,
    pub index: u32,
    pub pose: PhantomPose,
    pub pixel_mm: f64,
    pub width: usize,
    pub height: usize,
    pub gain: f64,
    pub offset: f64,
    pub background_quanta: f64,
    /// The 205 cells, row by row.
    pub cells: Vec<CellTruth>,
}

impl Truth {
    /// The number of gold discs (two per cell).
    pub fn disc_count(&self) -> usize {
        2 * self.cells.len()
    }
}

/// The truth of `exposure`, simulated from `params`, `layout`, `seed` and `index`.
pub fn truth(params: &CdmamParams, layout: &Layout, exposure: &CdmamExposure, seed: u64, index: u32) -> Truth {
    let beam = Beam::new(params);
    let pose = exposure.pose;
    let cells = Cell::all()
        .filter_map(|cell| {
            let corner = layout.corner(cell)?;
            Some(CellTruth {
                row: cell.row,
                col: cell.col,
                diameter_mm: cell.diameter_mm(),
                thickness_um: cell.thickness_um(),
                corner,
                contrast: beam.gold_contrast(cell.thickness_um()),
                centre_px: pose.cell_centre_px(cell),
                corner_px: pose.corner_px(cell, corner),
            })
        })
        .collect();
    Truth {
        params: params.clone(),
        seed,
        index,
        pose,
        pixel_mm: pose.pixel_mm,
        width: exposure.image.width,
        height: exposure.image.height,
        gain: exposure.gain,
        offset: exposure.offset,
        background_quanta: exposure.background_quanta,
        cells,
    }
}
