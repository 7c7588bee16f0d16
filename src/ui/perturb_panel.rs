//! The perturbation lab panel: sliders that change the image itself (low-/high-pass radius in cycles/mm, noise,
//! dose, patch shuffle, seed), the comparison modes and the radial power spectrum plot.

use egui_plot::{Legend, Line, Plot, VLine};

use crate::app::perturbation::Compare;
use crate::app::{Command, OpenImage};
use crate::imaging::fourier::{feature_size_mm, nyquist_cycles_per_mm};
use crate::imaging::perturb::{FilterKind, PerturbParams};

/// Default slider values when a perturbation is switched on.
const DEFAULT_LOWPASS: f64 = 2.0;
const DEFAULT_HIGHPASS: f64 = 0.5;
const DEFAULT_DOSE: f64 = 0.2;
const DEFAULT_SHUFFLE: u32 = 8;

pub fn perturb_panel_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    let state = &image.perturb;
    let mut p = state.params;
    let (spacing, assumed) = image.spacing_for_filters();
    let nyquist = nyquist_cycles_per_mm(spacing);
    if assumed {
        ui.label(egui::RichText::new(format!("No pixel spacing: assuming {} mm/px for cycles/mm", spacing[1])).small());
    }
    ui.label(format!("Nyquist {nyquist:.2} cycles/mm"));
    let min_r = 0.25f64.min(nyquist);
    radius_ui(ui, "Low-pass R", &mut p.lowpass_cycles_per_mm, DEFAULT_LOWPASS.min(nyquist), min_r..=nyquist);
    radius_ui(ui, "High-pass R", &mut p.highpass_cycles_per_mm, DEFAULT_HIGHPASS.min(nyquist), min_r..=nyquist);
    if p.lowpass_cycles_per_mm.is_some() || p.highpass_cycles_per_mm.is_some() {
        ui.horizontal(|ui| {
            let mut smooth = matches!(p.filter, FilterKind::Butterworth(_));
            ui.checkbox(&mut smooth, "Butterworth edge").on_hover_text("Smooth filter edge instead of the paper's ideal filter (ringing)");
            p.filter = match (smooth, p.filter) {
                (false, _) => FilterKind::Ideal,
                (true, FilterKind::Butterworth(order)) => {
                    let mut order = order;
                    ui.add(egui::DragValue::new(&mut order).range(1..=10).prefix("order "));
                    FilterKind::Butterworth(order)
                }
                (true, FilterKind::Ideal) => FilterKind::Butterworth(4),
            };
        });
    }
    let range = f64::from((image.stats.max - image.stats.min).max(1.0));
    optional_slider_ui(ui, "Noise σ", &mut p.noise_sigma, range * 0.05, 0.0..=range * 0.5, "additive Gaussian noise, raw units");
    optional_slider_ui(ui, "Dose α", &mut p.dose_fraction, DEFAULT_DOSE, 0.02..=1.0, "fraction of the acquired dose (Poisson thinning)");
    ui.horizontal(|ui| {
        let mut on = p.shuffle_grid > 1;
        ui.checkbox(&mut on, "Patch shuffle");
        if on {
            let mut n = if p.shuffle_grid > 1 { p.shuffle_grid } else { DEFAULT_SHUFFLE };
            ui.add(egui::Slider::new(&mut n, 2..=16).suffix(" × n"));
            p.shuffle_grid = n;
        } else {
            p.shuffle_grid = 0;
        }
    });
    ui.horizontal(|ui| {
        ui.label("Seed");
        ui.add(egui::DragValue::new(&mut p.seed));
        if ui.small_button("New seed").clicked() {
            p.seed = p.seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407) >> 16;
        }
        if ui.button("Reset").on_hover_text("Switch every perturbation off").clicked() {
            p = PerturbParams { seed: p.seed, ..PerturbParams::default() };
        }
    });
    if p != state.params {
        cmds.push(Command::SetPerturb { image: image.id, params: p });
    }
    if !state.active() {
        return;
    }
    compare_ui(ui, image, cmds);
    baseline_ui(ui, image, cmds);
    status_ui(ui, image);
    spectrum_plot_ui(ui, image);
}

