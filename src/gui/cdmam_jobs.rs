//! Runs the CDMAM readout of the open images and the report export as background jobs (progress, cancellable).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;

use crate::app::cdmam::{CdmamResult, TruthChoice};
use crate::app::{AppState, Severity};
use crate::jobs::{self, Job, Message};
use crate::phantom::cdmam::{
    Layout,
    analysis::ReadoutOptions,
    readout::{Exposure, ReadoutError, SetReadout, read_set},
};
use crate::report::cdmam::{ReportContext, render_html};

/// The running readout and export.
#[derive(Default)]
pub struct CdmamJobs {
    readout: Option<(Vec<u64>, Instant, Job<SetReadout>)>,
    export: Option<Job<PathBuf>>,
}

impl CdmamJobs {
    /// Starts what the state asks for and collects finished results.
    pub fn update(&mut self, state: &mut AppState, egui_ctx: &egui::Context) {
        if std::mem::take(&mut state.cdmam.cancel)
            && let Some((_, _, job)) = &self.readout
        {
            job.cancel();
        }
        if std::mem::take(&mut state.cdmam.requested) {
            self.start_readout(state, egui_ctx);
        }
        if let Some(path) = state.cdmam.export_requested.take() {
            self.start_export(state, path, egui_ctx);
        }
        self.collect(state);
    }

    fn start_readout(&mut self, state: &mut AppState, egui_ctx: &egui::Context) {
        if let Some((_, _, job)) = self.readout.take() {
            job.cancel();
        }
        let mut ids = Vec::new();
        let mut exposures = Vec::new();
        for img in &state.images {
            let name = img.path.file_name().map_or_else(|| img.path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let pixel_mm = img.meta.spacing.map(|s| 0.5 * (s.row_mm + s.col_mm));
            ids.push(img.id);
            exposures.push(Exposure { name, image: img.current_frame().clone(), pixel_mm });
        }
        let layout = (state.cdmam.truth == TruthChoice::Standard).then(Layout::standard);
        let spawned = jobs::spawn("cdmam-readout", egui_ctx.clone(), move |r: &jobs::Reporter<SetReadout>| {
            let progress = |done: usize, total: usize| r.step(done as u32, total as u32, "CDMAM readout: locating the phantom");
            let set = read_set(&exposures, layout.as_ref(), &ReadoutOptions::default(), &progress, &|| r.is_cancelled())?;
            r.output(set);
            Ok(())
        });
        match spawned {
            Ok(job) => {
                state.cdmam.running = true;
                state.cdmam.error = None;
                state.cdmam.progress = (0, ids.len() as u32);
                self.readout = Some((ids, Instant::now(), job));
            }
            Err(e) => state.cdmam.error = Some(format!("could not start the readout: {e:#}")),
        }
    }

    fn start_export(&mut self, state: &mut AppState, path: PathBuf, egui_ctx: &egui::Context) {
        let Some(result) = &state.cdmam.result else { return };
        if state.images.iter().any(|img| crate::dicom::atomic::same_file(&img.path, &path)) {
            state.cdmam.export_status = Some(Err(format!("{} is an open image: inputs are never overwritten", path.display())));
            return;
        }
        let readout = result.readout.clone();
        let ctx = ReportContext::from_metas(result.image_ids.iter().filter_map(|&id| {
            let img = state.image(id)?;
            let name = img.path.file_name().map_or_else(|| img.path.display().to_string(), |n| n.to_string_lossy().into_owned());
            Some((name, &img.meta))
        }));
        let spawned = jobs::spawn("cdmam-report", egui_ctx.clone(), move |r: &jobs::Reporter<PathBuf>| {
            r.step(0, 1, "writing the CDMAM report");
            let html = render_html(&readout, &ctx).context("cannot draw the report figure")?;
            crate::dicom::atomic::write_file_atomically(&path, html.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            r.output(path);
            Ok(())
        });
        match spawned {
            Ok(job) => self.export = Some(job),
            Err(e) => state.cdmam.export_status = Some(Err(format!("could not start the export: {e:#}"))),
        }
    }

    fn collect(&mut self, state: &mut AppState) {
        if let Some((ids, started, job)) = &mut self.readout {
            while let Some(message) = job.next_message() {
                match message {
                    Message::Step { done, total, .. } => state.cdmam.progress = (done, total),
                    Message::Output(set) => {
                        let seconds = started.elapsed().as_secs_f64();
                        state.cdmam.result = Some(CdmamResult { readout: Arc::new(set), image_ids: ids.clone(), seconds });
                    }
                    Message::Finished(Err(e)) if !matches!(e.downcast_ref(), Some(ReadoutError::Cancelled)) => {
                        state.cdmam.error = Some(format!("{e:#}"));
                    }
                    Message::Finished(_) => {}
                }
            }
            state.cdmam.running = !job.is_finished();
            if job.is_finished() {
                self.readout = None;
            }
        }
        if let Some(job) = &mut self.export {
            while let Some(message) = job.next_message() {
                match message {
                    Message::Output(path) => {
                        state.notify(Severity::Info, format!("CDMAM report written to {}", path.display()));
                        state.cdmam.export_status = Some(Ok(path));
                    }
                    Message::Finished(Err(e)) => state.cdmam.export_status = Some(Err(format!("{e:#}"))),
                    _ => {}
                }
            }
            if job.is_finished() {
                self.export = None;
            }
        }
    }

    /// True while the readout or an export runs.
    pub fn is_busy(&self) -> bool {
        self.readout.is_some() || self.export.is_some()
    }

    /// Progress of the running jobs, for the status bar.
    pub fn progress(&self) -> impl Iterator<Item = &(u32, u32, String)> {
        self.readout.iter().filter_map(|(_, _, j)| j.progress()).chain(self.export.iter().filter_map(Job::progress))
    }
}
