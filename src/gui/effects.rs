//! Background work started by commands: loading jobs, the file dialog, freeing GPU textures.

use std::path::PathBuf;

use crate::app::{
    Effects,
    loader::{self, Loaded},
};
use crate::dicom::OpenOptions;
use crate::jobs::{self, Job};
use crate::render::ImageRenderer;

/// The running jobs of the application.
pub struct Background {
    pub egui_ctx: egui::Context,
    pub render_state: Option<egui_wgpu::RenderState>,
    pub options: OpenOptions,
    pub loading: Vec<Job<Loaded>>,
    pub dialog: Option<Job<Vec<PathBuf>>>,
    /// Failures to start a job, reported by the app as notifications.
    pub errors: Vec<String>,
}

impl Effects for Background {
    fn start_loading(&mut self, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let options = self.options;
        match jobs::spawn("load-files", self.egui_ctx.clone(), move |r| loader::load_files(&paths, options, r)) {
            Ok(job) => self.loading.push(job),
            Err(e) => self.errors.push(format!("could not start loading: {e:#}")),
        }
    }

    fn start_file_dialog(&mut self) {
        if self.dialog.is_some() {
            return; // there's already a dialog open
        }
        let spawned = jobs::spawn("file-dialog", self.egui_ctx.clone(), |r: &jobs::Reporter<Vec<PathBuf>>| {
            let picked = rfd::FileDialog::new()
                .set_title("Open mammograms")
                .add_filter("Images", &["dcm", "dicom", "DCM", "png", "tif", "tiff", "pgm"])
                .add_filter("All files", &["*"])
                .pick_files();
            match picked {
                Some(paths) => r.output(paths),
                None => {
                    anyhow::bail!("no file picked (or no file dialog available: drop files on the window or pass them on the command line)")
                }
            }
            Ok(())
        });
        match spawned {
            Ok(job) => self.dialog = Some(job),
            Err(e) => self.errors.push(format!("could not open the file dialog: {e:#}")),
        }
    }

    fn cancel_loading(&mut self) {
        for job in &self.loading {
            job.cancel();
        }
    }

    fn forget_image(&mut self, image: u64) {
        if let Some(rs) = &self.render_state
            && let Some(renderer) = rs.renderer.write().callback_resources.get_mut::<ImageRenderer>()
        {
            renderer.forget_image(image);
        }
    }
}
