//! Notifications in the top-right corner: errors stay until dismissed, information fades after a few seconds.

use std::time::Duration;

use egui::Color32;

use crate::app::{AppState, Command, Severity};

/// How long an information notification stays (errors stay until dismissed).
pub const INFO_LIFETIME: Duration = Duration::from_secs(6);

pub fn notifications_ui(ctx: &egui::Context, state: &AppState, cmds: &mut Vec<Command>) {
    if state.notifications.is_empty() {
        return;
    }
    egui::Area::new(egui::Id::unique("notifications"))
        .anchor(egui::Align2::RIGHT_TOP, egui::vec2(-12.0, 48.0))
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_max_width(420.0);
            for n in state.notifications.iter().rev().take(6) {
                let fill = match n.severity {
                    Severity::Error => Color32::from_rgb(110, 30, 30),
                    Severity::Info => Color32::from_rgb(30, 60, 100),
                };
                egui::Frame::popup(ui.style()).fill(fill).show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(egui::RichText::new(&n.text).color(Color32::WHITE));
                        if ui.small_button("Dismiss").on_hover_text("Dismiss").clicked() {
                            cmds.push(Command::DismissNotification(n.id));
                        }
                    });
                });
            }
        });
    if state.notifications.iter().any(|n| n.severity == Severity::Info) {
        ctx.request_repaint_after(Duration::from_millis(500));
    }
}
