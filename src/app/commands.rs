//! Commands sent by the UI; the only place the document (`AppState`) changes.

use std::path::PathBuf;

use crate::imaging::{
    Spacing, SpacingSource,
    voi::{VoiFunction, Window},
};

use super::denoise::DenoiseSettings;
use super::hanging::{Layout, hang};
use super::open_image::{Measurement, OpenImage, PreparedImage};
use super::state::{AppState, Severity};

/// Something the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Open files or folders in the background.
    Open(Vec<PathBuf>),
    /// Show the system file dialog (in the background), then open what was picked.
    OpenDialog,
    /// Stop all loading jobs.
    CancelLoading,
    SetWindow {
        image: u64,
        window: Window,
    },
    ApplyPreset {
        image: u64,
        index: usize,
    },
    SetFunction {
        image: u64,
        function: VoiFunction,
    },
    SetInverted {
        image: u64,
        inverted: bool,
    },
    SetGamma {
        image: u64,
        gamma: f32,
    },
    /// Use the file's VOI LUT `index`, or the window when `None`.
    SetLut {
        image: u64,
        index: Option<usize>,
    },
    SetFrame {
        image: u64,
        frame: usize,
    },
    /// Measure with another spacing the file states (e.g. Imager Pixel Spacing at the detector).
    UseSpacing {
        image: u64,
        spacing: Spacing,
    },
    /// Pixel spacing in mm for an image that has none (research PNG/TIFF/PGM, digitised film).
    SetUserSpacing {
        image: u64,
        spacing_mm: f64,
    },
    AddMeasurement {
        image: u64,
        measurement: Measurement,
    },
    ClearMeasurements {
        image: u64,
    },
    /// New perturbation parameters for an image (previewed at once, full resolution in the background).
    SetPerturb {
        image: u64,
        params: crate::imaging::perturb::PerturbParams,
    },
    /// Show the perturbed image, the original or their difference.
    SetCompare {
        image: u64,
        compare: super::perturbation::Compare,
    },
    /// A/B split position (fraction of the viewport width), or none.
    SetSplit {
        image: u64,
        split: Option<f32>,
    },
    /// Show or hide the calcification overlay (detection runs in the background when shown).
    SetCalc {
        image: u64,
        enabled: bool,
    },
    /// Probability threshold of the drawn patches.
    SetCalcThreshold {
        image: u64,
        threshold: f32,
    },
    /// Choose the calcification model (auto, or an index into the shipped catalogue); every shown overlay re-runs.
    SetCalcModel(crate::models::catalog::CalcModelChoice),
    /// Tile stride in model pixels; every shown overlay re-runs.
    SetCalcStride(usize),
    /// Select a patch from the list (or none).
    SelectCalcPatch {
        image: u64,
        patch: Option<crate::models::detector::PatchScore>,
    },
    /// Sweep low-pass R and noise σ for the image (or the given patch) in the background.
    RunRobustness {
        image: u64,
        patch: Option<crate::models::detector::PatchScore>,
    },
    /// Read the open images as a CDMAM 3.4 set (in the background).
    RunCdmamReadout(super::cdmam::TruthChoice),
    /// Stop a running CDMAM readout.
    CancelCdmamReadout,
    /// What the CDMAM mode draws over the read images.
    SetCdmamOverlay {
        lattice: bool,
        marks: bool,
    },
    /// Write the CDMAM report (HTML with the plot) to this path, atomically, in the background.
    ExportCdmamReport(PathBuf),
    /// The single-image CDC prediction and heatmap settings of an image (jobs start or stop to match).
    SetCdcSettings {
        image: u64,
        settings: super::cdc::CdcSettings,
    },
    /// Stop the image's running heatmap job (the map so far stays).
    CancelHeatmap(u64),
    /// The denoised / difference view settings of an image (the denoising job starts or stops to match).
    SetDenoiseSettings {
        image: u64,
        settings: super::denoise::DenoiseSettings,
    },
    SetLayout(Layout),
    ShowInSlot {
        slot: usize,
        image: u64,
    },
    SetActiveSlot(usize),
    CloseImage(u64),
    /// Remove the notification with this id.
    DismissNotification(u64),
}

