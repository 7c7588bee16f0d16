//! The "Denoise" section of the right panel: on/off, preset, the denoised or difference view, split compare with the
//! full-dose original, the difference colour gain, progress and — when the perturbation lab's dose slider has
//! simulated a lower dose — the choice of estimate (noise-free or the full-dose original) and PSNR and SSIM of the
//! input and of the denoised image against the full-dose original.

use egui::RichText;

use crate::app::denoise::{DenoiseSettings, DenoiseView, wanted_input};
use crate::app::{Command, OpenImage};
use crate::models::catalog::denoise_model_path;
use crate::models::denoise::DenoisePreset;
use crate::models::denoise::pipeline::Estimate;

pub fn denoise_panel_ui(ui: &mut egui::Ui, image: &OpenImage, cmds: &mut Vec<Command>) {
    let state = &image.denoise;
    let mut s: DenoiseSettings = state.settings;
    ui.label(
        RichText::new("Anscombe-domain residual network trained on simulated dose reduction (Eckert et al.); not for clinical use.")
            .small(),
    );
    ui.horizontal(|ui| {
        ui.checkbox(&mut s.enabled, "Denoise");
        if state.running {
            ui.spinner();
        }
    });
    ui.horizontal(|ui| {
        ui.label("network");
        for p in [DenoisePreset::Unet, DenoisePreset::Fast, DenoisePreset::Wide, DenoisePreset::Paper] {
            let installed = denoise_model_path(p).is_some();
            ui.add_enabled_ui(installed, |ui| ui.selectable_value(&mut s.preset, p, p.name()))
                .response
                .on_disabled_hover_text(format!("assets/models/denoise-{}.safetensors is not installed", p.name()));
        }
    });
    ui.horizontal(|ui| {
        ui.selectable_value(&mut s.view, DenoiseView::Denoised, "Denoised");
        ui.selectable_value(&mut s.view, DenoiseView::Difference, "Difference")
            .on_hover_text("denoised − input: red where the denoiser raised the value, blue where it lowered it; look for calcifications");
    });
    ui.horizontal(|ui| {
        let mut on = s.split.is_some();
        if ui.checkbox(&mut on, "Split compare").on_hover_text("The full-dose original left of the line").changed() {
            s.split = on.then_some(0.5);
        }
        if let Some(split) = s.split.as_mut() {
            ui.add(egui::Slider::new(split, 0.0..=1.0).show_value(false));
        }
    });
    if wanted_input(image).alpha < 1.0 {
        let mut full = s.estimate == Estimate::FullDose;
        if ui
            .checkbox(&mut full, "Estimate the full-dose image")
            .on_hover_text(
                "Off: the noise-free estimate. On: the best estimate of the full-dose original (the paper's target), \
                 w·input + (1 − w)·noise-free, since the dose-reduced image shares its quanta with the original \
                 (w = α when the image's noise matches its gain, less for a quieter original; measured on the input)",
            )
            .changed()
        {
            s.estimate = if full { Estimate::FullDose } else { Estimate::NoiseFree };
        }
    }
    if s.view == DenoiseView::Difference {
        ui.add(egui::Slider::new(&mut s.difference_gain, 0.25..=8.0).logarithmic(true).text("colour gain"));
    }
    if s != state.settings {
        cmds.push(Command::SetDenoiseSettings { image: image.id, settings: s });
    }
    if let Some(e) = &state.error {
        ui.colored_label(egui::Color32::from_rgb(220, 50, 50), e);
    }
    let input = wanted_input(image);
    ui.label(
        RichText::new(if input.alpha < 1.0 {
            format!("input: the lab's image at dose α = {:.2} (move the lab's dose slider to change it)", input.alpha)
        } else {
            "input: the image as acquired (use the perturbation lab's dose slider to simulate a lower dose)".to_owned()
        })
        .small()
        .weak(),
    );
    let Some(r) = state.shown(&input) else { return };
    if r.complete() {
        ui.label(RichText::new(format!("{} network, {:.1} s", r.input.preset.name(), r.seconds)).small().weak());
    } else {
        ui.add(
            egui::ProgressBar::new(r.tiles_done as f32 / r.tiles_total.max(1) as f32)
                .text(format!("{}/{} tiles", r.tiles_done, r.tiles_total)),
        );
    }
    if let Some(sc) = &r.scores {
        egui::Grid::new(("denoise_scores", image.id)).striped(true).show(ui, |ui| {
            ui.label("against the full-dose original");
            ui.label("PSNR (dB)");
            ui.label("SSIM");
            ui.end_row();
            ui.label(format!("dose-reduced input (α {:.2})", r.input.alpha));
            ui.label(format!("{:.2}", sc.psnr_input));
            ui.label(format!("{:.4}", sc.ssim_input));
            ui.end_row();
            ui.label("denoised");
            ui.label(format!("{:.2}", sc.psnr_output));
            ui.label(format!("{:.4}", sc.ssim_output));
            ui.end_row();
        });
    }
}
