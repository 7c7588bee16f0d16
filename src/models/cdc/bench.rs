//! Throughput figures on this machine, printed (run in release: `cargo test --release --lib models::cdc::bench --
//! --ignored --nocapture`).

use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};

use super::loss::{gaussian_nll, sum_of_squares};
use super::samples::{batch, sample_refs};
use super::tests::fake_settings;
use super::{CdcEnsemble, CdcNet, CdcPreset, INPUT_SIDE, Normalisation};
use crate::models::adam::{Adam, AdamConfig};

fn time_per_run(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let started = Instant::now();
    for _ in 0..runs {
        f();
    }
    started.elapsed().as_secs_f64() / runs as f64
}

#[test]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn compact_throughput() {
    let device = Device::Cpu;
    let data = fake_settings(4);
    let norm = Normalisation::from_settings(&data).unwrap();
    let refs: Vec<_> = sample_refs(&data, 16, |_| true).into_iter().cycle().take(32).collect();
    let varmap = VarMap::new();
    let net = CdcNet::new(CdcPreset::Compact, &VarBuilder::from_varmap(&varmap, DType::F32, &device)).unwrap();
    let mut adam = Adam::new(&varmap, AdamConfig::default()).unwrap();
    let weights: Vec<_> = varmap.all_vars().iter().filter(|v| v.rank() >= 2).map(|v| v.as_tensor().clone()).collect();

    let data_s = time_per_run(5, || drop(batch(&data, &refs, INPUT_SIDE, &norm, true, 1, &device).unwrap()));
    let (x, y) = batch(&data, &refs, INPUT_SIDE, &norm, true, 1, &device).unwrap();
    let step_s = time_per_run(5, || {
        let (mu, sigma) = net.forward_train_seeded(&x, 3).unwrap();
        let loss = (gaussian_nll(&mu, &sigma, &y).unwrap() + (sum_of_squares(&weights).unwrap() * 1e-4).unwrap()).unwrap();
        adam.backward_step(&loss).unwrap();
    });
    let ensemble = CdcEnsemble::new(vec![net], norm, &device).unwrap();
    let forward_s = time_per_run(5, || drop(ensemble.predict(&x).unwrap()));
    let x8 = x.narrow(0, 0, 8).unwrap();
    let grad_s = time_per_run(5, || drop(ensemble.midpoint_and_grad(&x8).unwrap()));
    let x1 = x.narrow(0, 0, 1).unwrap();
    let grad1_s = time_per_run(5, || drop(ensemble.midpoint_and_grad(&x1).unwrap()));
    println!("compact member, batch 32, {} rayon threads:", rayon::current_num_threads());
    println!("  batch assembly (draw + mirror + normalise): {:.1} ms = {:.0} samples/s", data_s * 1e3, 32.0 / data_s);
    println!("  training step (forward, NLL + L2, backward, Adam): {:.0} ms = {:.1} samples/s", step_s * 1e3, 32.0 / step_s);
    println!("  training incl. batch assembly: {:.1} samples/s", 32.0 / (step_s + data_s));
    println!("  forward only (eval, batch 32): {:.0} ms = {:.1} samples/s", forward_s * 1e3, 32.0 / forward_s);
    println!("  midpoint + input gradient, batch 8: {:.0} ms = {:.1} samples/s", grad_s * 1e3, 8.0 / grad_s);
    println!("  midpoint + input gradient, batch 1: {:.1} ms", grad1_s * 1e3);
}
