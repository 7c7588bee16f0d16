//! The viewport grid: each slot shows one image through the GPU callback, handles zoom, pan,
//! window/level and measurement, and draws the overlays.

use egui::{Color32, Rect, Sense, Stroke, Vec2};

use crate::app::{AppState, Command, OpenImage, Tool, ViewState, ZoomMode, hanging::Orientation};
use crate::render::{ImageCallback, ScreenMapping};

use super::layers::{Layer, layers};
use super::overlays::{loupe_ui, measurements_ui, slot_labels_ui};

/// Draw ids: slot `i` uses `i`, its loupe `LOUPE_DRAW_BASE + i`, the A/B split's original `SPLIT_DRAW_BASE + i`.
pub const LOUPE_DRAW_BASE: u64 = 100;
pub const SPLIT_DRAW_BASE: u64 = 200;
const GAP: f32 = 3.0;

/// Horizontal alignment of a fitted image in a slot: against the midline in a two-column hanging.
fn midline_align(column: usize, columns: usize) -> f32 {
    match (columns, column) {
        (2, 0) => 1.0,
        (2, _) => -1.0,
        _ => 0.0,
    }
}

/// The rectangle of viewport `slot` inside `full`.
pub fn slot_rect(full: Rect, slot: usize, grid: (usize, usize)) -> Rect {
    let (cols, rows) = grid;
    let w = (full.width() - GAP * (cols as f32 - 1.0)) / cols as f32;
    let h = (full.height() - GAP * (rows as f32 - 1.0)) / rows as f32;
    let (c, r) = (slot % cols, slot / cols);
    Rect::from_min_size(full.min + Vec2::new(c as f32 * (w + GAP), r as f32 * (h + GAP)), Vec2::new(w, h))
}

/// The GPU callback of one layer; a preview layer (smaller than the frame) is drawn with a scaled mapping.
pub fn layer_callback(draw: u64, layer: &Layer, mapping: ScreenMapping, smooth: bool) -> ImageCallback {
    let f = layer.downsample as f32;
    let mapping = ScreenMapping {
        center_in_image: [mapping.center_in_image[0] / f, mapping.center_in_image[1] / f],
        zoom: mapping.zoom * f,
        ..mapping
    };
    ImageCallback { draw, key: layer.key, pyramid: layer.pyramid.clone(), lut: layer.lut.clone(), display: layer.display, mapping, smooth }
}

pub fn screen_mapping(view: &crate::app::view::SlotView, rect: Rect, o: Orientation) -> ScreenMapping {
    ScreenMapping {
        rect_center_in_ui: [rect.center().x, rect.center().y],
        center_in_image: view.center_in_image,
        zoom: view.zoom,
        flip_x: o.flip_x,
        flip_y: o.flip_y,
    }
}

/// All viewports of the current layout.
pub fn viewports_ui(ui: &mut egui::Ui, state: &AppState, view: &mut ViewState, cmds: &mut Vec<Command>) {
    let full = ui.available_rect_before_wrap();
    ui.painter().rect_filled(full, 0.0, Color32::from_gray(12));
    view.hover = None;
    let grid = state.layout.grid();
    let orientations: Vec<Orientation> =
        (0..view.slots.len()).map(|s| state.slot_image(s).map(|i| i.orientation).unwrap_or_default()).collect();
    for slot in 0..state.layout.slots() {
        let rect = slot_rect(full, slot, grid);
        if view.viewport_sizes.len() <= slot {
            view.viewport_sizes.resize(slot + 1, [0.0, 0.0]);
        }
        view.viewport_sizes[slot] = [rect.width(), rect.height()];
        slot_ui(ui, rect, slot, grid.0, state, view, cmds, &orientations);
    }
    ui.allocate_rect(full, Sense::hover());
}

