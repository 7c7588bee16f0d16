//! Geometric self-ensemble: the network run on the image and on its mirror images (left–right, top–bottom, both),
//! each result mirrored back and the Anscombe-domain results averaged. The noise is the same in every mirror image,
//! but the network's errors are not, so the average has less of them; each pass costs one full denoising.

use candle_core::Device;

use super::net::DenoiseNet;
use super::tiled::{TileOptions, TileProgress, denoise_anscombe};
use crate::imaging::Image;
use crate::models::error::ModelError;

/// A mirror image of the plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mirror {
    Identity,
    LeftRight,
    TopBottom,
    Both,
}

impl Mirror {
    /// The passes in order: the identity first.
    pub const ALL: [Self; 4] = [Self::Identity, Self::LeftRight, Self::TopBottom, Self::Both];
}

/// The most passes: the identity and the three mirrors.
pub const MAX_PASSES: usize = Mirror::ALL.len();

/// `image` mirrored by `m`; every mirror is its own inverse.
pub fn mirror(image: &Image, m: Mirror) -> Image {
    let (horizontal, vertical) = (matches!(m, Mirror::LeftRight | Mirror::Both), matches!(m, Mirror::TopBottom | Mirror::Both));
    let (w, h) = (image.width, image.height);
    let mut data = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = &image.data[(if vertical { h - 1 - y } else { y }) * w..][..w];
        if horizontal {
            data.extend(row.iter().rev());
        } else {
            data.extend_from_slice(row);
        }
    }
    Image { width: w, height: h, data }
}

/// Denoises the Anscombe-domain image `a` in `passes` (1–4) mirror passes and averages them. `progress` counts tiles
/// over all passes; its partial image is the current pass's.
pub fn denoise_anscombe_mirrored(
    net: &DenoiseNet,
    a: &Image,
    passes: usize,
    device: &Device,
    progress: &mut dyn FnMut(&TileProgress<'_>),
    cancelled: &dyn Fn() -> bool,
) -> Result<Image, ModelError> {
    if !(1..=MAX_PASSES).contains(&passes) {
        return Err(ModelError::Input(format!("mirror passes must be 1 to {MAX_PASSES}, got {passes}")));
    }
    let options = TileOptions::for_net(net);
    let mut sum = vec![0.0f64; a.data.len()];
    for (pass, m) in Mirror::ALL.into_iter().take(passes).enumerate() {
        let input = mirror(a, m);
        let mut overall = |p: &TileProgress<'_>| {
            progress(&TileProgress { done: pass * p.total + p.done, total: passes * p.total, partial: p.partial });
        };
        let out = mirror(&denoise_anscombe(net, &input, options, None, device, &mut overall, cancelled)?, m);
        for (s, v) in sum.iter_mut().zip(&out.data) {
            *s += f64::from(*v);
        }
    }
    Ok(Image { width: a.width, height: a.height, data: sum.iter().map(|s| (s / passes as f64) as f32).collect() })
}

#[cfg(test)]
mod tests {
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};

    use super::*;
    use crate::models::denoise::preset::DenoisePreset;

    #[test]
    fn mirrors_are_their_own_inverse_and_one_pass_is_the_plain_result() {
        let a = Image { width: 3, height: 2, data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0] };
        assert_eq!(mirror(&a, Mirror::LeftRight).data, vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        assert_eq!(mirror(&a, Mirror::TopBottom).data, vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0]);
        assert_eq!(mirror(&a, Mirror::Both).data, vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
        for m in Mirror::ALL {
            assert_eq!(mirror(&mirror(&a, m), m).data, a.data);
        }

        let varmap = VarMap::new();
        let net = DenoiseNet::new(DenoisePreset::Unet, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        crate::models::init::seeded_init(&varmap, 4).unwrap();
        let (w, h) = (70, 45);
        let a = Image { width: w, height: h, data: (0..w * h).map(|i| 30.0 + ((i * 2_654_435_761) % 1000) as f32 / 300.0).collect() };
        let plain = denoise_anscombe(&net, &a, TileOptions::for_net(&net), None, &Device::Cpu, &mut |_| {}, &|| false).unwrap();
        let one = denoise_anscombe_mirrored(&net, &a, 1, &Device::Cpu, &mut |_| {}, &|| false).unwrap();
        assert_eq!(one.data, plain.data);
        let mut last = (0, 0);
        let four = denoise_anscombe_mirrored(&net, &a, 4, &Device::Cpu, &mut |p| last = (p.done, p.total), &|| false).unwrap();
        assert_eq!(last.0, last.1);
        // The average differs from one pass (a seeded net is not mirror-symmetric) but stays close to it.
        let diff = four.data.iter().zip(&plain.data).map(|(p, q)| (p - q).abs()).fold(0.0f32, f32::max);
        assert!(diff > 1e-4, "{diff}");
        assert!(denoise_anscombe_mirrored(&net, &a, 5, &Device::Cpu, &mut |_| {}, &|| false).is_err());
    }
}
