//! Runs the calcification detector and the robustness sweeps as background jobs: one detection per image,
//! re-run (debounced) when the model, stride, spacing, frame or the perturbed image changes; stale jobs are cancelled.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::app::AppState;
use crate::app::calc::{DetectionInput, DetectionResult};
use crate::imaging::Image;
use crate::jobs::{self, Job, Message};
use crate::models::catalog::{CALC_MODELS, calc_model_path};
use crate::models::detector::{CalcDetector, DetectorOptions, ValueKind};
use crate::models::device::best_device;
use crate::models::error::ModelError;
use crate::models::preset::PATCH_SIZE;
use crate::models::robustness::{self, RobustnessCurve, SweepRegion};

/// Quiet time after a settings change before a detection starts.
const DEBOUNCE: Duration = Duration::from_millis(300);

type DetectorCache = Arc<Mutex<HashMap<usize, Arc<CalcDetector>>>>;

/// Running detections and sweeps, by image id.
#[derive(Default)]
pub struct CalcJobs {
    detectors: DetectorCache,
    detections: HashMap<u64, (DetectionInput, Job<DetectionResult>)>,
    sweeps: HashMap<u64, Job<RobustnessCurve>>,
}

/// The loaded detector for catalogue entry `model` (loaded once, on a worker thread).
fn detector(cache: &DetectorCache, model: usize) -> anyhow::Result<Arc<CalcDetector>> {
    if let Some(d) = cache.lock().get(&model) {
        return Ok(d.clone());
    }
    let entry = CALC_MODELS.get(model).ok_or_else(|| anyhow::anyhow!("no model {model}"))?;
    let path = calc_model_path(*entry)
        .ok_or_else(|| anyhow::anyhow!("the model {} ({}) is not installed (MAMMOSCOPE_MODELS)", entry.id, entry.file))?;
    let loaded = Arc::new(CalcDetector::load(&path, &best_device()?)?);
    cache.lock().insert(model, loaded.clone());
    Ok(loaded)
}

fn is_cancel(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<ModelError>(), Some(ModelError::Cancelled))
}

impl CalcJobs {
    /// Starts what the state asks for and collects finished results.
    pub fn update(&mut self, state: &mut AppState, egui_ctx: &egui::Context) {
        let (choice, stride) = (state.calc_model, state.calc_stride);
        for img in &mut state.images {
            let model = choice.resolve(img.meta.image_source());
            if !img.calc.enabled {
                if let Some((_, job)) = self.detections.remove(&img.id) {
                    job.cancel();
                }
                img.calc.running = false;
                continue;
            }
            let perturb_version = img.perturb.active().then_some(img.perturb.version);
            let input = DetectionInput { frame: img.frame, perturb_version, model, stride, spacing_version: img.calc.spacing_version };
            // Started (or failed) for this input already: a failure is not retried until the input changes or the
            // overlay is switched off and on.
            if img.calc.attempted == Some(input) {
                continue;
            }
            // The source pixels: the full-resolution perturbed image when the lab is on (wait for it), else the frame.
            let source: Arc<Image> = match perturb_version {
                None => img.current_frame().clone(),
                Some(_) => match img.perturb.current().filter(|r| r.downsample == 1) {
                    Some(r) => r.perturbed.base().clone(),
                    None => continue, // the full-resolution job is still running
                },
            };
            let quiet = img.calc.changed_at.elapsed();
            if quiet < DEBOUNCE {
                egui_ctx.request_repaint_after(DEBOUNCE.saturating_sub(quiet));
                continue;
            }
            if let Some((_, job)) = self.detections.remove(&img.id) {
                job.cancel();
            }
            let (spacing, _) = img.spacing_for_filters();
            let spacing = spacing[0].max(spacing[1]);
            let kind = ValueKind::of(&img.meta);
            let cache = self.detectors.clone();
            let started = Instant::now();
            let spawned = jobs::spawn("calcifications", egui_ctx.clone(), move |r: &jobs::Reporter<DetectionResult>| {
                r.step(0, 1, "loading the calcification model");
                let detector = detector(&cache, model)?;
                let options = DetectorOptions { stride, ..DetectorOptions::default() };
                // The perturbed image of a For Processing file is perturbed in its linear values, then logged.
                let (view, invert) = kind.model_view(&source);
                let detection = detector.detect(
                    &view,
                    spacing,
                    invert,
                    &options,
                    &|done, total| r.step(done as u32, total as u32, "scoring patches"),
                    &|| r.is_cancelled(),
                )?;
                r.output(DetectionResult {
                    input,
                    detection: Arc::new(detection),
                    default_threshold: detector.default_threshold(),
                    seconds: started.elapsed().as_secs_f64(),
                });
                Ok(())
            });
            match spawned {
                Ok(job) => {
                    img.calc.running = true;
                    img.calc.error = None;
                    img.calc.attempted = Some(input);
                    self.detections.insert(img.id, (input, job));
                }
                Err(e) => img.calc.error = Some(format!("could not start the detector: {e:#}")),
            }
        }
        self.start_sweeps(state, egui_ctx);
        self.collect(state);
    }

