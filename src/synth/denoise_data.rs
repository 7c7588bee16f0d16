//! Training data of the Anscombe-domain denoiser (mammogram-denoising-anscombe, Sec. 2.1): crops of full-dose
//! simulated mammograms with their noise-free twins; the dose reduction itself is drawn fresh at every training step
//! (see `models::denoise::train`), as the paper does.
//!
//! Each image is drawn from `(seed, index)`: BI-RADS a–d, CC or MLO, pixel spacing 0.05–0.1 mm, 30–75 mm thick,
//! detector quanta 1.5·10⁵–10⁶ per mm² (so the full dose itself varies over about 6×), electronic noise 1–6 quanta,
//! 0–4 calcification clusters and sometimes a mass. Half the images are kept as linear For Processing values
//! (`raw`, `raw_clean`), half as For Presentation (log-processed `image`, `clean`), because users open both. The
//! detector gain and offset are estimated from the noisy full-dose image itself (`estimate_gain`), exactly as at
//! inference, never taken from the simulator's truth. Crops are square, 16 px larger than the training patch ([`crop_side`]: 80 px for the paper's 64),
//! and lie inside the breast; a
//! fifth of them are centred on calcifications so the network sees what it must keep.

use rand::{Rng, SeedableRng, rngs::StdRng};
use rayon::prelude::*;

use crate::dicom::Laterality;
use crate::imaging::{Image, perturb::gain::estimate_gain, seed::splitmix64};
use crate::synth::mammogram::{Density, DetectorParams, LesionParams, MammogramParams, MaskRle, View, simulate};

/// Side of a stored crop for the paper's 64 px training patch: the patch plus an 8 px margin for the smooth
/// background.
pub const CROP: usize = 80;

/// Side of the stored crop for training patches of side `patch`.
pub const fn crop_side(patch: usize) -> usize {
    patch + (CROP - 64)
}

/// Full-dose crops with their noise-free twins and the image's count scale.
#[derive(Clone, Debug, Default)]
pub struct DenoiseCrops {
    /// Side of every crop.
    pub side: usize,
    /// `side²` noisy full-dose values per crop, row-major, crop after crop.
    pub noisy: Vec<f32>,
    /// The noise-free values of the same pixels.
    pub clean: Vec<f32>,
    /// Estimated gain `k` of the crop's image.
    pub gain: Vec<f32>,
    /// Estimated offset of the crop's image.
    pub offset: Vec<f32>,
    /// The image's p1 and p99 noise-free values inside the breast (its dynamic range, for the SSIM constants).
    pub range: Vec<[f32; 2]>,
    /// Index of the source image.
    pub image: Vec<u32>,
}

impl DenoiseCrops {
    /// Number of crops.
    pub fn len(&self) -> usize {
        self.gain.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.gain.is_empty()
    }

    /// The noisy and clean pixels of crop `i`.
    pub fn crop(&self, i: usize) -> (&[f32], &[f32]) {
        let n = self.side * self.side;
        (&self.noisy[i * n..(i + 1) * n], &self.clean[i * n..(i + 1) * n])
    }

    fn append(&mut self, mut other: Self) {
        self.side = other.side;
        self.noisy.append(&mut other.noisy);
        self.clean.append(&mut other.clean);
        self.gain.append(&mut other.gain);
        self.offset.append(&mut other.offset);
        self.range.append(&mut other.range);
        self.image.append(&mut other.image);
    }
}

/// How many images, how many crops per image, and the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CropParams {
    pub seed: u64,
    /// Index of the first image (held-out sets start where the training images end).
    pub first_image: usize,
    pub images: usize,
    pub crops_per_image: usize,
    /// Side of a crop ([`crop_side`] of the training patch).
    pub side: usize,
}

/// Simulation settings of image `index`.
pub fn image_params(seed: u64, index: usize) -> (MammogramParams, bool) {
    let mut rng = StdRng::seed_from_u64(splitmix64(splitmix64(seed ^ 0xDE_0015E) ^ splitmix64(index as u64)));
    let view = if rng.random_bool(0.5) { View::Cc } else { View::Mlo };
    let density = [Density::A, Density::B, Density::C, Density::D][rng.random_range(0..4)];
    let detector = DetectorParams {
        quanta_per_mm2: 1.5e5 * (1e6f64 / 1.5e5).powf(rng.random::<f64>()),
        electronic_noise_quanta: rng.random_range(1.0..6.0),
        ..DetectorParams::default()
    };
    let params = MammogramParams {
        pixel_spacing_mm: rng.random_range(0.05..0.1),
        density,
        thickness_mm: rng.random_range(30.0..75.0),
        breast_depth_mm: rng.random_range(45.0..80.0),
        breast_width_mm: rng.random_range(70.0..120.0),
        lesions: LesionParams { calcification_clusters: rng.random_range(0..=4), max_specks_per_cluster: 16, mass: rng.random_bool(0.2) },
        detector,
        ..MammogramParams::screening(rng.random(), view, Laterality::Left)
    };
    (params, rng.random_bool(0.5))
}

