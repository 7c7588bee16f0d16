//! The CDMAM readout end to end on simulated sets: thresholds fall as the dose rises.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use mammoscope::phantom::cdmam::{
    Layout,
    analysis::ReadoutOptions,
    readout::{Exposure, SetReadout, read_set},
};
use mammoscope::synth::cdmam::{CdmamParams, simulate};

fn read(params: &CdmamParams, seed: u64, n: u32) -> SetReadout {
    let layout = Layout::standard();
    let exposures: Vec<Exposure> = (0..n)
        .map(|i| {
            let e = simulate(params, &layout, seed, i).unwrap();
            Exposure { name: format!("{i}"), image: Arc::new(e.image), pixel_mm: Some(params.pixel_mm) }
        })
        .collect();
    read_set(&exposures, Some(&layout), &ReadoutOptions { bootstrap: 0, ..ReadoutOptions::default() }, &|_, _| {}, &|| false).unwrap()
}

#[test]
fn thresholds_fall_as_the_dose_rises() {
    let base = CdmamParams { pixel_mm: 0.1, margin_mm: 5.0, ..CdmamParams::default() };
    let low = read(&CdmamParams { mas: 40.0, ..base.clone() }, 7, 8);
    let high = read(&CdmamParams { mas: 320.0, ..base }, 8, 8);
    assert_eq!(low.exposures.len(), 8, "{:?}", low.failures);
    assert_eq!(high.exposures.len(), 8, "{:?}", high.failures);
    // Eight times the dose: the quantum-limited threshold contrast falls by about √8; compare the diameters where
    // both sets have a threshold.
    let mut ratios = Vec::new();
    for (l, h) in low.cdc.diameters.iter().zip(&high.cdc.diameters) {
        if let (Some(tl), Some(th)) = (l.fitted_um, h.fitted_um) {
            ratios.push(th / tl);
        }
    }
    assert!(ratios.len() >= 8, "too few diameters with thresholds: {ratios:?}");
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    assert!(median < 0.75, "high-dose / low-dose threshold ratio {median:.2} ({ratios:?})");
    assert!(ratios.iter().filter(|&&r| r < 1.0).count() >= ratios.len() - 1, "{ratios:?}");
    assert!(high.cdc.iqf.unwrap() < low.cdc.iqf.unwrap());
}