/// A checkbox that switches a cut-off on, and its slider with the equivalent feature size.
fn radius_ui(ui: &mut egui::Ui, label: &str, value: &mut Option<f64>, default: f64, range: std::ops::RangeInclusive<f64>) {
    ui.horizontal(|ui| {
        let mut on = value.is_some();
        ui.checkbox(&mut on, label);
        if on {
            let mut r = value.unwrap_or(default);
            ui.add(egui::Slider::new(&mut r, range).logarithmic(true).max_decimals(2).suffix(" c/mm"));
            ui.label(egui::RichText::new(format!("features ≥ {:.2} mm", feature_size_mm(r))).small());
            *value = Some(r);
        } else {
            *value = None;
        }
    });
}

fn optional_slider_ui(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<f64>,
    default: f64,
    range: std::ops::RangeInclusive<f64>,
    tip: &str,
) {
    ui.horizontal(|ui| {
        let mut on = value.is_some();
        ui.checkbox(&mut on, label).on_hover_text(tip);
        if on {
            let mut v = value.unwrap_or(default);
            ui.add(egui::Slider::new(&mut v, range).max_decimals(3));
            *value = Some(v);
        } else {
            *value = None;
        }
    });
}

fn compare_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    let state = &image.perturb;
    ui.horizontal(|ui| {
        ui.label("Show");
        for (compare, label) in [(Compare::Perturbed, "Perturbed"), (Compare::Original, "Original"), (Compare::Difference, "Difference")] {
            if ui.selectable_label(state.compare == compare, label).clicked() {
                cmds.push(Command::SetCompare { image: image.id, compare });
            }
        }
    });
    ui.horizontal(|ui| {
        let mut on = state.split.is_some();
        if ui.checkbox(&mut on, "A/B split").on_hover_text("Original left of the line, perturbed right").changed() {
            cmds.push(Command::SetSplit { image: image.id, split: on.then_some(0.5) });
        }
        if let Some(mut split) = state.split
            && ui.add(egui::Slider::new(&mut split, 0.0..=1.0).show_value(false)).changed()
        {
            cmds.push(Command::SetSplit { image: image.id, split: Some(split) });
        }
    });
}

/// The paper's baseline (Table 1): Gaussian noise whose σ matches the L2 norm of the current perturbation.
fn baseline_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    let state = &image.perturb;
    let Some(result) = state.current().filter(|r| r.downsample == 1) else { return };
    let only_noise =
        state.params == PerturbParams { noise_sigma: state.params.noise_sigma, seed: state.params.seed, ..PerturbParams::default() };
    if only_noise {
        return;
    }
    let sigma = result.matched_sigma;
    let button = ui.button(format!("Gaussian baseline (σ = {sigma:.1})"));
    if button.on_hover_text("Replace this perturbation by Gaussian noise of the same L2 norm (the paper's baseline)").clicked() {
        cmds.push(Command::SetPerturb {
            image: image.id,
            params: PerturbParams { noise_sigma: Some(sigma), seed: state.params.seed, ..PerturbParams::default() },
        });
    }
}

fn status_ui(ui: &mut egui::Ui, image: &OpenImage) {
    let state = &image.perturb;
    if let Some(error) = &state.error {
        ui.colored_label(egui::Color32::from_rgb(230, 110, 100), error);
    } else if let Some(result) = state.current() {
        let text = if result.downsample == 1 {
            "full resolution".to_owned()
        } else if state.computing {
            format!("preview (1/{}) — full resolution computing…", result.downsample)
        } else {
            format!("preview (1/{})", result.downsample)
        };
        ui.label(egui::RichText::new(text).small());
    }
}

/// Radial power spectrum of the original and the perturbed image (log-log), with the cut-offs marked.
fn spectrum_plot_ui(ui: &mut egui::Ui, image: &OpenImage) {
    let Some((original, perturbed)) = image.perturb.current().and_then(|r| r.spectra.as_ref()) else { return };
    let points = |s: &crate::imaging::spectrum::RadialSpectrum| -> Vec<[f64; 2]> {
        s.frequency_cyc_per_mm.iter().zip(&s.power).filter(|(f, p)| **f > 0.0 && **p > 0.0).map(|(f, p)| [f.log10(), p.log10()]).collect()
    };
    let params = image.perturb.params;
    Plot::new(("radial_spectrum", image.id))
        .height(160.0)
        .legend(Legend::default().position(egui_plot::Corner::LeftBottom))
        .x_axis_label("log10 cycles/mm")
        .y_axis_label("log10 power")
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new("original", points(original)));
            plot.line(Line::new("perturbed", points(perturbed)));
            for r in [params.lowpass_cycles_per_mm, params.highpass_cycles_per_mm].into_iter().flatten() {
                plot.vline(VLine::new("R", r.log10()));
            }
        });
}
