//! A physics simulator of CDMAM 3.4 exposures (For Processing): gold and aluminium attenuation, grid, blur, noise.
//!
//! Pipeline (one file each): `params` (settings, checks, the OMIG paper's scenarios) → `field` (image extent from
//! the nominal pose, the random pose of each exposure, seeded through `rng`) → `spectrum` (W/Rh beam through PMMA
//! and aluminium, with `attenuation` tables) → `scene` (the aluminium `plate`, 410 discs with exact sub-pixel
//! `coverage`, the `grid` and the `text` anti-aliased by `supersample`, heel effect) → `blur` (detector PSF) →
//! `noise` (Poisson + electronic, raw values), composed in `exposure`. `truth` is the JSON sidecar;
//! `ideal_observer` (with `afc`, the 4-alternative forced choice) the threshold a perfect observer would reach.
//!
//! Image coordinates everywhere (pose, truth): x right, y down, pixel `(i, j)` centred on `(i, j)`.
//!
//! ```
//! use mammoscope::phantom::cdmam::Layout;
//! use mammoscope::synth::cdmam::{CdmamParams, simulate, truth};
//! let params = CdmamParams { pixel_mm: 0.4, margin_mm: 0.0, ..CdmamParams::default() };
//! let exposure = simulate(&params, &Layout::standard(), 7, 0).unwrap();
//! assert!(exposure.image.data.iter().all(|&v| (0.0..=16383.0).contains(&v)));
//! assert_eq!(truth(&params, &Layout::standard(), &exposure, 7, 0).cells.len(), 205);
//! ```

mod afc;
mod attenuation;
mod blur;
mod coverage;
mod exposure;
mod field;
mod grid;
mod ideal_observer;
mod noise;
mod params;
mod plate;
mod rng;
mod scene;
mod spectrum;
mod supersample;
mod text;
mod truth;

#[cfg(test)]
mod tests;

pub use afc::{d_prime_for_fraction_correct, four_afc_fraction_correct};
pub use attenuation::Material;
pub use exposure::{BACKGROUND_RAW, CdmamExposure, RAW_OFFSET, simulate};
pub use field::Field;
pub use ideal_observer::{THICKNESS_RANGE_UM, ideal_observer_d_prime, ideal_observer_threshold_um};
pub use params::{CdmamError, CdmamParams, MAX_SIDE_PX, SCENARIO_NOISE_CORR_MM, SCENARIOS, scenario};
pub use spectrum::{Beam, PMMA_MM, REFERENCE_KVP, RHODIUM_FILTER_MM, Spectrum, TUBE_OUTPUT_PER_MAS_MM2};
pub use text::{SERIAL, TEXT_GOLD_UM};
pub use truth::{CellTruth, Truth, truth};
