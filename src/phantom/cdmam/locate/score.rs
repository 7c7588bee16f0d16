//! Corner scores: the matched filter of each row's diameter at the four corners of every cell, in units of the
//! filter's noise σ measured at disc-free points of the same image.

use rayon::prelude::*;

use super::filter::DiscFilter;
use super::located::Located;
use super::prepare::finite;
use super::sample::{median_f64, robust_sigma};
use crate::imaging::Image;
use crate::phantom::cdmam::geometry::{Cell, Corner};
use crate::phantom::cdmam::scores::ImageScores;
use crate::phantom::cdmam::tables::{CORNER_OFFSET_MM, DIAMETERS_MM};

/// Disc-free points of a cell, relative to its centre (mm): halfway between two corners, as far from the discs as
/// from the centre.
const BACKGROUND_OFFSETS_MM: [[f64; 2]; 4] =
    [[CORNER_OFFSET_MM, 0.0], [-CORNER_OFFSET_MM, 0.0], [0.0, CORNER_OFFSET_MM], [0.0, -CORNER_OFFSET_MM]];
/// The noise of every filter is measured in cells whose discs are this small or smaller (row ≥ 3, ≤ 1.00 mm), so
/// that even the 2 mm filter stays clear of them.
const FIRST_BACKGROUND_ROW: usize = 3;
/// Rows pooled for one filter's noise.
const BACKGROUND_ROWS: usize = 5;
/// Fewer background samples than this and the filter's noise is taken over all background rows.
const MIN_BACKGROUND: usize = 16;

/// The filters of the sixteen diameters with their noise level on one image.
pub(super) struct Scorer {
    filters: Vec<DiscFilter>,
    /// Per row: median and robust σ of the response at disc-free points.
    noise: Vec<Option<(f64, f64)>>,
    /// −1 where gold is dark, so that a disc scores positive.
    sign: f64,
}

impl Scorer {
    pub fn new(image: &Image, located: &Located) -> Self {
        let pixel_mm = located.pose.pixel_mm;
        let filters: Vec<DiscFilter> =
            DIAMETERS_MM.iter().map(|&d| DiscFilter::new(d / pixel_mm, located.blur_sigma_px, pixel_mm)).collect();
        let background: Vec<(Cell, [f64; 2])> = Cell::all()
            .filter(|c| c.row >= FIRST_BACKGROUND_ROW)
            .flat_map(|cell| BACKGROUND_OFFSETS_MM.iter().map(move |&o| (cell, located.cell_point_px(cell, o))))
            .collect();
        let noise = filters
            .par_iter()
            .enumerate()
            .map(|(row, filter)| {
                let lo = row.saturating_sub(2).clamp(FIRST_BACKGROUND_ROW, 16 - BACKGROUND_ROWS);
                let band = lo..lo + BACKGROUND_ROWS;
                let near: Vec<f64> =
                    background.iter().filter(|(c, _)| band.contains(&c.row)).filter_map(|&(_, p)| filter.response(image, p)).collect();
                let samples = if near.len() >= MIN_BACKGROUND {
                    near
                } else {
                    background.iter().filter_map(|&(_, p)| filter.response(image, p)).collect()
                };
                if samples.len() < MIN_BACKGROUND {
                    return None;
                }
                let sigma = robust_sigma(&samples)?;
                (sigma > 0.0).then_some((median_f64(samples)?, sigma))
            })
            .collect();
        Self { filters, noise, sign: if located.discs_dark { -1.0 } else { 1.0 } }
    }

    /// The z-score of a disc of row `row`'s diameter at `position` (higher = more disc-like).
    pub fn z(&self, image: &Image, row: usize, position: [f64; 2]) -> Option<f64> {
        let (median, sigma) = (*self.noise.get(row)?)?;
        let response = self.filters.get(row)?.response(image, position)?;
        Some(self.sign * (response - median) / sigma)
    }
}

/// The matched-filter response at the four corners of every cell, in noise σ (higher = more like a gold disc).
/// Cells whose corners are not all inside the image stay `None`; an image with mostly non-finite values scores none.
pub fn score(image: &Image, located: &Located) -> ImageScores {
    let Ok(image) = finite(image) else { return ImageScores::default() };
    let scorer = Scorer::new(&image, located);
    let cells: Vec<Cell> = Cell::all().collect();
    let scored: Vec<(Cell, Option<[f32; 4]>)> = cells
        .par_iter()
        .map(|&cell| {
            let mut s = [0.0f32; 4];
            for corner in Corner::ALL {
                let Some(z) = scorer.z(&image, cell.row, located.corner_px(cell, corner)) else { return (cell, None) };
                s[corner.index()] = z as f32;
            }
            (cell, Some(s))
        })
        .collect();
    let mut scores = ImageScores::default();
    for (cell, s) in scored {
        if let Some(s) = s {
            scores.set(cell, s);
        }
    }
    scores
}
