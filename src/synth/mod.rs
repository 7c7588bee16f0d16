//! Seeded, deterministic simulators of mammography images.
