//! The single-image CDC prediction and the explainability heatmap as background jobs, per image: started when the
//! user turns them on or their input changes (the frame, the perturbed image of a lab version, the method, N),
//! cancelled when stale. The heatmap job sends a snapshot every ~1.5 s so the map refines on screen.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::app::AppState;
use crate::app::cdc::{CdcInput, CdcPredictionResult, HeatmapMethod, HeatmapSnapshot};
use crate::explain::{EnsembleModel, Method, OcclusionParams, OmigParams, Upsampler};
use crate::imaging::Image;
use crate::jobs::{self, Job, Message};
use crate::models::catalog::cdc_ensemble_path;
use crate::models::cdc::CdcEnsemble;
use crate::models::cdc_image::{DEFAULT_DRAWS, at_training_level, predict_image};
use crate::models::device::best_device;
use crate::models::error::ModelError;

/// Interval between heatmap snapshots.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(1500);
/// Draws per batch of the heatmap job.
const HEATMAP_BATCH: usize = 4;
/// Seed of the heatmap's draws and of the prediction's draws.
const SEED: u64 = 0x0319_2022;

type EnsembleCache = Arc<Mutex<Option<Arc<CdcEnsemble>>>>;

/// The shipped ensemble, loaded once on a worker thread.
fn ensemble(cache: &EnsembleCache) -> anyhow::Result<Arc<CdcEnsemble>> {
    if let Some(e) = cache.lock().as_ref() {
        return Ok(e.clone());
    }
    let dir = cdc_ensemble_path()
        .ok_or_else(|| anyhow::anyhow!("the CDC ensemble (assets/models/cdc-compact) is not installed (MAMMOSCOPE_MODELS)"))?;
    let loaded = Arc::new(CdcEnsemble::load(&dir, &best_device()?)?);
    *cache.lock() = Some(loaded.clone());
    Ok(loaded)
}

fn is_cancel(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<ModelError>(), Some(ModelError::Cancelled))
        || matches!(e.downcast_ref::<crate::explain::ExplainError>(), Some(crate::explain::ExplainError::Cancelled))
}

/// The method a heatmap choice runs.
pub fn explain_method(method: HeatmapMethod) -> Method {
    match method {
        HeatmapMethod::Omig => Method::Omig(OmigParams::default()),
        HeatmapMethod::Sensitivity => Method::Sensitivity,
        HeatmapMethod::Occlusion => Method::Occlusion(OcclusionParams { patch: 5, batch: 64 }),
    }
}

/// A snapshot of an upsampler's state.
fn snapshot(up: &Upsampler, input: CdcInput, method: HeatmapMethod, target: usize, seconds: f64, version: u64) -> HeatmapSnapshot {
    let (width, height) = up.size();
    let preview = up.preview();
    let scale = crate::ui::cdc_overlay::robust_scale(&preview.values);
    HeatmapSnapshot {
        input,
        method,
        draws: up.draws(),
        target,
        map: Arc::new(up.map()),
        width,
        height,
        display: Arc::new(preview.values),
        display_width: preview.width,
        display_height: preview.height,
        block: preview.block,
        scale,
        seconds,
        version,
    }
}

/// Running predictions and heatmaps, by image id.
#[derive(Default)]
pub struct CdcJobs {
    ensemble: EnsembleCache,
    predictions: HashMap<u64, Job<CdcPredictionResult>>,
    heatmaps: HashMap<u64, Job<HeatmapSnapshot>>,
}

