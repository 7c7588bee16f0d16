//! The calcification panel: the overlay toggle, model and stride, the threshold slider (default: the model's
//! operating point), the list of the most probable patches (click to zoom), and the robustness curves.

use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};

use crate::app::view::ViewState;
use crate::app::{AppState, Command, OpenImage};
use crate::models::catalog::{CALC_MODELS, CalcModelChoice, FILM_CALC_MODEL};
use crate::models::preset::PATCH_SIZE;
use crate::models::robustness::CurvePoint;

/// Patches listed in the panel.
const LIST_LEN: usize = 12;

pub fn calc_panel_ui(ui: &mut egui::Ui, state: &AppState, image: &OpenImage, view: &mut ViewState, cmds: &mut Vec<Command>) {
    let calc = &image.calc;
    let mut enabled = calc.enabled;
    if ui.checkbox(&mut enabled, "Show calcification patches").on_hover_text("Shortcut: C").changed() {
        cmds.push(Command::SetCalc { image: image.id, enabled });
    }
    if !calc.enabled {
        return;
    }
    let mut model = state.calc_model;
    let source = image.meta.image_source();
    let used = CALC_MODELS[model.resolve(source)].id;
    let selected = match model {
        CalcModelChoice::Auto => format!("auto: {used}"),
        CalcModelChoice::Fixed(_) => used.to_owned(),
    };
    egui::ComboBox::from_label("Model").selected_text(selected).show_ui(ui, |ui| {
        ui.selectable_value(&mut model, CalcModelChoice::Auto, "auto").on_hover_text(format!(
            "Per image from its header: {} for digitised film, {} for everything else",
            CALC_MODELS[FILM_CALC_MODEL].id, CALC_MODELS[0].id
        ));
        for (i, m) in CALC_MODELS.iter().enumerate() {
            ui.selectable_value(&mut model, CalcModelChoice::Fixed(i), m.id).on_hover_text(m.label);
        }
    });
    if model == CalcModelChoice::Auto {
        ui.label(egui::RichText::new(format!("Auto for this image ({}): {used}", source.label())).small());
    }
    if model != state.calc_model {
        cmds.push(Command::SetCalcModel(model));
    }
    let mut stride = state.calc_stride;
    ui.horizontal(|ui| {
        ui.label("Tiles");
        ui.selectable_value(&mut stride, PATCH_SIZE / 2, "half overlap")
            .on_hover_text("stride 112 px (the default): a cluster on a grid line is whole in one patch; 4× the patches");
        ui.selectable_value(&mut stride, PATCH_SIZE, "non-overlapping").on_hover_text("224 px patches side by side (the paper): faster");
    });
    if stride != state.calc_stride {
        cmds.push(Command::SetCalcStride(stride));
    }
    let (spacing, assumed) = image.spacing_for_filters();
    if assumed {
        ui.label(
            egui::RichText::new(format!(
                "No pixel spacing: the model's 0.07 mm scale assumes {} mm/px; set the spacing below.",
                spacing[1]
            ))
            .small()
            .color(egui::Color32::from_rgb(230, 180, 80)),
        );
    }
    let mut threshold = calc.threshold_or_default();
    ui.horizontal(|ui| {
        if ui.add(egui::Slider::new(&mut threshold, 0.0..=1.0).text("threshold")).changed() {
            cmds.push(Command::SetCalcThreshold { image: image.id, threshold });
        }
        if let Some(r) = &calc.result
            && ui
                .small_button("op")
                .on_hover_text(format!("The model's operating point for whole images, {:.3}", r.default_threshold))
                .clicked()
        {
            cmds.push(Command::SetCalcThreshold { image: image.id, threshold: r.default_threshold });
        }
    });
    status_ui(ui, image);
    patch_list_ui(ui, image, view, cmds);
    robustness_ui(ui, image, cmds);
}

