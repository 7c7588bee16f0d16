//! The noise-free scene: expected detected quanta per pixel before blur, from the plate, the gold (discs, grid,
//! text) and the heel effect.
//!
//! Every piece of gold lies on the aluminium plate and no two overlap, so a pixel's signal is
//! `q_open · heel(y) · [a · T_Al · (1 − D) + (1 − a)]`, where `a` is the pixel's coverage by the plate, `T_Al` the
//! plate's transmission, and `D = Σ coverage · (1 − T_gold(t))` the fraction of the background the gold removes.

use rayon::prelude::*;

use super::{
    coverage::paint_disc,
    grid::Grid,
    params::CdmamParams,
    plate::Plate,
    spectrum::Beam,
    supersample::{paint_shape, pixel_bounds},
    text::{TEXT_GOLD_UM, phantom_text},
};
use crate::phantom::cdmam::{
    geometry::{Cell, PhantomPose},
    layout::Layout,
    tables::GRID_LINE_GOLD_UM,
};

/// Adds `value(cell)` × coverage of each of the 410 discs (centre and corner of every cell) to `buf`.
pub(crate) fn paint_discs(buf: &mut [f32], size: [usize; 2], pose: &PhantomPose, layout: &Layout, value: impl Fn(Cell) -> f64) {
    for cell in Cell::all() {
        let radius_px = cell.diameter_mm() / 2.0 / pose.pixel_mm;
        let v = value(cell);
        paint_disc(buf, size, pose.cell_centre_px(cell), radius_px, v);
        if let Some(corner) = layout.corner(cell) {
            paint_disc(buf, size, pose.corner_px(cell, corner), radius_px, v);
        }
    }
}

/// `D`: the fraction of the background signal that the gold removes, per pixel.
pub(crate) fn gold_deficit(params: &CdmamParams, layout: &Layout, beam: &Beam, pose: &PhantomPose, size: [usize; 2]) -> Vec<f32> {
    let [width, height] = size;
    let mut deficit = vec![0.0f32; width * height];
    paint_discs(&mut deficit, size, pose, layout, |cell| beam.gold_contrast(cell.thickness_um()));
    paint_shape(&mut deficit, width, [0..height, 0..width], pose, beam.gold_contrast(GRID_LINE_GOLD_UM), &Grid::new());
    if params.text {
        let contrast = beam.gold_contrast(TEXT_GOLD_UM);
        for line in phantom_text() {
            let bounds = pixel_bounds(pose, &line.corners_mm(), size);
            paint_shape(&mut deficit, width, bounds, pose, contrast, &line);
        }
    }
    deficit
}

/// Coverage of each pixel by the aluminium plate.
pub(crate) fn plate_coverage(pose: &PhantomPose, [width, height]: [usize; 2]) -> Vec<f32> {
    let mut plate = vec![0.0f32; width * height];
    paint_shape(&mut plate, width, [0..height, 0..width], pose, 1.0, &Plate);
    plate
}

/// The heel factor of image row `y`: `1 − heel · ((y + ½)/height − ½)`, brighter at the top (cathode side).
pub(crate) fn heel_factor(heel: f64, y: usize, height: usize) -> f64 {
    1.0 - heel * ((y as f64 + 0.5) / height as f64 - 0.5)
}

/// Expected detected quanta per pixel, before blur.
pub(crate) fn expected_quanta(params: &CdmamParams, layout: &Layout, beam: &Beam, pose: &PhantomPose, size: [usize; 2]) -> Vec<f32> {
    let [width, height] = size;
    let mut quanta = gold_deficit(params, layout, beam, pose, size);
    let plate = plate_coverage(pose, size);
    let plate_transmission = beam.background_quanta / beam.open_quanta;
    quanta.par_chunks_mut(width).zip(plate.par_chunks(width)).enumerate().for_each(|(y, (line, plate))| {
        let q_open = beam.open_quanta * heel_factor(params.heel, y, height);
        for (q, &a) in line.iter_mut().zip(plate) {
            let (a, d) = (f64::from(a).min(1.0), f64::from(*q));
            *q = (q_open * (a * plate_transmission * (1.0 - d) + (1.0 - a))) as f32;
        }
    });
    quanta
}
