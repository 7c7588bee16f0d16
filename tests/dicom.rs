//! Integration tests of the input layer (`mammoscope::dicom`): real fixtures, round trips written with dicom-object,
//! research images, and a malformed corpus that must give one-line errors, never a panic or a huge allocation.
//!
//! One test binary on purpose: every extra one relinks the whole GUI stack.
// The counting allocator below needs `unsafe impl GlobalAlloc`; it only forwards to the system allocator.
#![allow(unsafe_code)]
// Test code: helpers outside `#[test]` fns unwrap too, and exact float comparisons are the point (stored values and
// LUT entries are integers that f32 holds exactly).
#![allow(clippy::unwrap_used, clippy::float_cmp)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};

use dicom_core::{DataElement, PrimitiveValue, VR, smallvec::smallvec};
use dicom_dictionary_std::{tags, uids};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use mammoscope::dicom::{self, DicomError, Laterality, OpenOptions};
use mammoscope::imaging::SpacingSource;

// ---- allocation tracking (per thread, so parallel tests do not disturb each other) ----

struct PeakAlloc;

thread_local! {
    static TRACK: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the thread-locals may already be gone while a thread shuts down.
    if TRACK.try_with(Cell::get).unwrap_or(false) {
        LARGEST.try_with(|l| l.set(l.get().max(size))).ok();
    }
}

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: PeakAlloc = PeakAlloc;

/// Run `f` and return its result with the largest single allocation it made on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    TRACK.with(|t| t.set(true));
    let out = f();
    TRACK.with(|t| t.set(false));
    (out, LARGEST.with(Cell::get))
}

// ---- helpers ----

fn open(path: &Path) -> Result<dicom::LoadedImage, DicomError> {
    dicom::open(path, &OpenOptions::default())
}

fn assert_one_line(err: &DicomError) -> String {
    let msg = err.to_string();
    assert!(!msg.trim().is_empty(), "empty message");
    assert!(!msg.contains('\n') && !msg.contains('\r'), "multi-line message: {msg:?}");
    msg
}

/// A small 16-bit MONOCHROME2 image data set: `frames` frames of `cols × rows`, value = x + 10·y + 1000·frame.
fn small_image(rows: u16, cols: u16, frames: u32) -> InMemDicomObject {
    let pixels: Vec<u16> = (0..frames)
        .flat_map(|f| (0..u32::from(rows)).flat_map(move |y| (0..u32::from(cols)).map(move |x| (x + 10 * y + 1000 * f) as u16)))
        .collect();
    let mut obj = InMemDicomObject::from_element_iter([
        DataElement::new(tags::SOP_CLASS_UID, VR::UI, uids::DIGITAL_MAMMOGRAPHY_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION),
        DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, "1.2.826.0.1.3680043.2.1125.1.1"),
        DataElement::new(tags::MODALITY, VR::CS, "MG"),
        DataElement::new(tags::PATIENT_NAME, VR::PN, "Test^Synthetic"),
        DataElement::new(tags::IMAGE_LATERALITY, VR::CS, "R"),
        DataElement::new(tags::VIEW_POSITION, VR::CS, "CC"),
        DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16)),
        DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(rows)),
        DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(cols)),
        DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16u16)),
        DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(14u16)),
        DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(13u16)),
        DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, PrimitiveValue::from(0u16)),
        DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into())),
    ]);
    if frames > 1 {
        obj.put(DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, frames.to_string()));
    }
    obj
}

fn write(obj: InMemDicomObject, ts: &str, path: &Path) {
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(ts)
                .media_storage_sop_class_uid(uids::DIGITAL_MAMMOGRAPHY_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION)
                .media_storage_sop_instance_uid("1.2.826.0.1.3680043.2.1125.1.1"),
        )
        .unwrap();
    file.write_to_file(path).unwrap();
}

fn pixel(img: &dicom::LoadedImage, frame: usize, x: usize, y: usize) -> f32 {
    img.frames[frame].get(x, y).unwrap()
}

// ---- real fixtures ----

