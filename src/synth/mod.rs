//! Seeded, deterministic simulators of mammography images.

pub mod calc_patches;
pub mod mammogram;
