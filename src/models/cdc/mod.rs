//! The single-image CDC predictor. Being written.

pub mod batch_norm;
pub mod combine;
pub mod ensemble;
pub mod fast_pool;
pub mod loss;
pub mod net;
pub mod normalisation;
pub mod preset;
pub mod samples;
pub mod store;
pub mod train;
pub mod train_config;
mod train_member;

pub use combine::CdcPrediction;
pub use ensemble::CdcEnsemble;
pub use net::CdcNet;
pub use normalisation::Normalisation;
pub use preset::{CDC_POINTS, CdcPreset, INPUT_SIDE};
pub use store::{EnsembleManifest, MANIFEST_FILE, member_file_name, save_ensemble};
pub use train::{CdcEpochRecord, CdcMemberSummary, CdcStepProgress, CdcTrainObserver, CdcTrainSummary, SilentObserver, train_ensemble};
pub use train_config::TrainCdcConfig;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;