#[allow(clippy::too_many_arguments)]
fn slot_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    slot: usize,
    columns: usize,
    state: &AppState,
    view: &mut ViewState,
    cmds: &mut Vec<Command>,
    orientations: &[Orientation],
) {
    let response = ui.interact(rect, ui.scope_id().with(("viewport", slot)), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::BLACK);
    let Some(image) = state.slot_image(slot) else {
        painter.text(rect.center(), egui::Align2::CENTER_CENTER, "empty viewport", egui::FontId::proportional(14.0), Color32::DARK_GRAY);
        return;
    };
    if response.clicked() || response.drag_started() {
        cmds.push(Command::SetActiveSlot(slot));
    }
    let orientation = image.orientation;
    let align = midline_align(slot % columns, columns);
    fit_if_needed(view, slot, rect, image, ui.ctx().pixels_per_point(), align);
    if let Some((id, [x, y, w, h])) = view.zoom_to
        && id == image.id
    {
        // The patch fills about 60% of the viewport.
        let v = &mut view.slots[slot];
        let zoom = 0.6 * (rect.width() / w as f32).min(rect.height() / h as f32);
        v.set_zoom(zoom, ZoomMode::Custom);
        v.center_in_image = [(x + w / 2.0) as f32, (y + h / 2.0) as f32];
        view.zoom_to = None;
    }
    handle_input(ui, &response, rect, slot, image, view, cmds, align, orientations);

    let slot_view = view.slots[slot];
    if let Some(layers) = layers(image) {
        let mapping = screen_mapping(&slot_view, rect, orientation);
        painter.add(egui_wgpu::Callback::new_paint_callback(rect, layer_callback(slot as u64, &layers.main, mapping, view.smooth)));
        if let Some((original, split)) = &layers.split_original {
            // A/B: the original left of the split line, the perturbed image right of it.
            let left = Rect::from_min_max(rect.min, egui::pos2(rect.left() + split * rect.width(), rect.bottom()));
            let callback = layer_callback(SPLIT_DRAW_BASE + slot as u64, original, mapping, view.smooth);
            painter.with_clip_rect(left).add(egui_wgpu::Callback::new_paint_callback(rect, callback));
            painter.vline(left.right(), rect.y_range(), Stroke::new(1.5, Color32::from_rgb(230, 200, 90)));
        }
    }
    slot_labels_ui(&painter, rect, image, &slot_view);
    measurements_ui(&painter, rect, image, &slot_view, view.pending_measurement.filter(|p| p.slot == slot));
    super::calc_overlay::calc_overlay_ui(&painter, rect, image, &slot_view, response.hover_pos());
    super::cdmam_overlay::cdmam_overlay_ui(&painter, rect, image, &slot_view, &state.cdmam, response.hover_pos());
    super::cdc_overlay::cdc_overlay_ui(&painter, rect, image, &slot_view, response.hover_pos());
    super::denoise_overlay::denoise_overlay_ui(&painter, rect, image, &slot_view, response.hover_pos());
    if state.active_slot == slot && state.layout.slots() > 1 {
        painter.rect_stroke(rect.shrink(1.0), 0.0, Stroke::new(1.5, Color32::from_rgb(70, 130, 200)), egui::StrokeKind::Inside);
    }
    if view.loupe
        && let Some(pointer) = response.hover_pos()
    {
        loupe_ui(ui, rect, slot, pointer, image, view);
    }
}

