//! wgpu rendering of modality-value textures: VOI, inversion and gamma happen in `shaders/image.wgsl`,
//! so window/level changes only rewrite a uniform. Tiles images larger than the device's texture limit.

pub mod callback;
pub mod gpu_image;
pub mod image_renderer;
pub mod uniforms;

pub use callback::{ImageCallback, ScreenMapping};
pub use image_renderer::ImageRenderer;
