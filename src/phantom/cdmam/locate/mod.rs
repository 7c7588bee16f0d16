//! Finding the CDMAM in an image from the image alone, and scoring each cell's corners with a matched filter.
//!
//! [`locate`] works in two scales:
//! 1. `prepare`: a copy downsampled to ~0.4 mm, high-passed (minus a 3 mm box mean), in units of its noise σ and
//!    clipped, so the plate edge and the open field weigh no more than a grid line.
//! 2. `orientation`: the grid angle modulo 90° from a quadrupled-angle histogram of gradients, refined to ~0.01° by
//!    maximising the variance of the projections along both grid directions (`profile`).
//! 3. `period`: each projection folded over candidate periods (a comb search; the smallest period that folds well,
//!    so not a multiple), then a straight line through the individual line positions: pitch (→ pixel size) and phase.
//! 4. `edges` + `matching`: line evidence along every edge of the resulting `lattice`, and the 205-cell outline
//!    matched under the eight ways to lay the matrix down and every offset.
//! 5. `refine`: on the full-resolution image, every printed line segment's position is measured across it, and a
//!    similarity (centre, angle, scale) is fitted by least squares with outliers left out; the mean line profile
//!    gives the system blur and the grid contrast.
//! 6. `cells`: the outline has a mirror twin (`(row, col)` → `(15 − col, 15 − row)`); of the two, the pose whose
//!    centre discs answer best to their rows' matched filters wins (the sizes differ). Then each cell whose centre
//!    disc is clearly visible is moved onto that disc's matched-filter peak.
//!
//! [`score`] evaluates, per row, a matched `filter` (the disc blurred by the measured blur, minus its mean over its
//! support) at the four corners and divides by the filter's noise σ measured halfway between corners.
//!
//! ```no_run
//! use mammoscope::imaging::Image;
//! use mammoscope::phantom::cdmam::locate::{LocateOptions, locate, score};
//! # let image = Image::filled(2400, 3000, 1000.0);
//! let located = locate(&image, &LocateOptions::with_hint(0.1))?;
//! let scores = score(&image, &located);
//! println!("{} cells scored, pixel {:.4} mm", scores.scored(), located.pose.pixel_mm);
//! # Ok::<(), mammoscope::phantom::cdmam::locate::LocateError>(())
//! ```

mod cells;
mod edges;
mod error;
mod filter;
mod lattice;
mod line_profile;
mod located;
mod matching;
mod numeric;
mod orientation;
mod period;
mod prepare;
mod profile;
mod refine;
#[cfg(test)]
mod render;
mod sample;
mod score;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

pub use error::LocateError;
pub use located::{LocateOptions, Located};
pub use score::score;

use crate::imaging::Image;
use crate::phantom::cdmam::geometry::PhantomPose;
use lattice::Lattice;
use prepare::Coarse;
use profile::{Points, Profile, axes};

/// Grid-angle candidates tried, strongest first (plate edges and text make peaks of their own).
const ANGLE_CANDIDATES: usize = 8;
/// A projection's lines must stand this many noise σ above it.
const MIN_SIGNIFICANCE: f64 = 8.0;
/// A lattice this significant whose outline shows [`CONVINCING_CELLS`] is taken without trying the other angles (a
/// wrong angle gives no comb at all; one close to the grid's converges onto it).
const CLEAR_SIGNIFICANCE: f64 = 30.0;
/// Fewer phantom cells with all four edges visible than this is not a CDMAM.
const MIN_CELLS: usize = 120;
/// A clear lattice on which this many cells show their four edges is the grid: the other angles are not tried.
const CONVINCING_CELLS: usize = 190;

