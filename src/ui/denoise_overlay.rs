//! The difference view: denoised − input in a diverging colour map (red: the denoiser raised the value, blue: it
//! lowered it, black: unchanged), drawn in image coordinates right of the split line, with the value under the
//! pointer; and a progress line while tiles are still running.

use egui::{Color32, Painter, Pos2, Rect, TextureHandle, TextureOptions, pos2, vec2};

use crate::app::OpenImage;
use crate::app::denoise::{DenoiseResult, DenoiseView, wanted_input};
use crate::app::view::SlotView;

use super::cdc_overlay::{draw_in_image, heat_image};

fn texture(ctx: &egui::Context, image_id: u64, r: &DenoiseResult, gain: f32) -> TextureHandle {
    let key = egui::Id::unique(("denoise_difference_texture", image_id));
    let stamp = (r.version, gain.to_bits());
    if let Some((s, tex)) = ctx.data(|d| d.get_temp::<((u64, u32), TextureHandle)>(key))
        && s == stamp
    {
        return tex;
    }
    let img = heat_image(&r.difference, r.display_width, r.display_height, r.difference_scale / gain.max(1e-3), 1.0);
    let tex = ctx.load_texture(format!("denoise-difference-{image_id}"), img, TextureOptions::NEAREST);
    ctx.data_mut(|d| d.insert_temp(key, (stamp, tex.clone())));
    tex
}

/// Draws the difference colours (difference view) and the progress line of `image` in the viewport `rect`.
pub fn denoise_overlay_ui(painter: &Painter, rect: Rect, image: &OpenImage, view: &SlotView, pointer: Option<Pos2>) {
    let settings = image.denoise.settings;
    let Some(r) = image.denoise.shown(&wanted_input(image)) else {
        if settings.enabled && image.denoise.running {
            label(painter, rect, "denoising…".to_owned());
        }
        return;
    };
    let left = settings.split.map_or(rect.left(), |s| rect.left() + s * rect.width());
    let clip = Rect::from_min_max(pos2(left, rect.top()), rect.max);
    if settings.view == DenoiseView::Difference && r.display_width > 0 {
        let tex = texture(painter.ctx(), image.id, r, settings.difference_gain);
        let extent = [(r.display_width * r.block) as f64, (r.display_height * r.block) as f64];
        draw_in_image(painter, rect, clip, image, view, &tex, extent);
        if let Some(p) = pointer.filter(|p| clip.contains(*p)) {
            let [x, y] = view.image_from_ui(rect, image.orientation, p);
            let (bx, by) = ((x.max(0.0) as usize) / r.block, (y.max(0.0) as usize) / r.block);
            if x >= 0.0 && y >= 0.0 && bx < r.display_width && by < r.display_height {
                let v = r.difference[by * r.display_width + bx];
                painter.text(
                    p + vec2(14.0, 14.0),
                    egui::Align2::LEFT_TOP,
                    format!("Δ {v:+.1}"),
                    egui::FontId::monospace(12.0),
                    Color32::WHITE,
                );
            }
        }
    }
    if !r.complete() {
        label(painter, rect, format!("denoising: {}/{} tiles", r.tiles_done, r.tiles_total));
    }
}

fn label(painter: &Painter, rect: Rect, text: String) {
    painter.text(
        rect.left_bottom() + vec2(8.0, -40.0),
        egui::Align2::LEFT_BOTTOM,
        text,
        egui::FontId::proportional(12.0),
        Color32::from_rgb(120, 220, 255),
    );
}
