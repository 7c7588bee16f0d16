//! The right panel: display controls of the active image (presets, VOI function, LUT, invert, gamma, frame),
//! pixel spacing, measurements and metadata.

use crate::app::{AppState, Command, OpenImage, ViewState};
use crate::imaging::voi::VoiFunction;

use super::metadata::metadata_ui;

pub fn image_panel_ui(ui: &mut egui::Ui, state: &AppState, image: &OpenImage, view: &mut ViewState, cmds: &mut Vec<Command>) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading(image.title());
        let name = image.path.file_name().map_or_else(|| image.path.display().to_string(), |n| n.to_string_lossy().into_owned());
        ui.label(egui::RichText::new(name).small().weak()).on_hover_text(image.path.display().to_string());
        ui.separator();
        display_controls_ui(ui, image, cmds);
        if image.frames.len() > 1 {
            let mut frame = image.frame + 1;
            let slider = egui::Slider::new(&mut frame, 1..=image.frames.len()).text("frame");
            if ui.add(slider).changed() {
                cmds.push(Command::SetFrame { image: image.id, frame: frame - 1 });
            }
        }
        ui.separator();
        egui::CollapsingHeader::new("Perturbation lab").default_open(image.perturb.active()).show(ui, |ui| {
            super::perturb_panel::perturb_panel_ui(ui, image, cmds);
        });
        egui::CollapsingHeader::new("Denoise").default_open(image.denoise.settings.enabled).show(ui, |ui| {
            super::denoise_panel::denoise_panel_ui(ui, image, cmds);
        });
        // Opens by itself when the overlay is switched on (toolbar, shortcut C), so its threshold and list are at hand.
        let was_enabled = swap_seen(ui, ("calc_seen_enabled", image.id), image.calc.enabled);
        let reveal = image.calc.enabled && was_enabled == Some(false);
        let calc_header = egui::CollapsingHeader::new("Calcifications").open(reveal.then_some(true));
        calc_header.default_open(image.calc.enabled).show(ui, |ui| {
            super::calc_panel::calc_panel_ui(ui, state, image, view, cmds);
        });
        // Opens by itself when a new readout arrives (the header remembers the user's choice otherwise).
        let current = state.cdmam.result.as_ref().map(|r| std::sync::Arc::as_ptr(&r.readout) as usize);
        let reveal = current.is_some() && swap_seen(ui, "cdmam_seen_result", current) != Some(current);
        egui::CollapsingHeader::new("CDMAM QA").open(reveal.then_some(true)).default_open(state.cdmam.running).show(ui, |ui| {
            super::cdmam_panel::cdmam_panel_ui(ui, state, cmds);
        });
        egui::CollapsingHeader::new("CDMAM: single-image CDC and heatmap")
            .default_open(image.cdc.settings.predict || image.cdc.settings.heatmap)
            .show(ui, |ui| {
                super::cdc_panel::cdc_panel_ui(ui, image, state.cdmam.result.is_some(), cmds);
            });
        ui.separator();
        spacing_ui(ui, image, cmds);
        measurements_list_ui(ui, image, cmds);
        ui.separator();
        ui.horizontal(|ui| {
            ui.toggle_value(&mut view.show_metadata, "Metadata");
            if view.show_metadata {
                ui.checkbox(&mut view.show_phi, "show patient identifiers");
            }
        });
        if view.show_metadata {
            metadata_ui(ui, image, view.show_phi);
        }
        ui.separator();
        if ui.button("Close image").clicked() {
            cmds.push(Command::CloseImage(image.id));
        }
    });
}

