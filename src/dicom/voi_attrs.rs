//! VOI attributes (PS3.3 C.11.2) to [`VoiInfo`]: one preset per Window Center/Width pair, the VOI LUT Function,
//! the VOI LUT Sequence, and the generated presets ("Auto (histogram)" when the file has no window, "Full range"
//! always). Window values are in modality units (after the modality transform), as the standard defines them.
//! Enhanced multi-frame objects keep these in the Frame VOI LUT Sequence (0028,9132) functional group.

use dicom_dictionary_std::tags;

use super::attrs::{Dataset, floats, items, root_or_group, string, strings};
use super::lut::Lut;
use super::meta::{VoiInfo, WindowPreset};
use crate::imaging::{
    Image,
    histogram::robust_window,
    voi::{VoiFunction, VoiLut, Window},
};

/// The VOI information stated in the file (no generated presets).
pub(crate) fn from_dataset(obj: &Dataset, signed: bool) -> VoiInfo {
    let group = root_or_group(obj, tags::FRAME_VOILUT_SEQUENCE, tags::WINDOW_CENTER).unwrap_or(obj);
    let centers = floats(group, tags::WINDOW_CENTER);
    let widths = floats(group, tags::WINDOW_WIDTH);
    let explanations = strings(group, tags::WINDOW_CENTER_WIDTH_EXPLANATION);
    let presets = centers
        .iter()
        .zip(&widths)
        .enumerate()
        .filter(|(_, (_, w))| **w > 0.0)
        .map(|(i, (&center, &width))| {
            let stated = explanations.get(i).filter(|e| !e.is_empty());
            let name = stated.cloned().unwrap_or_else(|| format!("Window {}", i + 1));
            let source = stated.map_or_else(String::new, |e| format!("{e}: "));
            WindowPreset {
                name,
                explanation: format!("{source}Window Center {center} / Width {width} from the file"),
                window: Window { center, width },
                from_file: true,
            }
        })
        .collect();
    let function = string(group, tags::VOILUT_FUNCTION).map_or(VoiFunction::Linear, |f| VoiFunction::from_dicom(&f));
    let lut_source = root_or_group(obj, tags::FRAME_VOILUT_SEQUENCE, tags::VOILUT_SEQUENCE).unwrap_or(obj);
    let luts = items(lut_source, tags::VOILUT_SEQUENCE)
        .iter()
        .filter_map(|item| Lut::from_item(item, signed))
        .enumerate()
        .map(|(i, lut)| VoiLut {
            explanation: lut.explanation.unwrap_or_else(|| format!("VOI LUT {}", i + 1)),
            first_mapped: f64::from(lut.first_mapped),
            bits: lut.bits,
            data: lut.data,
        })
        .collect();
    VoiInfo { presets, function, luts }
}

/// Add the generated presets once the pixels are known: "Auto (histogram)" from the first frame when the file
/// states no window, and "Full range" (minimum to maximum over all frames) always, last.
pub(crate) fn add_generated(voi: &mut VoiInfo, frames: &[Image]) {
    let Some(first) = frames.first() else { return };
    if voi.presets.is_empty() {
        voi.presets.push(WindowPreset {
            name: "Auto (histogram)".into(),
            explanation: "0.5th to 99.5th percentile of the pixel values, ignoring background (generated)".into(),
            window: robust_window(first),
            from_file: false,
        });
    }
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for frame in frames {
        let stats = frame.stats();
        lo = lo.min(stats.min);
        hi = hi.max(stats.max);
    }
    if lo.is_finite() && hi.is_finite() {
        voi.presets.push(WindowPreset {
            name: "Full range".into(),
            explanation: format!("minimum {lo} to maximum {hi} of the pixel values (generated)"),
            window: Window::from_range(f64::from(lo), f64::from(hi)),
            from_file: false,
        });
    }
}