impl CdcJobs {
    /// Starts what the state asks for, stops what it no longer asks for, and collects results.
    pub fn update(&mut self, state: &mut AppState, egui_ctx: &egui::Context) {
        for img in &mut state.images {
            let perturb_version = img.perturb.active().then_some(img.perturb.version);
            let input = CdcInput { frame: img.frame, perturb_version };
            // The source pixels: the full-resolution perturbed image when the lab is on (wait for it), else the frame.
            let source: Option<Arc<Image>> = match perturb_version {
                None => Some(img.current_frame().clone()),
                Some(_) => img.perturb.current().filter(|r| r.downsample == 1).map(|r| r.perturbed.base().clone()),
            };
            let settings = img.cdc.settings;
            // Prediction.
            if !settings.predict {
                if let Some(job) = self.predictions.remove(&img.id) {
                    job.cancel();
                    // Stopped before it finished: switching on again starts it again.
                    img.cdc.prediction_attempted = None;
                }
                if img.cdc.prediction_error.take().is_some() {
                    // A failure is retried when the user switches the prediction off and on.
                    img.cdc.prediction_attempted = None;
                }
                img.cdc.predicting = false;
            } else if img.cdc.prediction_attempted != Some(input)
                && let Some(source) = source.clone()
            {
                if let Some(job) = self.predictions.remove(&img.id) {
                    job.cancel();
                }
                let cache = self.ensemble.clone();
                let started = Instant::now();
                let spawned = jobs::spawn("cdc-predict", egui_ctx.clone(), move |r: &jobs::Reporter<CdcPredictionResult>| {
                    r.step(0, 1, "loading the CDC ensemble");
                    let ensemble = ensemble(&cache)?;
                    r.step(0, 1, "predicting the CDC");
                    let (source, _) = at_training_level(&ensemble, &source);
                    let prediction = predict_image(&ensemble, &source, DEFAULT_DRAWS, SEED, &|| r.is_cancelled())?;
                    r.output(CdcPredictionResult { input, prediction, draws: DEFAULT_DRAWS, seconds: started.elapsed().as_secs_f64() });
                    Ok(())
                });
                img.cdc.prediction_attempted = Some(input);
                match spawned {
                    Ok(job) => {
                        img.cdc.predicting = true;
                        img.cdc.prediction_error = None;
                        self.predictions.insert(img.id, job);
                    }
                    Err(e) => img.cdc.prediction_error = Some(format!("could not start the prediction: {e:#}")),
                }
            }
            // Heatmap.
            let wanted = (input, settings.method, settings.draws);
            if std::mem::take(&mut img.cdc.cancel_heatmap)
                && let Some(job) = self.heatmaps.remove(&img.id)
            {
                job.cancel();
                img.cdc.heatmap_running = false;
            }
            if !settings.heatmap {
                if let Some(job) = self.heatmaps.remove(&img.id) {
                    job.cancel();
                    // Switched off before N draws: switching on again starts a new map (a finished one is kept).
                    img.cdc.heatmap_attempted = None;
                }
                if img.cdc.heatmap_error.take().is_some() {
                    img.cdc.heatmap_attempted = None;
                }
                img.cdc.heatmap_running = false;
            } else if img.cdc.heatmap_attempted != Some(wanted)
                && let Some(source) = source
            {
                if let Some(job) = self.heatmaps.remove(&img.id) {
                    job.cancel();
                }
                let cache = self.ensemble.clone();
                let (method, target) = (settings.method, settings.draws);
                let spawned = jobs::spawn("cdc-heatmap", egui_ctx.clone(), move |r: &jobs::Reporter<HeatmapSnapshot>| {
                    r.step(0, target as u32, "loading the CDC ensemble");
                    let ensemble = ensemble(&cache)?;
                    let (source, _) = at_training_level(&ensemble, &source);
                    let model = EnsembleModel(ensemble);
                    let explain = explain_method(method);
                    let mut up = Upsampler::new(source.width, source.height, SEED);
                    let started = Instant::now();
                    let mut last = Instant::now();
                    let mut version = 0;
                    while up.draws() < target {
                        // One draw first, so the first (coarse) map appears as soon as possible.
                        let batch = if up.draws() == 0 { 1 } else { HEATMAP_BATCH }.min(target - up.draws());
                        up.run_batch(&model, &source.data, &explain, batch, &|| r.is_cancelled())?;
                        r.step(up.draws() as u32, target as u32, format!("{} draws", method.label()));
                        if last.elapsed() >= SNAPSHOT_EVERY || up.draws() >= target || version == 0 {
                            version += 1;
                            r.output(snapshot(&up, input, method, target, started.elapsed().as_secs_f64(), version));
                            last = Instant::now();
                        }
                    }
                    Ok(())
                });
                img.cdc.heatmap_attempted = Some(wanted);
                match spawned {
                    Ok(job) => {
                        img.cdc.heatmap_running = true;
                        img.cdc.heatmap_error = None;
                        // A different method or input: the old map no longer applies.
                        if img.cdc.heatmap.as_ref().is_some_and(|h| h.input != input || h.method != method) {
                            img.cdc.heatmap = None;
                        }
                        self.heatmaps.insert(img.id, job);
                    }
                    Err(e) => img.cdc.heatmap_error = Some(format!("could not start the heatmap: {e:#}")),
                }
            }
        }
        self.collect(state);
    }

    fn collect(&mut self, state: &mut AppState) {
        self.predictions.retain(|id, job| {
            let Some(img) = state.images.iter_mut().find(|i| i.id == *id) else {
                job.cancel();
                return false;
            };
            while let Some(message) = job.next_message() {
                match message {
                    Message::Output(result) => img.cdc.prediction = Some(result),
                    Message::Finished(Err(e)) if !is_cancel(&e) => img.cdc.prediction_error = Some(format!("{e:#}")),
                    _ => {}
                }
            }
            img.cdc.predicting = !job.is_finished();
            !job.is_finished()
        });
        self.heatmaps.retain(|id, job| {
            let Some(img) = state.images.iter_mut().find(|i| i.id == *id) else {
                job.cancel();
                return false;
            };
            while let Some(message) = job.next_message() {
                match message {
                    Message::Output(snap) => {
                        // Versions restart with each job: keep them increasing for the texture cache.
                        let version = img.cdc.heatmap.as_ref().map_or(0, |h| h.version) + 1;
                        img.cdc.heatmap = Some(HeatmapSnapshot { version, ..snap });
                    }
                    Message::Finished(Err(e)) if !is_cancel(&e) => img.cdc.heatmap_error = Some(format!("{e:#}")),
                    _ => {}
                }
            }
            img.cdc.heatmap_running = !job.is_finished();
            !job.is_finished()
        });
    }
}

impl CdcJobs {
    pub fn is_busy(&self) -> bool {
        !self.predictions.is_empty() || !self.heatmaps.is_empty()
    }

    /// Progress of the running jobs, for the status bar.
    pub fn progress(&self) -> impl Iterator<Item = &(u32, u32, String)> {
        self.predictions.values().filter_map(Job::progress).chain(self.heatmaps.values().filter_map(Job::progress))
    }
}
