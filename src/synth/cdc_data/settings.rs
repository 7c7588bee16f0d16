//! The acquisition settings the CDC predictor learns from and is tested on.

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use crate::imaging::seed::splitmix64;
use crate::synth::cdmam::{CdmamParams, SCENARIO_NOISE_CORR_MM, SCENARIOS, scenario};

/// Exposures simulated and read per setting: the protocol's 16.
pub const IMAGES_PER_SETTING: usize = 16;
/// Side of the random row/column selection kept per image (a uniform 250-subset of a uniform 500-subset is a uniform
/// 250-subset of the image).
pub const KEEP_SIDE: usize = 500;
/// The six margin sizes (mm around the cell matrix), as the paper's six margin groups; 0 is a tight crop.
pub const MARGINS_MM: [f64; 6] = [0.0, 3.0, 6.0, 10.0, 15.0, 25.0];

/// One acquisition setting: the simulator's parameters and the seed of its 16 exposures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingSpec {
    /// Unique name, used for the cache file ("train-0042", "sc1-m10", …).
    pub name: String,
    /// "train", or the test group: a scenario ("1" … "4") or "ood".
    pub group: String,
    pub params: CdmamParams,
    pub seed: u64,
}

/// The incremental-learning stage a margin belongs to (appendix D): 0 no margin, 1 small margins, 2 the largest.
pub fn margin_stage(margin_mm: f64) -> usize {
    if margin_mm <= 0.0 {
        0
    } else if margin_mm <= 10.0 {
        1
    } else {
        2
    }
}

/// `count` training settings drawn around the paper's scenarios #1–#4 (and wider): kVp 24–30, 50–200 mAs
/// (log-uniform), electronic noise 3–28 quanta (covering #1's 9.55 to #4's 22.91), noise correlation mostly the
/// scenarios' 0.07 mm, blur 0.04–0.09 mm, heel 0.05–0.15, one of the six margins. The OOD scenario (23 kVp) lies
/// outside. Deterministic in `seed`.
pub fn training_settings(count: usize, seed: u64) -> Vec<SettingSpec> {
    let mut rng = StdRng::seed_from_u64(splitmix64(seed ^ 0x7c3a_11d0));
    (0..count)
        .map(|i| {
            let params = CdmamParams {
                kvp: rng.random_range(24.0..=30.0),
                mas: (rng.random_range(50f64.ln()..=200f64.ln())).exp(),
                noise: rng.random_range(3.0..=28.0),
                noise_corr_mm: if rng.random_bool(0.7) { SCENARIO_NOISE_CORR_MM } else { rng.random_range(0.0..=0.12) },
                blur_mm: rng.random_range(0.04..=0.09),
                heel: rng.random_range(0.05..=0.15),
                margin_mm: MARGINS_MM[rng.random_range(0..MARGINS_MM.len())],
                ..CdmamParams::default()
            };
            SettingSpec { name: format!("train-{i:04}"), group: "train".into(), params, seed: splitmix64(seed.wrapping_add(i as u64 + 1)) }
        })
        .collect()
}

/// The test settings: each of the paper's scenarios (#1–#4, OOD) at each of the six margins, seeds disjoint from
/// training.
pub fn test_settings(seed: u64) -> Vec<SettingSpec> {
    let mut out = Vec::new();
    for (g, name) in SCENARIOS.iter().enumerate() {
        let Some(base) = scenario(name) else { continue };
        for (m, &margin_mm) in MARGINS_MM.iter().enumerate() {
            let label = if *name == "ood" { "ood".to_owned() } else { format!("sc{name}") };
            out.push(SettingSpec {
                name: format!("{label}-m{margin_mm:02.0}"),
                group: (*name).to_owned(),
                params: CdmamParams { margin_mm, ..base.clone() },
                seed: splitmix64(splitmix64(seed ^ 0x00a5_7e57) + (g * 16 + m) as u64),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_valid_distinct_and_deterministic() {
        let train = training_settings(50, 1);
        assert_eq!(train, training_settings(50, 1));
        assert!(train.iter().all(|s| s.params.validate().is_ok()));
        let test = test_settings(1);
        assert_eq!(test.len(), 30);
        assert!(test.iter().all(|s| s.params.validate().is_ok()));
        let mut names: Vec<_> = train.iter().chain(&test).map(|s| s.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 80);
        let seeds: std::collections::HashSet<u64> = train.iter().chain(&test).map(|s| s.seed).collect();
        assert_eq!(seeds.len(), 80);
        // Every stage is represented in training.
        for stage in 0..3 {
            assert!(train.iter().any(|s| margin_stage(s.params.margin_mm) == stage));
        }
    }
}