/// Find the CDMAM 3.4 in `image` (raw or processed; gold dark or bright) and measure its pose.
pub fn locate(image: &Image, options: &LocateOptions) -> Result<Located, LocateError> {
    let image = prepare::finite(image)?;
    let pixel_mm = prepare::assumed_pixel_mm(&image, options.pixel_mm_hint)?;
    let coarse_mm = if options.coarse_mm.is_finite() && options.coarse_mm > 0.0 { options.coarse_mm } else { 0.4 };
    let coarse = prepare::coarse(&image, pixel_mm, coarse_mm)?;
    let nominal_period = 10.0 / coarse.nominal_mm;
    let tolerance = options.hint_tolerance.clamp(0.01, 1.0);
    let range = if options.pixel_mm_hint.is_some() {
        (nominal_period / (1.0 + tolerance), nominal_period * (1.0 + tolerance))
    } else {
        (nominal_period / 2.0, nominal_period * 2.0)
    };
    let (lattice, dark, candidates, cells_found) = find_phantom(&coarse, range)?;
    // Near-tied outlines (always the two mirror twins): refine each, keep the one whose discs fit.
    let mut best: Option<(f64, Located)> = None;
    let mut failure = None;
    for placement in candidates {
        let coarse_pose = placement.pose(&lattice);
        let refined = match refine::refine(&image, to_full_resolution(&coarse_pose, coarse.factor), dark) {
            Ok(refined) => refined,
            Err(e) => {
                failure = Some(e);
                continue;
            }
        };
        let located = Located {
            pose: refined.pose,
            cells_found,
            grid_contrast: refined.contrast,
            fit_residual_px: refined.residual_px,
            segments_fitted: refined.segments,
            discs_dark: dark,
            blur_sigma_px: refined.blur_sigma_px,
            cell_offsets_px: [[[0.0; 2]; 16]; 16],
            cells_refined: 0,
        };
        let evidence = cells::disc_evidence(&image, &located);
        if best.as_ref().is_none_or(|b| evidence > b.0) {
            best = Some((evidence, located));
        }
    }
    let Some((_, mut located)) = best else {
        return Err(failure.unwrap_or_else(|| LocateError::NoMatch("no placement of the outline fits the lattice".into())));
    };
    if options.refine_cells {
        cells::refine_cells(&image, &mut located);
    }
    Ok(located)
}

/// A lattice of grid lines, how many noise σ its lines stand above the projections, and whether they are dark.
type LatticeCandidate = (f64, Lattice, bool);

/// The phantom found: its lattice, whether the lines are dark, the near-tied placements of the outline and the number
/// of cells that show their four grid lines.
type Found = (Lattice, bool, Vec<matching::Placement>, usize);

/// The lattice of the phantom's grid lines on the coarse image with a period in `range` (coarse pixels), whether the
/// lines are dark, the near-tied placements of the outline and the number of cells found.
///
/// The most periodic lattice is not always the grid: the crossings and disc columns of the diamond fold into a comb
/// along the image axes (every 10/√2 mm, near the short end of the hinted range), and plate edges, the open field and
/// text can add their own. So each lattice with significant lines is checked against the 205-cell outline as it is
/// found, and the one whose outline shows the most cells wins. A lattice that is clear and shows almost the whole
/// outline is taken at once, without trying the other angles.
fn find_phantom(coarse: &Coarse, range: (f64, f64)) -> Result<Found, LocateError> {
    let mut failures: Vec<(f64, LocateError)> = Vec::new();
    let mut found: Vec<(f64, Found)> = Vec::new();
    let searched = lattices(coarse, range, |(significance, lattice, dark): LatticeCandidate| {
        if significance < MIN_SIGNIFICANCE {
            return None;
        }
        match match_outline(coarse, &lattice, dark) {
            Ok((candidates, cells_found)) if significance >= CLEAR_SIGNIFICANCE && cells_found >= CONVINCING_CELLS => {
                Some((lattice, dark, candidates, cells_found))
            }
            Ok((candidates, cells_found)) => {
                found.push((significance, (lattice, dark, candidates, cells_found)));
                None
            }
            Err(e) => {
                failures.push((significance, e));
                None
            }
        }
    })?;
    let best = match searched {
        Ok(convincing) => return Ok(convincing),
        Err(best) => best,
    };
    // Most cells first, then the most significant lines.
    if let Some((_, found)) = found.into_iter().max_by(|a, b| a.1.3.cmp(&b.1.3).then(a.0.total_cmp(&b.0))) {
        return Ok(found);
    }
    // The most significant lattice's failure says most about the image.
    failures.sort_by(|a, b| b.0.total_cmp(&a.0));
    Err(failures.into_iter().next().map_or_else(|| no_significant_lines(coarse, range, best), |f| f.1))
}

