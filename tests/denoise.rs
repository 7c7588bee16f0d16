//! The shipped denoiser on held-out simulated mammograms (indices the training and the benchmark never use).
#![allow(clippy::unwrap_used)]

use candle_core::Device;
use mammoscope::imaging::{Image, perturb::gain::estimate_gain, quality};
use mammoscope::models::catalog::denoise_model_path;
use mammoscope::models::denoise::pipeline::{denoise_image, gaussian_baseline};
use mammoscope::models::denoise::{DenoisePreset, load_denoiser};
use mammoscope::synth::denoise_data::eval_image;

fn crop(image: &Image, x0: usize, y0: usize, side: usize) -> Image {
    let data = (y0..y0 + side).flat_map(|y| image.data[y * image.width + x0..][..side].iter().copied()).collect();
    Image::new(side, side, data).unwrap()
}

/// At the paper's 80 % dose reduction the shipped `fast` model raises PSNR against the noise-free image by at least
/// 8 dB on held-out simulated images (both processing kinds), and beats the σ = 1 Gaussian filter there.
#[test]
fn shipped_fast_model_raises_psnr_on_held_out_images() {
    let path = denoise_model_path(DenoisePreset::Fast).expect("assets/models/denoise-fast.safetensors is missing");
    let model = load_denoiser(&path, &Device::Cpu).unwrap();
    let mut linear_kinds = Vec::new();
    for index in [20_001, 20_002, 20_003] {
        let img = eval_image(2026, index).unwrap();
        let gain = estimate_gain(&img.noisy).unwrap();
        let side = 192.min(img.noisy.width).min(img.noisy.height);
        let (x0, y0) = ((img.noisy.width - side) / 2, (img.noisy.height - side) / 2);
        let (full, clean) = (crop(&img.noisy, x0, y0, side), crop(&img.clean, x0, y0, side));
        let scale = mammoscope::imaging::perturb::count_scale::CountScale { gain: gain.gain, offset: gain.offset, alpha: 0.2 };
        let noisy = mammoscope::imaging::perturb::dose::reduce_dose(&full, 0.2, gain.gain, gain.offset, 7).unwrap();
        let out = denoise_image(&model.net, &noisy, scale, None, &Device::Cpu, &mut |_| {}, &|| false).unwrap();
        let range = quality::data_range(&clean);
        let before = quality::psnr(&clean, &noisy, range).unwrap();
        let after = quality::psnr(&clean, &out, range).unwrap();
        let gaussian = quality::psnr(&clean, &gaussian_baseline(&noisy, scale), range).unwrap();
        assert!(after > before + 8.0, "image {index}: PSNR {before:.2} → {after:.2} dB");
        assert!(after > gaussian, "image {index}: network {after:.2} dB, Gaussian {gaussian:.2} dB");
        linear_kinds.push(img.linear);
    }
    assert!(linear_kinds.contains(&true) && linear_kinds.contains(&false), "both processing kinds are covered: {linear_kinds:?}");
}
