//! `mammoscope bench calc`: seconds per full 4096 × 3328 mammogram (0.07 mm/px, a Hologic-sized detector) for
//! each preset — the whole detector: resampling, breast mask, normalisation, tiling and batched inference — and,
//! with `--export DIR`, the patches and candle's logits for `scripts/bench_calc_torch.py`, which runs the same
//! architecture with the same weights in `PyTorch` (`scripts/bench_calc_vs_torch.sh` prints the ratio).
//!
//! The compact preset uses the shipped weights; the `ResNets` use seeded random weights (speed does not depend on
//! the values).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use crate::dicom::{self, OpenOptions};
use crate::imaging::Image;
use crate::imaging::resample::{MODEL_SPACING_MM, resample};
use crate::imaging::tiling::tiles;
use crate::models::calc_net::CalcNet;
use crate::models::catalog::{calc_model_path, default_calc_model};
use crate::models::checkpoint::{build_from_file, calc_metadata, save_weights};
use crate::models::compact::CompactNet;
use crate::models::detector::{DEFAULT_STRIDE, DetectorOptions, prepare};
use crate::models::device::{best_device, device_name};
use crate::models::preset::{CalcPreset, PATCH_SIZE};
use crate::models::speck_contrast::with_contrast_channel;

/// `bench calc` arguments.
#[derive(Debug, clap::Args)]
pub struct BenchCalcArgs {
    /// Presets to time (default: all three).
    #[arg(long = "preset")]
    pub presets: Vec<CalcPreset>,
    /// Runs per preset; the table shows the median, minimum and maximum.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// The image to scale to 4096 × 3328 (default: the sample exam's R CC).
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Write `<preset>-weights.safetensors` and `<preset>-patches.safetensors` (the mammogram's breast patches and
    /// candle's logits) here for the `PyTorch` comparison.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Also time the compact network stage by stage (front end, each conv layer, pooling) on one batch of 16
    /// patches, as `scripts/bench_calc_torch.py --stages` does in `PyTorch`.
    #[arg(long)]
    pub stages: bool,
    /// Tile stride in model pixels: 112 (half overlap, the detector's default) or 224 (the paper's grid).
    #[arg(long, value_name = "PX", default_value_t = DEFAULT_STRIDE as u32, value_parser = clap::value_parser!(u32).range(28..=224))]
    pub stride: u32,
}

/// A 4096 × 3328 mammogram: `source` resized bilinearly (its spacing becomes 0.07 mm).
fn full_field(source: &Image) -> anyhow::Result<Image> {
    let (w, h) = (3328usize, 4096usize);
    let scale = (w as f64 / source.width as f64).min(h as f64 / source.height as f64);
    let resized = resample(source, 1.0, 1.0 / scale)?.image;
    let mut out = Image::filled(w, h, 0.0);
    for y in 0..resized.height.min(h) {
        let row = &resized.data[y * resized.width..y * resized.width + resized.width.min(w)];
        out.data[y * w..y * w + row.len()].copy_from_slice(row);
    }
    Ok(out)
}

fn network(preset: CalcPreset, device: &Device) -> anyhow::Result<(CalcNet, VarMap)> {
    if preset == CalcPreset::Compact
        && let Some(path) = calc_model_path(default_calc_model())
    {
        let (net, _) = build_from_file(&path, device)?;
        // Re-load into a VarMap too, for the export.
        let varmap = VarMap::new();
        let _ = CalcNet::new(preset, false, VarBuilder::from_varmap(&varmap, DType::F32, device))?;
        let (tensors, _) = crate::models::checkpoint::load_weights(&path, device)?;
        let wanted: HashMap<String, Tensor> = tensors.into_iter().filter(|(k, _)| !k.starts_with("dec.")).collect();
        crate::models::checkpoint::fill_varmap(&varmap, &wanted)?;
        return Ok((net, varmap));
    }
    let varmap = VarMap::new();
    let net = CalcNet::new(preset, false, VarBuilder::from_varmap(&varmap, DType::F32, device))?;
    Ok((net, varmap))
}

pub fn calc(args: &BenchCalcArgs) -> anyhow::Result<()> {
    let device = best_device()?;
    let source_path = match &args.image {
        Some(p) => p.clone(),
        None => crate::app::loader::sample_exam_dir().context("the sample exam is missing")?.join("R_CC.dcm"),
    };
    let loaded = dicom::open(&source_path, &OpenOptions::default())?;
    let image = full_field(loaded.frames.first().context("no frame")?)?;
    let presets = if args.presets.is_empty() { CalcPreset::ALL.to_vec() } else { args.presets.clone() };
    let prepared = prepare(&image, MODEL_SPACING_MM, false)?;
    let options = DetectorOptions { stride: args.stride as usize, ..DetectorOptions::default() };
    let grid = tiles(image.width, image.height, PATCH_SIZE, options.stride, Some(&prepared.mask), options.min_breast_fraction);
    println!(
        "{} × {} mammogram at {MODEL_SPACING_MM} mm/px ({}), {} breast patches of 224 px at stride {}; {}",
        image.width,
        image.height,
        source_path.display(),
        grid.len(),
        options.stride,
        device_name(&device)
    );
    println!("{:<10} {:>10} {:>10} {:>10} {:>12} {:>14}", "preset", "median s", "min s", "max s", "ms / patch", "infer ms/patch");
    for preset in presets {
        let (net, varmap) = network(preset, &device)?;
        let detector = crate::models::detector::CalcDetector::from_net(net, device.clone());
        let mut times = Vec::new();
        let mut infer = Vec::new();
        for _ in 0..args.runs {
            let start = Instant::now();
            let d = detector.detect(&image, MODEL_SPACING_MM, false, &options, &|_, _| {}, &|| false)?;
            times.push(start.elapsed().as_secs_f64());
            anyhow::ensure!(d.patches.len() == grid.len(), "tile count changed");
            // Inference alone (patch extraction + batched forward passes), as the PyTorch script measures it.
            let start = Instant::now();
            detector.score_tiles(&prepared, &grid, options.batch, &|_, _| {}, &|| false)?;
            infer.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        infer.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{:<10} {:>10.2} {:>10.2} {:>10.2} {:>12.1} {:>14.2}",
            preset.name(),
            median,
            times[0],
            times[times.len() - 1],
            1000.0 * median / grid.len() as f64,
            1000.0 * infer[infer.len() / 2] / grid.len() as f64
        );
        if let Some(dir) = &args.export {
            export(dir, preset, &varmap, &detector, &prepared, &grid)?;
        }
        if args.stages
            && let Some(compact) = detector.net().compact()
        {
            let data: Vec<f32> = grid.iter().take(16).flat_map(|t| prepared.scaling.patch(&prepared.image, t.x, t.y, PATCH_SIZE)).collect();
            let batch = Tensor::from_vec(data, (grid.len().min(16), 1, PATCH_SIZE, PATCH_SIZE), &device)?;
            print_stages(compact, &batch, 5 * args.runs as usize)?;
        }
    }
    Ok(())
}

/// Median milliseconds of each stage of the compact network's inference path (NHWC, `CompactNet::eval_logits`) over
/// `runs` passes of `batch`; the first pass warms up (allocations, thread pool) and is not counted.
fn print_stages(net: &CompactNet, batch: &Tensor, runs: usize) -> anyhow::Result<()> {
    let mut names = vec!["front (speck contrast)".to_owned()];
    names.extend(net.conv_layers().map(|(name, _)| name));
    names.push("max pool + fc".to_owned());
    let mut times = vec![Vec::with_capacity(runs); names.len()];
    for pass in 0..=runs {
        let mut laps = Vec::with_capacity(names.len());
        let start = Instant::now();
        let mut x = with_contrast_channel(batch)?.permute((0, 2, 3, 1))?;
        laps.push(start.elapsed().as_secs_f64());
        for (k, (_, layer)) in net.conv_layers().enumerate() {
            let start = Instant::now();
            x = layer.nhwc()?.forward(&x, k > 0)?;
            laps.push(start.elapsed().as_secs_f64());
        }
        let start = Instant::now();
        net.classify_nhwc(&x)?.to_vec1::<f32>()?;
        laps.push(start.elapsed().as_secs_f64());
        if pass > 0 {
            for (t, lap) in times.iter_mut().zip(laps) {
                t.push(lap);
            }
        }
    }
    println!("compact stages, batch of {} (median of {runs} passes):", batch.dims()[0]);
    let mut total = 0.0;
    for (name, mut t) in names.into_iter().zip(times) {
        t.sort_by(f64::total_cmp);
        let median = t.get(t.len() / 2).copied().unwrap_or(f64::NAN) * 1000.0;
        total += median;
        println!("  {name:<24} {median:>8.2} ms");
    }
    println!("  {:<24} {total:>8.2} ms", "sum");
    Ok(())
}

fn export(
    dir: &Path,
    preset: CalcPreset,
    varmap: &VarMap,
    detector: &crate::models::detector::CalcDetector,
    prepared: &crate::models::detector::Prepared,
    grid: &[crate::imaging::tiling::Tile],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let weights = dir.join(format!("{}-weights.safetensors", preset.name()));
    save_weights(varmap, &weights, DType::F32, &calc_metadata(preset))?;
    let data: Vec<f32> = grid.iter().flat_map(|t| prepared.scaling.patch(&prepared.image, t.x, t.y, PATCH_SIZE)).collect();
    let patches = Tensor::from_vec(data, (grid.len(), 1, PATCH_SIZE, PATCH_SIZE), detector.device())?;
    let mut logits = Vec::new();
    for start in (0..grid.len()).step_by(16) {
        let n = 16.min(grid.len() - start);
        logits.push(detector.net().logits(&patches.narrow(0, start, n)?)?);
    }
    let logits = Tensor::cat(&logits, 0)?;
    let path = dir.join(format!("{}-patches.safetensors", preset.name()));
    candle_core::safetensors::save(&HashMap::from([("patches".to_owned(), patches), ("logits".to_owned(), logits)]), &path)?;
    eprintln!("exported {} and {}", weights.display(), path.display());
    Ok(())
}
