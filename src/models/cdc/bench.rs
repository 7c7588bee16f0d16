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

#[test]
#[ignore = "profiling scratch"]
fn compact_step_breakdown() {
    let device = Device::Cpu;
    let data = fake_settings(2);
    let norm = Normalisation::from_settings(&data).unwrap();
    let refs: Vec<_> = sample_refs(&data, 16, |_| true).into_iter().cycle().take(32).collect();
    let varmap = VarMap::new();
    let net = CdcNet::new(CdcPreset::Compact, &VarBuilder::from_varmap(&varmap, DType::F32, &device)).unwrap();
    let mut adam = Adam::new(&varmap, AdamConfig::default()).unwrap();
    let (x, y) = batch(&data, &refs, INPUT_SIDE, &norm, true, 1, &device).unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let (mu, sigma) = net.forward_train_seeded(&x, 3).unwrap();
        let loss = gaussian_nll(&mu, &sigma, &y).unwrap();
        let t_fwd = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grads = loss.backward().unwrap();
        let t_bwd = t.elapsed().as_secs_f64();
        let t = Instant::now();
        adam.step(&grads).unwrap();
        let t_adam = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (mu, _) = net.forward_t(&x, false).unwrap();
        let t_eval = t.elapsed().as_secs_f64();
        let t = Instant::now();
        drop(mu.sum_all().unwrap().backward().unwrap());
        let t_eval_bwd = t.elapsed().as_secs_f64();
        println!("train fwd {t_fwd:.3} s, bwd {t_bwd:.3} s, adam {t_adam:.3} s; eval fwd {t_eval:.3} s, eval bwd (weights) {t_eval_bwd:.3} s");
    }
}

#[test]
#[ignore = "profiling scratch"]
fn bn_backward_cost() {
    let device = Device::Cpu;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let bn = candle_nn::batch_norm(8, crate::models::compact::bn_config(), vb.pp("bn")).unwrap();
    let conv = crate::models::compact::conv::Conv2d::new(
        1,
        8,
        crate::models::compact::conv::ConvSpec { kernel: 3, stride: 1, padding: 1, bias: false },
        &vb.pp("conv"),
    )
    .unwrap();
    let x = candle_core::Var::from_tensor(&candle_core::Tensor::randn(0f32, 1.0, (32, 1, 250, 250), &device).unwrap()).unwrap();
    use candle_nn::{Module, ModuleT};
    for train in [false, true] {
        let t = Instant::now();
        let c = conv.forward(x.as_tensor()).unwrap();
        let t_conv = t.elapsed().as_secs_f64();
        let t = Instant::now();
        drop(c.sum_all().unwrap().backward().unwrap());
        let t_conv_bwd = t.elapsed().as_secs_f64();
        let c = conv.forward(x.as_tensor()).unwrap();
        let t = Instant::now();
        let y = bn.forward_t(&c, train).unwrap();
        let t_bn = t.elapsed().as_secs_f64();
        let t = Instant::now();
        drop(y.sum_all().unwrap().backward().unwrap());
        let t_bn_bwd = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let p = crate::models::cdc::fast_pool::max_pool_2x2_fast(&c.relu().unwrap()).unwrap();
        drop(p.sum_all().unwrap().backward().unwrap());
        let t_pool = t.elapsed().as_secs_f64();
        println!("train {train}: conv fwd {t_conv:.3} bwd {t_conv_bwd:.3}; conv+bn fwd {t_bn:.3} bwd {t_bn_bwd:.3}; conv+relu+pool fwd+bwd {t_pool:.3}");
    }
}
