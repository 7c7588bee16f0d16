//! Test objects for image-quality QA: their geometry, and readouts that turn images of them into figures.
//!
//! Pure computation on [`crate::imaging::Image`]s: no files, no threads, no GUI.

pub mod cdmam;
