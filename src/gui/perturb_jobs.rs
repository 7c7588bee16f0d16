//! Runs the perturbation lab: a display-resolution preview on the UI thread as soon as a parameter changes, then
//! the full-resolution result as a background job, cancelled when the parameters change again.

use std::collections::HashMap;
use std::sync::Arc;

use crate::app::AppState;
use crate::app::perturbation::{self, PerturbResult, preview_factor};
use crate::imaging::perturb::{FourierCache, PerturbError};
use crate::jobs::{self, Job, Message};

/// Running full-resolution jobs, by image id.
#[derive(Default)]
pub struct PerturbJobs {
    jobs: HashMap<u64, Job<PerturbResult>>,
}

impl PerturbJobs {
    /// Start previews and jobs for images whose parameters changed, and collect finished results.
    pub fn update(&mut self, state: &mut AppState, egui_ctx: &egui::Context) {
        for img in &mut state.images {
            if !img.perturb.dirty {
                continue;
            }
            img.perturb.dirty = false;
            img.perturb.error = None;
            if let Some(job) = self.jobs.remove(&img.id) {
                job.cancel();
            }
            if !img.perturb.active() {
                img.perturb.result = None;
                img.perturb.computing = false;
                // Free the cached transforms (~170 MB for a 4096 × 3328 frame) until the lab is used again.
                *img.perturb.full_cache.lock() = FourierCache::default();
                *img.perturb.preview_cache.lock() = FourierCache::default();
                continue;
            }
            let frame = img.current_frame().clone();
            let (spacing, _) = img.spacing_for_filters();
            let factor = preview_factor(frame.width, frame.height);
            let source = img.perturb.preview_source.get_or_insert_with(|| Arc::new(frame.downsample(factor))).clone();
            let (params, version) = (img.perturb.params, img.perturb.version);
            match perturbation::compute(&source, spacing, factor, &params, &img.perturb.preview_cache, version, &|| false) {
                Ok(preview) => img.perturb.result = Some(preview),
                // Some failures depend on the resolution (a gain fit, a shuffle grid): the full job still runs.
                Err(e) => img.perturb.error = Some(format!("preview: {e}")),
            }
            img.perturb.computing = false;
            if factor == 1 {
                img.perturb.computing = false;
                continue; // the preview is the full resolution
            }
            let cache = img.perturb.full_cache.clone();
            let spawned = jobs::spawn("perturb", egui_ctx.clone(), move |r: &jobs::Reporter<PerturbResult>| {
                r.step(0, 1, "perturbing at full resolution");
                let result = perturbation::compute(&frame, spacing, 1, &params, &cache, version, &|| r.is_cancelled())?;
                r.output(result);
                Ok(())
            });
            match spawned {
                Ok(job) => {
                    img.perturb.computing = true;
                    self.jobs.insert(img.id, job);
                }
                Err(e) => img.perturb.error = Some(format!("could not start the full-resolution job: {e:#}")),
            }
        }
        self.collect(state);
    }

    fn collect(&mut self, state: &mut AppState) {
        for (id, job) in &mut self.jobs {
            let Some(img) = state.image_mut(*id) else {
                job.cancel();
                continue;
            };
            while let Some(message) = job.next_message() {
                match message {
                    Message::Output(result) if result.version == img.perturb.version => img.perturb.result = Some(result),
                    Message::Finished(Err(e)) if !matches!(e.downcast_ref::<PerturbError>(), Some(PerturbError::Cancelled)) => {
                        img.perturb.error = Some(format!("{e:#}"));
                    }
                    Message::Finished(Ok(())) if img.perturb.error.as_deref().is_some_and(|e| e.starts_with("preview:")) => {
                        img.perturb.error = None; // the full-resolution result succeeded where the preview could not
                    }
                    _ => {}
                }
            }
            img.perturb.computing = !job.is_finished();
        }
        self.jobs.retain(|id, job| !job.is_finished() && state.image(*id).is_some());
    }

    /// Progress of the running jobs, for the status bar.
    pub fn progress(&self) -> impl Iterator<Item = &(u32, u32, String)> {
        self.jobs.values().filter_map(Job::progress)
    }
}
