//! The CDMAM QA section: run the readout of the open images, the contrast-detail curve (log-log, EUREF limits,
//! 95 % band), verdicts and thresholds, what is drawn over the images, and the report export.

use egui::{Color32, RichText};
use egui_plot::{Legend, Line, LineStyle, MarkerShape, Plot, PlotPoints, Points, Polygon};

use crate::app::cdmam::{CdmamResult, TruthChoice};
use crate::app::{AppState, Command};
use crate::models::cdc::CdcPrediction;
use crate::phantom::cdmam::analysis::VerdictLevel;
use crate::phantom::cdmam::tables::{EUREF_LIMITS, HUMAN_FACTOR};
use crate::report::cdmam::{ci, human_text, level_text, um};
use crate::synth::cdc_data::cdc_diameters_mm;

const AUTOMATED: Color32 = Color32::from_rgb(31, 119, 180);
const HUMAN: Color32 = Color32::from_rgb(150, 90, 210);
const ACCEPTABLE: Color32 = Color32::from_rgb(220, 50, 50);
const ACHIEVABLE: Color32 = Color32::from_rgb(40, 170, 80);
const PREDICTED: Color32 = Color32::from_rgb(240, 140, 30);

pub fn level_color(level: VerdictLevel) -> Color32 {
    match level {
        VerdictLevel::Achievable => ACHIEVABLE,
        VerdictLevel::Acceptable => Color32::from_rgb(200, 170, 40),
        VerdictLevel::Fail => ACCEPTABLE,
        VerdictLevel::NotAssessed => Color32::GRAY,
    }
}

pub fn cdmam_panel_ui(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<Command>) {
    let cdmam = &state.cdmam;
    ui.label(
        RichText::new("Reads every open image as one CDMAM 3.4 set (EUREF automated readout; at least 8 exposures, 16 recommended).")
            .small(),
    );
    ui.horizontal(|ui| {
        let mut truth = cdmam.truth;
        ui.label("Truth:");
        ui.selectable_value(&mut truth, TruthChoice::Standard, "layout chart").on_hover_text(
            "The standard CDMAM 3.4 layout, checked against the images; the leave-one-out consensus is used if they disagree",
        );
        ui.selectable_value(&mut truth, TruthChoice::Consensus, "consensus")
            .on_hover_text("The leave-one-out consensus of the images alone");
        if cdmam.running {
            if ui.button("Cancel").clicked() {
                cmds.push(Command::CancelCdmamReadout);
            }
        } else if ui.add_enabled(!state.images.is_empty(), egui::Button::new(format!("Read CDMAM set ({})", state.images.len()))).clicked()
            || truth != cdmam.truth
        {
            cmds.push(Command::RunCdmamReadout(truth));
        }
    });
    if cdmam.running {
        let (done, total) = cdmam.progress;
        ui.add(
            egui::ProgressBar::new(if total > 0 { done as f32 / total as f32 } else { 0.0 })
                .text(format!("locating the phantom {done}/{total}")),
        );
    }
    if let Some(error) = &cdmam.error {
        ui.colored_label(ACCEPTABLE, error);
    }
    let Some(result) = &cdmam.result else { return };
    summary_ui(ui, result);
    let predicted = state.active_image().and_then(|img| img.cdc.prediction.as_ref().filter(|_| img.cdc.settings.predict));
    cdc_plot_ui(ui, Some(result), predicted.map(|p| &p.prediction));
    let mut lattice = cdmam.show_lattice;
    let mut marks = cdmam.show_marks;
    ui.horizontal(|ui| {
        let a = ui.checkbox(&mut lattice, "lattice").changed();
        let b = ui
            .checkbox(&mut marks, "cell marks")
            .on_hover_text("green: corner found, red: wrong corner (before the nearest-neighbour correction)")
            .changed();
        if a || b {
            cmds.push(Command::SetCdmamOverlay { lattice, marks });
        }
    });
    thresholds_ui(ui, result);
    export_ui(ui, state, cmds);
}