/// The outline matched on one lattice; an error when too few cells show their four grid lines.
fn match_outline(coarse: &Coarse, lattice: &Lattice, dark: bool) -> Result<(Vec<matching::Placement>, usize), LocateError> {
    let edges = edges::EdgeMap::measure(&coarse.high, lattice, dark)?;
    let candidates = matching::candidates(&edges);
    let cells_found = candidates.first().map_or(0, |p| matching::cells_found(p, &edges));
    if cells_found < MIN_CELLS {
        return Err(LocateError::NoMatch(format!("only {cells_found} of 205 cells show their four grid lines")));
    }
    Ok((candidates, cells_found))
}

/// The error when no lattice had significant lines (`best`: the highest significance seen, if any lattice folded).
fn no_significant_lines(coarse: &Coarse, (lo, hi): (f64, f64), best: Option<f64>) -> LocateError {
    let f = coarse.factor as f64;
    let pitch = format!("a 10 mm pitch of {:.0}–{:.0} px, pixel {:.3}–{:.3} mm", lo * f, hi * f, 10.0 / (hi * f), 10.0 / (lo * f));
    match best {
        Some(significance) => LocateError::NoGrid(format!(
            "periodic lines with {pitch} stand only {significance:.1} σ above the noise (need {MIN_SIGNIFICANCE})"
        )),
        None => LocateError::NoGrid(format!("no periodic lines with {pitch} in any direction")),
    }
}

/// The lattices of periodic lines at each candidate grid angle, handed to `accept` as they are found (a lattice it
/// accepts ends the search: `Ok(Ok(..))`); otherwise `Ok(Err(best))` with the highest significance seen.
fn lattices<T>(
    coarse: &Coarse,
    (lo, hi): (f64, f64),
    mut accept: impl FnMut(LatticeCandidate) -> Option<T>,
) -> Result<Result<T, Option<f64>>, LocateError> {
    let points = Points::from_high(&coarse.high);
    if points.len() < 64 {
        return Err(LocateError::NoGrid("the image has almost no structure".into()));
    }
    let mut best: Option<f64> = None;
    let mut tried: Vec<f64> = Vec::new();
    for theta0 in orientation::candidates(&coarse.high, ANGLE_CANDIDATES) {
        let theta = orientation::refine(&points, theta0, 2f64.to_radians());
        let quarter = std::f64::consts::FRAC_PI_2;
        if tried.iter().any(|&t| ((theta - t + quarter / 2.0).rem_euclid(quarter) - quarter / 2.0).abs() < 0.05f64.to_radians()) {
            continue;
        }
        tried.push(theta);
        let (d, n) = axes(theta);
        let (along_d, along_n) =
            (Profile::project(&points, d, orientation::PROFILE_BIN), Profile::project(&points, n, orientation::PROFILE_BIN));
        let (Some(mut fi), Some(mut fj)) = (period::fit(&along_d, lo, hi), period::fit(&along_n, lo, hi)) else { continue };
        if (fi.period / fj.period - 1.0).abs() > 0.05 {
            // One projection locked onto a multiple of the pitch: fit both near the smaller.
            let p = fi.period.min(fj.period);
            let (Some(a), Some(b)) = (period::fit(&along_d, 0.95 * p, 1.05 * p), period::fit(&along_n, 0.95 * p, 1.05 * p)) else {
                continue;
            };
            (fi, fj) = (a, b);
        }
        let significance = fi.significance.min(fj.significance);
        let dark = if fi.significance >= fj.significance { fi.dark } else { fj.dark };
        let lattice = Lattice { theta, period: 0.5 * (fi.period + fj.period), phase: [fi.phase, fj.phase] };
        best = Some(best.map_or(significance, |b: f64| b.max(significance)));
        if let Some(found) = accept((significance, lattice, dark)) {
            return Ok(Ok(found));
        }
    }
    Ok(Err(best))
}

/// A pose on the image downsampled by `factor` → the same pose on the full image (coarse pixel `k` covers full
/// pixels `k·factor … k·factor + factor − 1`).
fn to_full_resolution(pose: &PhantomPose, factor: usize) -> PhantomPose {
    let f = factor as f64;
    PhantomPose {
        centre_px: [(pose.centre_px[0] + 0.5) * f - 0.5, (pose.centre_px[1] + 0.5) * f - 0.5],
        pixel_mm: pose.pixel_mm / f,
        ..*pose
    }
}
