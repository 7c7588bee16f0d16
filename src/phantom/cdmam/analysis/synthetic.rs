//! Test-only corner scores from a known visibility model: the true corner's response is `N(z, 1)`, the three
//! others `N(0, 1)`, with `z = k · (1 − e^{−µt}) · d` (matched-filter SNR ∝ contrast × diameter for white noise).

use rand::{SeedableRng as _, rngs::StdRng};
use rand_distr::{Distribution as _, StandardNormal};

use crate::phantom::cdmam::geometry::Cell;
use crate::phantom::cdmam::layout::Layout;
use crate::phantom::cdmam::scores::ImageScores;
use crate::phantom::cdmam::tables::READOUT_MU_PER_UM;

/// Signal strength of the synthetic phantom images.
#[derive(Clone, Copy, Debug)]
pub struct Visibility {
    /// `z = k · (1 − e^{−µt}) · d_mm`.
    pub k: f64,
}

impl Visibility {
    /// Thresholds inside the phantom's range on every readout row (about 0.05 µm at 1 mm, 0.6 µm at 0.08 mm).
    pub fn typical() -> Self {
        Self { k: 130.0 }
    }

    /// Pure noise: no disc is visible.
    pub fn none() -> Self {
        Self { k: 0.0 }
    }

    /// The expected response of the true corner.
    pub fn signal(self, cell: Cell) -> f64 {
        self.k * (-(-READOUT_MU_PER_UM * cell.thickness_um()).exp_m1()) * cell.diameter_mm()
    }

    /// The thickness (µm) where the signal reaches `z` on a row of diameter `d_mm`, if the model can reach it.
    pub fn thickness_for_signal(self, z: f64, d_mm: f64) -> Option<f64> {
        let contrast = z / (self.k * d_mm);
        (contrast < 1.0).then(|| -(-contrast).ln_1p() / READOUT_MU_PER_UM)
    }
}

/// `n` images of the phantom with `layout`, seeded.
pub fn synthetic_images(layout: &Layout, n: usize, visibility: Visibility, seed: u64) -> Vec<ImageScores> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut image = ImageScores::default();
            for cell in Cell::all() {
                let mut s: [f32; 4] = std::array::from_fn(|_| StandardNormal.sample(&mut rng));
                if let Some(corner) = layout.corner(cell) {
                    s[corner.index()] += visibility.signal(cell) as f32;
                }
                image.set(cell, s);
            }
            image
        })
        .collect()
}
