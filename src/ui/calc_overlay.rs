//! The calcification overlay in a viewport: patch outlines in image coordinates (they follow zoom, pan and
//! mirroring), coloured by probability, a ring where each marked patch's evidence peaks (where to look inside its
//! 16 mm), the selected patch highlighted, the probability under the pointer.

use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, StrokeKind};

use crate::app::OpenImage;
use crate::app::view::SlotView;
use crate::models::detector::PatchScore;

/// Outline colour for probability `p` at threshold `t`: yellow at the threshold to red at 1.
pub fn probability_color(p: f32, t: f32) -> Color32 {
    let u = if t >= 1.0 { 1.0 } else { ((p - t) / (1.0 - t)).clamp(0.0, 1.0) };
    let g = (220.0 * (1.0 - u) + 30.0 * u) as u8;
    Color32::from_rgb(255, g, 40)
}

/// The patch's rectangle on screen.
pub fn patch_rect_on_screen(view: &SlotView, rect: Rect, image: &OpenImage, p: &PatchScore) -> Rect {
    let a = view.ui_from_image(rect, image.orientation, [p.x, p.y]);
    let b = view.ui_from_image(rect, image.orientation, [p.x + p.w, p.y + p.h]);
    Rect::from_two_pos(a, b)
}

/// Draws the overlay of `image` in the viewport `rect`; `pointer` is the hovered screen position.
pub fn calc_overlay_ui(painter: &Painter, rect: Rect, image: &OpenImage, view: &SlotView, pointer: Option<Pos2>) {
    let calc = &image.calc;
    if !calc.enabled {
        return;
    }
    let threshold = calc.threshold_or_default();
    let visible = calc.visible();
    for p in visible.iter().rev() {
        let r = patch_rect_on_screen(view, rect, image, p);
        if !r.intersects(rect) {
            continue;
        }
        let colour = probability_color(p.prob, threshold);
        painter.rect_stroke(r, 0.0, Stroke::new(1.5, colour), StrokeKind::Middle);
        // The evidence ring: an eighth of the patch (2 mm) in radius, never smaller than a few screen pixels.
        let centre = view.ui_from_image(rect, image.orientation, p.evidence);
        let radius = (r.width() / 8.0).max(5.0);
        painter.circle_stroke(centre, radius, Stroke::new(1.5, colour));
    }
    if let Some(sel) = calc.selected {
        let r = patch_rect_on_screen(view, rect, image, &sel);
        painter.rect_stroke(r.expand(2.0), 0.0, Stroke::new(2.0, Color32::from_rgb(80, 220, 255)), StrokeKind::Middle);
    }
    let Some(pointer) = pointer else { return };
    let pos = view.image_from_ui(rect, image.orientation, pointer);
    // The probability of every scored patch under the pointer (also below the threshold), highest first.
    let hovered = calc
        .result
        .as_ref()
        .and_then(|r| r.detection.patches.iter().filter(|p| p.contains(pos[0], pos[1])).max_by(|a, b| a.prob.total_cmp(&b.prob)).copied());
    if let Some(p) = hovered {
        let text = format!("calcification p = {:.3}{}", p.prob, if p.prob >= threshold { "" } else { " (below threshold)" });
        let galley = painter.layout_no_wrap(text, FontId::proportional(13.0), Color32::WHITE);
        let at = pointer + egui::vec2(14.0, 14.0);
        let bg = Rect::from_min_size(at, galley.size()).expand(4.0);
        painter.rect_filled(bg, 3.0, Color32::from_black_alpha(200));
        painter.galley(at, galley, Color32::WHITE);
    }
    if calc.running {
        let (done, total) = calc.progress;
        painter.text(
            rect.left_bottom() + egui::vec2(8.0, -8.0),
            Align2::LEFT_BOTTOM,
            format!("calcifications: {done}/{total} patches"),
            FontId::proportional(12.0),
            Color32::from_rgb(255, 210, 80),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_yellow_to_red() {
        let low = probability_color(0.5, 0.5);
        let high = probability_color(1.0, 0.5);
        assert!(low.g() > 200 && high.g() < 40);
        assert_eq!(low.r(), 255);
    }
}
