//! One simulated image: settings drawn from `(seed, index)`, simulated at the drawn spacing, resampled to
//! [`MODEL_SPACING_MM`], mirrored for right breasts, with its truth mapped into the resampled pixels and every
//! speck's CNR measured there.

use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{CalcDataError, cnr};
use crate::dicom::Laterality;
use crate::imaging::{
    Image,
    breast_mask::BreastMask,
    model_input::InputScaling,
    resample::{MODEL_SPACING_MM, resample},
    seed::splitmix64,
};
use crate::synth::mammogram::{CalcificationShape, Density, DetectorParams, LesionParams, MammogramParams, View, simulate};

/// A generator for sub-stream `stream` of image `index` of data set `seed`: independent of thread scheduling.
pub(super) fn image_rng(seed: u64, index: usize, stream: u64) -> StdRng {
    StdRng::seed_from_u64(image_seed(seed, index, stream))
}

fn image_seed(seed: u64, index: usize, stream: u64) -> u64 {
    splitmix64(splitmix64(seed ^ 0xCA1C_DA7A_0000_0000) ^ splitmix64(index as u64) ^ splitmix64(stream.wrapping_add(0x5EED)))
}

/// Whether a drawn image gets calcifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Calcs {
    /// 0–6 clusters, uniformly.
    Drawn,
    /// None at all.
    Never,
    /// 1–6 clusters.
    Always,
}

/// One speck in the resampled image.
#[derive(Clone, Copy, Debug)]
pub(super) struct Speck {
    pub center_px: [f64; 2],
    pub radius_px: f64,
    pub cnr: f64,
    pub cluster: u32,
    pub shape: CalcificationShape,
}

/// A simulated image ready for patching.
pub(super) struct Scene {
    /// Resampled For Presentation values (not normalised).
    pub image: Image,
    pub mask: BreastMask,
    pub scaling: InputScaling,
    pub specks: Vec<Speck>,
    /// Cluster centres (resampled pixels) by cluster id.
    pub cluster_centers: Vec<[f64; 2]>,
    /// Mass centre and radius in resampled pixels.
    pub mass: Option<([f64; 2], f64)>,
    /// Pectoral edge polyline in resampled pixels (MLO only).
    pub pectoral: Vec<[f64; 2]>,
    pub density: Density,
    pub view: View,
    pub source_spacing_mm: f64,
}

/// The simulator settings of image `index`, and whether it is mirrored.
pub(super) fn draw(seed: u64, index: usize, calcs: Calcs, spacing_mm: (f64, f64), breast_scale: f64) -> (MammogramParams, bool) {
    let mut rng = image_rng(seed, index, 0);
    let (lo, hi) = (spacing_mm.0.min(spacing_mm.1), spacing_mm.0.max(spacing_mm.1));
    let pixel_spacing_mm = if hi > lo { rng.random_range(lo..=hi) } else { lo };
    let density = [Density::A, Density::B, Density::C, Density::D][rng.random_range(0..4)];
    let view = if rng.random::<bool>() { View::Cc } else { View::Mlo };
    let laterality = if rng.random::<bool>() { Laterality::Left } else { Laterality::Right };
    let thickness_mm: f64 = rng.random_range(30.0..70.0);
    let detector = DetectorParams {
        quanta_per_mm2: rng.random_range(2.0e5f64.ln()..1.2e6f64.ln()).exp(),
        electronic_noise_quanta: rng.random_range(1.0..6.0),
        psf_sigma_mm: rng.random_range(0.04..0.12),
        scatter_to_primary: rng.random_range(0.1..0.35),
        ..DetectorParams::default()
    };
    let clusters = match calcs {
        Calcs::Drawn => rng.random_range(0..=6),
        Calcs::Never => 0,
        Calcs::Always => rng.random_range(1..=6),
    };
    let lesions = LesionParams {
        calcification_clusters: clusters,
        max_specks_per_cluster: rng.random_range(1..=30),
        mass: rng.random::<f64>() < 0.25,
    };
    let params = MammogramParams {
        seed: image_seed(seed, index, 1),
        view,
        laterality,
        pixel_spacing_mm,
        density,
        thickness_mm,
        breast_depth_mm: (rng.random_range(60.0..105.0) * breast_scale).max(16.0),
        breast_width_mm: (rng.random_range(100.0..175.0) * breast_scale).max(31.0),
        anatomy_seed: image_seed(seed, index, 2),
        lesions,
        detector,
        kvp: (26.0 + (thickness_mm - 30.0) / 10.0).round(),
        exposure_mas: (thickness_mm * 1.6).round(),
        compression_force_n: rng.random_range(80.0..140.0f64).round(),
    };
    (params, laterality == Laterality::Right)
}

/// Simulates, resamples, mirrors and measures one drawn image.
pub(super) fn build(params: &MammogramParams, mirrored: bool) -> Result<Scene, CalcDataError> {
    let sim = simulate(params)?;
    let spacing = sim.truth.pixel_spacing_mm;
    let resampled = resample(&sim.image, spacing, MODEL_SPACING_MM)?;
    let mut image = resampled.image.clone();
    let width = image.width as f64;
    if mirrored {
        image.data.chunks_mut(image.width.max(1)).for_each(<[f32]>::reverse);
    }
    let to_px = |p: [f64; 2]| {
        let (x, y) = resampled.to_target(p[0], p[1]);
        [if mirrored { width - x } else { x }, y]
    };
    let truth = &sim.truth;
    let discs: Vec<cnr::Disc> = truth
        .calcifications
        .iter()
        .map(|c| cnr::Disc { center_px: to_px(c.center_px), radius_px: (0.5 * c.size_mm / MODEL_SPACING_MM).max(1.0) })
        .collect();
    let mask = BreastMask::from_image(&image, MODEL_SPACING_MM);
    let scaling = InputScaling::from_image(&image, &mask, false);
    let floor = cnr::clutter_floor(&scaling);
    let specks = truth
        .calcifications
        .iter()
        .zip(&discs)
        .enumerate()
        .map(|(i, (c, d))| Speck {
            center_px: d.center_px,
            radius_px: d.radius_px,
            cnr: cnr::measure(&image, &discs, i, floor),
            cluster: c.cluster_id,
            shape: c.shape,
        })
        .collect();
    Ok(Scene {
        mask,
        scaling,
        specks,
        cluster_centers: truth.clusters.iter().map(|c| to_px(c.center_px)).collect(),
        mass: truth.mass.as_ref().map(|m| (to_px(m.center_px), m.radius_mm / MODEL_SPACING_MM)),
        pectoral: truth.pectoral_edge_px.iter().map(|&p| to_px(p)).collect(),
        density: params.density,
        view: params.view,
        source_spacing_mm: spacing,
        image,
    })
}