fn display_controls_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    let id = image.id;
    ui.label("Window presets");
    for (index, preset) in image.meta.voi.presets.iter().enumerate() {
        let w = preset.window;
        let text = format!("{}  (C {:.0} / W {:.0})", preset.name, w.center, w.width);
        let selected = image.voi.preset == Some(index) && image.voi.lut.is_none();
        let mut hover = preset.explanation.clone();
        if !preset.from_file {
            hover += " (computed by Mammoscope)";
        }
        if ui.selectable_label(selected, text).on_hover_text(hover).clicked() {
            cmds.push(Command::ApplyPreset { image: id, index });
        }
    }
    for (index, lut) in image.luts.iter().enumerate() {
        let selected = image.voi.lut == Some(index);
        let text = format!("VOI LUT: {} ({} entries)", lut.explanation, lut.data.len());
        if ui.selectable_label(selected, text).clicked() {
            cmds.push(Command::SetLut { image: id, index: if selected { None } else { Some(index) } });
        }
    }
    let mut center = image.voi.window.center;
    let mut width = image.voi.window.width;
    let range = f64::from(image.stats.min)..=f64::from(image.stats.max.max(image.stats.min + 1.0));
    let span = (*range.end() - *range.start()).max(1.0);
    let c = ui.add(egui::Slider::new(&mut center, range).clamping(egui::SliderClamping::Never).text("center"));
    let w = ui.add(egui::Slider::new(&mut width, 1.0..=span * 2.0).clamping(egui::SliderClamping::Never).logarithmic(true).text("width"));
    if c.changed() || w.changed() {
        cmds.push(Command::SetWindow { image: id, window: crate::imaging::voi::Window { center, width } });
    }
    ui.horizontal(|ui| {
        ui.label("VOI function");
        for function in [VoiFunction::Linear, VoiFunction::LinearExact, VoiFunction::Sigmoid] {
            if ui.selectable_label(image.voi.function == function, function.dicom_name()).clicked() {
                cmds.push(Command::SetFunction { image: id, function });
            }
        }
    });
    ui.horizontal(|ui| {
        let mut inverted = image.voi.user_inverted;
        if ui.checkbox(&mut inverted, "Invert").changed() {
            cmds.push(Command::SetInverted { image: id, inverted });
        }
        if image.meta.is_monochrome1() {
            ui.label(egui::RichText::new("MONOCHROME1: shown inverted").small());
        }
    });
    let mut gamma = image.voi.gamma;
    if ui.add(egui::Slider::new(&mut gamma, 0.3..=3.0).text("gamma")).changed() {
        cmds.push(Command::SetGamma { image: id, gamma });
    }
}

fn spacing_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    match image.meta.spacing {
        Some(s) => {
            ui.label(format!("Pixel spacing {:.4} × {:.4} mm", s.row_mm, s.col_mm));
            ui.label(egui::RichText::new(format!("from {}", s.source.describe())).small());
        }
        None => {
            ui.label(image.meta.spacing_note.clone().unwrap_or_else(|| "No pixel spacing: measurements in px".to_owned()));
        }
    }
    if image.meta.spacing_alternatives.len() > 1 {
        ui.collapsing("Other spacings in the file", |ui| {
            for alt in &image.meta.spacing_alternatives {
                let selected = image.meta.spacing == Some(*alt);
                let text = format!("{:.4} mm: {}", alt.col_mm, alt.source.describe());
                if ui.selectable_label(selected, text).clicked() && !selected {
                    cmds.push(Command::UseSpacing { image: image.id, spacing: *alt });
                }
            }
        });
    }
    ui.horizontal(|ui| {
        let id = ui.scope_id().with(("user_spacing", image.id));
        let mut text = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_default();
        ui.label("Set spacing (mm):");
        let edit = ui.add(egui::TextEdit::singleline(&mut text).desired_width(60.0));
        let apply = ui.button("Apply").clicked() || (edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
        if apply && let Ok(mm) = text.trim().parse::<f64>() {
            cmds.push(Command::SetUserSpacing { image: image.id, spacing_mm: mm });
        }
        ui.data_mut(|d| d.insert_temp(id, text));
    });
}

fn measurements_list_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    if image.measurements.is_empty() {
        return;
    }
    ui.label("Measurements");
    for (i, m) in image.measurements.iter().enumerate() {
        ui.label(format!("{}: {}", i + 1, super::overlays::measurement_label(image, m.a_in_image, m.b_in_image)));
    }
    if ui.small_button("Clear measurements").clicked() {
        cmds.push(Command::ClearMeasurements { image: image.id });
    }
}

/// Stores `value` as what the panel saw this frame under `key` and returns what it saw the frame before (`None` the
/// first time): a header opens by itself when what it shows changes.
fn swap_seen<T: Clone + Send + Sync + 'static>(ui: &egui::Ui, key: impl std::hash::Hash + std::fmt::Debug, value: T) -> Option<T> {
    let id = ui.make_persistent_id(key);
    ui.data_mut(|d| {
        let previous = d.get_temp::<T>(id);
        d.insert_temp(id, value);
        previous
    })
}