#[test]
fn mg1_j2ki_decodes_jpeg2000_12bit() {
    let img = open(&common::shared_dicom("MG1_J2KI.dcm")).unwrap();
    let m = &img.meta;
    assert_eq!((m.columns, m.rows, m.frames, m.bits_stored), (3064, 4664, 1, 12));
    assert_eq!(m.photometric, "MONOCHROME2");
    assert_eq!(m.transfer_syntax_uid.as_deref(), Some("1.2.840.10008.1.2.4.91"));
    let first = &m.voi.presets[0];
    assert!(first.from_file);
    assert_eq!((first.window.center, first.window.width), (2047.0, 4095.0));
    assert_eq!(m.voi.presets.last().unwrap().name, "Full range");
    assert_eq!(m.mammo.laterality, Some(Laterality::Left), "falls back to Laterality (0020,0060)");
    assert_eq!(m.mammo.view_position.as_deref(), Some("MLO"));
    assert_eq!(m.spacing, None);
    assert_eq!(m.spacing_note.as_deref(), Some("no pixel spacing in the file: measurements in pixels"));
    assert_eq!((img.frames[0].width, img.frames[0].height), (3064, 4664));
    let stats = img.frames[0].stats();
    assert!(stats.min >= 0.0 && stats.max <= 4095.0 && stats.max > 1000.0, "{stats:?}");
    let header = dicom::read_header(&common::shared_dicom("MG1_J2KI.dcm")).unwrap();
    assert_eq!((header.columns, header.rows, header.voi.presets.len()), (3064, 4664, 1));
}

#[test]
fn mg1_jply_12bit_jpeg_extended_is_refused() {
    let err = open(&common::shared_dicom("MG1_JPLY.dcm")).unwrap_err();
    let msg = assert_one_line(&err);
    assert!(matches!(err, DicomError::Unsupported { .. }), "{msg}");
    assert!(msg.contains("1.2.840.10008.1.2.4.51"), "{msg}");
    assert!(msg.contains("12-bit JPEG Extended is not supported by the built-in decoder"), "{msg}");
    // The header alone still reads, for the study list.
    assert_eq!(dicom::read_header(&common::shared_dicom("MG1_JPLY.dcm")).unwrap().rows, 4664);
}

#[test]
fn mgimagea_spacing_follows_ihe_order() {
    let img = open(&common::shared_dicom("MGIMAGEA.dcm")).unwrap();
    let m = &img.meta;
    let chosen = m.spacing.unwrap();
    assert_eq!(chosen.source, SpacingSource::CalibratedPixelSpacing);
    // The burned-in bar is 200 px long.
    let bar = |s: &mammoscope::imaging::Spacing| s.distance_mm([0.0, 0.0], [200.0, 0.0]);
    assert!((bar(&chosen) - 50.0).abs() < 1e-9);
    let alts: Vec<(SpacingSource, f64)> = m.spacing_alternatives.iter().map(|s| (s.source, (bar(s) * 10.0).round() / 10.0)).collect();
    assert_eq!(
        alts,
        vec![
            (SpacingSource::CalibratedPixelSpacing, 50.0),
            (SpacingSource::ImagerSpacingCorrectedByMagnification, 66.7),
            (SpacingSource::ImagerPixelSpacing, 100.0),
        ]
    );
    assert_eq!(m.mammo.presentation_intent.as_deref(), Some("FOR PRESENTATION"));
    assert_eq!(m.mammo.patient_orientation, Some(("P".into(), "L".into())));
    assert_eq!(m.mammo.laterality, Some(Laterality::Right));
    assert_eq!((m.voi.presets[0].window.center, m.voi.presets[0].window.width), (127.5, 256.0));
    assert_eq!(m.voi.presets[0].name, "Window 1");
}

#[test]
fn vlut_04_voi_lut_sequence() {
    // Reference (pydicom 3): ds.VOILUTSequence[0].LUTDescriptor == [256, 0, 16];
    // list(LUTData[:2]) == [0, 257]; LUTData[-1] == 65535; no Window Center/Width.
    let img = open(&common::shared_dicom("vlut_04.dcm")).unwrap();
    let voi = &img.meta.voi;
    assert_eq!(voi.luts.len(), 1);
    let lut = &voi.luts[0];
    assert_eq!((lut.first_mapped, lut.bits, lut.data.len()), (0.0, 16, 256));
    assert_eq!((lut.data[0], lut.data[1], lut.data[255]), (0, 257, 65535));
    let names: Vec<&str> = voi.presets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Auto (histogram)", "Full range"]);
    assert!(voi.presets.iter().all(|p| !p.from_file));
}

