//! The CDMAM overlay in a viewport: the detected cell lattice and, per cell, whether the readout found the corner
//! disc (green ring at the chosen corner) or not (red cross at the chosen corner, grey ring at the true one); the
//! cell under the pointer is described. Everything is placed in image coordinates, so it follows zoom and pan.

use egui::{Color32, FontId, Painter, Pos2, Rect, Stroke};

use crate::app::OpenImage;
use crate::app::cdmam::CdmamState;
use crate::app::view::SlotView;
use crate::phantom::cdmam::tables::CELL_PITCH_MM;
use crate::phantom::cdmam::{Cell, PhantomPose};

const LATTICE: Color32 = Color32::from_rgba_premultiplied(60, 180, 220, 150);
const FOUND: Color32 = Color32::from_rgb(60, 220, 90);
const MISSED: Color32 = Color32::from_rgb(240, 70, 60);
const TRUTH: Color32 = Color32::from_rgb(200, 200, 200);

/// Draws the overlay of `image` in the viewport `rect` when the image was read; `pointer` is the hovered position.
pub fn cdmam_overlay_ui(painter: &Painter, rect: Rect, image: &OpenImage, view: &SlotView, cdmam: &CdmamState, pointer: Option<Pos2>) {
    let Some(result) = &cdmam.result else { return };
    let Some(exposure) = result.exposure_of(image.id) else { return };
    let readout = &result.readout;
    let pose = readout.exposures[exposure].pose;
    let to_screen = |p: [f64; 2]| view.ui_from_image(rect, image.orientation, pose.to_image(p));
    let half = CELL_PITCH_MM / 2.0;
    // The on-screen size of one cell decides how much detail is legible.
    let cell_px = {
        let a = to_screen([0.0, 0.0]);
        let b = to_screen([CELL_PITCH_MM, 0.0]);
        a.distance(b)
    };
    if cdmam.show_lattice {
        for cell in Cell::all() {
            let [u, v] = cell.centre_mm();
            let corners = [[u - half, v - half], [u + half, v - half], [u + half, v + half], [u - half, v + half]].map(to_screen);
            if corners.iter().all(|p| !rect.contains(*p)) && !rect.contains(to_screen([u, v])) {
                continue;
            }
            for i in 0..4 {
                painter.line_segment([corners[i], corners[(i + 1) % 4]], Stroke::new(1.0, LATTICE));
            }
        }
    }
    if cdmam.show_marks && cell_px >= 8.0 {
        let r = (cell_px * 0.09).clamp(2.5, 14.0);
        for mark in readout.marks(exposure) {
            let picked = to_screen(mark.cell.corner_mm(mark.picked));
            if !rect.contains(picked) {
                continue;
            }
            if mark.correct() {
                painter.circle_stroke(picked, r, Stroke::new(1.5, FOUND));
            } else {
                let d = r * 0.8;
                painter.line_segment([picked + egui::vec2(-d, -d), picked + egui::vec2(d, d)], Stroke::new(1.5, MISSED));
                painter.line_segment([picked + egui::vec2(-d, d), picked + egui::vec2(d, -d)], Stroke::new(1.5, MISSED));
                painter.circle_stroke(to_screen(mark.cell.corner_mm(mark.truth)), r, Stroke::new(1.0, TRUTH));
            }
        }
    }
    if let Some(pointer) = pointer.filter(|p| rect.contains(*p)) {
        hover_ui(painter, rect, image, view, &pose, &readout.marks(exposure), pointer);
    }
}

fn hover_ui(
    painter: &Painter,
    rect: Rect,
    image: &OpenImage,
    view: &SlotView,
    pose: &PhantomPose,
    marks: &[crate::phantom::cdmam::readout::CellMark],
    pointer: Pos2,
) {
    let [u, v] = pose.to_phantom(view.image_from_ui(rect, image.orientation, pointer));
    let col = (u / CELL_PITCH_MM + 7.5).round();
    let row = (v / CELL_PITCH_MM + 7.5).round();
    if !(0.0..16.0).contains(&col) || !(0.0..16.0).contains(&row) {
        return;
    }
    let cell = Cell { row: row as usize, col: col as usize };
    let Some(mark) = marks.iter().find(|m| m.cell == cell) else { return };
    let text = format!(
        "cell {}/{}: {:.2} mm, {:.2} µm\n{}{}",
        cell.row,
        cell.col,
        cell.diameter_mm(),
        cell.thickness_um(),
        if mark.correct() { "corner found" } else { "wrong corner" },
        if mark.corrected == mark.correct() {
            String::new()
        } else {
            format!(" (counted {} after NN correction)", if mark.corrected { "correct" } else { "wrong" })
        }
    );
    let galley = painter.layout_no_wrap(text, FontId::proportional(13.0), Color32::WHITE);
    let at = pointer + egui::vec2(14.0, 14.0);
    painter.rect_filled(Rect::from_min_size(at, galley.size()).expand(4.0), 3.0, Color32::from_black_alpha(200));
    painter.galley(at, galley, Color32::WHITE);
}
