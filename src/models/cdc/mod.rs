//! The single-image CDC predictor. Being written.

pub mod combine;
pub mod ensemble;
pub mod loss;
pub mod net;
pub mod normalisation;
pub mod preset;
pub mod store;