#[test]
fn mlut_18_modality_lut_values() {
    // Reference values computed independently with pydicom 3.0 + numpy:
    //   ds = pydicom.dcmread("mlut_18.dcm"); arr = ds.pixel_array
    //   out = pydicom.pixels.apply_modality_lut(arr, ds)   # descriptor [4096, -2048, 16]
    //   for (r, c) in [(0,0), (128,128), (256,256), (400,100)]: print(arr[r,c], out[r,c])
    //   -> -1 32759.0 | 2047 65535.0 | -83 31447.0 | -2048 0.0
    let img = open(&common::shared_dicom("mlut_18.dcm")).unwrap();
    assert!(img.meta.modality_lut_used);
    assert!(img.meta.signed);
    for ((row, col), expected) in [((0, 0), 32759.0), ((128, 128), 65535.0), ((256, 256), 31447.0), ((400, 100), 0.0)] {
        assert_eq!(pixel(&img, 0, col, row), expected, "pixel row {row} col {col}");
    }
}

#[test]
fn cbis_ddsm_rle_mammograms_decode() {
    for path in common::cbis_ddsm() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let img = open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let m = &img.meta;
        assert_eq!(m.transfer_syntax_uid.as_deref(), Some("1.2.840.10008.1.2.5"), "{name}");
        assert_eq!(m.bits_allocated, 16, "{name}");
        assert!((2576..=2920).contains(&m.columns) && (4432..=4736).contains(&m.rows), "{name}: {} x {}", m.columns, m.rows);
        assert_eq!(img.frames.len(), 1);
        assert_eq!(img.frames[0].data.len(), m.columns as usize * m.rows as usize);
        let stats = img.frames[0].stats();
        assert!(stats.max > stats.min, "{name}: flat image");
        assert_eq!(m.spacing, None, "{name}");
        assert_eq!(m.voi.presets.last().unwrap().name, "Full range");
    }
}

// ---- round trips written here with dicom-object ----

/// The header tells film from digital: the CBIS-DDSM secondary captures and the digitised-film sample (Conversion Type
/// DF) are film, the digital mammography sample and the built-in simulated study are digital, a PNG is unknown.
#[test]
fn image_source_tells_digitised_film_from_digital() {
    use mammoscope::dicom::source::ImageSource;
    for film in common::cbis_ddsm().iter().chain([&common::shared_dicom("MG1_J2KI.dcm")]) {
        assert_eq!(open(film).unwrap().meta.image_source(), ImageSource::DigitisedFilm, "{}", film.display());
    }
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/R_CC.dcm");
    for digital in [common::shared_dicom("MGIMAGEA.dcm"), sample] {
        assert_eq!(open(&digital).unwrap().meta.image_source(), ImageSource::Digital, "{}", digital.display());
    }
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("a.png");
    image::GrayImage::from_raw(4, 4, vec![7; 16]).unwrap().save(&png).unwrap();
    assert_eq!(open(&png).unwrap().meta.image_source(), ImageSource::Unknown);
}

#[test]
fn round_trips_every_native_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let syntaxes = [
        (uids::EXPLICIT_VR_LITTLE_ENDIAN, "explicit"),
        (uids::IMPLICIT_VR_LITTLE_ENDIAN, "implicit"),
        (uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, "deflated"),
        ("1.2.840.10008.1.2.2", "big-endian"),
    ];
    for (ts, name) in syntaxes {
        let mut obj = small_image(48, 64, 1);
        obj.put(DataElement::new(tags::RESCALE_SLOPE, VR::DS, "2"));
        obj.put(DataElement::new(tags::RESCALE_INTERCEPT, VR::DS, "-100"));
        let path = dir.path().join(format!("{name}.bin"));
        write(obj, ts, &path);
        let img = open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(img.meta.transfer_syntax_uid.as_deref(), Some(ts), "{name}");
        assert_eq!((img.meta.rescale_slope, img.meta.rescale_intercept), (2.0, -100.0));
        assert_eq!(pixel(&img, 0, 5, 7), 2.0 * 75.0 - 100.0, "{name}");
        assert_eq!(pixel(&img, 0, 63, 47), 2.0 * 533.0 - 100.0, "{name}");
        assert_eq!(img.meta.mammo.laterality, Some(Laterality::Right));
        assert_eq!(img.meta.patient.name.as_deref(), Some("Test^Synthetic"));
        assert_eq!(img.meta.voi.presets[0].name, "Auto (histogram)");
        assert_eq!(dicom::read_header(&path).unwrap().columns, 64, "{name}");
    }
}

