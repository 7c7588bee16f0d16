//! One setting's data: simulate its 16 exposures, read them as a set (the label), keep a row/column selection of each.

use rand::{SeedableRng, rngs::StdRng};
use rayon::prelude::*;

use super::settings::{IMAGES_PER_SETTING, SettingSpec};
use crate::imaging::downsample::{DownsampleError, Selection};
use crate::imaging::seed::splitmix64;
use crate::phantom::cdmam::analysis::ReadoutOptions;
use crate::phantom::cdmam::readout::{ExposureReadout, ReadoutError, finish_set, read_image};
use crate::phantom::cdmam::{Layout, tables};
use crate::synth::cdmam::{CdmamError, ideal_observer_threshold_um, simulate};

/// Why a setting gave no data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CdcDataError {
    #[error("simulation: {0}")]
    Simulation(#[from] CdmamError),
    #[error("readout: {0}")]
    Readout(#[from] ReadoutError),
    #[error("the readout gave no threshold at {0} mm")]
    NoThreshold(f64),
    #[error(transparent)]
    Downsample(#[from] DownsampleError),
    #[error("{0}")]
    Format(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("cancelled")]
    Cancelled,
}

/// The 12 diameters of the automated readout's CDC (1.00 … 0.08 mm), the network's outputs in this order.
pub fn cdc_diameters_mm() -> [f64; 12] {
    let mut out = [0.0; 12];
    for (o, row) in out.iter_mut().zip(tables::READOUT_ROWS) {
        *o = tables::DIAMETERS_MM[row];
    }
    out
}

/// One exposure as kept: a random selection of its rows and columns (raw values).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredImage {
    /// The full image's size.
    pub width: usize,
    pub height: usize,
    pub selection: Selection,
    /// `selection.height() × selection.width()` raw values, row-major.
    pub pixels: Vec<u16>,
}

/// A setting's label and images.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingData {
    pub spec: SettingSpec,
    /// The 16-image readout's automated threshold (µm) at the 12 CDC diameters: the label of every image.
    pub label_um: [f64; 12],
    /// The ideal observer's thresholds of the same physics (µm), for reference.
    pub ideal_um: [f64; 12],
    /// Images the readout used (of 16).
    pub images_read: usize,
    pub images: Vec<StoredImage>,
}

/// Simulates and reads one setting; `keep_side` rows and columns of each image are kept. The images are simulated in
/// parallel (rayon); `cancelled` is checked per image.
///
/// # Errors
/// Simulation errors, a readout that fails or lacks a threshold on the 12 diameters, or cancellation.
pub fn build_setting(spec: &SettingSpec, keep_side: usize, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<SettingData, CdcDataError> {
    let layout = Layout::standard();
    let results: Vec<Result<(ExposureReadout, StoredImage), CdcDataError>> = (0..IMAGES_PER_SETTING)
        .into_par_iter()
        .map(|index| {
            if cancelled() {
                return Err(CdcDataError::Cancelled);
            }
            let exposure = simulate(&spec.params, &layout, spec.seed, u32::try_from(index).unwrap_or(u32::MAX))?;
            let image = &exposure.image;
            let mut rng = StdRng::seed_from_u64(splitmix64(spec.seed ^ (index as u64).wrapping_mul(0x9e37)));
            let selection = Selection::random(image.width, image.height, keep_side, &mut rng)?;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // raw values are integers in 0..=16383
            let pixels = selection.gather(&image.data, image.width)?.into_iter().map(|v| v.round().clamp(0.0, 65535.0) as u16).collect();
            let stored = StoredImage { width: image.width, height: image.height, selection, pixels };
            let read = read_image(&format!("{}#{index}", spec.name), image, Some(spec.params.pixel_mm))
                .map_err(|e| CdcDataError::Format(format!("exposure {index}: {e}")));
            Ok((ExposureReadout { index, ..read? }, stored))
        })
        .collect();
    let mut reads = Vec::new();
    let mut images = Vec::new();
    let mut failures = Vec::new();
    for (index, r) in results.into_iter().enumerate() {
        match r {
            Ok((read, stored)) => {
                reads.push(read);
                images.push(stored);
            }
            Err(CdcDataError::Cancelled) => return Err(CdcDataError::Cancelled),
            Err(CdcDataError::Format(reason)) => failures.push((format!("{index}"), reason)),
            Err(e) => return Err(e),
        }
    }
    let images_read = reads.len();
    let options = ReadoutOptions { bootstrap: 0, seed: spec.seed, ..ReadoutOptions::default() };
    let set = finish_set(reads, failures, Some(&layout), &options)?;
    let mut label_um = [0.0; 12];
    let mut ideal_um = [0.0; 12];
    let diameters = cdc_diameters_mm();
    for (k, &d) in diameters.iter().enumerate() {
        let found = set.cdc.diameters.iter().find(|r| (r.diameter_mm - d).abs() < 1e-9).and_then(|r| r.fitted_um);
        label_um[k] = found.filter(|t| t.is_finite() && *t > 0.0).ok_or(CdcDataError::NoThreshold(d))?;
        ideal_um[k] = ideal_observer_threshold_um(&spec.params, d);
    }
    Ok(SettingData { spec: spec.clone(), label_um, ideal_um, images_read, images })
}
