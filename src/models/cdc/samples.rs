//! Network inputs drawn from the stored images: a fresh random `side`-subset of the stored rows and of the stored
//! columns each time a sample is drawn (a uniform subset of a uniform subset is a uniform subset of the image), random
//! horizontal and vertical mirroring for training, then normalisation; targets are ln(label / µm).

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rayon::prelude::*;

use super::normalisation::Normalisation;
use super::preset::CDC_POINTS;
use crate::imaging::downsample::Selection;
use crate::imaging::seed::splitmix64;
use crate::models::error::ModelError;
use crate::synth::cdc_data::{SettingData, StoredImage};

/// One sample: image `image` of setting `setting`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleRef {
    pub setting: usize,
    pub image: usize,
}

/// Every image of the settings whose index passes `keep`, at most `per_setting` of each.
pub fn sample_refs(settings: &[SettingData], per_setting: usize, keep: impl Fn(&SettingData) -> bool) -> Vec<SampleRef> {
    settings
        .iter()
        .enumerate()
        .filter(|(_, s)| keep(s))
        .flat_map(|(setting, s)| (0..s.images.len().min(per_setting)).map(move |image| SampleRef { setting, image }))
        .collect()
}

/// The regression target of a setting: ln of its 12 thresholds in µm.
pub fn ln_targets(label_um: &[f64; CDC_POINTS]) -> [f32; CDC_POINTS] {
    label_um.map(|t| t.ln() as f32)
}

/// A `side × side` input drawn from `image`: random rows and columns of the stored selection, mirrored at random when
/// `augment`, normalised; row-major.
pub fn draw_input(image: &StoredImage, side: usize, norm: &Normalisation, augment: bool, rng: &mut StdRng) -> Result<Vec<f32>, ModelError> {
    let (stored_w, stored_h) = (image.selection.width(), image.selection.height());
    let bad = |e: crate::imaging::downsample::DownsampleError| ModelError::Input(format!("cannot draw a {side}×{side} input: {e}"));
    let selection = Selection::random(stored_w, stored_h, side, rng).map_err(bad)?;
    let mut pixels = selection.gather(&image.pixels, stored_w).map_err(bad)?;
    if augment {
        if rng.random_bool(0.5) {
            pixels.chunks_exact_mut(side).for_each(<[u16]>::reverse);
        }
        if rng.random_bool(0.5) {
            let rows: Vec<&[u16]> = pixels.chunks_exact(side).rev().collect();
            pixels = rows.concat();
        }
    }
    Ok(norm.normalise_u16(&pixels))
}

/// A batch `(x (B, 1, side, side), y (B, 12))` of `refs`; sample `i` is drawn with the seed `splitmix64(seed ^ i)`,
/// in parallel.
pub fn batch(
    settings: &[SettingData],
    refs: &[SampleRef],
    side: usize,
    norm: &Normalisation,
    augment: bool,
    seed: u64,
    device: &Device,
) -> Result<(Tensor, Tensor), ModelError> {
    let inputs = refs
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            let image =
                settings.get(r.setting).and_then(|s| s.images.get(r.image)).ok_or_else(|| ModelError::Input(format!("no sample {r:?}")))?;
            let mut rng = StdRng::seed_from_u64(splitmix64(seed ^ i as u64));
            draw_input(image, side, norm, augment, &mut rng)
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    let targets: Vec<f32> = refs.iter().flat_map(|r| ln_targets(&settings[r.setting].label_um)).collect();
    let x = Tensor::from_vec(inputs.concat(), (refs.len(), 1, side, side), device)?;
    let y = Tensor::from_vec(targets, (refs.len(), CDC_POINTS), device)?;
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::cdc_data::training_settings;

    fn one_setting(side: usize) -> SettingData {
        let image = StoredImage {
            width: 2 * side,
            height: 2 * side,
            selection: Selection { rows: (0..side).map(|r| 2 * r).collect(), cols: (0..side).map(|c| 2 * c).collect() },
            pixels: (0..side * side).map(|i| u16::try_from(i).unwrap()).collect(),
        };
        SettingData {
            spec: training_settings(1, 3).remove(0),
            label_um: [2.0; 12],
            ideal_um: [1.0; 12],
            images_read: 1,
            images: vec![image],
        }
    }

    #[test]
    fn inputs_are_subsets_mirrored_and_normalised() {
        let setting = one_setting(8);
        let norm = Normalisation::new(0.0, 1.0).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let mut mirrored = 0;
        for _ in 0..20 {
            let x = draw_input(&setting.images[0], 4, &norm, true, &mut rng).unwrap();
            assert_eq!(x.len(), 16);
            // The stored value is 8·row + col: rows are monotonic along columns and columns along rows, each way.
            let (row0, col0) = (&x[0..4], [x[0], x[4], x[8], x[12]]);
            let monotonic = |v: &[f32]| v.windows(2).all(|w| w[0] < w[1]) || v.windows(2).all(|w| w[0] > w[1]);
            assert!(monotonic(row0) && monotonic(&col0));
            mirrored += usize::from(row0[0] > row0[1]);
        }
        assert!((3..18).contains(&mirrored), "{mirrored}");
        let plain = draw_input(&setting.images[0], 4, &norm, false, &mut rng).unwrap();
        assert!(plain.windows(2).take(3).all(|w| w[0] < w[1]));
        assert!(draw_input(&setting.images[0], 9, &norm, false, &mut rng).is_err());
    }

    #[test]
    fn batches_are_seeded() {
        let settings = vec![one_setting(8)];
        let norm = Normalisation::new(10.0, 2.0).unwrap();
        let refs = sample_refs(&settings, 16, |_| true);
        let refs = [refs[0], refs[0], refs[0]];
        let (x, y) = batch(&settings, &refs, 4, &norm, true, 5, &Device::Cpu).unwrap();
        assert_eq!(x.dims(), [3, 1, 4, 4]);
        assert!((y.to_vec2::<f32>().unwrap()[2][11] - 2f32.ln()).abs() < 1e-6);
        let (x2, _) = batch(&settings, &refs, 4, &norm, true, 5, &Device::Cpu).unwrap();
        assert_eq!(x.flatten_all().unwrap().to_vec1::<f32>().unwrap(), x2.flatten_all().unwrap().to_vec1::<f32>().unwrap());
        assert!(batch(&settings, &[SampleRef { setting: 1, image: 0 }], 4, &norm, true, 5, &Device::Cpu).is_err());
    }
}
