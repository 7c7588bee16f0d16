//! Pure image processing: buffers, VOI math, histograms. No GUI, GPU or file I/O.

pub mod breast_mask;
pub mod cpu_render;
pub mod downsample;
pub mod fourier;
pub mod gaussian;
pub mod histogram;
pub mod image;
pub mod model_input;
pub mod perturb;
pub mod pyramid;
pub mod quality;
pub mod resample;
pub mod seed;
pub mod spacing;
pub mod spectrum;
pub mod tiling;
pub mod voi;

pub use image::{Image, PixelStats};
pub use spacing::{Spacing, SpacingSource};