#[test]
fn monochrome1_is_flagged_not_inverted() {
    let dir = tempfile::tempdir().unwrap();
    let mut obj = small_image(8, 8, 1);
    obj.put(DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME1"));
    let path = dir.path().join("mono1.dcm");
    write(obj, uids::EXPLICIT_VR_LITTLE_ENDIAN, &path);
    let img = open(&path).unwrap();
    assert!(img.meta.is_monochrome1());
    assert_eq!(pixel(&img, 0, 3, 2), 23.0);
}

#[test]
fn multi_frame_keeps_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.dcm");
    write(small_image(6, 5, 3), uids::EXPLICIT_VR_LITTLE_ENDIAN, &path);
    let img = open(&path).unwrap();
    assert_eq!((img.meta.frames, img.frames.len()), (3, 3));
    assert_eq!([pixel(&img, 0, 1, 1), pixel(&img, 1, 1, 1), pixel(&img, 2, 4, 5)], [11.0, 1011.0, 2054.0]);
    let full = img.meta.voi.presets.last().unwrap();
    assert_eq!((full.window.center, full.window.width), (1027.0, 2054.0));
}

#[test]
fn windows_functions_and_explanations() {
    let dir = tempfile::tempdir().unwrap();
    let mut obj = small_image(4, 4, 1);
    obj.put(DataElement::new(tags::WINDOW_CENTER, VR::DS, "1000\\2000"));
    obj.put(DataElement::new(tags::WINDOW_WIDTH, VR::DS, "500\\4000"));
    obj.put(DataElement::new(tags::WINDOW_CENTER_WIDTH_EXPLANATION, VR::LO, "SOFT\\"));
    obj.put(DataElement::new(tags::VOILUT_FUNCTION, VR::CS, "SIGMOID"));
    let path = dir.path().join("windows.dcm");
    write(obj, uids::EXPLICIT_VR_LITTLE_ENDIAN, &path);
    let voi = open(&path).unwrap().meta.voi;
    let names: Vec<&str> = voi.presets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["SOFT", "Window 2", "Full range"]);
    assert_eq!((voi.presets[1].window.center, voi.presets[1].window.width), (2000.0, 4000.0));
    assert_eq!(voi.function, mammoscope::imaging::voi::VoiFunction::Sigmoid);
}

#[test]
fn preamble_less_and_bare_data_sets_open() {
    let dir = tempfile::tempdir().unwrap();
    let with_preamble = dir.path().join("p10.dcm");
    write(small_image(4, 4, 1), uids::EXPLICIT_VR_LITTLE_ENDIAN, &with_preamble);
    let bytes = std::fs::read(&with_preamble).unwrap();
    let no_preamble = dir.path().join("nopreamble");
    std::fs::write(&no_preamble, &bytes[128..]).unwrap();
    assert_eq!(pixel(&open(&no_preamble).unwrap(), 0, 2, 3), 32.0);
    for (ts, name) in [(uids::IMPLICIT_VR_LITTLE_ENDIAN, "bare-implicit"), (uids::EXPLICIT_VR_LITTLE_ENDIAN, "bare-explicit")] {
        let mut raw = Vec::new();
        let ts_obj = dicom_transfer_syntax_registry::TransferSyntaxRegistry.get(ts).unwrap();
        small_image(4, 4, 1).write_dataset_with_ts(&mut raw, ts_obj).unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &raw).unwrap();
        let img = open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pixel(&img, 0, 2, 3), 32.0, "{name}");
    }
}

// ---- research images ----