fn summary_ui(ui: &mut egui::Ui, result: &CdmamResult) {
    let cdc = &result.readout.cdc;
    ui.horizontal(|ui| {
        ui.label("EUREF:");
        ui.label(RichText::new(level_text(cdc.overall)).strong().color(level_color(cdc.overall)));
        if let Some(iqf) = cdc.iqf {
            ui.label(format!("IQF {iqf:.3}"));
        }
        if let Some(inv) = cdc.iqf_inv {
            ui.label(format!("IQF_inv {inv:.0}"));
        }
    });
    ui.label(
        RichText::new(format!(
            "{} image(s) used, {} left out, {:.1} s",
            result.readout.exposures.len(),
            result.readout.failures.len(),
            result.seconds
        ))
        .small(),
    );
    for (name, why) in &result.readout.failures {
        ui.label(RichText::new(format!("left out {name}: {why}")).small().color(ACCEPTABLE));
    }
    for w in &cdc.warnings {
        ui.label(RichText::new(w.to_string()).small().weak());
    }
}

/// `10^v` with as many digits as the value needs.
fn pow10_label(v: f64) -> String {
    let x = 10f64.powf(v);
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn log_points(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<[f64; 2]> {
    points.into_iter().filter(|(d, t)| *d > 0.0 && *t > 0.0 && t.is_finite()).map(|(d, t)| [d.log10(), t.log10()]).collect()
}

/// The log-log contrast-detail plot: the 16-image readout (when there is one), the single-image prediction of the
/// active image with its 95 % band (when there is one), and the EUREF limits.
pub fn cdc_plot_ui(ui: &mut egui::Ui, result: Option<&CdmamResult>, predicted: Option<&CdcPrediction>) {
    Plot::new("cdmam_cdc")
        .height(260.0)
        .legend(Legend::default().position(egui_plot::Corner::RightTop))
        .x_axis_label("disc diameter (mm)")
        .y_axis_label("threshold gold (µm)")
        .x_axis_formatter(|m, _| pow10_label(m.value))
        .y_axis_formatter(|m, _| pow10_label(m.value))
        .label_formatter(|hover| {
            let (name, p) = match hover {
                egui_plot::HoverPosition::NearDataPoint { plot_name, position, .. } => (*plot_name, *position),
                egui_plot::HoverPosition::Elsewhere { position } => ("", *position),
            };
            Some(format!("{name}\nd = {} mm\nt = {} µm", pow10_label(p.x), pow10_label(p.y)))
        })
        .include_x(0.06f64.log10())
        .include_x(2.2f64.log10())
        .include_y(0.01f64.log10())
        .include_y(3.0f64.log10())
        .allow_scroll(false)
        .show(ui, |plot| {
            if let Some(p) = predicted {
                predicted_lines(plot, p);
            }
            let Some(result) = result else {
                euref_lines(plot);
                return;
            };
            let cdc = &result.readout.cdc;
            let band: Vec<(f64, f64, f64)> =
                cdc.diameters.iter().filter_map(|d| Some((d.diameter_mm, d.ci_human?[0], d.ci_human?[1]))).collect();
            // One convex quadrilateral per segment: egui fills polygons as convex shapes.
            for w in band.windows(2) {
                let quad = log_points([(w[0].0, w[0].2), (w[1].0, w[1].2), (w[1].0, w[1].1), (w[0].0, w[0].1)]);
                if quad.len() == 4 {
                    plot.polygon(
                        Polygon::new("human 95% CI", PlotPoints::from(quad))
                            .fill_color(HUMAN.gamma_multiply(0.25))
                            .stroke(egui::Stroke::NONE),
                    );
                }
            }
            if let Some(curve) = &cdc.curve {
                plot.line(Line::new("automated", log_points(curve.dense.iter().map(|p| (p.diameter_mm, p.automated_um)))).color(AUTOMATED));
                plot.line(Line::new("predicted human", log_points(curve.dense.iter().map(|p| (p.diameter_mm, p.human_um)))).color(HUMAN));
            }
            let own = log_points(cdc.diameters.iter().filter_map(|d| Some((d.diameter_mm, d.automated_um?))));
            plot.points(Points::new("automated per diameter", own).color(AUTOMATED).radius(3.0).filled(true));
            euref_lines(plot);
        });
}

/// The single-image prediction: automated-scale curve with its 95 % band, and the human-equivalent curve.
fn predicted_lines(plot: &mut egui_plot::PlotUi<'_>, p: &CdcPrediction) {
    let d = cdc_diameters_mm();
    for k in 0..d.len() - 1 {
        let (a, b) = (p.band_um(k), p.band_um(k + 1));
        let quad = log_points([(d[k], a[1]), (d[k + 1], b[1]), (d[k + 1], b[0]), (d[k], a[0])]);
        if quad.len() == 4 {
            plot.polygon(
                Polygon::new("predicted 95% band", PlotPoints::from(quad))
                    .fill_color(PREDICTED.gamma_multiply(0.25))
                    .stroke(egui::Stroke::NONE),
            );
        }
    }
    plot.line(
        Line::new("predicted (1 image)", log_points(d.iter().enumerate().map(|(k, &dm)| (dm, p.threshold_um(k)))))
            .color(PREDICTED)
            .width(2.0),
    );
    plot.line(
        Line::new("predicted human (1 image)", log_points(d.iter().enumerate().map(|(k, &dm)| (dm, HUMAN_FACTOR[k] * p.threshold_um(k)))))
            .color(PREDICTED)
            .style(LineStyle::dashed_loose()),
    );
}

/// The EUREF acceptable and achievable limits.
fn euref_lines(plot: &mut egui_plot::PlotUi<'_>) {
    {
        let acceptable = log_points(EUREF_LIMITS.iter().map(|l| (l.diameter_mm, l.acceptable_um)));
        let achievable = log_points(EUREF_LIMITS.iter().map(|l| (l.diameter_mm, l.achievable_um)));
        plot.line(Line::new("EUREF acceptable", acceptable.clone()).color(ACCEPTABLE).style(LineStyle::dashed_dense()));
        plot.line(Line::new("EUREF achievable", achievable.clone()).color(ACHIEVABLE).style(LineStyle::dashed_dense()));
        plot.points(Points::new("EUREF acceptable", acceptable).color(ACCEPTABLE).shape(MarkerShape::Square).radius(2.5));
        plot.points(Points::new("EUREF achievable", achievable).color(ACHIEVABLE).shape(MarkerShape::Square).radius(2.5));
    }
}

fn thresholds_ui(ui: &mut egui::Ui, result: &CdmamResult) {
    let cdc = &result.readout.cdc;
    egui::CollapsingHeader::new("Thresholds and verdicts").default_open(true).show(ui, |ui| {
        egui::Grid::new("cdmam_verdicts").striped(true).show(ui, |ui| {
            for h in ["d (mm)", "human (µm)", "acceptable", "achievable", "verdict"] {
                ui.label(RichText::new(h).small().strong());
            }
            ui.end_row();
            for v in &cdc.verdicts {
                ui.label(format!("{:.2}", v.diameter_mm));
                ui.label(human_text(v.human));
                ui.label(format!("{:.3}", v.acceptable_um));
                ui.label(format!("{:.3}", v.achievable_um));
                ui.colored_label(level_color(v.level), level_text(v.level));
                ui.end_row();
            }
        });
        ui.add_space(4.0);
        egui::Grid::new("cdmam_thresholds").striped(true).show(ui, |ui| {
            for h in ["d (mm)", "auto (µm)", "95% CI", "human (µm)", "95% CI"] {
                ui.label(RichText::new(h).small().strong());
            }
            ui.end_row();
            for d in &cdc.diameters {
                ui.label(format!("{:.2}", d.diameter_mm));
                ui.label(um(d.fitted_um));
                ui.label(RichText::new(ci(d.ci_automated)).small());
                ui.label(um(d.human_um));
                ui.label(RichText::new(ci(d.ci_human)).small());
                ui.end_row();
            }
        });
    });
}

fn export_ui(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<Command>) {
    let id = ui.make_persistent_id("cdmam_report_path");
    let default = state
        .images
        .first()
        .and_then(|i| i.path.parent())
        .map_or_else(|| "cdmam-report.html".to_owned(), |dir| dir.join("cdmam-report.html").display().to_string());
    let mut path = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or(default);
    ui.horizontal(|ui| {
        ui.label("Report:");
        ui.add(egui::TextEdit::singleline(&mut path).desired_width(170.0));
        if ui.button("Export").on_hover_text("One-page HTML report with the plot as PNG, written atomically").clicked()
            && !path.trim().is_empty()
        {
            cmds.push(Command::ExportCdmamReport(std::path::PathBuf::from(path.trim())));
        }
    });
    ui.data_mut(|d| d.insert_temp(id, path));
    match &state.cdmam.export_status {
        Some(Ok(p)) => {
            ui.label(RichText::new(format!("written: {}", p.display())).small());
        }
        Some(Err(e)) => {
            ui.colored_label(ACCEPTABLE, e);
        }
        None => {}
    }
}