/// Where a command sends work it cannot do itself (background jobs live in the App).
pub trait Effects {
    fn start_loading(&mut self, paths: Vec<PathBuf>);
    fn start_file_dialog(&mut self);
    fn cancel_loading(&mut self);
    fn forget_image(&mut self, image: u64);
}

impl AppState {
    /// Apply one command.
    pub fn apply(&mut self, command: Command, effects: &mut dyn Effects) {
        match command {
            Command::Open(paths) => effects.start_loading(paths),
            Command::OpenDialog => effects.start_file_dialog(),
            Command::CancelLoading => effects.cancel_loading(),
            Command::SetWindow { image, window } => self.with_image(image, |img| {
                img.voi.window = Window { center: window.center, width: window.width.max(1e-3) };
                img.voi.preset = None;
                img.voi.lut = None;
            }),
            Command::ApplyPreset { image, index } => self.with_image(image, |img| {
                if let Some(preset) = img.meta.voi.presets.get(index) {
                    img.voi.window = preset.window;
                    img.voi.preset = Some(index);
                    img.voi.lut = None;
                }
            }),
            Command::SetFunction { image, function } => self.with_image(image, |img| img.voi.function = function),
            Command::SetInverted { image, inverted } => self.with_image(image, |img| img.voi.user_inverted = inverted),
            Command::SetGamma { image, gamma } => self.with_image(image, |img| img.voi.gamma = gamma.clamp(0.1, 5.0)),
            Command::SetLut { image, index } => self.with_image(image, |img| {
                img.voi.lut = index.filter(|&i| i < img.luts.len());
            }),
            Command::SetFrame { image, frame } => self.with_image(image, |img| {
                img.frame = frame.min(img.frames.len() - 1);
                img.ensure_pyramid();
                img.perturb.preview_source = None;
                img.perturb.full_cache = std::sync::Arc::default();
                img.perturb.preview_cache = std::sync::Arc::default();
                img.perturb.version += 1;
                img.perturb.dirty = img.perturb.active();
            }),
            Command::SetUserSpacing { image, spacing_mm } => {
                if spacing_mm.is_finite() && spacing_mm > 0.0 {
                    self.with_image(image, |img| {
                        img.meta.spacing = Some(Spacing { row_mm: spacing_mm, col_mm: spacing_mm, source: SpacingSource::User });
                        img.perturb.spacing_changed();
                        img.calc.spacing_changed();
                    });
                }
            }
            Command::UseSpacing { image, spacing } => self.with_image(image, |img| {
                img.meta.spacing = Some(spacing);
                img.perturb.spacing_changed();
                img.calc.spacing_changed();
            }),
            Command::AddMeasurement { image, measurement } => self.with_image(image, |img| img.measurements.push(measurement)),
            Command::ClearMeasurements { image } => self.with_image(image, |img| img.measurements.clear()),
            Command::SetPerturb { image, params } => self.with_image(image, |img| {
                if img.perturb.params != params {
                    img.perturb.params = params;
                    img.perturb.version += 1;
                    img.perturb.dirty = true;
                }
            }),
            Command::SetCompare { image, compare } => self.with_image(image, |img| img.perturb.compare = compare),
            Command::SetSplit { image, split } => self.with_image(image, |img| img.perturb.split = split.map(|s| s.clamp(0.0, 1.0))),
            Command::SetCalc { image, enabled } => self.with_image(image, |img| {
                img.calc.enabled = enabled;
                img.calc.attempted = None;
                img.calc.changed_at = std::time::Instant::now();
            }),
            Command::SetCalcThreshold { image, threshold } => {
                self.with_image(image, |img| img.calc.threshold = Some(threshold.clamp(0.0, 1.0)));
            }
            Command::SetCalcModel(model) => {
                let known = match model {
                    crate::models::catalog::CalcModelChoice::Fixed(i) => i < crate::models::catalog::CALC_MODELS.len(),
                    crate::models::catalog::CalcModelChoice::Auto => true,
                };
                if known && model != self.calc_model {
                    self.calc_model = model;
                    for img in &mut self.images {
                        img.calc.threshold = None; // the new model's operating point
                        img.calc.changed_at = std::time::Instant::now();
                    }
                }
            }
            Command::SetCalcStride(stride) => {
                self.calc_stride = stride.clamp(28, crate::models::preset::PATCH_SIZE);
                for img in &mut self.images {
                    img.calc.changed_at = std::time::Instant::now();
                }
            }
            Command::SelectCalcPatch { image, patch } => self.with_image(image, |img| img.calc.selected = patch),
            Command::RunRobustness { image, patch } => self.with_image(image, |img| {
                img.calc.robustness.patch = patch;
                img.calc.robustness.requested = true;
                img.calc.robustness.error = None;
            }),
            Command::RunCdmamReadout(truth) => {
                self.cdmam.truth = truth;
                self.cdmam.requested = true;
                self.cdmam.error = None;
            }
            Command::CancelCdmamReadout => {
                self.cdmam.requested = false;
                self.cdmam.cancel = true;
            }
            Command::SetCdmamOverlay { lattice, marks } => {
                self.cdmam.show_lattice = lattice;
                self.cdmam.show_marks = marks;
            }
            Command::ExportCdmamReport(path) => {
                if self.cdmam.result.is_some() {
                    self.cdmam.export_requested = Some(path);
                    self.cdmam.export_status = None;
                }
            }
            Command::SetCdcSettings { image, settings } => self.with_image(image, |img| img.cdc.settings = settings),
            Command::CancelHeatmap(image) => self.with_image(image, |img| img.cdc.cancel_heatmap = true),
            Command::SetDenoiseSettings { image, settings } => self.with_image(image, |img| {
                img.denoise.settings = DenoiseSettings { split: settings.split.map(|s| s.clamp(0.0, 1.0)), ..settings };
            }),
            Command::SetLayout(layout) => {
                self.layout = layout;
                self.layout_chosen = true;
                self.rehang();
            }
            Command::ShowInSlot { slot, image } => {
                if slot < self.slots.len() && self.image(image).is_some() {
                    self.slots[slot] = Some(image);
                    self.active_slot = slot;
                }
            }
            Command::SetActiveSlot(slot) => self.active_slot = slot.min(self.layout.slots() - 1),
            Command::CloseImage(id) => {
                self.images.retain(|i| i.id != id);
                effects.forget_image(id);
                self.rehang();
            }
            Command::DismissNotification(id) => self.notifications.retain(|n| n.id != id),
        }
    }

