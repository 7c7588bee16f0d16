//! The bottom bar: pointer position in px and mm, the raw value, the window, loading progress.

use std::fmt::Write as _;

use crate::app::{AppState, Command, ViewState};

pub fn status_bar_ui(ui: &mut egui::Ui, state: &AppState, view: &ViewState, cmds: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if let Some(hover) = &view.hover
            && let Some(image) = state.image(hover.image_id)
        {
            {
                let [x, y] = hover.pos_in_image;
                let mut text = format!("x {:.0}  y {:.0} px", x.floor(), y.floor());
                if let Some(s) = image.meta.spacing {
                    let _ = write!(text, "  ({:.2}, {:.2} mm)", x * s.col_mm, y * s.row_mm);
                }
                match hover.value {
                    Some(v) => {
                        let _ = write!(text, "  value {}", format_value(v));
                    }
                    None => text += "  outside image",
                }
                ui.monospace(text);
                ui.separator();
            }
        }
        if let Some(image) = state.active_image() {
            let w = image.voi.window;
            let mode = if image.voi.lut.is_some() { "VOI LUT".to_owned() } else { format!("C {:.0}  W {:.0}", w.center, w.width) };
            ui.label(format!("{}: {mode}", image.title()));
            ui.separator();
            match image.meta.spacing {
                Some(s) => ui.label(format!("{:.3} mm/px ({})", s.col_mm, s.source.describe())),
                None => ui.label("no pixel spacing: measurements in px"),
            }
            .on_hover_text(image.meta.spacing_note.clone().unwrap_or_default());
            ui.separator();
            ui.label(format!("mirroring: {}", image.orientation.basis));
        }
        for (done, total, label) in &state.loading {
            ui.separator();
            let fraction = if *total == 0 { 0.0 } else { *done as f32 / *total as f32 };
            ui.add(egui::ProgressBar::new(fraction).desired_width(160.0).text(label.clone()));
            if ui.small_button("Cancel").clicked() {
                cmds.push(Command::CancelLoading);
            }
        }
    });
}

/// Integers as integers, fractional modality values (rescale slope ≠ 1) with enough digits.
fn format_value(v: f32) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.3}") }
}
