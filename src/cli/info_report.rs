//! [`InfoReport`]: the stable, serialisable result of `mammoscope info` (its `--json` output).
//!
//! Keys are `snake_case` and only ever added, never renamed. Patient identifiers are present only
//! when asked for (`--phi`); without it the `patient` key is absent.

use serde::Serialize;

use crate::dicom::LoadedImage;
use crate::dicom::source::ImageSource;
use crate::imaging::{Image, Spacing, SpacingSource};

/// Everything `info` reports about one image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfoReport {
    pub path: String,
    /// "DICOM", "PNG", "TIFF" or "PGM".
    pub format: String,
    pub rows: u32,
    pub columns: u32,
    pub frames: u32,
    /// The frame (0-based) the pixel statistics describe.
    pub frame: usize,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    pub photometric: String,
    pub transfer_syntax_uid: Option<String>,
    pub transfer_syntax_name: Option<String>,
    pub sop_class_uid: Option<String>,
    pub modality: Option<String>,
    /// Digital detector, digitised film or unknown, from the header (the calcification detector's `auto` model
    /// follows it).
    pub image_source: ImageSource,
    /// Conversion Type (0008,0064) of a secondary capture, e.g. "DF" (digitised film).
    pub conversion_type: Option<String>,
    /// Chosen pixel spacing `[row, col]` in mm (between rows, between columns).
    pub pixel_spacing_mm: Option<[f64; 2]>,
    /// The attribute the spacing came from, e.g. `CalibratedPixelSpacing`.
    pub pixel_spacing_source: Option<SpacingSource>,
    /// The same in words, naming the DICOM attribute(s).
    pub pixel_spacing_source_description: Option<String>,
    /// Why no spacing, or which one was rejected.
    pub pixel_spacing_note: Option<String>,
    /// Every spacing the file states, the chosen one first (IHE order).
    pub pixel_spacing_alternatives: Vec<Spacing>,
    /// Window presets in order; the first is the default.
    pub window_presets: Vec<PresetReport>,
    /// VOI LUT Function (0028,1056): `LINEAR`, `LINEAR_EXACT` or `SIGMOID`.
    pub voi_function: String,
    pub voi_luts: Vec<LutReport>,
    /// "L" or "R".
    pub laterality: Option<String>,
    pub view_position: Option<String>,
    pub presentation_intent: Option<String>,
    /// Patient Orientation (0020,0020): `[row direction, column direction]`.
    pub patient_orientation: Option<[String; 2]>,
    pub kvp: Option<f64>,
    pub exposure_mas: Option<f64>,
    pub body_part_thickness_mm: Option<f64>,
    pub compression_force_n: Option<f64>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub anode_filter: Option<String>,
    pub rescale_slope: f64,
    pub rescale_intercept: f64,
    pub modality_lut_used: bool,
    pub pixel_min: f32,
    pub pixel_max: f32,
    pub pixel_mean: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientReport>,
}

/// One window preset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PresetReport {
    pub name: String,
    pub explanation: String,
    pub center: f64,
    pub width: f64,
    /// False for presets Mammoscope generated (e.g. from the histogram).
    pub from_file: bool,
}

/// One VOI LUT of the VOI LUT Sequence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LutReport {
    pub explanation: String,
    pub entries: usize,
    pub first_mapped: f64,
    pub bits: u32,
}

/// Patient identifiers (only with `--phi`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PatientReport {
    pub name: Option<String>,
    pub id: Option<String>,
    pub birth_date: Option<String>,
}

impl InfoReport {
    /// Build the report for frame `frame` (already selected as `image`) of `loaded`.
    #[must_use]
    pub fn new(loaded: &LoadedImage, image: &Image, frame: usize, phi: bool) -> Self {
        let meta = &loaded.meta;
        let stats = image.stats();
        let mammo = &meta.mammo;
        Self {
            path: loaded.path.display().to_string(),
            format: meta.format.clone(),
            rows: meta.rows,
            columns: meta.columns,
            frames: meta.frames,
            frame,
            bits_allocated: meta.bits_allocated,
            bits_stored: meta.bits_stored,
            signed: meta.signed,
            photometric: meta.photometric.clone(),
            transfer_syntax_uid: meta.transfer_syntax_uid.clone(),
            transfer_syntax_name: meta.transfer_syntax_name.clone(),
            sop_class_uid: meta.sop_class_uid.clone(),
            modality: meta.modality.clone(),
            image_source: meta.image_source(),
            conversion_type: mammo.conversion_type.clone(),
            pixel_spacing_mm: meta.spacing.map(|s| [s.row_mm, s.col_mm]),
            pixel_spacing_source: meta.spacing.map(|s| s.source),
            pixel_spacing_source_description: meta.spacing.map(|s| s.source.describe().to_owned()),
            pixel_spacing_note: meta.spacing_note.clone(),
            pixel_spacing_alternatives: meta.spacing_alternatives.clone(),
            window_presets: meta
                .voi
                .presets
                .iter()
                .map(|p| PresetReport {
                    name: p.name.clone(),
                    explanation: p.explanation.clone(),
                    center: p.window.center,
                    width: p.window.width,
                    from_file: p.from_file,
                })
                .collect(),
            voi_function: meta.voi.function.dicom_name().to_owned(),
            voi_luts: meta
                .voi
                .luts
                .iter()
                .map(|l| LutReport {
                    explanation: l.explanation.clone(),
                    entries: l.data.len(),
                    first_mapped: l.first_mapped,
                    bits: l.bits,
                })
                .collect(),
            laterality: mammo.laterality.map(|l| l.code().to_owned()),
            view_position: mammo.view_position.clone(),
            presentation_intent: mammo.presentation_intent.clone(),
            patient_orientation: mammo.patient_orientation.clone().map(|(r, c)| [r, c]),
            kvp: mammo.kvp,
            exposure_mas: mammo.exposure_mas,
            body_part_thickness_mm: mammo.body_part_thickness_mm,
            compression_force_n: mammo.compression_force_n,
            manufacturer: mammo.manufacturer.clone(),
            model: mammo.model.clone(),
            anode_filter: mammo.anode_filter.clone(),
            rescale_slope: meta.rescale_slope,
            rescale_intercept: meta.rescale_intercept,
            modality_lut_used: meta.modality_lut_used,
            pixel_min: stats.min,
            pixel_max: stats.max,
            pixel_mean: stats.mean,
            patient: phi.then(|| PatientReport {
                name: meta.patient.name.clone(),
                id: meta.patient.id.clone(),
                birth_date: meta.patient.birth_date.clone(),
            }),
        }
    }
}
