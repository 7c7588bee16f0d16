//! Parameters of one simulated mammogram, with named presets.

use serde::Serialize;

use crate::dicom::Laterality;

/// Mammographic projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum View {
    /// Cranio-caudal.
    Cc,
    /// Medio-lateral oblique: the pectoral muscle shows at the upper chest-wall corner.
    Mlo,
}

impl View {
    /// View Position (0018,5101) code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Cc => "CC",
            Self::Mlo => "MLO",
        }
    }
}

/// BI-RADS breast composition (5th edition): a fatty … d extremely dense.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Density {
    A,
    B,
    C,
    D,
}

impl Density {
    /// Fraction of the glandular envelope filled with fibroglandular tissue.
    pub(crate) fn glandular_fraction(self) -> f64 {
        match self {
            Self::A => 0.12,
            Self::B => 0.32,
            Self::C => 0.58,
            Self::D => 0.82,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Self::A => 'a',
            Self::B => 'b',
            Self::C => 'c',
            Self::D => 'd',
        }
    }
}

/// How many calcification clusters, and whether to add a mass.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LesionParams {
    /// Number of calcification clusters (a cluster may be a single speck).
    pub calcification_clusters: u32,
    /// Most specks in one cluster.
    pub max_specks_per_cluster: u32,
    /// Add one mass (circumscribed or spiculated).
    pub mass: bool,
}

/// Acquisition physics: attenuation coefficients at the effective energy, dose and detector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetectorParams {
    /// Detector quanta per mm² behind the breast (AEC target), e.g. 5e5 ≈ 100 µGy at ~20 keV.
    pub quanta_per_mm2: f64,
    /// Standard deviation of the additive electronic noise, in quanta per pixel.
    pub electronic_noise_quanta: f64,
    /// Gaussian PSF standard deviation in mm (presampling MTF of the detector and focal spot).
    pub psf_sigma_mm: f64,
    /// Scatter-to-primary ratio behind the breast after the anti-scatter grid.
    pub scatter_to_primary: f64,
    /// Linear attenuation coefficients (1/mm) of adipose, fibroglandular, skin and muscle tissue.
    pub mu_fat_per_mm: f64,
    pub mu_gland_per_mm: f64,
    pub mu_skin_per_mm: f64,
    pub mu_muscle_per_mm: f64,
}

impl Default for DetectorParams {
    /// An a-Se FFDM at 28 kVp W/Rh (effective energy about 20 keV; μ from Johns & Yaffe 1987).
    fn default() -> Self {
        Self {
            quanta_per_mm2: 5.0e5,
            electronic_noise_quanta: 3.0,
            psf_sigma_mm: 0.06,
            scatter_to_primary: 0.2,
            mu_fat_per_mm: 0.0456,
            mu_gland_per_mm: 0.0802,
            mu_skin_per_mm: 0.089,
            mu_muscle_per_mm: 0.085,
        }
    }
}

/// Everything that determines one simulated mammogram. The same parameters give the same image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MammogramParams {
    pub seed: u64,
    pub view: View,
    pub laterality: Laterality,
    /// Pixel spacing in the breast plane in mm (0.05–0.1 is realistic). Sizes in the truth use this spacing.
    pub pixel_spacing_mm: f64,
    pub density: Density,
    /// Compressed breast thickness in mm.
    pub thickness_mm: f64,
    /// Chest wall to nipple distance (CC) in mm.
    pub breast_depth_mm: f64,
    /// Extent of the breast along the chest wall (CC) in mm.
    pub breast_width_mm: f64,
    /// Seed of the breast's anatomy (outline, glandular texture, ducts), shared by both views of one breast.
    pub anatomy_seed: u64,
    pub lesions: LesionParams,
    pub detector: DetectorParams,
    pub kvp: f64,
    pub exposure_mas: f64,
    pub compression_force_n: f64,
}

impl MammogramParams {
    /// A typical screening view: 0.1 mm pixels, BI-RADS b, 50 mm thick, two calcification clusters.
    pub fn screening(seed: u64, view: View, laterality: Laterality) -> Self {
        Self {
            seed,
            view,
            laterality,
            pixel_spacing_mm: 0.1,
            density: Density::B,
            thickness_mm: 50.0,
            breast_depth_mm: 95.0,
            breast_width_mm: 160.0,
            anatomy_seed: seed,
            lesions: LesionParams { calcification_clusters: 2, max_specks_per_cluster: 20, mass: false },
            detector: DetectorParams::default(),
            kvp: 28.0,
            exposure_mas: 80.0,
            compression_force_n: 110.0,
        }
    }

    /// A small breast at 0.1 mm for fast tests (about 360 × 560 px for a CC).
    pub fn small_for_tests(seed: u64, view: View) -> Self {
        Self {
            breast_depth_mm: 32.0,
            breast_width_mm: 50.0,
            thickness_mm: 30.0,
            lesions: LesionParams { calcification_clusters: 3, max_specks_per_cluster: 8, mass: true },
            ..Self::screening(seed, view, Laterality::Left)
        }
    }
}
