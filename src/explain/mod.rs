//! Explainability maps for the CDC ensemble, after Amanova et al., "Explainability for deep learning in mammography
//! image quality assessment" (Mach. Learn.: Sci. Technol. 3 (2022) 025015), section 2.3.
//!
//! Every method explains one scalar, the "midpoint" of the predicted contrast-detail curve (the mean over its `K`
//! points of the ensemble mean), through the [`MidpointModel`] trait, and returns a map the size of the network input:
//! - [`omig`] (Algorithm 1): walk from `x` down the midpoint's gradient `R(x)` in `L` steps of `c/L`, zeroing outlier
//!   gradient components (|z| > t) after the first step; the map is `Δx = x_L − x`.
//! - [`sensitivity`]: `−R(x)`, the first-order effect of changing all pixels at once.
//! - [`occlusion`]: `midpoint(x with pixel i set to 0) − midpoint(x)` per pixel (or per `p × p` block).
//!
//! The networks see `250 × 250` random selections of rows and columns of the full image; [`Upsampler`] (Algorithm 2)
//! runs a method on many such draws and scatters each map back to the chosen pixels, giving a full-resolution map
//! `Σ δ / N` ([`Upsampler::map`]) and a block-averaged [`Preview`] that is usable after few draws.
//!
//! [`bench_omig`] times OMIG upsampling on any model, [`StandInEnsemble`] being a random-weight network of the CDC
//! ensemble's cost; on 2 CPU threads one OMIG draw (`L = 50`) of a 10-member ensemble takes tens of seconds, so the
//! paper's `N = 5000` is a day-long job there and the viewer relies on the [`Preview`].
//!
//! **Sign convention.** For OMIG and sensitivity analysis, `Δx > 0` (shown red) means that raising the intensity of
//! that pixel would lower the predicted CDC, i.e. improve the predicted image quality; `Δx < 0` (blue) that lowering it
//! would. OMIG only promises that change for all pixels modified together. Occlusion values are the midpoint change
//! when the pixel is removed: positive where removing it raises the CDC, so the pixel helps image quality. Values are
//! in the units of the network's normalised input (OMIG, occlusion of a block) or per such unit (sensitivity).
//!
//! ```
//! use candle_core::Device;
//! use mammoscope::explain::{Method, UpsampleParams, testing::LinearModel, upsample};
//!
//! let model = LinearModel::constant(0.5, 0.0, 8, &Device::Cpu)?;
//! let (width, height) = (40, 30);
//! let raw = vec![100.0f32; width * height];
//! let params = UpsampleParams { method: Method::default(), draws: 20, batch: 4, seed: 7 };
//! let map = upsample(&model, &raw, width, height, &params, &|_done, _total| {}, &|| false)?;
//! assert_eq!(map.len(), width * height);
//! assert!(map.iter().all(|&v| v <= 0.0)); // the midpoint rises with every pixel: OMIG darkens
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bench;
mod clip;
mod ensemble_model;
mod error;
mod method;
mod model;
mod occlusion;
mod omig;
mod preview;
mod sensitivity;
pub mod testing;
mod upsample;

pub use bench::{BenchReport, StandInEnsemble, bench_omig};
pub use clip::clip_outliers;
pub use ensemble_model::EnsembleModel;
pub use error::ExplainError;
pub use method::{Maps, Method};
pub use model::{MidpointModel, autograd_midpoint_and_grad};
pub use occlusion::{OcclusionParams, occlusion};
pub use omig::{OmigParams, OmigResult, omig};
pub use preview::{COVERED_FRACTION, MIN_SAMPLES, Preview};
pub use sensitivity::sensitivity;
pub use upsample::{UpsampleParams, Upsampler, upsample};
