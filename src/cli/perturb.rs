//! `mammoscope perturb FILE [--lowpass R] [--highpass R] [--butterworth ORDER] [--noise SIGMA] [--dose ALPHA]
//! [--shuffle N] [--seed S] --out OUT [--frame N]`: the perturbation lab on the command line.
//!
//! Perturbations apply in the order of [`perturb::apply`]. Outputs, written atomically (a temporary file in the output
//! folder, then a rename) and never over the input:
//! - `OUT.dcm` (DICOM input only): a copy of the source object with the perturbed frame as Pixel Data, converted back
//!   to stored values through the inverse Rescale Slope/Intercept, rounded and clamped to the stored range; new SOP and
//!   Series Instance UIDs (`2.25.<UUID>` derived from the source UID and the derivation), Image Type
//!   `DERIVED\SECONDARY`, a Derivation Description naming each perturbation, its parameters and the seed, a Source
//!   Image Sequence, spacing and mammography attributes kept; Explicit VR Little Endian, one frame.
//! - `OUT.png` / `OUT.tif(f)`: 16-bit grey modality values, rounded and clamped to 0–65535 (negative values become 0).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use dicom_core::{DataElement, PrimitiveValue, VR, value::DataSetSequence};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use crate::dicom::{self, ImageMeta, OpenOptions, write::uid_from_seed};
use crate::imaging::Image;
use crate::imaging::perturb::{self, FilterKind, FourierCache, PerturbParams};

/// `perturb` arguments (the `Perturb` variant of [`super::args::Command`]).
#[derive(Debug, clap::Args)]
pub struct PerturbArgs {
    /// The image file (DICOM, PNG, TIFF or PGM).
    pub file: PathBuf,
    /// Output: `.dcm` (a derived DICOM object; DICOM input only) or a 16-bit `.png` / `.tif`.
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// Low-pass cut-off radius R in cycles/mm (keeps |f| ≤ R).
    #[arg(long, value_name = "R")]
    pub lowpass: Option<f64>,
    /// High-pass cut-off radius R in cycles/mm (keeps |f| > R and the mean).
    #[arg(long, value_name = "R")]
    pub highpass: Option<f64>,
    /// Use a Butterworth filter of this order instead of the ideal filter.
    #[arg(long, value_name = "ORDER", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub butterworth: Option<u32>,
    /// Additive Gaussian noise σ in modality units (the paper: 1600 on a 0–4095 scale).
    #[arg(long, value_name = "SIGMA")]
    pub noise: Option<f64>,
    /// Simulated fraction α of the acquired dose, in (0, 1] (Poisson thinning with the gain estimated from the image).
    #[arg(long, value_name = "ALPHA")]
    pub dose: Option<f64>,
    /// Shuffle an N × N grid of patches (the paper: 8, i.e. 64 patches); 0 or 1 is off.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub shuffle: u32,
    /// Seed of every random draw.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Frame index (0-based).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub frame: usize,
    /// Pixel spacing in mm for research images (PNG/TIFF/PGM) and files without one (needed for --lowpass/--highpass).
    #[arg(long, value_name = "MM")]
    pub spacing_mm: Option<f64>,
}

pub fn run(args: &PerturbArgs) -> anyhow::Result<()> {
    if same_file(&args.file, &args.out) {
        bail!("refusing to overwrite the input file with the perturbed image ({})", args.out.display());
    }
    let format = OutputFormat::of(&args.out)?;
    let params = PerturbParams {
        dose_fraction: args.dose,
        noise_sigma: args.noise,
        lowpass_cycles_per_mm: args.lowpass,
        highpass_cycles_per_mm: args.highpass,
        filter: args.butterworth.map_or(FilterKind::Ideal, FilterKind::Butterworth),
        shuffle_grid: args.shuffle,
        seed: args.seed,
    };
    params.validate()?;
    let loaded = dicom::open(&args.file, &OpenOptions { user_spacing_mm: args.spacing_mm })?;
    if format == OutputFormat::Dicom && loaded.meta.format != "DICOM" {
        bail!("a .dcm output needs a DICOM input; write .png or .tif instead ({})", args.file.display());
    }
    let image = super::frame(&loaded, args.frame)?;
    let filtering = params.lowpass_cycles_per_mm.is_some() || params.highpass_cycles_per_mm.is_some();
    // The file's spacing; --spacing-mm when it has none (digitised film such as CBIS-DDSM, research images).
    let spacing_mm = match loaded.meta.spacing_mm_or(args.spacing_mm) {
        Some(spacing) => spacing,
        None if filtering => {
            bail!("Fourier filters need a pixel spacing and the file has none: pass --spacing-mm ({})", args.file.display())
        }
        None => [1.0, 1.0],
    };
    let mut cache = FourierCache::default();
    let out = perturb::apply(image, spacing_mm, &params, &mut cache, &|| false)?;
    let description = format!("mammoscope perturb: {}; frame {}", params.describe(), args.frame);
    match format {
        OutputFormat::Dicom => write_dicom(&args.file, &args.out, &loaded.meta, &out, &description)?,
        OutputFormat::Png | OutputFormat::Tiff => write_grey16(&args.out, &out, format)?,
    }
    println!("wrote {} ({}×{}): {}", args.out.display(), out.width, out.height, params.describe());
    if let Some(g) = cache.gain_estimate() {
        println!(
            "gain k = {:.4} per quantum, offset {:.1}, {} of {} blocks, dispersion {:.2} (≈ 1 when the Poisson model holds; \
             For Presentation images are log-processed, so the dose reduction is an approximation)",
            g.gain, g.offset, g.blocks_used, g.blocks_total, g.dispersion
        );
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    Dicom,
    Png,
    Tiff,
}

impl OutputFormat {
    pub(crate) fn of(out: &Path) -> anyhow::Result<Self> {
        let ext = out.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        Ok(match ext.as_str() {
            "dcm" => Self::Dicom,
            "png" => Self::Png,
            "tif" | "tiff" => Self::Tiff,
            _ => bail!("--out must end in .dcm, .png, .tif or .tiff ({})", out.display()),
        })
    }
}

/// True when `a` and `b` name the same existing file (through links or `..` too).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(a), Ok(b)) = (fs::canonicalize(a), fs::canonicalize(b)) { a == b } else { false }
}

