//! What each image is scored against: the phantom's layout chart when the images confirm it, otherwise the
//! leave-one-out consensus of the other images.
//!
//! **Leave-one-out consensus.** Image `i` is scored against the argmax of the corner responses summed over every
//! *other* image. Its own noise never enters its truth, so where a disc is invisible the consensus is independent
//! of image `i`'s choice and the two agree 25 % of the time, exactly chance: the consensus does not inflate
//! detection. Where a disc is visible the summed responses of `n − 1` images pick the true corner (the summed
//! signal grows like `n − 1`, its noise like `√(n − 1)`). Near threshold the consensus is sometimes wrong, which
//! can only lower image `i`'s agreement, so with few images the thresholds are slightly conservative. The
//! argument assumes the images' noise is independent; a fixed pattern shared by all images (a corner-dependent
//! artefact) would be learnt by the consensus, which is why a layout chart, when it matches, is preferred.
//!
//! **Layout check.** A layout chart is only trusted after comparing it with the images: for every image and cell
//! where the leave-one-out consensus is decisive (the margin between the best and second-best summed response is
//! at least [`DECISIVE_Z`] standard deviations of that difference, which in practice only large or thick discs
//! reach), count how often the chart names the consensus corner. The chart is used when it agrees at least
//! [`MIN_LAYOUT_AGREEMENT`] of the time over at least [`MIN_DECISIVE_CELLS`] cells.

use crate::phantom::cdmam::geometry::{Cell, Corner};
use crate::phantom::cdmam::layout::Layout;
use crate::phantom::cdmam::scores::ImageScores;

use super::matrix::CellMatrix;

/// How many standard deviations the consensus margin must reach for a cell to count in the layout check. Each
/// corner response has unit noise; summed over `m` images the difference of two corners has variance `2m`.
pub const DECISIVE_Z: f64 = 4.0;
/// The fraction of decisive comparisons the layout must agree with to be used.
pub const MIN_LAYOUT_AGREEMENT: f64 = 0.9;
/// The number of distinct decisive cells below which the layout check is inconclusive.
pub const MIN_DECISIVE_CELLS: usize = 10;

/// Where the true corners came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TruthSource {
    /// The supplied layout chart, confirmed by the images.
    Layout,
    /// The leave-one-out consensus of the other images.
    Consensus,
}

/// The outcome of comparing a layout chart with the images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayoutMatch {
    Matches,
    DoesNotMatch,
    /// Too few decisive cells to tell (very noisy images): the consensus is used, which is unbiased either way.
    Inconclusive,
}

/// The layout check's figures.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct LayoutCheck {
    /// Fraction of decisive (image, cell) comparisons where the layout names the consensus corner.
    pub agreement: Option<f64>,
    /// The number of decisive (image, cell) comparisons.
    pub decisive_pairs: usize,
    /// The number of distinct cells among them.
    pub decisive_cells: usize,
    pub outcome: LayoutMatch,
}

/// Per cell, the corner responses summed over all images and the number of images that scored it.
struct Sums {
    sum: [[[f64; 4]; 16]; 16],
    count: [[usize; 16]; 16],
}

impl Sums {
    fn new(images: &[ImageScores]) -> Self {
        let mut sums = Self { sum: [[[0.0; 4]; 16]; 16], count: [[0; 16]; 16] };
        for image in images {
            for cell in Cell::all() {
                if let Some(s) = image.get(cell) {
                    let acc = &mut sums.sum[cell.row][cell.col];
                    for (a, v) in acc.iter_mut().zip(s) {
                        *a += f64::from(v);
                    }
                    sums.count[cell.row][cell.col] += 1;
                }
            }
        }
        sums
    }

    /// The summed responses of every image but `image`, and how many images they come from.
    fn others(&self, image: &ImageScores, cell: Cell) -> ([f64; 4], usize) {
        let mut sum = self.sum[cell.row][cell.col];
        let mut count = self.count[cell.row][cell.col];
        if let Some(own) = image.get(cell) {
            for (a, v) in sum.iter_mut().zip(own) {
                *a -= f64::from(v);
            }
            count -= 1;
        }
        (sum, count)
    }
}

