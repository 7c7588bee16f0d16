//! Neural networks (candle): the microcalcification patch classifier presets, their embedded autoencoder, losses,
//! optimiser, checkpoints, and the detector that runs them over a whole mammogram.

pub mod adam;
pub mod calc_net;
pub mod catalog;
pub mod cdc;
pub mod cdc_eval;
pub mod cdc_image;
pub mod checkpoint;
pub mod compact;
pub mod decoder;
pub mod denoise;
pub mod detector;
pub mod device;
pub mod error;
pub mod evidence;
pub mod gradient;
pub mod init;
pub mod losses;
pub mod pool;
pub mod preset;
pub mod resnet;
pub mod robustness;
pub mod roc;
pub mod speck_contrast;
pub mod training;
