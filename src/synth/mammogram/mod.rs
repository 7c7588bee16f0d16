//! Seeded simulator of full-field digital mammograms (For Presentation), with ground truth.
//!
//! Pipeline (one file each): [`outline`](self) breast shape (`shape`), compressed thickness, skin and pectoral
//! muscle → `texture` fibroglandular tissue (soft-thresholded 1/f^3.3 texture, fat lobules from `cells`, BI-RADS
//! a–d) → `vessels` ducts and vessels → `calcifications` and `mass` lesions → `detector` log attenuation to quanta,
//! blur, Poisson + electronic noise → `processing` log, peripheral equalisation and a linear map to 14 bits. Images
//! are as acquired: chest wall at column 0, nipple to the right. The same [`MammogramParams`] always give the
//! same image.
//!
//! ```
//! use mammoscope::synth::mammogram::{MammogramParams, View, simulate};
//! let sim = simulate(&MammogramParams::small_for_tests(3, View::Mlo)).unwrap();
//! assert!(sim.image.data.iter().all(|&v| (0.0..=16383.0).contains(&v)));
//! assert!(!sim.truth.pectoral_edge_px.is_empty());
//! ```

mod calcifications;
mod cells;
mod detector;
mod exam;
mod mass;
mod outline;
mod params;
mod processing;
mod rng;
mod shape;
mod smooth;
mod texture;
mod truth;
mod vessels;

#[cfg(test)]
mod tests;

use rayon::prelude::*;

pub use exam::{ExamView, screening_exam};
pub use params::{Density, DetectorParams, LesionParams, MammogramParams, View};
pub use truth::{Calcification, CalcificationShape, Cluster, MammogramTruth, MaskRle, Mass, ProcessingTruth};

use crate::imaging::Image;
use rng::{derive, stream};

/// Invalid simulator parameters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MammogramError {
    #[error("{name} = {value} is outside {min}..={max}")]
    OutOfRange { name: &'static str, value: f64, min: f64, max: f64 },
}

/// A simulated mammogram: the For Presentation image, its noise-free twin, the raw For Processing image, and truth.
#[derive(Clone, Debug)]
pub struct SimulatedMammogram {
    /// For Presentation values, integers in 0..=16383 (0 outside the breast).
    pub image: Image,
    /// The same processing applied to the expected (noise-free, blurred) signal: a denoising target.
    pub clean: Image,
    /// Linear raw detector values (`gain · quanta + offset`, 14-bit), as in a For Processing image.
    pub raw: Image,
    /// The expected (noise-free, blurred) raw values: the denoising target of `raw`.
    pub raw_clean: Image,
    pub truth: MammogramTruth,
}

fn check(name: &'static str, value: f64, min: f64, max: f64) -> Result<(), MammogramError> {
    if (min..=max).contains(&value) { Ok(()) } else { Err(MammogramError::OutOfRange { name, value, min, max }) }
}

/// Simulates one view.
pub fn simulate(params: &MammogramParams) -> Result<SimulatedMammogram, MammogramError> {
    check("pixel_spacing_mm", params.pixel_spacing_mm, 0.02, 0.5)?;
    check("thickness_mm", params.thickness_mm, 10.0, 120.0)?;
    check("breast_depth_mm", params.breast_depth_mm, 15.0, 250.0)?;
    check("breast_width_mm", params.breast_width_mm, 30.0, 350.0)?;
    let det = &params.detector;
    let outline = outline::Outline::new(params, &mut stream(params.anatomy_seed, 0));
    let (w, h, s) = (outline.width, outline.height, outline.spacing_mm);
    let view_stream = match params.view {
        View::Cc => 10,
        View::Mlo => 11,
    };
    let tissue = texture::generate(&outline, params.density, derive(params.anatomy_seed, view_stream));

    let mut attenuation = vec![0.0f32; w * h];
    let mut inside = vec![false; w * h];
    attenuation.par_chunks_mut(w).zip(inside.par_chunks_mut(w)).enumerate().for_each(|(y, (a_row, m_row))| {
        for x in 0..w {
            let p = outline.pixel_mm(x, y);
            let polar = outline.polar(p);
            let (tissue_mm, skin_mm) = outline.path_lengths_mm(polar.skin_distance_mm);
            m_row[x] = tissue_mm + skin_mm > 0.0;
            let g = f64::from(tissue.gland[y * w + x]);
            let mu_breast = det.mu_fat_per_mm + g * (det.mu_gland_per_mm - det.mu_fat_per_mm);
            let muscle = 0.35 * (outline.pectoral_depth_mm(p) / 15.0).clamp(0.0, 1.0).sqrt();
            let mu = (1.0 - muscle) * mu_breast + muscle * det.mu_muscle_per_mm;
            a_row[x] = (tissue_mm * mu + skin_mm * det.mu_skin_per_mm) as f32;
        }
    });

    let mut extra = vec![0.0f32; w * h];
    let tubes = vessels::generate(&outline, &mut stream(derive(params.anatomy_seed, view_stream), 3));
    vessels::render(&tubes, &outline, &mut extra);
    let mut lesion_rng = stream(params.seed, 4);
    let lesions = &params.lesions;
    let (clusters, calcs) = calcifications::generate(
        &outline,
        &tissue.gland,
        lesions.calcification_clusters,
        lesions.max_specks_per_cluster,
        &mut lesion_rng,
        &mut extra,
    );
    let mass = lesions.mass.then(|| mass::generate(&outline, &mut lesion_rng, &mut extra));
    for ((a, e), &m) in attenuation.iter_mut().zip(&extra).zip(&inside) {
        if m {
            *a += e;
        }
    }

    let exposure = detector::expose(&attenuation, &inside, [w, h], s, det, derive(params.seed, 5));
    let presentation = processing::process(&exposure, [w, h], s);
    let pectoral_edge_px = outline.pectoral.as_ref().map_or_else(Vec::new, |pec| {
        (0..=16)
            .map(|i| {
                let y = pec.height_mm * f64::from(i) / 16.0;
                [pec.width_mm * (1.0 - y / pec.height_mm).powf(pec.curvature) / s, y / s]
            })
            .collect()
    });
    let truth = MammogramTruth {
        params: params.clone(),
        width: w,
        height: h,
        pixel_spacing_mm: s,
        nipple_px: [outline.nipple_mm[0] / s, outline.nipple_mm[1] / s],
        pectoral_edge_px,
        clusters,
        calcifications: calcs,
        mass,
        breast_mask: MaskRle::encode(&inside, w, h, 4),
        processing: presentation.truth,
    };
    let image = |data| Image { width: w, height: h, data };
    Ok(SimulatedMammogram {
        image: image(presentation.image),
        clean: image(presentation.clean),
        raw: image(exposure.raw),
        raw_clean: image(exposure.expected),
        truth,
    })
}
