//! The denoising job per image: started (after the input has been stable for [`DEBOUNCE`]) when denoising is on and
//! its input changes — the frame, the perturbation lab's version (its dose slider), the preset — and cancelled when
//! stale. Tiles that meet the visible part of the image run first; a snapshot every ~1 s shows the progress on
//! screen. Finished results are cached per input, so returning to an earlier dose shows it at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::app::denoise::{DenoiseInput, DenoiseResult, DenoiseScores, block_extremes, wanted_input};
use crate::app::{AppState, OpenImage, ViewState};
use crate::imaging::perturb::{self, FourierCache, PerturbParams, count_scale::CountScale, gain::estimate_gain_or_ratio};
use crate::imaging::{Image, pyramid::Pyramid, quality};
use crate::jobs::{self, Job, Message};
use crate::models::catalog::denoise_model_path;
use crate::models::denoise::pipeline::{blend_input, denoise_image, to_raw};
use crate::models::denoise::tiled::Rect;
use crate::models::denoise::{DenoisePreset, LoadedDenoiser, load_denoiser};
use crate::models::device::best_device;
use crate::models::error::ModelError;

/// Quiet time after the last input change before a job starts (the dose slider moves continuously).
const DEBOUNCE: Duration = Duration::from_millis(350);
const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);
/// Longest side of the difference view's colour texture.
const DIFFERENCE_MAX_SIDE: usize = 2048;

type ModelCache = Arc<Mutex<HashMap<DenoisePreset, Arc<LoadedDenoiser>>>>;

/// Running jobs by image id, the input each image last asked for (and since when), loaded models.
#[derive(Default)]
pub struct DenoiseJobs {
    jobs: HashMap<u64, Job<DenoiseResult>>,
    wanted: HashMap<u64, (DenoiseInput, Instant)>,
    models: ModelCache,
    version: Arc<std::sync::atomic::AtomicU64>,
}

fn model(cache: &ModelCache, preset: DenoisePreset) -> anyhow::Result<Arc<LoadedDenoiser>> {
    if let Some(m) = cache.lock().get(&preset) {
        return Ok(m.clone());
    }
    let path = denoise_model_path(preset).ok_or_else(|| {
        anyhow::anyhow!("the {} denoiser (assets/models/denoise-{}.safetensors) is not installed", preset.name(), preset.name())
    })?;
    let loaded = Arc::new(load_denoiser(&path, &best_device()?)?);
    cache.lock().insert(preset, loaded.clone());
    Ok(loaded)
}

/// The part of `img` visible in the first viewport that shows it.
fn visible_rect(state: &AppState, view: &ViewState, img: &OpenImage) -> Option<Rect> {
    let slot = state.slots.iter().position(|s| *s == Some(img.id))?;
    let v = view.slots.get(slot)?;
    let size = view.viewport_sizes.get(slot).copied().filter(|s| s[0] > 0.0)?;
    let half = [f64::from(size[0] / v.zoom / 2.0), f64::from(size[1] / v.zoom / 2.0)];
    let [w, h] = img.size().map(f64::from);
    let c = v.center_in_image.map(f64::from);
    let clamp = |v: f64, max: f64| v.clamp(0.0, max) as usize;
    Some([clamp(c[0] - half[0], w), clamp(c[1] - half[1], h), clamp(c[0] + half[0], w), clamp(c[1] + half[1], h)])
}

impl DenoiseJobs {
    /// Start, cancel and collect jobs to match what each image asks for.
    pub fn update(&mut self, state: &mut AppState, view: &ViewState, egui_ctx: &egui::Context) {
        let visible: HashMap<u64, Option<Rect>> = state.images.iter().map(|i| (i.id, visible_rect(state, view, i))).collect();
        for img in &mut state.images {
            if !img.denoise.settings.enabled {
                if let Some(job) = self.jobs.remove(&img.id) {
                    job.cancel();
                }
                img.denoise.running = false;
                img.denoise.attempted = None;
                self.wanted.remove(&img.id);
                continue;
            }
            let input = wanted_input(img);
            if img.denoise.result.as_ref().is_some_and(|r| r.input == input) || img.denoise.attempted == Some(input) {
                continue;
            }
            if let Some(cached) = img.denoise.cached(&input).cloned() {
                self.cancel(img);
                img.denoise.result = Some(cached);
                img.denoise.attempted = Some(input);
                continue;
            }
            let since = match self.wanted.get(&img.id) {
                Some((w, since)) if *w == input => *since,
                _ => {
                    self.wanted.insert(img.id, (input, Instant::now()));
                    egui_ctx.request_repaint_after(DEBOUNCE);
                    continue;
                }
            };
            if since.elapsed() < DEBOUNCE || img.perturb.dirty {
                egui_ctx.request_repaint_after(DEBOUNCE);
                continue;
            }
            self.cancel(img);
            img.denoise.attempted = Some(input);
            img.denoise.error = None;
            self.start(img, input, visible.get(&img.id).copied().flatten(), egui_ctx);
        }
        self.collect(state);
    }

    fn cancel(&mut self, img: &mut OpenImage) {
        if let Some(job) = self.jobs.remove(&img.id) {
            job.cancel();
        }
        img.denoise.running = false;
    }

