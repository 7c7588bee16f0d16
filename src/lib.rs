//! Mammoscope: a native desktop viewer for mammography.
//!
//! Layers, lowest first (a layer never imports a higher one):
//! `imaging` (pure pixel math) → `dicom` (files in and out) → `phantom` (CDMAM readout) → `synth` (simulators) → `models` (candle networks,
//! training, detection) → `report` (figures, QA report) → `jobs` (threads) →
//! `render` (wgpu) → `app` (state and commands) → `ui` (egui) → `gui` (the eframe app) → `cli` (subcommands). See ARCHITECTURE.md.

pub mod app;
pub mod cli;
pub mod dicom;
pub mod explain;
pub mod gui;
pub mod imaging;
pub mod jobs;
pub mod models;
pub mod phantom;
pub mod render;
pub mod report;
pub mod synth;
pub mod ui;
