//! Whole-image inference in tiles with overlap and no seams: each tile's core is computed from an input window
//! that extends the core by the network's receptive radius on every side (clipped at the image border, where the
//! network's zero padding applies as it would on the whole image), and batch norm runs on its running statistics,
//! so every output pixel is a function of the same input pixels whichever tile computes it. The smooth background
//! (Gaussian σ = [`BACKGROUND_SIGMA_PX`]) is removed from the whole image before tiling, for the same reason.
//! Tiles that meet the visible rectangle run first, nearest its centre first.

use candle_core::{DType, Device, Tensor};

use super::net::DenoiseNet;
use crate::imaging::{Image, gaussian::gaussian_blur};
use crate::models::error::ModelError;

/// σ of the smooth background subtracted from the network input (Anscombe-domain pixels).
pub const BACKGROUND_SIGMA_PX: f64 = 6.0;

/// Tile layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileOptions {
    /// Side of the output core of a tile.
    pub core: usize,
    /// Extra input pixels on each side; at least the receptive radius for a seamless result.
    pub margin: usize,
}

impl TileOptions {
    /// The net's receptive radius as margin, and the largest core (a multiple of 16) whose im2col buffer (window² × 9 ×
    /// channels × 4 bytes) stays under 30 MB: glibc then reuses it instead of mapping and zeroing a fresh one for every
    /// layer (measured on the 1035 × 1732 sample with `fast`: 17.0 s with 256 px cores, 12.2 s with 144 px ones). Wide
    /// nets whose margin leaves no room get 256 px cores (their time is the arithmetic).
    ///
    /// Multiscale nets get a margin rounded up to their stride multiple, so that every window starts on it.
    pub fn for_net(net: &DenoiseNet) -> Self {
        let config = net.preset().config();
        let margin = config.receptive_radius().next_multiple_of(config.alignment());
        let side = (30e6 / (36.0 * config.full_resolution_channels() as f64)).sqrt() as usize;
        let core = side.saturating_sub(2 * margin) / 16 * 16;
        Self { core: if core >= 96 { core } else { 256 }, margin }
    }
}

/// A rectangle `[x0, y0, x1, y1)` in image pixels.
pub type Rect = [usize; 4];

/// The tile cores covering a `width × height` image, visible ones (meeting `visible`) first and nearest its centre
/// first, then the rest by distance.
pub fn tile_order(width: usize, height: usize, core: usize, visible: Option<Rect>) -> Vec<Rect> {
    let core = core.max(1);
    let mut tiles: Vec<Rect> = (0..height.div_ceil(core))
        .flat_map(|ty| {
            (0..width.div_ceil(core)).map(move |tx| [tx * core, ty * core, ((tx + 1) * core).min(width), ((ty + 1) * core).min(height)])
        })
        .collect();
    let v = visible.unwrap_or([0, 0, width, height]);
    let centre = [(v[0] + v[2]) as f64 / 2.0, (v[1] + v[3]) as f64 / 2.0];
    let key = |t: &Rect| {
        let meets = t[0] < v[2] && v[0] < t[2] && t[1] < v[3] && v[1] < t[3];
        let d = ((t[0] + t[2]) as f64 / 2.0 - centre[0]).hypot((t[1] + t[3]) as f64 / 2.0 - centre[1]);
        (!meets, d)
    };
    tiles.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    });
    tiles
}

/// Progress of a tiled run: tiles done, tiles in all, and the result so far (tiles not yet done hold the input).
pub struct TileProgress<'a> {
    pub done: usize,
    pub total: usize,
    pub partial: &'a Image,
}

