//! One opened image with its display settings, measurements and mirroring.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::dicom::{ImageMeta, LoadedImage};
use crate::imaging::{
    Image, PixelStats,
    pyramid::Pyramid,
    voi::{Display, VoiFunction, VoiLut, Window},
};

use super::hanging::{Orientation, orientation_for};

/// Smallest pyramid level side; below it the GPU's bilinear level is enough.
const PYRAMID_MIN_SIDE: usize = 64;
/// Thumbnail width in pixels for the study list.
pub const THUMBNAIL_WIDTH: usize = 96;

/// A distance measurement; the ends are stored in image pixel coordinates, so it follows zoom, pan and mirroring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    pub a_in_image: [f64; 2],
    pub b_in_image: [f64; 2],
}

/// The user's VOI choices for an image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoiState {
    /// Index of the preset last chosen (None once the user drags window/level).
    pub preset: Option<usize>,
    pub window: Window,
    pub function: VoiFunction,
    /// The user's invert toggle; MONOCHROME1 inversion is added on top.
    pub user_inverted: bool,
    pub gamma: f32,
    /// Index of the VOI LUT in use, if any.
    pub lut: Option<usize>,
}

/// An image as the viewer holds it.
pub struct OpenImage {
    pub id: u64,
    pub path: PathBuf,
    pub meta: ImageMeta,
    pub frames: Vec<Arc<Image>>,
    /// The file's VOI LUTs, shared with the renderer without copying.
    pub luts: Vec<Arc<VoiLut>>,
    pyramids: HashMap<usize, Pyramid>,
    pub frame: usize,
    pub voi: VoiState,
    pub orientation: Orientation,
    pub measurements: Vec<Measurement>,
    /// Grey thumbnail (width, height, pixels), made at load time.
    pub thumbnail: (usize, usize, Vec<u8>),
    pub stats: PixelStats,
    /// The perturbation lab's settings and result for the current frame.
    pub perturb: super::perturbation::PerturbState,
    /// The calcification overlay.
    pub calc: super::calc::CalcState,
    /// The single-image CDC prediction and its explainability heatmap.
    pub cdc: super::cdc::CdcState,
    /// The denoised and difference views.
    pub denoise: super::denoise::DenoiseState,
}

/// What the loading job hands to the UI thread: everything expensive is already computed.
pub struct PreparedImage {
    pub path: PathBuf,
    pub meta: ImageMeta,
    pub frames: Vec<Arc<Image>>,
    pub first_pyramid: Pyramid,
    pub orientation: Orientation,
    /// The initial display settings (the thumbnail is rendered with them).
    pub voi: VoiState,
    pub thumbnail: (usize, usize, Vec<u8>),
    pub stats: PixelStats,
}

impl PreparedImage {
    /// Do the heavy work of preparing a loaded image for display (runs on a background thread).
    pub fn from_loaded(loaded: LoadedImage) -> anyhow::Result<Self> {
        let LoadedImage { path, frames, meta } = loaded;
        let frames: Vec<Arc<Image>> = frames.into_iter().map(Arc::new).collect();
        let Some(first) = frames.first().cloned() else {
            anyhow::bail!("{} has no frames", path.display());
        };
        let stats = first.stats();
        let first_pyramid = Pyramid::build(first.clone(), PYRAMID_MIN_SIDE);
        let orientation = orientation_for(&meta, Some(&first));
        let voi = initial_voi(&meta, &stats);
        let display = display_of(&voi, &meta);
        let lut = voi.lut.and_then(|i| meta.voi.luts.get(i));
        let thumbnail = crate::imaging::cpu_render::render_grey8(&first, &display, lut, Some(THUMBNAIL_WIDTH));
        Ok(Self { path, meta, frames, first_pyramid, orientation, voi, thumbnail, stats })
    }
}

