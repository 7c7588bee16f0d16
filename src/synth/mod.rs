//! Seeded, deterministic simulators of mammography images.

pub mod mammogram;