/// Denoises an Anscombe-domain image: returns `a − V̂`.
pub fn denoise_anscombe(
    net: &DenoiseNet,
    a: &Image,
    options: TileOptions,
    visible: Option<Rect>,
    device: &Device,
    progress: &mut dyn FnMut(&TileProgress<'_>),
    cancelled: &dyn Fn() -> bool,
) -> Result<Image, ModelError> {
    let (w, h) = (a.width, a.height);
    let background = gaussian_blur(&a.data, w, h, BACKGROUND_SIGMA_PX);
    let input: Vec<f32> = a.data.iter().zip(&background).map(|(v, b)| v - b).collect();
    let mut out = a.clone();
    let tiles = tile_order(w, h, options.core, visible);
    for (i, t) in tiles.iter().enumerate() {
        if cancelled() {
            return Err(ModelError::Cancelled);
        }
        let m = options.margin;
        let window = [t[0].saturating_sub(m), t[1].saturating_sub(m), (t[2] + m).min(w), (t[3] + m).min(h)];
        let (ww, wh) = (window[2] - window[0], window[3] - window[1]);
        let mut data = Vec::with_capacity(ww * wh);
        for y in window[1]..window[3] {
            data.extend_from_slice(&input[y * w + window[0]..y * w + window[2]]);
        }
        let x = Tensor::from_vec(data, (1, 1, wh, ww), device)?;
        let noise = net.forward_t(&x, false)?.to_dtype(DType::F32)?.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()?;
        for y in t[1]..t[3] {
            let wy = y - window[1];
            for x in t[0]..t[2] {
                out.data[y * w + x] = a.data[y * w + x] - noise[wy * ww + (x - window[0])];
            }
        }
        progress(&TileProgress { done: i + 1, total: tiles.len(), partial: &out });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};

    use super::*;
    use crate::models::denoise::preset::DenoisePreset;

    #[test]
    fn order_puts_visible_tiles_first_and_covers_the_image() {
        let tiles = tile_order(500, 300, 128, Some([300, 150, 420, 300]));
        assert_eq!(tiles.len(), 4 * 3);
        assert_eq!(tiles[0], [256, 128, 384, 256]);
        let area: usize = tiles.iter().map(|t| (t[2] - t[0]) * (t[3] - t[1])).sum();
        assert_eq!(area, 500 * 300);
    }

    fn seeded_net(preset: DenoisePreset) -> DenoiseNet {
        let varmap = VarMap::new();
        let net = DenoiseNet::new(preset, &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        crate::models::init::seeded_init(&varmap, 4).unwrap();
        net
    }

    fn test_image(w: usize, h: usize) -> Image {
        Image::new(w, h, (0..w * h).map(|i| 30.0 + ((i * 2_654_435_761) % 1000) as f32 / 300.0 + (i % w) as f32 * 0.05).collect()).unwrap()
    }

    /// A seeded net of `preset`, a `w × h` test image and the net's output on the whole image in one piece.
    fn whole_image_case(preset: DenoisePreset, w: usize, h: usize) -> (DenoiseNet, Image, Image) {
        let net = seeded_net(preset);
        let a = test_image(w, h);
        let reference = denoise(&net, &a, TileOptions { core: 1000, margin: 0 });
        (net, a, reference)
    }

    /// The whole tiled run with no visible rectangle, progress or cancellation.
    fn denoise(net: &DenoiseNet, a: &Image, options: TileOptions) -> Image {
        denoise_anscombe(net, a, options, None, &Device::Cpu, &mut |_| {}, &|| false).unwrap()
    }

    fn worst_difference(p: &Image, q: &Image) -> f32 {
        p.data.iter().zip(&q.data).map(|(p, q)| (p - q).abs()).fold(0.0f32, f32::max)
    }

    /// Tiled inference equals one pass over the whole image: no seams.
    #[test]
    fn tiles_leave_no_seams() {
        let (net, a, reference) = whole_image_case(DenoisePreset::Fast, 150, 110);
        let tiled_opts = TileOptions { core: 40, margin: DenoisePreset::Fast.config().receptive_radius() };
        let mut calls = 0;
        let tiled = denoise_anscombe(&net, &a, tiled_opts, Some([0, 0, 50, 50]), &Device::Cpu, &mut |_| calls += 1, &|| false).unwrap();
        assert_eq!(calls, 4 * 3);
        let worst = worst_difference(&reference, &tiled);
        assert!(worst < 1e-4, "largest tiled/whole difference {worst}");
        assert!(worst_difference(&reference, &a) > 1e-3, "the net changed the image");
        // Too small a margin does leave seams: the test can fail.
        let short = TileOptions { core: 40, margin: 2 };
        let seamy = denoise(&net, &a, short);
        let worst = worst_difference(&reference, &seamy);
        assert!(worst > 1e-3, "{worst}");
        let cancelled = denoise_anscombe(&net, &a, tiled_opts, None, &Device::Cpu, &mut |_| {}, &|| true);
        assert!(matches!(cancelled, Err(ModelError::Cancelled)));
    }

    /// The multiscale net too, on sides that are not a multiple of its strides, with its own tile options; a window
    /// that starts off the stride grid, or too small a margin, does leave seams.
    #[test]
    fn multiscale_tiles_leave_no_seams() {
        let (net, a, reference) = whole_image_case(DenoisePreset::Unet, 203, 141);
        let options = TileOptions { core: 48, ..TileOptions::for_net(&net) };
        assert_eq!(options.margin, 32);
        let tiled = denoise_anscombe(&net, &a, options, Some([60, 60, 90, 90]), &Device::Cpu, &mut |_| {}, &|| false).unwrap();
        let worst = worst_difference(&reference, &tiled);
        assert!(worst < 1e-4, "largest tiled/whole difference {worst}");
        assert!(worst_difference(&reference, &a) > 1e-3, "the net changed the image");
        for bad in [TileOptions { core: 48, margin: 30 }, TileOptions { core: 48, margin: 12 }] {
            let seamy = denoise(&net, &a, bad);
            let worst = worst_difference(&reference, &seamy);
            assert!(worst > 1e-4, "{bad:?}: {worst}");
        }
        // Four levels: a 66 px radius on the ⅛ grid.
        let (net, a, reference) = whole_image_case(DenoisePreset::Unet4, 330, 250);
        let options = TileOptions { core: 96, ..TileOptions::for_net(&net) };
        assert_eq!(options.margin, 72);
        let tiled = denoise(&net, &a, options);
        let worst = worst_difference(&reference, &tiled);
        assert!(worst < 1e-4, "largest tiled/whole difference {worst}");
        let seamy = denoise(&net, &a, TileOptions { core: 96, margin: 36 });
        assert!(worst_difference(&reference, &seamy) > 1e-4);
    }
}