    fn with_image(&mut self, id: u64, f: impl FnOnce(&mut OpenImage)) {
        if let Some(img) = self.image_mut(id) {
            f(img);
        }
    }

    /// Add a freshly loaded image and re-hang the viewports.
    pub fn add_image(&mut self, prepared: PreparedImage) {
        let id = self.allocate_id();
        tracing::info!(
            "opened {} ({}×{}, {} frames{})",
            prepared.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            prepared.meta.columns,
            prepared.meta.rows,
            prepared.frames.len(),
            prepared.meta.sop_instance_uid.as_deref().map(|u| format!(", SOP Instance UID {u}")).unwrap_or_default()
        );
        self.images.push(OpenImage::new(id, prepared));
        if !self.layout_chosen {
            self.layout = match self.images.len() {
                1 => Layout::One,
                2 => Layout::Two,
                _ => Layout::Four,
            };
        }
        self.rehang();
    }

    pub fn report_failure(&mut self, path: &std::path::Path, message: &str) {
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        // DicomError messages end with the path; show the file name once, in front.
        let message = message.rsplit_once(" (\"").map_or(message, |(m, _)| m);
        self.notify(Severity::Error, format!("Could not open {name}: {message}"));
    }

    /// Hang all images by the protocol for the current layout.
    pub fn rehang(&mut self) {
        let metas: Vec<_> = self.images.iter().map(|i| &i.meta).collect();
        let order = hang(&metas, self.layout);
        self.slots = order.into_iter().map(|i| i.map(|i| self.images[i].id)).collect();
        self.active_slot = self.active_slot.min(self.slots.len().saturating_sub(1));
    }
}