/// Recompute the zoom for the modes that follow the viewport size.
fn fit_if_needed(view: &mut ViewState, slot: usize, rect: Rect, image: &OpenImage, pixels_per_point: f32, align: f32) {
    let screen_mm_per_point = view.screen_mm_per_point;
    let v = &mut view.slots[slot];
    let size = image.size();
    if v.fitted_for != Some(image.id) {
        v.fitted_for = Some(image.id);
        v.mode = ZoomMode::Fit;
    }
    match v.mode {
        ZoomMode::Fit => v.fit(rect, size, image.orientation, align),
        ZoomMode::OneToOne => v.zoom = 1.0 / pixels_per_point,
        ZoomMode::TrueSize => {
            if let Some(spacing) = image.meta.spacing {
                v.zoom = (spacing.col_mm as f32) / screen_mm_per_point;
            }
        }
        ZoomMode::Custom => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn handle_input(
    ui: &egui::Ui,
    response: &egui::Response,
    rect: Rect,
    slot: usize,
    image: &OpenImage,
    view: &mut ViewState,
    cmds: &mut Vec<Command>,
    align: f32,
    orientations: &[Orientation],
) {
    let orientation = image.orientation;
    if let Some(pointer) = response.hover_pos() {
        let pos_in_image = view.slots[slot].image_from_ui(rect, orientation, pointer);
        view.hover = Some(crate::app::view::Hover { image_id: image.id, pos_in_image, value: image.value_at(pos_in_image) });
        let scroll = ui.input(|i| i.smooth_scroll_delta.y + i.zoom_delta().ln() * 200.0);
        if scroll.abs() > 0.0 {
            let factor = (scroll / 200.0).exp();
            for_each_linked(view, slot, orientations, |v, o| v.zoom_at(rect, o, pointer, factor));
        }
    }
    if response.double_clicked() {
        view.slots[slot].fit(rect, image.size(), orientation, align);
        return;
    }
    let delta = response.drag_delta();
    let primary = response.dragged_by(egui::PointerButton::Primary);
    let secondary = response.dragged_by(egui::PointerButton::Secondary);
    let middle = response.dragged_by(egui::PointerButton::Middle);
    let tool = if secondary {
        Tool::WindowLevel
    } else if middle {
        Tool::Pan
    } else {
        view.tool
    };
    if !(primary || secondary || middle) {
        finish_measurement(response, slot, image, view, cmds);
        return;
    }
    match tool {
        Tool::Pan => {
            if delta != Vec2::ZERO {
                for_each_linked(view, slot, orientations, |v, o| v.pan_by(o, delta));
            }
        }
        Tool::WindowLevel => {
            if delta != Vec2::ZERO {
                cmds.push(window_level_drag(image, delta));
            }
        }
        Tool::Measure => {
            if let Some(pointer) = response.interact_pointer_pos() {
                let p = view.slots[slot].image_from_ui(rect, orientation, pointer);
                // The line starts where the button went down, not where egui recognised the drag.
                let origin = ui.input(|i| i.pointer.press_origin()).unwrap_or(pointer);
                let a = view.slots[slot].image_from_ui(rect, orientation, origin);
                let pending =
                    view.pending_measurement.get_or_insert(crate::app::view::PendingMeasurement { slot, a_in_image: a, b_in_image: p });
                pending.b_in_image = p;
            }
        }
    }
}

/// Store the measurement dragged out in this slot once its drag ends (other slots leave it alone).
fn finish_measurement(response: &egui::Response, slot: usize, image: &OpenImage, view: &mut ViewState, cmds: &mut Vec<Command>) {
    if response.dragged() || view.pending_measurement.is_none_or(|p| p.slot != slot) {
        return;
    }
    if let Some(p) = view.pending_measurement.take() {
        let length_px = (p.b_in_image[0] - p.a_in_image[0]).hypot(p.b_in_image[1] - p.a_in_image[1]);
        if length_px >= 1.0 {
            cmds.push(Command::AddMeasurement {
                image: image.id,
                measurement: crate::app::open_image::Measurement { a_in_image: p.a_in_image, b_in_image: p.b_in_image },
            });
        }
    }
}

/// Right-drag: horizontal changes the width, vertical the centre (Weasis/OHIF habit), scaled to the pixel range.
pub fn window_level_drag(image: &OpenImage, delta: Vec2) -> Command {
    let range = f64::from((image.stats.max - image.stats.min).max(1.0));
    let per_point = range / 600.0;
    let w = image.voi.window;
    Command::SetWindow {
        image: image.id,
        window: crate::imaging::voi::Window {
            center: w.center + f64::from(delta.y) * per_point,
            width: (w.width + f64::from(delta.x) * per_point).max(1.0),
        },
    }
}

/// Apply `f` to this slot, or to every slot when views are linked (each with its own mirroring, so a drag
/// moves every image the same way on screen; zoom is about the same relative point of each viewport).
fn for_each_linked(
    view: &mut ViewState,
    slot: usize,
    orientations: &[Orientation],
    mut f: impl FnMut(&mut crate::app::view::SlotView, Orientation),
) {
    for (i, v) in view.slots.iter_mut().enumerate() {
        if i == slot || view.link_views {
            f(v, orientations.get(i).copied().unwrap_or_default());
        }
    }
}
