//! The Anscombe-domain residual denoiser (mammogram-denoising-anscombe): presets, network, the paper's loss,
//! training samples with fresh dose reduction, seamless tiled inference, the whole-image pipeline, training and
//! the Table-1 evaluation.

pub mod batch;
pub mod crops_store;
pub mod eval;
pub mod mirrors;
pub mod net;
pub mod pipeline;
pub mod preset;
pub mod ssim_loss;
pub mod store;
pub mod tiled;
pub mod train;
pub mod unet;

pub use net::DenoiseNet;
pub use preset::{DenoiseArch, DenoiseConfig, DenoisePreset};
pub use store::{DENOISE_FORMAT, LoadedDenoiser, load_denoiser};
