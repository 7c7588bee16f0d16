//! A 4-view screening exam (R CC, L CC, R MLO, L MLO) drawn from one seed: one woman's breast size, thickness
//! and density, one anatomy per breast shared by its two views, lesions drawn per view (a 2-D simulation: a
//! cluster in one view has no counterpart in the other).

use rand::Rng;

use super::{
    params::{Density, LesionParams, MammogramParams, View},
    rng::{derive, stream},
};
use crate::dicom::Laterality;

/// One view of an exam with its file stem and Patient Orientation (0020,0020) as acquired (chest wall at column 0).
#[derive(Clone, Debug)]
pub struct ExamView {
    pub params: MammogramParams,
    /// e.g. `R_CC`.
    pub stem: String,
    /// (row direction, column direction), e.g. ("A", "L") for R CC.
    pub patient_orientation: (String, String),
}

/// The four views of a screening exam. `density` overrides the drawn BI-RADS class.
pub fn screening_exam(seed: u64, pixel_spacing_mm: f64, density: Option<Density>) -> Vec<ExamView> {
    let mut rng = stream(seed, 100);
    let drawn = match rng.random_range(0..10) {
        0 => Density::A,
        1..=4 => Density::B,
        5..=8 => Density::C,
        _ => Density::D,
    };
    let density = density.unwrap_or(drawn);
    let thickness_mm: f64 = rng.random_range(38.0..62.0);
    let depth_mm = rng.random_range(75.0..115.0);
    let width_mm = rng.random_range(135.0..185.0);
    let kvp = (26.0 + (thickness_mm - 30.0) / 10.0).round();
    let views =
        [(Laterality::Right, View::Cc), (Laterality::Left, View::Cc), (Laterality::Right, View::Mlo), (Laterality::Left, View::Mlo)];
    views
        .iter()
        .enumerate()
        .map(|(i, &(laterality, view))| {
            let mut view_rng = stream(seed, 300 + i as u64);
            let side = u64::from(laterality == Laterality::Left);
            let mlo = view == View::Mlo;
            let params = MammogramParams {
                seed: derive(seed, 400 + i as u64),
                view,
                laterality,
                pixel_spacing_mm,
                density,
                thickness_mm: thickness_mm * if mlo { 1.06 } else { 1.0 } + view_rng.random_range(-2.0..2.0),
                breast_depth_mm: depth_mm * view_rng.random_range(0.96..1.04),
                breast_width_mm: width_mm * view_rng.random_range(0.96..1.04),
                anatomy_seed: derive(seed, 200 + side),
                lesions: LesionParams {
                    calcification_clusters: view_rng.random_range(0..=3),
                    max_specks_per_cluster: 25,
                    mass: view_rng.random::<f64>() < 0.15,
                },
                kvp,
                exposure_mas: (thickness_mm * 1.6 + view_rng.random_range(-5.0..5.0)).round(),
                compression_force_n: view_rng.random_range(80.0..140.0_f64).round(),
                ..MammogramParams::screening(seed, view, laterality)
            };
            let column = match (view, laterality) {
                (View::Mlo, _) => "F",
                (View::Cc, Laterality::Right) => "L",
                (View::Cc, Laterality::Left) => "R",
            };
            ExamView {
                stem: format!("{}_{}", laterality.code(), view.code()),
                params,
                patient_orientation: ("A".to_owned(), column.to_owned()),
            }
        })
        .collect()
}
