//! The explainability heatmap over a viewport: a diverging colour map (red Δx > 0: raising the intensity there
//! would lower the predicted CDC, blue Δx < 0: lowering it would, black 0) drawn in image coordinates (it follows
//! zoom, pan and mirroring), and a magnified cutout of the full-resolution map under the pointer (the paper's
//! Figures 4–6).

use egui::{Color32, ColorImage, Mesh, Painter, Pos2, Rect, Stroke, TextureHandle, TextureOptions, pos2, vec2};

use crate::app::OpenImage;
use crate::app::cdc::HeatmapSnapshot;
use crate::app::view::SlotView;

/// Side of the cutout, image pixels.
const CUTOUT_PX: usize = 96;
/// Side of the cutout on screen, points.
const CUTOUT_POINTS: f32 = 288.0;

/// The colour of a heatmap value `v` at colour scale `scale` (|v| ≥ scale is full colour).
pub fn heat_color(v: f32, scale: f32) -> Color32 {
    if !v.is_finite() || scale <= 0.0 {
        return Color32::BLACK;
    }
    let u = (v / scale).clamp(-1.0, 1.0);
    let a = u.abs();
    // Quantisation: 255 steps of the magnitude.
    let level = |x: f32| (x * 255.0).round().clamp(0.0, 255.0) as u8;
    if u > 0.0 {
        Color32::from_rgb(level(a), level(0.15 * a * a), level(0.1 * a * a))
    } else {
        Color32::from_rgb(level(0.1 * a * a), level(0.35 * a), level(a))
    }
}