#[test]
fn research_images_png_tiff_pgm() {
    let dir = tempfile::tempdir().unwrap();
    let grey16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(20, 10, |x, y| image::Luma([(x * 1000 + y) as u16]));
    let png = dir.path().join("g16.png");
    grey16.save(&png).unwrap();
    let options = OpenOptions { user_spacing_mm: Some(0.07) };
    let img = dicom::open(&png, &options).unwrap();
    assert_eq!((img.meta.format.as_str(), img.meta.columns, img.meta.rows, img.meta.bits_stored), ("PNG", 20, 10, 16));
    assert_eq!(pixel(&img, 0, 19, 9), 19009.0);
    assert_eq!(img.meta.spacing.unwrap().source, SpacingSource::User);
    let no_spacing = open(&png).unwrap();
    assert_eq!(no_spacing.meta.spacing_note.as_deref(), Some("no pixel spacing in the file: measurements in pixels"));
    // Sniffed by content: the same PNG named .dcm opens as PNG.
    let renamed = dir.path().join("g16.dcm");
    std::fs::copy(&png, &renamed).unwrap();
    assert_eq!(open(&renamed).unwrap().meta.format, "PNG");

    let grey8 = image::GrayImage::from_fn(7, 5, |x, y| image::Luma([(x * 30 + y) as u8]));
    for (name, format) in [("g8.tif", "TIFF"), ("g8.pgm", "PGM")] {
        let path = dir.path().join(name);
        grey8.save(&path).unwrap();
        let img = open(&path).unwrap();
        assert_eq!((img.meta.format.as_str(), img.meta.bits_stored), (format, 8), "{name}");
        assert_eq!(pixel(&img, 0, 6, 4), 184.0, "{name}");
        assert_eq!(dicom::read_header(&path).unwrap().columns, 7, "{name}");
    }
    let colour = image::RgbImage::from_fn(4, 4, |x, _| image::Rgb([x as u8 * 60, 0, 0]));
    let path = dir.path().join("colour.png");
    colour.save(&path).unwrap();
    let msg = assert_one_line(&open(&path).unwrap_err());
    assert!(msg.contains("colour"), "{msg}");
}

// ---- malformed corpus ----

/// Offset of the first element with `tag` in explicit VR little endian bytes.
fn find_tag(bytes: &[u8], group: u16, element: u16) -> usize {
    let mut needle = group.to_le_bytes().to_vec();
    needle.extend(element.to_le_bytes());
    bytes.windows(4).position(|w| w == needle.as_slice()).unwrap()
}

/// A tiny deterministic generator (xorshift) for the random-bytes cases.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn malformed_corpus(dir: &Path) -> Vec<(String, PathBuf)> {
    let valid = dir.join("valid.dcm");
    let mut obj = small_image(16, 16, 1);
    obj.put(DataElement::new(tags::WINDOW_CENTER, VR::DS, "100"));
    obj.put(DataElement::new(tags::WINDOW_WIDTH, VR::DS, "200"));
    write(obj, uids::EXPLICIT_VR_LITTLE_ENDIAN, &valid);
    let bytes = std::fs::read(&valid).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let pixel_at = find_tag(&bytes, 0x7FE0, 0x0010);
    for cut in [0, 1, 100, 128, 131, 132, 140, 200, pixel_at - 3, pixel_at + 6, pixel_at + 20, bytes.len() - 1] {
        cases.push((format!("truncated at {cut}"), bytes[..cut].to_vec()));
    }
    // Lying element lengths: the patient name and the pixel data claim ~4 GB.
    for (what, group, element, len_offset, width) in [("PatientName", 0x0010, 0x0010, 6, 2), ("PixelData", 0x7FE0, 0x0010, 8, 4)] {
        let mut b = bytes.clone();
        let at = find_tag(&b, group, element) + len_offset;
        b[at..at + width].fill(0xF0);
        cases.push((format!("lying length of {what}"), b));
    }
    // A lying length in the file meta group (Transfer Syntax UID, 2-byte length).
    let mut b = bytes.clone();
    let at = find_tag(&b, 0x0002, 0x0010) + 6;
    b[at..at + 2].copy_from_slice(&0xFFF0u16.to_le_bytes());
    cases.push(("lying meta length".into(), b));
    // A garbage VR.
    let mut b = bytes.clone();
    let at = find_tag(&b, 0x0028, 0x0010) + 4;
    b[at..at + 2].copy_from_slice(b"zz");
    cases.push(("garbage VR".into(), b));
    // Rows × columns × frames claiming more than 4 GiB.
    let mut huge = small_image(16, 16, 1);
    huge.put(DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(65535u16)));
    huge.put(DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(65535u16)));
    huge.put(DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, "1000"));
    // Pixel data shorter than declared (16 × 16 declared, 10 pixels given).
    let mut short = small_image(16, 16, 1);
    short.put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(smallvec![1u16; 10])));
    // Wrong VRs: Rows as text, Bits Allocated 12, photometric RGB, zero columns, no pixel data.
    let mut text_rows = small_image(16, 16, 1);
    text_rows.put(DataElement::new(tags::ROWS, VR::LO, "sixteen"));
    let mut bits12 = small_image(16, 16, 1);
    bits12.put(DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(12u16)));
    let mut rgb = small_image(16, 16, 1);
    rgb.put(DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "RGB"));
    rgb.put(DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(3u16)));
    let mut zero_cols = small_image(16, 16, 1);
    zero_cols.put(DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(0u16)));
    let mut no_pixels = small_image(16, 16, 1);
    no_pixels.remove_element(tags::PIXEL_DATA);
    let mut bad_stored = small_image(16, 16, 1);
    bad_stored.put(DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(20u16)));
    for (name, obj) in [
        ("more than 4 GiB claimed", huge),
        ("pixel data shorter than declared", short),
        ("Rows as text", text_rows),
        ("Bits Allocated 12", bits12),
        ("RGB", rgb),
        ("zero columns", zero_cols),
        ("no pixel data", no_pixels),
        ("Bits Stored 20 of 16", bad_stored),
    ] {
        let path = dir.join(format!("{name}.dcm"));
        write(obj, uids::EXPLICIT_VR_LITTLE_ENDIAN, &path);
        cases.push((name.to_owned(), std::fs::read(&path).unwrap()));
    }
    // Deeply nested undefined-length sequences after a valid meta group.
    let meta_end = find_tag(&bytes, 0x0008, 0x0016);
    let mut deep = bytes[..meta_end].to_vec();
    for _ in 0..5000 {
        deep.extend([0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]); // (0008,1115) SQ undefined
        deep.extend([0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]); // item, undefined length
    }
    cases.push(("deep nesting".into(), deep));
    // A colour PNG and a truncated PNG, both named .dcm.
    let mut png = Vec::new();
    image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 7]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    cases.push(("colour PNG renamed .dcm".into(), png.clone()));
    cases.push(("truncated PNG renamed .dcm".into(), png[..png.len() / 2].to_vec()));
    cases.push(("DICM and nothing else".into(), [vec![0; 128], b"DICM".to_vec()].concat()));
    for seed in 1..=8 {
        cases.push((format!("random bytes {seed}"), random_bytes(seed, 64 + 997 * seed as usize)));
    }
    let mut random_after_meta = bytes[..meta_end].to_vec();
    random_after_meta.extend(random_bytes(99, 4000));
    cases.push(("random data set after a valid meta group".into(), random_after_meta));
    cases
        .into_iter()
        .enumerate()
        .map(|(i, (name, b))| {
            let path = dir.join(format!("case{i:02}.dcm"));
            std::fs::write(&path, b).unwrap();
            (name, path)
        })
        .collect()
}

