//! The beam: a tungsten-anode bremsstrahlung spectrum through a 50 µm rhodium filter (W/Rh, as on many digital
//! mammography systems), the protocol's 4 cm of PMMA, and the phantom's aluminium plate.
//!
//! The detector integrates energy, so every transmission here is **energy-weighted**: a path's transmission is
//! `Σ N(E)·E·exp(−Σ μ(E)·x) / Σ N(E)·E` over the incident photon spectrum `N`. Detected "quanta" are counted in
//! units of the incident spectrum's energy-equivalent photons, and their Poisson statistics are applied to that
//! count (the Swank factor of a real energy-integrating detector is ignored).

use super::{attenuation::Material, params::CdmamParams};

/// Tube output: photons per mAs per mm² at the detector plane (no object), after the rhodium filter, at
/// [`REFERENCE_KVP`]. Chosen so that scenario 1 (28 kVp, 115 mAs, 0.07 mm pixels, 70 % detection) gives about
/// 2200 detected quanta per pixel behind the phantom; real W/Rh tubes are of the same order (≈ 0.1 mGy/mAs at the
/// detector × ≈ 4.6·10⁶ photons/mm²/mGy at 28 kVp, VICTRE MC-GPU spectrum notes, i.e. a few 10⁵). Approximate:
/// re-calibrate here.
pub const TUBE_OUTPUT_PER_MAS_MM2: f64 = 1.7e5;
/// The tube voltage at which [`TUBE_OUTPUT_PER_MAS_MM2`] holds; the output scales as (kVp / this)², the usual
/// empirical law for the air kerma of a filtered mammography beam (approximate).
pub const REFERENCE_KVP: f64 = 28.0;
/// Rhodium filter thickness, mm (K edge 23.22 keV).
pub const RHODIUM_FILTER_MM: f64 = 0.05;
/// PMMA in the beam, mm: 2 cm above and below the phantom as in the CDMAM protocol, the phantom's own cover included.
pub const PMMA_MM: f64 = 40.0;
/// Width of the energy bins, keV.
const BIN_KEV: f64 = 0.5;
/// Lowest energy considered, keV (below it the 4 cm of PMMA transmit less than 10⁻⁵).
const MIN_KEV: f64 = 10.0;

/// One layer of the beam path: a material and its thickness in mm.
pub type Layer = (Material, f64);

/// An energy-fluence spectrum: bin centres (keV) and weights summing to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    bins: Vec<(f64, f64)>,
}

impl Spectrum {
    /// The beam leaving the tube: Kramers' law `N(E) ∝ (kVp − E)/E` photons per keV for a thick tungsten target
    /// (characteristic L lines lie below 12 keV and are absorbed), times the rhodium filter's transmission,
    /// energy-weighted and normalised.
    pub fn incident(kvp: f64) -> Self {
        let count = ((kvp - MIN_KEV) / BIN_KEV).floor().max(1.0) as usize;
        let bins = (0..count)
            .map(|i| {
                let e = MIN_KEV + (i as f64 + 0.5) * BIN_KEV;
                let photons = ((kvp - e) / e).max(0.0) * (-Material::Rhodium.mu_per_mm(e) * RHODIUM_FILTER_MM).exp();
                (e, photons * e)
            })
            .collect();
        Self { bins }.normalised()
    }

    fn normalised(mut self) -> Self {
        let total: f64 = self.bins.iter().map(|b| b.1).sum();
        if total > 0.0 {
            for b in &mut self.bins {
                b.1 /= total;
            }
        }
        self
    }

    /// The energy-weighted transmission of `path`.
    pub fn transmission(&self, path: &[Layer]) -> f64 {
        self.bins.iter().map(|&(e, w)| w * (-path.iter().map(|&(m, mm)| m.mu_per_mm(e) * mm).sum::<f64>()).exp()).sum()
    }

    /// The spectrum behind `path`, normalised again.
    #[must_use]
    pub fn filtered(&self, path: &[Layer]) -> Self {
        let bins = self.bins.iter().map(|&(e, w)| (e, w * (-path.iter().map(|&(m, mm)| m.mu_per_mm(e) * mm).sum::<f64>()).exp())).collect();
        Self { bins }.normalised()
    }

    /// The energy-fluence-weighted mean energy, keV.
    pub fn mean_energy_kev(&self) -> f64 {
        self.bins.iter().map(|&(e, w)| e * w).sum()
    }
}

/// What the beam delivers to one pixel, and the spectrum that reaches the gold.
#[derive(Clone, Debug, PartialEq)]
pub struct Beam {
    /// Expected detected quanta per pixel behind the PMMA only (outside the aluminium plate), centre of the field.
    pub open_quanta: f64,
    /// Expected detected quanta per pixel behind the PMMA and the aluminium plate.
    pub background_quanta: f64,
    /// The spectrum behind PMMA and aluminium (the gold's contrast is relative to it).
    pub behind_plate: Spectrum,
}

impl Beam {
    pub fn new(params: &CdmamParams) -> Self {
        let incident = Spectrum::incident(params.kvp);
        let photons_per_mm2 = TUBE_OUTPUT_PER_MAS_MM2 * params.mas * (params.kvp / REFERENCE_KVP).powi(2);
        let entering = photons_per_mm2 * params.pixel_mm * params.pixel_mm * params.detector_efficiency;
        let pmma = [(Material::Pmma, PMMA_MM)];
        let plate = [(Material::Pmma, PMMA_MM), (Material::Aluminium, crate::phantom::cdmam::tables::ALUMINIUM_MM)];
        Self {
            open_quanta: entering * incident.transmission(&pmma),
            background_quanta: entering * incident.transmission(&plate),
            behind_plate: incident.filtered(&plate),
        }
    }

    /// Transmission of `thickness_um` of gold relative to the background behind the plate (energy-weighted).
    pub fn gold_transmission(&self, thickness_um: f64) -> f64 {
        self.behind_plate.transmission(&[(Material::Gold, thickness_um * 1e-3)])
    }

    /// The fraction of the background signal that `thickness_um` of gold removes.
    pub fn gold_contrast(&self, thickness_um: f64) -> f64 {
        1.0 - self.gold_transmission(thickness_um)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rhodium_edge_shapes_the_spectrum_and_pmma_hardens_it() {
        let s = Spectrum::incident(28.0);
        let weight_at = |e: f64| s.bins.iter().find(|b| (b.0 - e).abs() < 0.26).map_or(0.0, |b| b.1);
        assert!(weight_at(22.75) > 10.0 * weight_at(23.75), "K-edge drop {} → {}", weight_at(22.75), weight_at(23.75));
        let behind = s.filtered(&[(Material::Pmma, PMMA_MM)]);
        assert!(behind.mean_energy_kev() > s.mean_energy_kev());
        assert!((18.0..23.0).contains(&behind.mean_energy_kev()), "{}", behind.mean_energy_kev());
        assert!((s.bins.iter().map(|b| b.1).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn gold_contrast_is_monotone_and_near_the_readouts_effective_mu() {
        let beam = Beam::new(&CdmamParams::default());
        let c = [0.03, 0.1, 0.5, 2.0].map(|t| beam.gold_contrast(t));
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        // μ_eff for thin gold ≈ 0.1–0.2 per µm at 28 kVp (the readout uses 0.19).
        let mu_eff = -beam.gold_transmission(0.1).ln() / 0.1;
        assert!((0.08..0.25).contains(&mu_eff), "{mu_eff}");
        assert!(beam.open_quanta > beam.background_quanta);
    }
}
