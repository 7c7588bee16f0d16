//! `mammoscope bench cdc`: how long the single-image CDC prediction and the explainability maps take on this
//! machine, on a simulated scenario #1 exposure (2206 × 3317 at 0.07 mm): prediction seconds, and draws per second of
//! sensitivity analysis and of OMIG (L = 50) with the time Algorithm 2 would need for N = 5000 (the paper: ~4.5 h).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;

use crate::explain::{EnsembleModel, Method, OmigParams, Upsampler};
use crate::models::catalog::cdc_ensemble_path;
use crate::models::cdc::CdcEnsemble;
use crate::models::cdc_image::predict_image;
use crate::models::device::{best_device, device_name};
use crate::phantom::cdmam::Layout;
use crate::synth::cdmam::{scenario, simulate};

#[derive(Debug, clap::Args)]
pub struct BenchCdcArgs {
    /// The ensemble folder (default: the shipped one).
    #[arg(long, value_name = "DIR")]
    pub ensemble: Option<PathBuf>,
    /// Repeats of each measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Draws per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// OMIG draws timed per repeat (each is L = 50 gradient steps through every member).
    #[arg(long, default_value_t = 8)]
    pub omig_draws: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn cdc(a: &BenchCdcArgs) -> anyhow::Result<()> {
    let dir = match &a.ensemble {
        Some(d) => d.clone(),
        None => cdc_ensemble_path().context("the CDC ensemble is not installed (assets/models/cdc-compact)")?,
    };
    let device = best_device()?;
    let ensemble = std::sync::Arc::new(CdcEnsemble::load(&dir, &device)?);
    let params = scenario("1").context("scenario 1")?;
    let image = simulate(&params, &Layout::standard(), 7, 0)?.image;
    println!(
        "device {}, {} members ({}), image {} × {}, {} repeats (median)",
        device_name(&device),
        ensemble.members().len(),
        ensemble.preset().name(),
        image.width,
        image.height,
        a.repeats
    );
    let repeats = a.repeats.max(1);
    for draws in [1usize, 8] {
        let times: Vec<f64> = (0..repeats)
            .map(|r| {
                let t = Instant::now();
                predict_image(&ensemble, &image, draws, r as u64, &|| false).map(|_| t.elapsed().as_secs_f64())
            })
            .collect::<Result<_, _>>()?;
        println!("predict ({draws} draw{}): {:.2} s", if draws == 1 { "" } else { "s" }, median(times));
    }
    let model = EnsembleModel(ensemble);
    let rate = |method: &Method, draws: usize| -> anyhow::Result<f64> {
        let times: Vec<f64> = (0..repeats)
            .map(|r| {
                let mut up = Upsampler::new(image.width, image.height, r as u64);
                let t = Instant::now();
                while up.draws() < draws {
                    up.run_batch(&model, &image.data, method, a.batch.min(draws - up.draws()), &|| false)?;
                }
                Ok::<_, anyhow::Error>(draws as f64 / t.elapsed().as_secs_f64())
            })
            .collect::<Result<_, _>>()?;
        Ok(median(times))
    };
    let sens = rate(&Method::Sensitivity, 4 * a.batch)?;
    println!("sensitivity analysis: {sens:.2} draws/s → N = 5000 in {:.1} min", 5000.0 / sens / 60.0);
    let omig = rate(&Method::Omig(OmigParams::default()), a.omig_draws)?;
    println!("OMIG (L = 50, c = 1, t = 3): {omig:.3} draws/s → N = 5000 in {:.1} h (paper: ~4.5 h)", 5000.0 / omig / 3600.0);
    Ok(())
}