/// The consensus corner of summed responses and its margin in standard deviations, `None` on an exact tie (all
/// responses equal, e.g. nothing measured) so that ties never favour one corner.
fn consensus(sum: [f64; 4], count: usize) -> Option<(Corner, f64)> {
    if count == 0 {
        return None;
    }
    let best = (0..4).fold(0, |b, i| if sum[i] > sum[b] { i } else { b });
    let second = (0..4).filter(|&i| i != best).map(|i| sum[i]).fold(f64::NEG_INFINITY, f64::max);
    let margin = sum[best] - second;
    (margin > 0.0).then(|| (Corner::ALL[best], margin / (2.0 * count as f64).sqrt()))
}

/// The leave-one-out consensus truth of every image: `truth[i]` is built from all images except `i`.
pub fn consensus_truth(images: &[ImageScores]) -> Vec<CellMatrix<Corner>> {
    let sums = Sums::new(images);
    images
        .iter()
        .map(|image| {
            let mut truth = CellMatrix::default();
            for cell in Cell::all() {
                let (sum, count) = sums.others(image, cell);
                truth.set(cell, consensus(sum, count).map(|(corner, _)| corner));
            }
            truth
        })
        .collect()
}

/// The layout as a truth matrix (the same for every image).
pub fn layout_truth(layout: &Layout) -> CellMatrix<Corner> {
    let mut truth = CellMatrix::default();
    for cell in Cell::all() {
        truth.set(cell, layout.corner(cell));
    }
    truth
}

/// Compares `layout` with the leave-one-out consensus where that consensus is decisive.
pub fn check_layout(images: &[ImageScores], layout: &Layout) -> LayoutCheck {
    let sums = Sums::new(images);
    let (mut pairs, mut agree) = (0_usize, 0_usize);
    let mut cells = CellMatrix::<bool>::default();
    for image in images {
        for cell in Cell::all() {
            if image.get(cell).is_none() {
                continue;
            }
            let (sum, count) = sums.others(image, cell);
            let (Some((corner, z)), Some(truth)) = (consensus(sum, count), layout.corner(cell)) else { continue };
            if z >= DECISIVE_Z {
                pairs += 1;
                agree += usize::from(corner == truth);
                cells.set(cell, Some(true));
            }
        }
    }
    let decisive_cells = cells.count();
    let agreement = (pairs > 0).then(|| agree as f64 / pairs as f64);
    let outcome = match agreement {
        _ if decisive_cells < MIN_DECISIVE_CELLS => LayoutMatch::Inconclusive,
        Some(a) if a >= MIN_LAYOUT_AGREEMENT => LayoutMatch::Matches,
        _ => LayoutMatch::DoesNotMatch,
    };
    LayoutCheck { agreement, decisive_pairs: pairs, decisive_cells, outcome }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::cdmam::analysis::synthetic::{Visibility, synthetic_images};

    #[test]
    fn consensus_never_uses_the_image_itself() {
        // Two images that disagree everywhere: each one's truth is the other's choice.
        let cell = Cell { row: 5, col: 5 };
        let mut a = ImageScores::default();
        let mut b = ImageScores::default();
        a.set(cell, [3.0, 0.0, 0.0, 0.0]);
        b.set(cell, [0.0, 0.0, 5.0, 0.0]);
        let truth = consensus_truth(&[a, b]);
        assert_eq!(truth[0].get(cell), Some(Corner::BottomRight));
        assert_eq!(truth[1].get(cell), Some(Corner::TopLeft));
        // A lone image has no truth; exact ties give none either.
        assert_eq!(consensus_truth(&[ImageScores::default()])[0].count(), 0);
        assert_eq!(consensus([1.0, 1.0, 0.0, 0.0], 3), None);
    }

    #[test]
    fn the_standard_layout_matches_its_own_images_and_a_random_one_does_not() {
        let layout = Layout::standard();
        let images = synthetic_images(&layout, 16, Visibility::typical(), 5);
        let check = check_layout(&images, &layout);
        assert_eq!(check.outcome, LayoutMatch::Matches, "{check:?}");
        assert!(check.agreement.unwrap() > 0.99 && check.decisive_cells > 50, "{check:?}");

        let wrong = check_layout(&images, &Layout::random(1));
        assert_eq!(wrong.outcome, LayoutMatch::DoesNotMatch, "{wrong:?}");
        assert!((0.15..0.4).contains(&wrong.agreement.unwrap()), "{wrong:?}");

        let noise = synthetic_images(&layout, 16, Visibility::none(), 5);
        assert_eq!(check_layout(&noise, &layout).outcome, LayoutMatch::Inconclusive);
    }
}
