//! Training and test data for the single-image CDC predictor (the OMIG paper's approach): many simulated acquisition
//! settings; for each, 16 exposures read by the automated readout give the 12-point CDC label shared by every image
//! of that setting; each image is kept as a random `KEEP_SIDE × KEEP_SIDE` row/column selection (raw values, u16)
//! from which training draws its 250 × 250 inputs. Settings, never images, are split between training and test.

mod build;
mod settings;
mod store;

pub use build::{CdcDataError, SettingData, StoredImage, build_setting, cdc_diameters_mm};
pub use settings::{IMAGES_PER_SETTING, KEEP_SIDE, MARGINS_MM, SettingSpec, margin_stage, test_settings, training_settings};
pub use store::{load_setting, save_setting, setting_file_name};