pub(crate) fn write_grey16(out: &Path, image: &Image, format: OutputFormat) -> anyhow::Result<()> {
    let (Ok(w), Ok(h)) = (u32::try_from(image.width), u32::try_from(image.height)) else {
        bail!("image too large: {}×{}", image.width, image.height);
    };
    let data: Vec<u16> = image.data.iter().map(|&v| v.round().clamp(0.0, 65_535.0) as u16).collect();
    let buffer = image::ImageBuffer::<image::Luma<u16>, _>::from_raw(w, h, data).context("pixel buffer size")?;
    let image_format = if format == OutputFormat::Png { image::ImageFormat::Png } else { image::ImageFormat::Tiff };
    super::write_atomically(out, |writer| Ok(buffer.write_to(writer, image_format)?))
}

/// FNV-1a of a string: a stable seed for the derived UIDs.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3))
}

pub(crate) fn write_dicom(input: &Path, out: &Path, meta: &ImageMeta, image: &Image, description: &str) -> anyhow::Result<()> {
    if meta.modality_lut_used {
        bail!("the source uses a Modality LUT, which cannot be inverted to stored values; write .png or .tif instead");
    }
    if meta.bits_stored == 0 || meta.bits_stored > 16 {
        bail!("cannot write {}-bit stored values", meta.bits_stored);
    }
    let source = dicom_object::OpenFileOptions::new().open_file(input).with_context(|| format!("cannot reopen {}", input.display()))?;
    let mut obj: InMemDicomObject = source.into_inner();
    let source_sop = meta.sop_instance_uid.clone().unwrap_or_default();
    let seed = fnv1a(&format!("{source_sop}|{description}"));
    let (slope, intercept) = (meta.rescale_slope, meta.rescale_intercept);
    let bits = u32::from(meta.bits_stored);
    let stored = |v: f32| ((f64::from(v) - intercept) / slope).round();
    let pixels = if meta.signed {
        let (lo, hi) = (-(2_f64.powi(bits as i32 - 1)), 2_f64.powi(bits as i32 - 1) - 1.0);
        PrimitiveValue::I16(image.data.iter().map(|&v| stored(v).clamp(lo, hi) as i16).collect())
    } else {
        let hi = 2_f64.powi(bits as i32) - 1.0;
        PrimitiveValue::U16(image.data.iter().map(|&v| stored(v).clamp(0.0, hi) as u16).collect())
    };
    let mut image_type = vec!["DERIVED".to_owned(), "SECONDARY".to_owned()];
    if let Ok(old) = obj.element(tags::IMAGE_TYPE).map(|e| e.to_multi_str().map(|s| s.to_vec())) {
        image_type.extend(old.unwrap_or_default().into_iter().skip(2));
    }
    let source_item = InMemDicomObject::from_element_iter([
        DataElement::new(tags::REFERENCED_SOP_CLASS_UID, VR::UI, meta.sop_class_uid.clone().unwrap_or_default()),
        DataElement::new(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, source_sop),
    ]);
    for element in [
        DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, uid_from_seed(seed, 3)),
        DataElement::new(tags::SERIES_INSTANCE_UID, VR::UI, uid_from_seed(seed, 4)),
        DataElement::new(tags::IMAGE_TYPE, VR::CS, PrimitiveValue::Strs(image_type.into())),
        DataElement::new(tags::DERIVATION_DESCRIPTION, VR::ST, description),
        DataElement::new(tags::SOURCE_IMAGE_SEQUENCE, VR::SQ, DataSetSequence::from(vec![source_item])),
        DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16_u16)),
        DataElement::new(tags::PIXEL_DATA, VR::OW, pixels),
    ] {
        obj.put(element);
    }
    if obj.element_opt(tags::NUMBER_OF_FRAMES).ok().flatten().is_some() {
        obj.put(DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, "1"));
    }
    let file_object = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .context("cannot build the file meta group")?;
    super::write_atomically(out, |writer| Ok(file_object.write_all(writer)?))
}