fn status_ui(ui: &mut egui::Ui, image: &OpenImage) {
    let calc = &image.calc;
    if let Some(e) = &calc.error {
        ui.colored_label(egui::Color32::from_rgb(230, 90, 80), e);
    }
    if calc.running {
        let (done, total) = calc.progress;
        let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
        ui.add(egui::ProgressBar::new(fraction).text(format!("scoring patches {done}/{total}")));
    }
    if let Some(r) = &calc.result {
        let d = &r.detection;
        let on = if r.input.perturb_version.is_some() { "the perturbed image" } else { "the original" };
        ui.label(format!(
            "{} marks ({} of {} patches ≥ threshold) on {on}; patch {:.0} px = {:.1} mm; {:.1} s",
            calc.visible().len(),
            d.above(calc.threshold_or_default()).len(),
            d.patches.len(),
            d.patch_size_px,
            d.patch_size_mm,
            r.seconds
        ));
    }
}

fn patch_list_ui(ui: &mut egui::Ui, image: &OpenImage, view: &mut ViewState, cmds: &mut Vec<Command>) {
    let visible = image.calc.visible();
    if visible.is_empty() {
        return;
    }
    ui.label("Most probable patches (click to zoom):");
    egui::ScrollArea::vertical().id_salt("calc_patches").max_height(160.0).show(ui, |ui| {
        for p in visible.iter().take(LIST_LEN) {
            let selected = image.calc.selected == Some(*p);
            let text = format!("p {:.3}   at ({:.0}, {:.0})", p.prob, p.x + p.w / 2.0, p.y + p.h / 2.0);
            if ui.selectable_label(selected, text).clicked() {
                cmds.push(Command::SelectCalcPatch { image: image.id, patch: Some(*p) });
                view.zoom_to = Some((image.id, [p.x, p.y, p.w, p.h]));
            }
        }
    });
}

fn robustness_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    let rob = &image.calc.robustness;
    ui.horizontal(|ui| {
        let idle = !rob.running;
        if ui
            .add_enabled(idle, egui::Button::new("Robustness: breast"))
            .on_hover_text("Max/mean probability against low-pass R and noise σ")
            .clicked()
        {
            cmds.push(Command::RunRobustness { image: image.id, patch: None });
        }
        let selected = image.calc.selected;
        if ui.add_enabled(idle && selected.is_some(), egui::Button::new("selected patch")).clicked() {
            cmds.push(Command::RunRobustness { image: image.id, patch: selected });
        }
        if rob.running {
            ui.spinner();
        }
    });
    if let Some(e) = &rob.error {
        ui.colored_label(egui::Color32::from_rgb(230, 90, 80), e);
    }
    let Some(curve) = &rob.curve else { return };
    let params = image.perturb.params;
    let id = image.id;
    ui.label(format!("{} ({} tiles)", if rob.patch.is_some() { "Selected patch" } else { "Whole breast" }, curve.tiles));
    curve_plot(ui, ("calc_rob_r", id), "low-pass R (cycles/mm)", &curve.lowpass, params.lowpass_cycles_per_mm);
    curve_plot(ui, ("calc_rob_noise", id), "noise σ (modality units)", &curve.noise, params.noise_sigma);
}

fn curve_plot(ui: &mut egui::Ui, id: (&str, u64), x_label: &str, points: &[CurvePoint], current: Option<f64>) {
    let max: PlotPoints = points.iter().map(|p| [p.x, f64::from(p.max_prob)]).collect();
    let mean: PlotPoints = points.iter().map(|p| [p.x, f64::from(p.mean_prob)]).collect();
    Plot::new(id).height(120.0).legend(Legend::default()).x_axis_label(x_label).include_y(0.0).include_y(1.0).allow_scroll(false).show(
        ui,
        |plot| {
            plot.line(Line::new("max p", max));
            plot.line(Line::new("mean p", mean));
            if let Some(x) = current {
                plot.vline(VLine::new("current", x));
            }
        },
    );
}
