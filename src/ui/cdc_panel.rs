//! The single-image CDC section of the CDMAM QA panel: predict the contrast-detail curve from the active image with
//! the deep ensemble (95 % band, epistemic and aleatoric parts), and the explainability heatmap's controls.

use egui::{Color32, RichText};

use crate::app::cdc::{CdcSettings, HeatmapMethod};
use crate::app::{Command, OpenImage};
use crate::models::cdc::CdcPrediction;
use crate::phantom::cdmam::tables::{EUREF_LIMITS, HUMAN_FACTOR};
use crate::synth::cdc_data::cdc_diameters_mm;

const WARN: Color32 = Color32::from_rgb(220, 50, 50);

/// The controls and results of the active image's prediction and heatmap.
pub fn cdc_panel_ui(ui: &mut egui::Ui, image: &OpenImage, has_readout: bool, cmds: &mut Vec<Command>) {
    let cdc = &image.cdc;
    let mut s: CdcSettings = cdc.settings;
    ui.label(
        RichText::new("Single image: deep ensemble (10 networks) on 250 × 250 random rows and columns; not for clinical use.").small(),
    );
    ui.horizontal(|ui| {
        ui.checkbox(&mut s.predict, "Predict CDC from this image");
        if cdc.predicting {
            ui.spinner();
        }
    });
    if let Some(e) = &cdc.prediction_error {
        ui.colored_label(WARN, e);
    }
    if s.predict
        && let Some(result) = &cdc.prediction
    {
        let perturbed = if result.input.perturb_version.is_some() { ", on the perturbed image" } else { "" };
        ui.label(RichText::new(format!("{} draws, {:.1} s{perturbed}", result.draws, result.seconds)).small().weak());
        if !has_readout {
            // With a 16-image readout the CDMAM QA plot shows the prediction beside it.
            super::cdmam_panel::cdc_plot_ui(ui, None, Some(&result.prediction));
        }
        prediction_table_ui(ui, &result.prediction);
    }
    ui.separator();
    ui.horizontal(|ui| {
        ui.checkbox(&mut s.heatmap, "Heatmap");
        for m in HeatmapMethod::ALL {
            ui.selectable_value(&mut s.method, m, m.label());
        }
    });
    ui.add(egui::Slider::new(&mut s.draws, 10..=5000).logarithmic(true).text("draws (N)")).on_hover_text(
        "Algorithm 2: each draw explains one random 250 × 250 downsampling and scatters it back; the map sharpens as draws accumulate",
    );
    ui.add(egui::Slider::new(&mut s.opacity, 0.0..=1.0).text("opacity"));
    ui.add(egui::Slider::new(&mut s.gain, 0.25..=8.0).logarithmic(true).text("gain"));
    ui.checkbox(&mut s.cutout, "cutout under the pointer");
    if s.heatmap {
        if let Some(snap) = &cdc.heatmap {
            let rate = if snap.seconds > 0.0 { snap.draws as f64 / snap.seconds } else { 0.0 };
            ui.add(egui::ProgressBar::new(snap.draws as f32 / snap.target.max(1) as f32).text(format!(
                "{} {}/{} draws, {rate:.2}/s, block {} px",
                snap.method.label(),
                snap.draws,
                snap.target,
                snap.block
            )));
        }
        if cdc.heatmap_running && ui.button("Stop").clicked() {
            cmds.push(Command::CancelHeatmap(image.id));
        }
        ui.label(
            RichText::new(
                "red: raising the intensity there would lower (improve) the predicted CDC; blue: lowering it would; black: neither",
            )
            .small()
            .weak(),
        );
    }
    if let Some(e) = &cdc.heatmap_error {
        ui.colored_label(WARN, e);
    }
    if s != cdc.settings {
        cmds.push(Command::SetCdcSettings { image: image.id, settings: s });
    }
}

/// The 12 predicted thresholds with their 95 % band and the two parts of the uncertainty.
fn prediction_table_ui(ui: &mut egui::Ui, p: &CdcPrediction) {
    egui::Grid::new("cdc_prediction").striped(true).num_columns(5).show(ui, |ui| {
        ui.label(RichText::new("d (mm)").strong());
        ui.label(RichText::new("auto µm").strong());
        ui.label(RichText::new("95 % band").strong());
        ui.label(RichText::new("σ epi/ale").strong()).on_hover_text("epistemic / aleatoric standard deviation of ln(threshold)");
        ui.label(RichText::new("human µm").strong());
        ui.end_row();
        for (k, d) in cdc_diameters_mm().iter().enumerate() {
            let [lo, hi] = p.band_um(k);
            let human = HUMAN_FACTOR[k] * p.threshold_um(k);
            ui.label(format!("{d:.2}"));
            ui.label(format!("{:.3}", p.threshold_um(k)));
            ui.label(format!("{lo:.3}–{hi:.3}"));
            ui.label(format!("{:.2}/{:.2}", p.epistemic[k], p.aleatoric[k]));
            let limit = EUREF_LIMITS.iter().find(|l| (l.diameter_mm - d).abs() < 1e-9);
            let text = RichText::new(format!("{human:.3}"));
            ui.label(match limit {
                Some(l) if human > l.acceptable_um => text.color(WARN),
                Some(l) if human <= l.achievable_um => text.color(Color32::from_rgb(40, 170, 80)),
                _ => text,
            });
            ui.end_row();
        }
    });
}
