//! Tests on exposures from the CDMAM simulator (`synth::cdmam`): pose accuracy across the matrix and the corner
//! choice of the clearly visible discs.

use super::tests::worst_centre_error;
use super::*;
use crate::phantom::cdmam::geometry::Cell;
use crate::phantom::cdmam::layout::Layout;
use crate::synth::cdmam::{CdmamParams, simulate};

/// The fraction of thick large cells (≥ 0.5 µm, ≥ 0.5 mm) whose highest corner is the layout's.
fn visible_correct(scores: &crate::phantom::cdmam::ImageScores, layout: &Layout) -> (usize, usize) {
    let visible: Vec<Cell> = Cell::all().filter(|c| c.thickness_um() >= 0.5 && c.diameter_mm() >= 0.5).collect();
    (visible.iter().filter(|&&c| scores.choice(c) == layout.corner(c)).count(), visible.len())
}

#[test]
#[ignore = "exploration"]
fn explore() {
    let layout = Layout::standard();
    for (pixel_mm, margin_mm, text, rot) in [(0.2, 0.0, false, 1.5), (0.2, 20.0, true, 3.0), (0.15, 30.0, true, 5.0), (0.1, 10.0, true, 1.5)] {
        for index in 0..2 {
            let params = CdmamParams { pixel_mm, margin_mm, text, max_rotation_deg: rot, max_shift_mm: 5.0, ..CdmamParams::default() };
            let e = simulate(&params, &layout, 42, index).unwrap();
            let t = std::time::Instant::now();
            let located = locate(&e.image, &LocateOptions::with_hint(pixel_mm));
            let elapsed = t.elapsed().as_secs_f64();
            match located {
                Ok(l) => {
                    let err = worst_centre_error(&l.pose, &e.pose);
                    let s = score(&e.image, &l);
                    let (right, total) = visible_correct(&s, &layout);
                    let all = Cell::all().filter(|&c| s.choice(c) == layout.corner(c)).count();
                    println!("px {pixel_mm} margin {margin_mm} text {text} #{index}: err {err:.3} px, resid {:.3}, blur {:.2} px, contrast {:.3}, found {}, refined {}, visible {right}/{total}, all {all}/205, {elapsed:.2}s", l.fit_residual_px, l.blur_sigma_px, l.grid_contrast, l.cells_found, l.cells_refined);
                }
                Err(err) => println!("px {pixel_mm} margin {margin_mm} #{index}: {err}"),
            }
        }
    }
}

#[test]
#[ignore = "exploration"]
fn debug_case() {
    let layout = Layout::standard();
    let params = CdmamParams { pixel_mm: 0.15, margin_mm: 30.0, text: true, max_rotation_deg: 5.0, max_shift_mm: 5.0, ..CdmamParams::default() };
    let e = simulate(&params, &layout, 42, 0).unwrap();
    eprintln!("truth angle {} size {}x{}", e.pose.angle_rad.to_degrees(), e.image.width, e.image.height);
    let coarse = prepare::coarse(&e.image, 0.15, 0.4).unwrap();
    let nominal = 10.0 / coarse.nominal_mm;
    let range = (nominal / 1.3, nominal * 1.3);
    let points = Points::from_high(&coarse.high);
    let cands = orientation::candidates(&coarse.high, 6);
    eprintln!("factor {} points {} cands {:?}", coarse.factor, points.len(), cands.iter().map(|c| c.to_degrees()).collect::<Vec<_>>());
    for theta0 in cands {
        let theta = orientation::refine(&points, theta0, 2f64.to_radians());
        let (d, n) = axes(theta);
        let a = period::fit(&Profile::project(&points, d, 0.5), range.0, range.1);
        let b = period::fit(&Profile::project(&points, n, 0.5), range.0, range.1);
        eprintln!("theta {} {a:?} {b:?}", theta.to_degrees());
    }
}

#[test]
#[ignore = "exploration"]
fn debug_visible() {
    let layout = Layout::standard();
    let params = CdmamParams { pixel_mm: 0.2, margin_mm: 0.0, text: false, max_rotation_deg: 1.5, max_shift_mm: 5.0, ..CdmamParams::default() };
    let e = simulate(&params, &layout, 42, 1).unwrap();
    for refine_cells in [true, false] {
        let l = locate(&e.image, &LocateOptions { refine_cells, ..LocateOptions::with_hint(0.2) }).unwrap();
        let s = score(&e.image, &l);
        for c in Cell::all().filter(|c| c.thickness_um() >= 0.5 && c.diameter_mm() >= 0.5) {
            let truth = layout.corner(c).unwrap();
            let ok = s.choice(c) == Some(truth);
            let tc = e.pose.cell_centre_px(c);
            let lc = l.cell_centre_px(c);
            eprintln!("{c:?} ok {ok} truth {} scores {:?} off {:?} err {:.2},{:.2}", truth.index(), s.get(c).unwrap(), l.cell_offsets_px[c.row][c.col], lc[0]-tc[0], lc[1]-tc[1]);
        }
    }
}
