//! egui panels and widgets (`*_ui` functions). They read `AppState`, change only `ViewState`
//! (visual state), and send `Command`s for everything else.

pub mod calc_overlay;
pub mod calc_panel;
pub mod cdc_overlay;
pub mod cdc_panel;
pub mod cdmam_overlay;
pub mod cdmam_panel;
pub mod denoise_overlay;
pub mod denoise_panel;
pub mod image_panel;
pub mod layers;
pub mod metadata;
pub mod notifications;
pub mod overlays;
pub mod perturb_panel;
pub mod status_bar;
pub mod study_list;
pub mod toolbar;
pub mod viewer;

use crate::app::{AppState, Command, ViewState};

/// The whole window.
pub fn app_ui(ui: &mut egui::Ui, state: &AppState, view: &mut ViewState, thumbnails: &mut study_list::Thumbnails, cmds: &mut Vec<Command>) {
    egui::Panel::top("toolbar").show(ui, |ui| toolbar::toolbar_ui(ui, state, view, cmds));
    egui::Panel::bottom("status").show(ui, |ui| status_bar::status_bar_ui(ui, state, view, cmds));
    egui::Panel::left("study").resizable(true).default_size(130.0).show(ui, |ui| {
        study_list::study_list_ui(ui, state, thumbnails, cmds);
    });
    if let Some(image) = state.active_image() {
        egui::Panel::right("image").resizable(true).default_size(300.0).show(ui, |ui| {
            image_panel::image_panel_ui(ui, state, image, view, cmds);
        });
    }
    egui::CentralPanel::default().frame(egui::Frame::NONE).show(ui, |ui| viewer::viewports_ui(ui, state, view, cmds));
    notifications::notifications_ui(ui.ctx(), state, cmds);
}