#[test]
fn malformed_corpus_gives_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = malformed_corpus(dir.path());
    assert!(corpus.len() >= 35, "{} cases", corpus.len());
    for (name, path) in &corpus {
        let file_len = std::fs::metadata(path).unwrap().len() as usize;
        let (result, largest) = largest_allocation(|| open(path));
        let Err(err) = result else { panic!("{name}: opened without error") };
        assert_one_line(&err);
        if std::env::var_os("SHOW_MESSAGES").is_some() {
            eprintln!("{name}: {err}");
        }
        // Bounded by the file: reading it, the parsed copy, plus small fixed buffers.
        let bound = 4 * file_len + (2 << 20);
        assert!(largest <= bound, "{name}: allocated {largest} bytes at once for a {file_len}-byte file");
        let (header, largest) = largest_allocation(|| dicom::read_header(path));
        if let Err(e) = header {
            assert_one_line(&e);
        }
        assert!(largest <= bound, "{name} (header): allocated {largest} bytes at once");
    }
}

#[test]
fn specific_messages_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = malformed_corpus(dir.path());
    let message = |wanted: &str| {
        let (_, path) = corpus.iter().find(|(n, _)| n == wanted).unwrap();
        open(path).unwrap_err().to_string()
    };
    assert!(message("truncated at 0").starts_with("file is truncated: the file is empty"));
    assert!(message("lying length of PatientName").starts_with("file is truncated: element (0010,0010) declares"));
    assert!(message("lying length of PixelData").contains("Pixel Data (7FE0,0010) declares"));
    assert!(message("more than 4 GiB claimed").contains("more than the 4 GiB limit"));
    assert!(message("pixel data shorter than declared").starts_with("file is truncated: Pixel Data holds 20 bytes"));
    assert!(message("random bytes 1").starts_with("not a DICOM or supported image file"));
    assert!(message("deep nesting").contains("nested deeper than"));
    assert!(message("RGB").contains("greyscale"));
}
