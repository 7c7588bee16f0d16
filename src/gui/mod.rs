//! The eframe application: wires background jobs, the document (`app`), the UI and the wgpu renderer.

pub mod calc_jobs;
pub mod cdc_jobs;
pub mod cdmam_jobs;
pub mod denoise_jobs;
pub mod effects;
pub mod perturb_jobs;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::app::{
    AppState, Command, Severity, ViewState,
    loader::{self, Loaded},
};
use crate::dicom::OpenOptions;
use crate::jobs::Message;
use crate::render::ImageRenderer;
use crate::ui::{self, study_list::Thumbnails};

use effects::Background;

/// Mammoscope's window.
pub struct MammoscopeApp {
    pub state: AppState,
    pub view: ViewState,
    pub background: Background,
    thumbnails: Thumbnails,
    commands: Vec<Command>,
    perturb_jobs: perturb_jobs::PerturbJobs,
    calc_jobs: calc_jobs::CalcJobs,
    cdmam_jobs: cdmam_jobs::CdmamJobs,
    cdc_jobs: cdc_jobs::CdcJobs,
    denoise_jobs: denoise_jobs::DenoiseJobs,
}

impl MammoscopeApp {
    /// Create the app; opens `paths`, or the built-in sample exam when `paths` is empty.
    pub fn new(cc: &eframe::CreationContext<'_>, paths: Vec<PathBuf>, options: OpenOptions) -> Self {
        let render_state = cc.wgpu_render_state.clone();
        let mut state = AppState::new();
        match &render_state {
            Some(rs) => ImageRenderer::install(rs),
            None => state.notify(Severity::Error, "No wgpu renderer: images cannot be displayed"),
        }
        cc.egui_ctx.set_visuals(egui::Visuals::dark());
        let mut app = Self {
            state,
            view: ViewState::default(),
            background: Background {
                egui_ctx: cc.egui_ctx.clone(),
                render_state,
                options,
                loading: Vec::new(),
                dialog: None,
                errors: Vec::new(),
            },
            thumbnails: Thumbnails::default(),
            commands: Vec::new(),
            perturb_jobs: perturb_jobs::PerturbJobs::default(),
            calc_jobs: calc_jobs::CalcJobs::default(),
            cdmam_jobs: cdmam_jobs::CdmamJobs::default(),
            cdc_jobs: cdc_jobs::CdcJobs::default(),
            denoise_jobs: denoise_jobs::DenoiseJobs::default(),
        };
        let paths = if paths.is_empty() {
            if let Some(dir) = loader::sample_exam_dir() {
                vec![dir]
            } else {
                app.state.notify(Severity::Info, "Built-in sample exam not found; open files to start");
                Vec::new()
            }
        } else {
            paths
        };
        app.commands.push(Command::Open(paths));
        app
    }

    /// Queue a command as if the UI had sent it (tests and drag-and-drop use this).
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// True while a perturbation is computed at full resolution.
    pub fn is_perturbing(&self) -> bool {
        self.state.images.iter().any(|i| i.perturb.computing || i.perturb.dirty)
    }

    /// True while files are being opened.
    pub fn is_loading(&self) -> bool {
        !self.background.loading.is_empty() || self.commands.iter().any(|c| matches!(c, Command::Open(_)))
    }

    fn poll_jobs(&mut self) {
        let start = Instant::now();
        let mut progress = Vec::new();
        for job in &mut self.background.loading {
            // Keep the UI responsive: stop after ~10 ms; what is left stays queued for the next frame.
            while start.elapsed() < Duration::from_millis(10) {
                let Some(message) = job.next_message() else { break };
                match message {
                    Message::Output(Loaded::Image(prepared)) => self.state.add_image(*prepared),
                    Message::Output(Loaded::Failed { path, message }) => self.state.report_failure(&path, &message),
                    Message::Finished(Err(e)) => self.state.notify(Severity::Info, format!("{e:#}")),
                    Message::Finished(Ok(())) | Message::Step { .. } => {}
                }
            }
            if let Some(p) = job.progress() {
                progress.push(p.clone());
            }
        }
        self.background.loading.retain(|j| !j.is_finished());
        self.state.loading = progress;
        if let Some(job) = &mut self.background.dialog {
            for message in job.poll() {
                match message {
                    Message::Output(paths) => self.commands.push(Command::Open(paths)),
                    Message::Finished(Err(e)) => self.state.notify(Severity::Info, format!("{e:#}")),
                    _ => {}
                }
            }
            if job.is_finished() {
                self.background.dialog = None;
            }
        }
        for error in self.background.errors.drain(..) {
            self.state.notify(Severity::Error, error);
        }
    }

    fn apply_commands(&mut self) {
        for command in std::mem::take(&mut self.commands) {
            self.state.apply(command, &mut self.background);
        }
        self.thumbnails.retain(&self.state);
    }
}

impl eframe::App for MammoscopeApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let dropped: Vec<PathBuf> =
            ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect());
        if !dropped.is_empty() {
            self.commands.push(Command::Open(dropped));
        }
        self.poll_jobs();
        self.apply_commands();
        self.perturb_jobs.update(&mut self.state, ctx);
        self.state.loading.extend(self.perturb_jobs.progress().cloned());
        self.calc_jobs.update(&mut self.state, ctx);
        self.state.loading.extend(self.calc_jobs.progress().cloned());
        self.cdmam_jobs.update(&mut self.state, ctx);
        self.state.loading.extend(self.cdmam_jobs.progress().cloned());
        self.cdc_jobs.update(&mut self.state, ctx);
        self.state.loading.extend(self.cdc_jobs.progress().cloned());
        self.denoise_jobs.update(&mut self.state, &self.view, ctx);
        self.state.loading.extend(self.denoise_jobs.progress().cloned());
        self.state.expire_notifications(ui::notifications::INFO_LIFETIME);
        if self.is_loading()
            || self.is_perturbing()
            || self.calc_jobs.is_busy()
            || self.cdmam_jobs.is_busy()
            || self.cdc_jobs.is_busy()
            || self.denoise_jobs.is_busy()
        {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut commands = Vec::new();
        ui::app_ui(ui, &self.state, &mut self.view, &mut self.thumbnails, &mut commands);
        self.commands.extend(commands);
        if !self.commands.is_empty() {
            ui.ctx().request_repaint();
        }
    }
}

/// Start the GUI, opening `paths` (or the built-in sample exam when empty).
pub fn run(paths: Vec<PathBuf>, user_spacing_mm: Option<f64>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        viewport: egui::ViewportBuilder::default()
            .with_title("Mammoscope")
            .with_app_id("io.github.mammoscope.Mammoscope")
            .with_inner_size([1600.0, 1000.0])
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let open = OpenOptions { user_spacing_mm };
    eframe::run_native("Mammoscope", options, Box::new(move |cc| Ok(Box::new(MammoscopeApp::new(cc, paths, open)))))
        .map_err(|e| anyhow::anyhow!("could not start the window: {e}"))
}