/// The file's first preset (the reader puts an automatic one first when the file has none).
fn initial_voi(meta: &ImageMeta, stats: &PixelStats) -> VoiState {
    let window = meta.voi.presets.first().map_or_else(|| Window::from_range(f64::from(stats.min), f64::from(stats.max)), |p| p.window);
    let lut = meta.voi.initial_lut();
    VoiState { preset: Some(0), window, function: meta.voi.function, user_inverted: false, gamma: 1.0, lut }
}

fn display_of(voi: &VoiState, meta: &ImageMeta) -> Display {
    Display {
        window: voi.window,
        function: voi.function,
        inverted: voi.user_inverted ^ meta.is_monochrome1(),
        gamma: voi.gamma,
        use_lut: voi.lut.is_some(),
    }
}

impl OpenImage {
    pub fn new(id: u64, prepared: PreparedImage) -> Self {
        let mut pyramids = HashMap::new();
        pyramids.insert(0, prepared.first_pyramid);
        let luts = prepared.meta.voi.luts.iter().cloned().map(Arc::new).collect();
        Self {
            id,
            luts,
            path: prepared.path,
            meta: prepared.meta,
            frames: prepared.frames,
            pyramids,
            frame: 0,
            voi: prepared.voi,
            orientation: prepared.orientation,
            measurements: Vec::new(),
            thumbnail: prepared.thumbnail,
            stats: prepared.stats,
            perturb: super::perturbation::PerturbState::default(),
            calc: super::calc::CalcState::default(),
            cdc: super::cdc::CdcState::default(),
            denoise: super::denoise::DenoiseState::default(),
        }
    }

    /// The display parameters for the shader and the CPU reference.
    pub fn display(&self) -> Display {
        display_of(&self.voi, &self.meta)
    }

    /// The VOI LUT in use, with its index.
    pub fn lut(&self) -> Option<(usize, Arc<VoiLut>)> {
        let i = self.voi.lut?;
        self.luts.get(i).map(|l| (i, l.clone()))
    }

    pub fn current_frame(&self) -> &Arc<Image> {
        &self.frames[self.frame.min(self.frames.len() - 1)]
    }

    /// Build the display pyramid of the current frame if it is not there yet (a few ms for a mammogram).
    pub fn ensure_pyramid(&mut self) {
        let frame = self.frame.min(self.frames.len() - 1);
        let image = self.frames[frame].clone();
        self.pyramids.entry(frame).or_insert_with(|| Pyramid::build(image, PYRAMID_MIN_SIDE));
    }

    /// The display pyramid of the current frame, once built.
    pub fn pyramid(&self) -> Option<&Pyramid> {
        self.pyramids.get(&self.frame.min(self.frames.len() - 1))
    }

    /// Modality value at an image position (pixel containing it), if inside.
    pub fn value_at(&self, pos_in_image: [f64; 2]) -> Option<f32> {
        if pos_in_image[0] < 0.0 || pos_in_image[1] < 0.0 {
            return None;
        }
        self.current_frame().get(pos_in_image[0] as usize, pos_in_image[1] as usize)
    }

    /// Pixel spacing `[row_mm, col_mm]` for the filters and models, and whether it is the nominal fallback (0.05 mm for
    /// digitised film, 0.1 mm for other images).
    pub fn spacing_for_filters(&self) -> ([f64; 2], bool) {
        let a = self.meta.nominal_spacing_mm().unwrap_or(super::perturbation::ASSUMED_SPACING_MM);
        (self.meta.spacing_mm_or(Some(a)).unwrap_or([a, a]), self.meta.spacing.is_none())
    }

    /// Size in image pixels.
    pub fn size(&self) -> [f32; 2] {
        let f = self.current_frame();
        [f.width as f32, f.height as f32]
    }

    /// Short title: view label or file name.
    pub fn title(&self) -> String {
        let label = self.meta.view_label();
        if label.is_empty() {
            self.path.file_name().map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned())
        } else {
            label
        }
    }
}