    fn start_sweeps(&mut self, state: &mut AppState, egui_ctx: &egui::Context) {
        let (choice, stride) = (state.calc_model, state.calc_stride);
        for img in &mut state.images {
            if !img.calc.robustness.requested {
                continue;
            }
            let model = choice.resolve(img.meta.image_source());
            img.calc.robustness.requested = false;
            if let Some(job) = self.sweeps.remove(&img.id) {
                job.cancel();
            }
            let frame = img.current_frame().clone();
            let (spacing, _) = img.spacing_for_filters();
            let kind = ValueKind::of(&img.meta);
            let region = img.calc.robustness.patch.map_or(SweepRegion::Breast, |p| SweepRegion::Rect([p.x, p.y, p.w, p.h]));
            // Max and mean over the whole breast need no overlap: the paper's grid, 4× fewer patches. A selected
            // patch is swept at the overlay's stride, so the sweep scores that patch itself.
            let stride = if matches!(region, SweepRegion::Breast) { PATCH_SIZE } else { stride };
            let cache = self.detectors.clone();
            let spawned = jobs::spawn("robustness", egui_ctx.clone(), move |r: &jobs::Reporter<RobustnessCurve>| {
                let detector = detector(&cache, model)?;
                let options = DetectorOptions { stride, ..DetectorOptions::default() };
                // A For Processing image is swept on its log attenuation (σ is relative to the image's range).
                let (view, invert) = kind.model_view(&frame);
                let curve = robustness::sweep(
                    &detector,
                    &view,
                    spacing,
                    invert,
                    &region,
                    &options,
                    &|done, total, partial| {
                        r.step(done as u32, total as u32, "robustness sweep");
                        r.output(partial.clone());
                    },
                    &|| r.is_cancelled(),
                )?;
                r.output(curve);
                Ok(())
            });
            match spawned {
                Ok(job) => {
                    img.calc.robustness.running = true;
                    img.calc.robustness.curve = None;
                    self.sweeps.insert(img.id, job);
                }
                Err(e) => img.calc.robustness.error = Some(format!("could not start the sweep: {e:#}")),
            }
        }
    }

    fn collect(&mut self, state: &mut AppState) {
        for (id, (_, job)) in &mut self.detections {
            let Some(img) = state.image_mut(*id) else {
                job.cancel();
                continue;
            };
            while let Some(message) = job.next_message() {
                match message {
                    Message::Step { done, total, .. } => img.calc.progress = (done as usize, total as usize),
                    Message::Output(result) => {
                        img.calc.selected = None;
                        img.calc.result = Some(result);
                    }
                    Message::Finished(Err(e)) if !is_cancel(&e) => img.calc.error = Some(format!("{e:#}")),
                    Message::Finished(_) => {}
                }
            }
            img.calc.running = !job.is_finished();
        }
        self.detections.retain(|id, (_, job)| !job.is_finished() && state.image(*id).is_some());
        for (id, job) in &mut self.sweeps {
            let Some(img) = state.image_mut(*id) else {
                job.cancel();
                continue;
            };
            while let Some(message) = job.next_message() {
                match message {
                    Message::Output(curve) => img.calc.robustness.curve = Some(curve),
                    Message::Finished(Err(e)) if !is_cancel(&e) => img.calc.robustness.error = Some(format!("{e:#}")),
                    _ => {}
                }
            }
            img.calc.robustness.running = !job.is_finished();
        }
        self.sweeps.retain(|id, job| !job.is_finished() && state.image(*id).is_some());
    }

    /// True while any detection or sweep runs.
    pub fn is_busy(&self) -> bool {
        !self.detections.is_empty() || !self.sweeps.is_empty()
    }

    /// Progress of the running jobs, for the status bar.
    pub fn progress(&self) -> impl Iterator<Item = &(u32, u32, String)> {
        self.detections.values().filter_map(|(_, j)| j.progress()).chain(self.sweeps.values().filter_map(Job::progress))
    }
}
