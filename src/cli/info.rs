//! `mammoscope info FILE [--json] [--phi] [--frame N]`: header facts, display presets and pixel statistics.
//!
//! Human output is aligned `label  value` text; `--json` prints [`InfoReport`]. Patient identifiers
//! appear only with `--phi`.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Context as _;

use super::args::InfoArgs;
use super::info_report::InfoReport;
use crate::dicom::{self, OpenOptions};

pub fn run(args: &InfoArgs) -> anyhow::Result<()> {
    let loaded = dicom::open(&args.file, &OpenOptions::default())?;
    let image = super::frame(&loaded, args.frame)?;
    let report = InfoReport::new(&loaded, image, args.frame, args.phi);
    let text = if args.json { serde_json::to_string_pretty(&report)? + "\n" } else { human(&report) };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).context("cannot write to stdout")?;
    Ok(())
}

/// Aligned `label  value` lines; absent values are left out.
#[must_use]
pub fn human(r: &InfoReport) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut add = |label: &str, value: String| rows.push((label.to_owned(), value));
    add("File", r.path.clone());
    add("Format", r.format.clone());
    add("Size", format!("{} columns × {} rows, {} frame(s)", r.columns, r.rows, r.frames));
    add("Bits", format!("{} allocated, {} stored, {}", r.bits_allocated, r.bits_stored, if r.signed { "signed" } else { "unsigned" }));
    add("Photometric", r.photometric.clone());
    if let Some(uid) = &r.transfer_syntax_uid {
        add("Transfer syntax", format!("{uid}{}", r.transfer_syntax_name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()));
    }
    opt(&mut add, "Modality", r.modality.as_ref());
    opt(&mut add, "SOP class", r.sop_class_uid.as_ref());
    let conversion = r.conversion_type.as_ref().map(|c| format!(" (Conversion Type {c})")).unwrap_or_default();
    add("Source", format!("{}{conversion}", r.image_source.label()));
    match (r.pixel_spacing_mm, &r.pixel_spacing_source_description) {
        (Some([row, col]), Some(src)) => add("Pixel spacing", format!("{row} × {col} mm (row × col) from {src}")),
        _ => add("Pixel spacing", "none: measurements in pixels".to_owned()),
    }
    opt(&mut add, "Spacing note", r.pixel_spacing_note.as_ref());
    for alt in &r.pixel_spacing_alternatives {
        let mark = if Some(alt.source) == r.pixel_spacing_source { " (chosen)" } else { "" };
        add("  alternative", format!("{} × {} mm from {}{mark}", num4(alt.row_mm), num4(alt.col_mm), alt.source.describe()));
    }
    for (i, p) in r.window_presets.iter().enumerate() {
        let expl = match (p.explanation.as_str(), p.from_file) {
            ("", true) => String::new(),
            ("", false) => " (generated)".to_owned(),
            (e, _) if e == p.name => String::new(),
            (e, _) => format!(": {e}"),
        };
        add(if i == 0 { "Window presets" } else { "" }, format!("[{i}] {}  C {} W {}{expl}", p.name, num(p.center), num(p.width)));
    }
    if r.window_presets.is_empty() {
        add("Window presets", "none".to_owned());
    }
    add("VOI function", r.voi_function.clone());
    for (i, l) in r.voi_luts.iter().enumerate() {
        add(
            if i == 0 { "VOI LUTs" } else { "" },
            format!("[{i}] {}: {} entries from {}, {} bits", l.explanation, l.entries, l.first_mapped, l.bits),
        );
    }
    let modality_transform = if r.modality_lut_used {
        "Modality LUT".to_owned()
    } else {
        format!("rescale slope {} intercept {}", r.rescale_slope, r.rescale_intercept)
    };
    add("Modality transform", modality_transform);
    opt(&mut add, "Laterality", r.laterality.as_ref());
    opt(&mut add, "View position", r.view_position.as_ref());
    opt(&mut add, "Presentation intent", r.presentation_intent.as_ref());
    if let Some([row, col]) = &r.patient_orientation {
        add("Patient orientation", format!("{row}\\{col} (row direction {row}, column direction {col})"));
    }
    opt(&mut add, "kVp", r.kvp.map(|v| format!("{v} kV")).as_ref());
    opt(&mut add, "Exposure", r.exposure_mas.map(|v| format!("{v} mAs")).as_ref());
    opt(&mut add, "Thickness", r.body_part_thickness_mm.map(|v| format!("{v} mm")).as_ref());
    opt(&mut add, "Compression force", r.compression_force_n.map(|v| format!("{v} N")).as_ref());
    opt(&mut add, "Anode/filter", r.anode_filter.as_ref());
    let device = [r.manufacturer.as_deref(), r.model.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if !device.is_empty() {
        add("Manufacturer/model", device);
    }
    add(&format!("Pixels (frame {})", r.frame), format!("min {} max {} mean {:.2}", r.pixel_min, r.pixel_max, r.pixel_mean));
    if let Some(p) = &r.patient {
        let none = || "—".to_owned();
        add("Patient name", p.name.clone().unwrap_or_else(none));
        add("Patient ID", p.id.clone().unwrap_or_else(none));
        add("Birth date", p.birth_date.clone().unwrap_or_else(none));
    }
    let width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        writeln!(out, "{label:<width$}  {value}").ok();
    }
    out
}

fn opt(add: &mut impl FnMut(&str, String), label: &str, value: Option<&impl ToString>) {
    if let Some(v) = value {
        add(label, v.to_string());
    }
}

/// A spacing in mm with at most four decimals, trailing zeros dropped.
fn num4(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A number for people: at most two decimals, trailing zeros dropped.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