    fn start(&mut self, img: &mut OpenImage, input: DenoiseInput, visible: Option<Rect>, egui_ctx: &egui::Context) {
        let frame = img.current_frame().clone();
        let params = input.perturb_version.map(|_| img.perturb.params);
        let (spacing, _) = img.spacing_for_filters();
        let models = self.models.clone();
        let version = self.version.clone();
        let spawned = jobs::spawn("denoise", egui_ctx.clone(), move |r: &jobs::Reporter<DenoiseResult>| {
            let started = Instant::now();
            r.step(0, 1, format!("denoising ({})", input.preset.name()));
            let model = model(&models, input.preset)?;
            let device = best_device()?;
            let cancelled = || r.is_cancelled();
            let noisy = match &params {
                Some(p) => Arc::new(perturbed(&frame, spacing, p, &cancelled)?),
                None => frame.clone(),
            };
            let (gain, _) = estimate_gain_or_ratio(&frame)?;
            let scale = CountScale { gain: gain.gain, offset: gain.offset, alpha: input.alpha };
            let weight = input.estimate.input_weight(&noisy, scale);
            let snapshot = |anscombe: &Image, done: usize, total: usize, scores: Option<DenoiseScores>| -> DenoiseResult {
                let denoised = blend_input(&noisy, to_raw(&noisy, anscombe, scale), scale, weight);
                result(input, &denoised, &noisy, done, total, scores, started, &version)
            };
            let mut last = Instant::now();
            let denoised = denoise_image(
                &model.net,
                &noisy,
                scale,
                visible,
                &device,
                &mut |p| {
                    r.step(p.done as u32, p.total as u32, format!("denoising ({})", input.preset.name()));
                    if last.elapsed() >= SNAPSHOT_EVERY && p.done < p.total {
                        r.output(snapshot(p.partial, p.done, p.total, None));
                        last = Instant::now();
                    }
                },
                &cancelled,
            )?;
            let denoised = blend_input(&noisy, denoised, scale, weight);
            let scores = (input.alpha < 1.0).then(|| scores(&frame, &noisy, &denoised)).transpose()?;
            r.output(result(input, &denoised, &noisy, 1, 1, scores, started, &version));
            Ok(())
        });
        match spawned {
            Ok(job) => {
                img.denoise.running = true;
                self.jobs.insert(img.id, job);
            }
            Err(e) => img.denoise.error = Some(format!("could not start the denoising job: {e:#}")),
        }
    }

    fn collect(&mut self, state: &mut AppState) {
        for (id, job) in &mut self.jobs {
            let Some(img) = state.image_mut(*id) else {
                job.cancel();
                continue;
            };
            while let Some(message) = job.next_message() {
                match message {
                    Message::Output(result) if img.denoise.attempted == Some(result.input) => {
                        if result.complete() {
                            img.denoise.remember(result.clone());
                        }
                        img.denoise.result = Some(result);
                    }
                    Message::Finished(Err(e)) if !is_cancel(&e) => img.denoise.error = Some(format!("{e:#}")),
                    _ => {}
                }
            }
            img.denoise.running = !job.is_finished();
        }
        self.jobs.retain(|id, job| !job.is_finished() && state.image(*id).is_some());
    }

    pub fn is_busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Progress of the running jobs, for the status bar.
    pub fn progress(&self) -> impl Iterator<Item = &(u32, u32, String)> {
        self.jobs.values().filter_map(Job::progress)
    }
}

fn is_cancel(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<ModelError>(), Some(ModelError::Cancelled))
        || matches!(e.downcast_ref::<perturb::PerturbError>(), Some(perturb::PerturbError::Cancelled))
}

/// The lab's output for `params` (the same deterministic computation the lab runs).
fn perturbed(frame: &Image, spacing: [f64; 2], params: &PerturbParams, cancelled: &(dyn Fn() -> bool + Sync)) -> anyhow::Result<Image> {
    Ok(perturb::apply(frame, spacing, params, &mut FourierCache::default(), cancelled)?)
}

fn scores(original: &Image, input: &Image, output: &Image) -> anyhow::Result<DenoiseScores> {
    let range = quality::data_range(original);
    Ok(DenoiseScores {
        psnr_input: quality::psnr(original, input, range)?,
        ssim_input: quality::ssim(original, input, range)?,
        psnr_output: quality::psnr(original, output, range)?,
        ssim_output: quality::ssim(original, output, range)?,
    })
}

#[allow(clippy::too_many_arguments)]
fn result(
    input: DenoiseInput,
    denoised: &Image,
    noisy: &Image,
    done: usize,
    total: usize,
    scores: Option<DenoiseScores>,
    started: Instant,
    version: &std::sync::atomic::AtomicU64,
) -> DenoiseResult {
    let block = denoised.width.max(denoised.height).div_ceil(DIFFERENCE_MAX_SIDE).max(1);
    let (difference, display_width, display_height) = block_extremes(denoised, noisy, block);
    DenoiseResult {
        input,
        denoised: Pyramid::build(Arc::new(denoised.clone()), 64),
        difference_scale: crate::ui::cdc_overlay::robust_scale(&difference),
        difference: Arc::new(difference),
        display_width,
        display_height,
        block,
        tiles_done: done,
        tiles_total: total,
        scores,
        seconds: started.elapsed().as_secs_f64(),
        version: version.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
    }
}