/// Simulates the images `first_image..first_image + images` (in parallel) and cuts their crops; images whose gain
/// cannot be estimated are skipped. `progress` gets the number of images done.
pub fn build_crops(params: CropParams, progress: &(dyn Fn(usize) + Sync), cancelled: &(dyn Fn() -> bool + Sync)) -> DenoiseCrops {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let parts: Vec<DenoiseCrops> = (params.first_image..params.first_image + params.images)
        .into_par_iter()
        .map(|index| {
            if cancelled() {
                return DenoiseCrops::default();
            }
            let crops = image_crops(params.seed, index, params.crops_per_image, params.side).unwrap_or_default();
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            crops
        })
        .collect();
    let mut all = DenoiseCrops { side: params.side, ..DenoiseCrops::default() };
    for part in parts {
        all.append(part);
    }
    all
}

/// The crops of one image, `None` when its gain cannot be estimated.
fn image_crops(seed: u64, index: usize, count: usize, side: usize) -> Option<DenoiseCrops> {
    let (params, linear) = image_params(seed, index);
    let sim = simulate(&params).ok()?;
    let (noisy, clean) = if linear { (sim.raw, sim.raw_clean) } else { (sim.image, sim.clean) };
    let estimate = estimate_gain(&noisy).ok()?;
    let (w, h) = (noisy.width, noisy.height);
    let inside = full_mask(&sim.truth.breast_mask, w, h);
    if w < side || h < side {
        return None;
    }
    let mut values: Vec<f32> = clean.data.iter().zip(&inside).filter(|p| *p.1).map(|p| *p.0).collect();
    if values.len() < side * side {
        return None;
    }
    values.sort_by(f32::total_cmp);
    let range = [values[values.len() / 100], values[values.len() * 99 / 100]];
    let mut rng = StdRng::seed_from_u64(splitmix64(seed ^ splitmix64(index as u64 ^ 0xC80F)));
    let specks: Vec<[f64; 2]> = sim.truth.calcifications.iter().map(|c| c.center_px).collect();
    let mut out = DenoiseCrops { side, ..DenoiseCrops::default() };
    let half = side / 2;
    let mut tries = 0;
    while out.len() < count && tries < count * 50 {
        tries += 1;
        let (cx, cy) = if !specks.is_empty() && rng.random_bool(0.2) {
            let s = specks[rng.random_range(0..specks.len())];
            let jitter = |v: f64, r: &mut StdRng| (v as i64 + r.random_range(-12..12)).max(0) as usize;
            (jitter(s[0], &mut rng), jitter(s[1], &mut rng))
        } else {
            (rng.random_range(half..w - half), rng.random_range(half..h - half))
        };
        if cx < half || cy < half || cx + half > w || cy + half > h {
            continue;
        }
        let (x0, y0) = (cx - half, cy - half);
        let all_inside =
            [(x0, y0), (x0 + side - 1, y0), (x0, y0 + side - 1), (x0 + side - 1, y0 + side - 1)].iter().all(|&(x, y)| inside[y * w + x]);
        if !all_inside {
            continue;
        }
        for y in y0..y0 + side {
            out.noisy.extend_from_slice(&noisy.data[y * w + x0..][..side]);
            out.clean.extend_from_slice(&clean.data[y * w + x0..][..side]);
        }
        out.gain.push(estimate.gain as f32);
        out.offset.push(estimate.offset as f32);
        out.range.push(range);
        out.image.push(index as u32);
    }
    Some(out)
}

/// A whole held-out image for evaluation: the full-dose noisy image, its noise-free twin, spacing and calcification
/// centres (pixels) with their sizes.
pub struct EvalImage {
    pub index: usize,
    pub noisy: Image,
    pub clean: Image,
    pub linear: bool,
    pub spacing_mm: f64,
    pub specks: Vec<([f64; 2], f64)>,
    pub inside: Vec<bool>,
}

/// Simulates image `index` for evaluation.
pub fn eval_image(seed: u64, index: usize) -> Option<EvalImage> {
    let (params, linear) = image_params(seed, index);
    let sim = simulate(&params).ok()?;
    let (noisy, clean) = if linear { (sim.raw, sim.raw_clean) } else { (sim.image, sim.clean) };
    let specks = sim.truth.calcifications.iter().map(|c| (c.center_px, c.size_mm / sim.truth.pixel_spacing_mm)).collect();
    Some(EvalImage {
        index,
        noisy,
        clean,
        linear,
        spacing_mm: sim.truth.pixel_spacing_mm,
        specks,
        inside: full_mask(&sim.truth.breast_mask, sim.truth.width, sim.truth.height),
    })
}

/// The breast mask at full resolution.
fn full_mask(mask: &MaskRle, width: usize, height: usize) -> Vec<bool> {
    let decoded = mask.decode();
    (0..width * height).map(|i| mask.contains(i % width, i / width, &decoded)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_lie_inside_the_breast_and_are_reproducible() {
        let params = CropParams { seed: 3, first_image: 0, images: 1, crops_per_image: 6, side: CROP };
        let a = build_crops(params, &|_| {}, &|| false);
        assert_eq!(a.len(), 6);
        assert_eq!(a.noisy.len(), 6 * CROP * CROP);
        let b = build_crops(params, &|_| {}, &|| false);
        assert_eq!(a.noisy, b.noisy);
        let (noisy, clean) = a.crop(2);
        assert!(noisy.iter().zip(clean).any(|(n, c)| (n - c).abs() > 0.5), "the noisy crop has noise");
        assert!(a.gain[0] > 0.0 && a.range[0][1] > a.range[0][0]);
        let large = build_crops(CropParams { side: crop_side(128), ..params }, &|_| {}, &|| false);
        assert_eq!((large.side, large.len(), large.noisy.len()), (144, 6, 6 * 144 * 144));
    }
}
