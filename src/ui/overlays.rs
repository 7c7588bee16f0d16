//! Drawn over the image: view labels, orientation letters, measurements and the loupe.

use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, Vec2};

use crate::app::{
    OpenImage, ViewState,
    hanging::Orientation,
    view::{PendingMeasurement, SlotView},
};
use crate::render::ScreenMapping;

use super::viewer::LOUPE_DRAW_BASE;

const LABEL: Color32 = Color32::from_rgb(230, 200, 90);
const MEASURE: Color32 = Color32::from_rgb(90, 220, 120);
/// Loupe side in screen points.
pub const LOUPE_SIDE: f32 = 220.0;

/// "R CC", the zoom, frame, and the patient-orientation letters at the edges.
pub fn slot_labels_ui(painter: &Painter, rect: Rect, image: &OpenImage, view: &SlotView) {
    let font = FontId::proportional(15.0);
    let title = image.title();
    painter.text(rect.left_top() + Vec2::new(8.0, 6.0), Align2::LEFT_TOP, &title, font.clone(), LABEL);
    let mut info = format!("{:.0}%", view.zoom * 100.0);
    if image.frames.len() > 1 {
        info = format!("frame {}/{}  {info}", image.frame + 1, image.frames.len());
    }
    painter.text(rect.right_top() + Vec2::new(-8.0, 6.0), Align2::RIGHT_TOP, info, FontId::proportional(12.0), Color32::GRAY);
    if let Some((row, column)) = &image.meta.mammo.patient_orientation {
        // Letters at the right and bottom edges give where the row and column directions point after mirroring.
        let (row_dir, col_dir) = displayed_orientation(row, column, image.orientation);
        let small = FontId::proportional(13.0);
        painter.text(rect.right_center() + Vec2::new(-8.0, 0.0), Align2::RIGHT_CENTER, row_dir, small.clone(), LABEL);
        painter.text(rect.center_bottom() + Vec2::new(0.0, -8.0), Align2::CENTER_BOTTOM, col_dir, small, LABEL);
    }
}

/// Patient directions towards the right edge and the bottom edge of the displayed image.
pub fn displayed_orientation(row: &str, column: &str, mirroring: Orientation) -> (String, String) {
    let opposite = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'A' => 'P',
                'P' => 'A',
                'L' => 'R',
                'R' => 'L',
                'H' => 'F',
                'F' => 'H',
                other => other,
            })
            .collect()
    };
    let row = if mirroring.flip_x { opposite(row) } else { row.to_owned() };
    let column = if mirroring.flip_y { opposite(column) } else { column.to_owned() };
    (row, column)
}

/// Stored measurements (image coordinates) and the one being dragged, with lengths in mm when spacing is known.
pub fn measurements_ui(painter: &Painter, rect: Rect, image: &OpenImage, view: &SlotView, pending: Option<PendingMeasurement>) {
    let all = image.measurements.iter().map(|m| (m.a_in_image, m.b_in_image)).chain(pending.map(|p| (p.a_in_image, p.b_in_image)));
    for (a, b) in all {
        let pa = view.ui_from_image(rect, image.orientation, a);
        let pb = view.ui_from_image(rect, image.orientation, b);
        painter.line_segment([pa, pb], Stroke::new(1.5, MEASURE));
        for p in [pa, pb] {
            painter.circle_stroke(p, 3.0, Stroke::new(1.0, MEASURE));
        }
        let label = measurement_label(image, a, b);
        painter.text(pb + Vec2::new(6.0, -6.0), Align2::LEFT_BOTTOM, label, FontId::proportional(13.0), MEASURE);
    }
}

/// "12.3 mm" with the spacing's source, or pixels when the file gives no spacing.
pub fn measurement_label(image: &OpenImage, a: [f64; 2], b: [f64; 2]) -> String {
    match image.meta.spacing {
        Some(spacing) => format!("{:.1} mm", spacing.distance_mm(a, b)),
        None => format!("{:.1} px", (b[0] - a[0]).hypot(b[1] - a[1])),
    }
}

/// A magnifier centred on the pointer, drawing raw pixels (nearest, level 0) at `loupe_factor` screen pixels
/// per image pixel, with the same VOI as the view.
/// Shows what the viewport shows (the perturbed image while the lab is active); a preview-resolution result is
/// magnified from the preview until the full-resolution one arrives.
pub fn loupe_ui(ui: &egui::Ui, slot_rect: Rect, slot: usize, pointer: Pos2, image: &OpenImage, view: &ViewState) {
    let Some(layers) = super::layers::layers(image) else { return };
    let ppp = ui.ctx().pixels_per_point();
    let loupe_rect = Rect::from_center_size(pointer, Vec2::splat(LOUPE_SIDE));
    let pos_in_image = view.slots[slot].image_from_ui(slot_rect, image.orientation, pointer);
    let mapping = ScreenMapping {
        rect_center_in_ui: [pointer.x, pointer.y],
        center_in_image: [pos_in_image[0] as f32, pos_in_image[1] as f32],
        zoom: view.loupe_factor.clamp(2.0, 8.0) / ppp,
        flip_x: image.orientation.flip_x,
        flip_y: image.orientation.flip_y,
    };
    let painter = ui.ctx().layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("loupe")));
    painter.rect_filled(loupe_rect, 0.0, Color32::BLACK);
    let callback = super::viewer::layer_callback(LOUPE_DRAW_BASE + slot as u64, &layers.main, mapping, false);
    painter.add(egui_wgpu::Callback::new_paint_callback(loupe_rect, callback));
    painter.rect_stroke(loupe_rect, 0.0, Stroke::new(2.0, LABEL), egui::StrokeKind::Outside);
    painter.text(
        loupe_rect.left_top() + Vec2::new(4.0, 4.0),
        Align2::LEFT_TOP,
        format!("loupe {:.0}×", view.loupe_factor),
        FontId::proportional(12.0),
        LABEL,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrored_orientation_letters() {
        let flip = |flip_x, flip_y| Orientation { flip_x, flip_y, basis: "" };
        assert_eq!(displayed_orientation("A", "L", flip(true, false)), ("P".to_owned(), "L".to_owned()));
        assert_eq!(displayed_orientation("A", "FL", flip(false, true)), ("A".to_owned(), "HR".to_owned()));
    }
}
