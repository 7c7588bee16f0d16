//! Mass attenuation coefficients (total, with coherent scattering) of the materials in the beam, 10–40 keV.
//!
//! Anchors are NIST XCOM / Hubbell & Seltzer (NISTIR 5632, "X-Ray Mass Attenuation Coefficients") values, rounded;
//! the rhodium values are approximate (read off the NIST curve, checked against the K-edge drop of a published
//! W/Rh 28 kVp spectrum, VICTRE MC-GPU `W28kVp_Rh50um_Be1mm`). Between anchors the coefficients are interpolated
//! linearly in log(μ/ρ) against log(E); an absorption edge is two anchors at the same energy (below, above), and
//! energies on an edge take the value above it. Accuracy is a few per cent, enough for contrasts and spectra.

/// A material the beam crosses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Material {
    /// Gold (Z = 79) of the discs, grid lines and printed text; ρ = 19.3 g/cm³.
    Gold,
    /// Aluminium (Z = 13) of the phantom's base plate; ρ = 2.699 g/cm³.
    Aluminium,
    /// Polymethyl methacrylate of the phantom cover and the protocol's slabs; ρ = 1.19 g/cm³.
    Pmma,
    /// Rhodium (Z = 45) of the tube filter; ρ = 12.41 g/cm³.
    Rhodium,
}

/// (energy keV, μ/ρ cm²/g). L3, L2, L1 edges at 11.919, 13.734, 14.353 keV (NIST).
const GOLD: [(f64, f64); 15] = [
    (10.0, 118.1),
    (11.919, 75.8),
    (11.919, 187.0),
    (12.794, 154.6),
    (13.734, 128.3),
    (13.734, 176.4),
    (14.040, 176.6),
    (14.353, 158.8),
    (14.353, 183.0),
    (15.0, 163.7),
    (20.0, 78.83),
    (30.0, 27.52),
    (40.0, 12.98),
    (50.0, 7.256),
    (60.0, 4.528),
];

const ALUMINIUM: [(f64, f64); 7] =
    [(8.0, 50.33), (10.0, 26.23), (15.0, 7.955), (20.0, 3.441), (30.0, 1.128), (40.0, 0.5685), (50.0, 0.3681)];

const PMMA: [(f64, f64); 7] = [(8.0, 6.12), (10.0, 3.356), (15.0, 1.101), (20.0, 0.5666), (30.0, 0.3079), (40.0, 0.2462), (50.0, 0.2186)];

/// K edge at 23.22 keV (jump ratio ≈ 6.3); approximate.
const RHODIUM: [(f64, f64); 8] =
    [(8.0, 179.0), (10.0, 110.0), (15.0, 36.6), (20.0, 16.9), (23.22, 11.2), (23.22, 70.5), (30.0, 35.6), (40.0, 16.5)];

impl Material {
    /// Density, g/cm³.
    pub fn density_g_cm3(self) -> f64 {
        match self {
            Self::Gold => 19.3,
            Self::Aluminium => 2.699,
            Self::Pmma => 1.19,
            Self::Rhodium => 12.41,
        }
    }

    fn table(self) -> &'static [(f64, f64)] {
        match self {
            Self::Gold => &GOLD,
            Self::Aluminium => &ALUMINIUM,
            Self::Pmma => &PMMA,
            Self::Rhodium => &RHODIUM,
        }
    }

    /// Mass attenuation coefficient μ/ρ at `energy_kev`, cm²/g (log-log interpolation, clamped extrapolation
    /// along the end segments).
    pub fn mass_attenuation(self, energy_kev: f64) -> f64 {
        let table = self.table();
        // The last anchor at or below E starts the segment (above an edge, the edge's upper anchor); the
        // tables neither start nor end on an edge, so the segment never has zero width.
        let i = table.iter().rposition(|&(e, _)| e <= energy_kev).unwrap_or(0).min(table.len() - 2);
        let ((e0, m0), (e1, m1)) = (table[i], table[i + 1]);
        let t = (energy_kev.ln() - e0.ln()) / (e1.ln() - e0.ln());
        (m0.ln() + t * (m1.ln() - m0.ln())).exp()
    }

    /// Linear attenuation coefficient at `energy_kev`, per mm.
    pub fn mu_per_mm(self, energy_kev: f64) -> f64 {
        self.mass_attenuation(energy_kev) * self.density_g_cm3() / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_reproduced_and_edges_jump() {
        let close = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-9;
        assert!(close(Material::Gold.mass_attenuation(20.0), 78.83));
        assert!(close(Material::Aluminium.mass_attenuation(15.0), 7.955));
        assert!(close(Material::Pmma.mass_attenuation(30.0), 0.3079));
        // Gold L3 edge, rhodium K edge.
        assert!(Material::Gold.mass_attenuation(11.9) < 80.0 && Material::Gold.mass_attenuation(11.95) > 180.0);
        assert!(Material::Rhodium.mass_attenuation(23.1) < 12.0 && Material::Rhodium.mass_attenuation(23.3) > 65.0);
        // Monotone between edges; log-log interpolation between 20 and 30 keV.
        let g25 = Material::Gold.mass_attenuation(25.0);
        assert!(g25 < 78.83 && g25 > 27.52);
        assert!(Material::Pmma.mass_attenuation(12.0) > Material::Pmma.mass_attenuation(13.0));
        // 1 µm of gold at 20 keV: μ ≈ 0.152 per µm.
        assert!((Material::Gold.mu_per_mm(20.0) * 1e-3 - 0.152).abs() < 0.002);
    }
}
