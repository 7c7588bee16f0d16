//! The top bar: open, layout, tools, zoom modes, loupe, links.

use crate::app::{AppState, Command, Layout, Tool, ViewState, ZoomMode};

pub fn toolbar_ui(ui: &mut egui::Ui, state: &AppState, view: &mut ViewState, cmds: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        if ui.button("Open…").on_hover_text("Open DICOM, PNG, TIFF or PGM files (or drop files and folders on the window)").clicked() {
            cmds.push(Command::OpenDialog);
        }
        ui.separator();
        for (layout, label) in [(Layout::One, "1×1"), (Layout::Two, "1×2"), (Layout::Four, "2×2")] {
            if ui.selectable_label(state.layout == layout, label).on_hover_text("Hanging layout").clicked() {
                cmds.push(Command::SetLayout(layout));
            }
        }
        ui.separator();
        for (tool, label, tip) in [
            (Tool::Pan, "Pan", "Left-drag pans (middle-drag always pans)"),
            (Tool::WindowLevel, "W/L", "Left-drag changes window/level (right-drag always does)"),
            (Tool::Measure, "Measure", "Left-drag measures a distance in mm"),
        ] {
            if ui.selectable_label(view.tool == tool, label).on_hover_text(tip).clicked() {
                view.tool = tool;
            }
        }
        ui.separator();
        let active = state.active_slot;
        for (mode, label, tip) in [
            (ZoomMode::Fit, "Fit", "Whole image, chest wall at the midline (double-click a view)"),
            (ZoomMode::OneToOne, "1:1", "One image pixel per screen pixel"),
            (ZoomMode::TrueSize, "True size", "Physical size, using the pixel spacing and the screen pitch below"),
        ] {
            let selected = view.slots.get(active).is_some_and(|s| s.mode == mode);
            if ui.selectable_label(selected, label).on_hover_text(tip).clicked() {
                for (i, s) in view.slots.iter_mut().enumerate() {
                    if i == active || view.link_views {
                        s.mode = mode;
                    }
                }
            }
        }
        if view.slots.get(active).is_some_and(|s| s.mode == ZoomMode::TrueSize) {
            ui.add(egui::DragValue::new(&mut view.screen_mm_per_point).range(0.05..=1.0).speed(0.001).prefix("screen ").suffix(" mm/pt"))
                .on_hover_text("Size of one screen point in mm: measure a ruler on screen to calibrate true size");
        }
        ui.separator();
        if let Some(image) = state.active_image() {
            let mut on = image.calc.enabled;
            if ui
                .toggle_value(&mut on, "Calcifications")
                .on_hover_text("Outline patches that probably hold microcalcifications (C)")
                .changed()
            {
                cmds.push(Command::SetCalc { image: image.id, enabled: on });
            }
        }
        ui.toggle_value(&mut view.loupe, "Loupe").on_hover_text("Magnifier following the pointer, raw pixels (L)");
        if view.loupe {
            ui.add(egui::Slider::new(&mut view.loupe_factor, 2.0..=8.0).step_by(1.0).suffix("×"));
        }
        ui.toggle_value(&mut view.link_views, "Link").on_hover_text("Zoom and pan all views together");
        ui.toggle_value(&mut view.smooth, "Smooth").on_hover_text("Bilinear instead of nearest-pixel magnification");
    });
    shortcuts(ui, state, view, cmds);
}

/// Weasis/OHIF habits: 1–9 apply window presets, I inverts, F fits, L loupe, M/P/W tools.
fn shortcuts(ui: &egui::Ui, state: &AppState, view: &mut ViewState, cmds: &mut Vec<Command>) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    if let Some(image) = state.active_image() {
        ui.input(|i| {
            let digits = [
                egui::Key::Num1,
                egui::Key::Num2,
                egui::Key::Num3,
                egui::Key::Num4,
                egui::Key::Num5,
                egui::Key::Num6,
                egui::Key::Num7,
                egui::Key::Num8,
                egui::Key::Num9,
            ];
            for (index, key) in digits.into_iter().enumerate() {
                if i.key_pressed(key) && index < image.meta.voi.presets.len() {
                    cmds.push(Command::ApplyPreset { image: image.id, index });
                }
            }
            if i.key_pressed(egui::Key::I) {
                cmds.push(Command::SetInverted { image: image.id, inverted: !image.voi.user_inverted });
            }
            if i.key_pressed(egui::Key::C) {
                cmds.push(Command::SetCalc { image: image.id, enabled: !image.calc.enabled });
            }
        });
    }
    ui.input(|i| {
        if i.key_pressed(egui::Key::F) {
            for s in &mut view.slots {
                s.mode = ZoomMode::Fit;
            }
        }
        if i.key_pressed(egui::Key::L) {
            view.loupe = !view.loupe;
        }
        if i.key_pressed(egui::Key::M) {
            view.tool = Tool::Measure;
        }
        if i.key_pressed(egui::Key::P) {
            view.tool = Tool::Pan;
        }
        if i.key_pressed(egui::Key::W) {
            view.tool = Tool::WindowLevel;
        }
    });
}
