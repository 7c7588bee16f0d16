//! The shipped denoiser on held-out simulated mammograms (indices the training and the benchmark never use).
#![allow(clippy::unwrap_used)]

use candle_core::Device;
use mammoscope::imaging::perturb::count_scale::CountScale;
use mammoscope::imaging::{Image, perturb::gain::estimate_gain, quality};
use mammoscope::models::catalog::denoise_model_path;
use mammoscope::models::denoise::pipeline::{Estimate, denoise_image, gaussian_baseline};
use mammoscope::models::denoise::{DenoisePreset, load_denoiser};
use mammoscope::synth::denoise_data::eval_image;

fn crop(image: &Image, x0: usize, y0: usize, side: usize) -> Image {
    let data = (y0..y0 + side).flat_map(|y| image.data[y * image.width + x0..][..side].iter().copied()).collect();
    Image::new(side, side, data).unwrap()
}

/// At the paper's 80 % dose reduction the shipped `unet` (default) and `fast` models raise PSNR against the noise-free
/// image by at least 8 dB on held-out simulated images (both processing kinds) and beat the σ = 1 Gaussian filter
/// there; `unet` beats `fast` by at least 0.5 dB on average; and against the full-dose image, the full-dose estimate
/// scores higher than the noise-free one.
#[test]
fn shipped_models_raise_psnr_on_held_out_images() {
    let load = |preset: DenoisePreset| {
        let path = denoise_model_path(preset).unwrap_or_else(|| panic!("assets/models/denoise-{}.safetensors is missing", preset.name()));
        load_denoiser(&path, &Device::Cpu).unwrap()
    };
    let (unet, fast) = (load(DenoisePreset::Unet), load(DenoisePreset::Fast));
    let mut linear_kinds = Vec::new();
    let mut unet_gain_over_fast = 0.0;
    for index in [20_001, 20_002, 20_003] {
        let img = eval_image(2026, index).unwrap();
        let gain = estimate_gain(&img.noisy).unwrap();
        let side = 192.min(img.noisy.width).min(img.noisy.height);
        let (x0, y0) = ((img.noisy.width - side) / 2, (img.noisy.height - side) / 2);
        let (full, clean) = (crop(&img.noisy, x0, y0, side), crop(&img.clean, x0, y0, side));
        let scale = CountScale { gain: gain.gain, offset: gain.offset, alpha: 0.2 };
        let noisy = mammoscope::imaging::perturb::dose::reduce_dose(&full, 0.2, gain.gain, gain.offset, 7).unwrap();
        let range = quality::data_range(&clean);
        let before = quality::psnr(&clean, &noisy, range).unwrap();
        let gaussian = quality::psnr(&clean, &gaussian_baseline(&noisy, scale), range).unwrap();
        let mut after = Vec::new();
        for model in [&unet, &fast] {
            let out = denoise_image(&model.net, &noisy, scale, None, &Device::Cpu, &mut |_| {}, &|| false).unwrap();
            let psnr = quality::psnr(&clean, &out, range).unwrap();
            let name = model.net.preset().name();
            assert!(psnr > before + 8.0, "{name}, image {index}: PSNR {before:.2} → {psnr:.2} dB");
            assert!(psnr > gaussian, "{name}, image {index}: network {psnr:.2} dB, Gaussian {gaussian:.2} dB");
            let full_range = quality::data_range(&full);
            let noise_free = quality::psnr(&full, &out, full_range).unwrap();
            let full_dose = quality::psnr(&full, &Estimate::FullDose.apply(&noisy, out, scale), full_range).unwrap();
            assert!(full_dose > noise_free, "{name}, image {index}: against the full-dose image {full_dose:.2} ≤ {noise_free:.2} dB");
            after.push(psnr);
        }
        unet_gain_over_fast += (after[0] - after[1]) / 3.0;
        linear_kinds.push(img.linear);
    }
    assert!(unet_gain_over_fast > 0.5, "unet is only {unet_gain_over_fast:.2} dB better than fast");
    assert!(linear_kinds.contains(&true) && linear_kinds.contains(&false), "both processing kinds are covered: {linear_kinds:?}");
}