/// The display map as an RGBA image with `opacity` (alpha) at colour scale `scale`.
pub fn heat_image(values: &[f32], width: usize, height: usize, scale: f32, opacity: f32) -> ColorImage {
    let alpha = (opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
    let pixels = values
        .iter()
        .map(|&v| {
            let c = heat_color(v, scale);
            Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
        })
        .collect();
    ColorImage { size: [width, height], pixels, source_size: vec2(width as f32, height as f32) }
}

/// The texture of a snapshot, cached per image in egui's memory and rebuilt when the snapshot, gain or opacity
/// change.
fn texture(ctx: &egui::Context, image_id: u64, snap: &HeatmapSnapshot, gain: f32, opacity: f32) -> TextureHandle {
    let key = egui::Id::unique(("cdc_heatmap_texture", image_id));
    let stamp = (snap.version, gain.to_bits(), opacity.to_bits());
    if let Some((s, tex)) = ctx.data(|d| d.get_temp::<((u64, u32, u32), TextureHandle)>(key))
        && s == stamp
    {
        return tex;
    }
    let img = heat_image(&snap.display, snap.display_width, snap.display_height, snap.scale / gain.max(1e-3), opacity);
    let tex = ctx.load_texture(format!("cdc-heatmap-{image_id}"), img, TextureOptions::NEAREST);
    ctx.data_mut(|d| d.insert_temp(key, (stamp, tex.clone())));
    tex
}

/// Draws the heatmap of `image` (when on and computed) in the viewport `rect`, and the cutout under `pointer`.
pub fn cdc_overlay_ui(painter: &Painter, rect: Rect, image: &OpenImage, view: &SlotView, pointer: Option<Pos2>) {
    let cdc = &image.cdc;
    let settings = cdc.settings;
    let Some(snap) = cdc.heatmap.as_ref().filter(|_| settings.heatmap) else { return };
    if snap.display_width == 0 || snap.display_height == 0 {
        return;
    }
    let tex = texture(painter.ctx(), image.id, snap, settings.gain, settings.opacity);
    let extent = [(snap.display_width * snap.block) as f64, (snap.display_height * snap.block) as f64];
    draw_in_image(painter, rect, rect, image, view, &tex, extent);
    let status =
        format!("{}: {}/{} draws{}", snap.method.label(), snap.draws, snap.target, if cdc.heatmap_running { "" } else { " (done)" });
    painter.text(
        rect.left_bottom() + vec2(8.0, -24.0),
        egui::Align2::LEFT_BOTTOM,
        status,
        egui::FontId::proportional(12.0),
        Color32::from_rgb(255, 210, 80),
    );
    if settings.cutout
        && let Some(pointer) = pointer.filter(|p| rect.contains(*p))
    {
        cutout_ui(painter, rect, image, view, snap, settings.gain, pointer);
    }
}

/// Draws `tex` over the image pixels `[0, extent)` of `image` in the viewport `rect`, clipped to `clip`: it follows
/// zoom, pan and mirroring (the texture's u (v) runs right to left (bottom to top) when the image is flipped).
pub fn draw_in_image(painter: &Painter, rect: Rect, clip: Rect, image: &OpenImage, view: &SlotView, tex: &TextureHandle, extent: [f64; 2]) {
    let a = view.ui_from_image(rect, image.orientation, [0.0, 0.0]);
    let b = view.ui_from_image(rect, image.orientation, extent);
    let uv = Rect::from_min_max(
        pos2(if a.x <= b.x { 0.0 } else { 1.0 }, if a.y <= b.y { 0.0 } else { 1.0 }),
        pos2(if a.x <= b.x { 1.0 } else { 0.0 }, if a.y <= b.y { 1.0 } else { 0.0 }),
    );
    let mut mesh = Mesh::with_texture(tex.id());
    mesh.add_rect_with_uv(Rect::from_two_pos(a, b), uv, Color32::WHITE);
    painter.with_clip_rect(clip.intersect(rect)).add(mesh);
}

/// The full-resolution map around the pointer, magnified, in a corner of the viewport.
fn cutout_ui(painter: &Painter, rect: Rect, image: &OpenImage, view: &SlotView, snap: &HeatmapSnapshot, gain: f32, pointer: Pos2) {
    let [x, y] = view.image_from_ui(rect, image.orientation, pointer);
    if x < 0.0 || y < 0.0 || x >= snap.width as f64 || y >= snap.height as f64 {
        return;
    }
    let (cx, cy) = (x as usize, y as usize);
    let x0 = cx.saturating_sub(CUTOUT_PX / 2).min(snap.width.saturating_sub(CUTOUT_PX));
    let y0 = cy.saturating_sub(CUTOUT_PX / 2).min(snap.height.saturating_sub(CUTOUT_PX));
    let (w, h) = (CUTOUT_PX.min(snap.width), CUTOUT_PX.min(snap.height));
    let mut values = Vec::with_capacity(w * h);
    for row in y0..y0 + h {
        values.extend_from_slice(&snap.map[row * snap.width + x0..row * snap.width + x0 + w]);
    }
    // The full-resolution map is sparse until many draws accumulate; its own robust scale keeps the colours readable.
    let scale = robust_scale(&values) / gain.max(1e-3);
    let img = heat_image(&values, w, h, scale, 1.0);
    let tex = painter.ctx().load_texture("cdc-heatmap-cutout", img, TextureOptions::NEAREST);
    let size = vec2(CUTOUT_POINTS, CUTOUT_POINTS * h as f32 / w.max(1) as f32);
    let at = Rect::from_min_size(rect.right_top() + vec2(-size.x - 8.0, 8.0), size);
    // Flip the cutout like the image.
    let (flip_x, flip_y) = (image.orientation.flip_x, image.orientation.flip_y);
    let uv = Rect::from_min_max(
        pos2(f32::from(u8::from(flip_x)), f32::from(u8::from(flip_y))),
        pos2(f32::from(u8::from(!flip_x)), f32::from(u8::from(!flip_y))),
    );
    let mut mesh = Mesh::with_texture(tex.id());
    mesh.add_rect_with_uv(at, uv, Color32::WHITE);
    painter.add(mesh);
    painter.rect_stroke(at, 0.0, Stroke::new(1.0, Color32::WHITE), egui::StrokeKind::Outside);
    painter.text(
        at.left_bottom() + vec2(4.0, -4.0),
        egui::Align2::LEFT_BOTTOM,
        format!("cutout {w}×{h} px at full resolution"),
        egui::FontId::proportional(11.0),
        Color32::WHITE,
    );
}

/// 99th percentile of |v| over the non-zero values (1 when there are none).
pub fn robust_scale(values: &[f32]) -> f32 {
    let mut mags: Vec<f32> = values.iter().map(|v| v.abs()).filter(|v| *v > 0.0 && v.is_finite()).collect();
    if mags.is_empty() {
        return 1.0;
    }
    let k = ((mags.len() - 1) as f64 * 0.99).round() as usize;
    let (_, v, _) = mags.select_nth_unstable_by(k, f32::total_cmp);
    *v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_colours() {
        assert_eq!(heat_color(0.0, 1.0), Color32::BLACK);
        let red = heat_color(1.0, 1.0);
        let blue = heat_color(-1.0, 1.0);
        assert!(red.r() == 255 && red.b() < 40);
        assert!(blue.b() == 255 && blue.r() < 40);
        assert_eq!(heat_color(5.0, 1.0), red);
    }

    #[test]
    fn robust_scale_ignores_zeros_and_outliers() {
        let mut v = vec![0.0f32; 1000];
        v.extend((1..=100).map(|i| i as f32 / 100.0));
        v.push(1e6);
        let s = robust_scale(&v);
        assert!((0.95..=1.0).contains(&s), "{s}");
    }
}
