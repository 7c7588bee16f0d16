//! The single-image CDC predictor of the OMIG paper (section 2.2, appendix C): a deep ensemble of small CNNs that
//! reads one 250 × 250 downsampled CDMAM image and predicts the 12-point contrast-detail curve (diameters 1.00 …
//! 0.08 mm) as Gaussians over y = ln(threshold / µm) — mean µ and standard deviation σ per point and member, merged
//! into mean, epistemic, aleatoric and total uncertainty ([`CdcPrediction`]). The midpoint (mean of µ over the points
//! and members) and its input gradient feed the explanation maps. Presets: `compact` (default, ≈ 0.93 M weights per
//! member, a 4 × 4 pool before the dense layers) and `paper` (Table 2, ≈ 63 M). Training ([`train_ensemble`]) follows
//! appendix D's incremental margin stages with the Gaussian NLL, and an ensemble is a folder of member files plus
//! `ensemble.json` ([`CdcEnsemble::load`]).

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
pub use store::{EnsembleManifest, MANIFEST_FILE, SIGMA_SCALE_KEY, member_file_name, read_manifest, save_ensemble, write_manifest};
pub use train::{CdcEpochRecord, CdcMemberSummary, CdcStepProgress, CdcTrainObserver, CdcTrainSummary, SilentObserver, train_ensemble};
pub use train_config::TrainCdcConfig;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;
