//! Seeded, deterministic simulators of mammography images.

pub mod calc_patches;
pub mod cdc_data;
pub mod cdmam;
pub mod denoise_data;
pub mod mammogram;
