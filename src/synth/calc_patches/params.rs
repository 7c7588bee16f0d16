//! What to generate: how many images, patches per image, and the labelling rule.

use serde::Serialize;

/// A speck is visible (makes a positive) at this contrast-to-noise ratio or more. 5, not 3: at 3–5 about half the
/// "positive" patches showed nothing a reader (or the first trained network) could see; those are kept apart as faint.
pub const MIN_CNR: f64 = 5.0;
/// A speck at this CNR or more but below [`MIN_CNR`] is faint: kept out of training, and counted beside a cluster's
/// visible specks in the evaluation's misses.
pub const FAINT_CNR: f64 = 3.0;
/// A visible speck's centre must lie this many pixels inside a positive patch.
pub const EDGE_MARGIN_PX: f64 = 8.0;
/// Negatives keep this clearance in mm from every speck, faint ones included.
pub const CLEARANCE_MM: f64 = 1.0;
/// A near-threshold positive's strongest speck has a CNR below `min_cnr` plus this: the one- and two-speck
/// clusters just over the visibility rule that the trained detectors miss most.
pub const NEAR_THRESHOLD_CNR_BAND: f64 = 1.5;

/// Parameters of a calcification patch data set. The same parameters always give the same data set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalcDataParams {
    pub seed: u64,
    /// Simulated images (each with its own drawn settings).
    pub images: usize,
    /// Positive patches wanted per image (fewer when the image has no visible calcification).
    pub positives_per_image: usize,
    /// Negative patches per image, before balancing.
    pub negatives_per_image: usize,
    /// Fraction of each image's positives drawn as near-threshold positives (the patch's strongest speck below
    /// `min_cnr + NEAR_THRESHOLD_CNR_BAND`) where the image has such specks; the rest as usual. 0: none.
    pub near_threshold_fraction: f64,
    /// Fraction of each image's positives drawn from its linear / branching clusters (the morphology the detectors
    /// miss most) where the image has visible ones; the rest as usual. 0: none.
    pub linear_fraction: f64,
    /// Patches centred on faint specks per image, kept apart for evaluation.
    pub faint_per_image: usize,
    /// Fraction of the negatives that are hard (skin line, pectoral edge, dense tissue, mass, vessels).
    pub hard_negative_fraction: f64,
    /// Side of a patch in pixels at `MODEL_SPACING_MM`.
    pub patch_size: usize,
    /// A speck is visible (makes a positive) at this contrast-to-noise ratio or more.
    pub min_cnr: f64,
    /// A visible speck's centre must be this many pixels inside a positive patch.
    pub edge_margin_px: f64,
    /// Negatives keep this clearance (mm) from every speck, faint ones included.
    pub clearance_mm: f64,
    /// Range of the simulated detector pixel spacing in mm (uniform).
    pub spacing_mm: (f64, f64),
    /// Scale of the simulated breast size relative to the drawn size (below 1 saves time).
    pub breast_scale: f64,
    /// Drop patches of the larger class (seeded) so both classes have the same count.
    pub balance: bool,
}

impl CalcDataParams {
    /// A training set of `images` images: 8 positives and 8 negatives (half hard) per image, 2 faint patches.
    pub fn training(seed: u64, images: usize) -> Self {
        Self {
            seed,
            images,
            positives_per_image: 8,
            negatives_per_image: 8,
            near_threshold_fraction: 0.0,
            linear_fraction: 0.0,
            faint_per_image: 2,
            hard_negative_fraction: 0.5,
            patch_size: 224,
            min_cnr: MIN_CNR,
            edge_margin_px: EDGE_MARGIN_PX,
            clearance_mm: CLEARANCE_MM,
            spacing_mm: (0.05, 0.2),
            breast_scale: 0.85,
            balance: true,
        }
    }

    /// Two small images at coarse spacings: a few seconds in the test profile.
    pub fn tiny_for_tests(seed: u64) -> Self {
        Self {
            images: 2,
            positives_per_image: 4,
            negatives_per_image: 6,
            spacing_mm: (0.1, 0.2),
            breast_scale: 0.45,
            ..Self::training(seed, 2)
        }
    }
}
