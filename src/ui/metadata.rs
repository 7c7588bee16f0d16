//! The metadata grid: acquisition and image attributes; patient identifiers only when asked.

use crate::app::OpenImage;

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

pub fn metadata_ui(ui: &mut egui::Ui, image: &OpenImage, show_phi: bool) {
    let m = &image.meta;
    let a = &m.mammo;
    let mut rows: Vec<(&str, String)> = vec![
        ("Format", m.format.clone()),
        ("Size", format!("{} × {} px, {} frame(s)", m.columns, m.rows, m.frames)),
        ("Bits", format!("{} stored / {} allocated{}", m.bits_stored, m.bits_allocated, if m.signed { ", signed" } else { "" })),
        ("Photometric", m.photometric.clone()),
        ("Transfer syntax", format!("{} {}", opt(m.transfer_syntax_name.as_deref()), opt(m.transfer_syntax_uid.as_deref()))),
        ("Modality", opt(m.modality.as_deref())),
        ("Source", m.image_source().label().to_owned()),
        ("Laterality", opt(a.laterality.map(crate::dicom::Laterality::code))),
        ("View", opt(a.view_position.as_deref())),
        ("Patient orientation", opt(a.patient_orientation.as_ref().map(|(r, c)| format!("{r}\\{c}")))),
        ("Presentation intent", opt(a.presentation_intent.as_deref())),
        ("kVp", opt(a.kvp)),
        ("Exposure (mAs)", opt(a.exposure_mas)),
        ("Thickness (mm)", opt(a.body_part_thickness_mm)),
        ("Compression (N)", opt(a.compression_force_n)),
        ("Anode/filter", opt(a.anode_filter.as_deref())),
        ("Manufacturer", opt(a.manufacturer.as_deref())),
        ("Model", opt(a.model.as_deref())),
        (
            "Modality LUT",
            if m.modality_lut_used {
                "Modality LUT Sequence".to_owned()
            } else {
                format!("slope {} intercept {}", m.rescale_slope, m.rescale_intercept)
            },
        ),
        ("VOI function", m.voi.function.dicom_name().to_owned()),
        ("Pixel range", format!("{} … {} (mean {:.1})", image.stats.min, image.stats.max, image.stats.mean)),
        ("Study date", opt(m.study_date.as_deref())),
        ("Study", opt(m.study_description.as_deref())),
        ("SOP Instance UID", opt(m.sop_instance_uid.as_deref())),
    ];
    if show_phi {
        rows.push(("Patient name", opt(m.patient.name.as_deref())));
        rows.push(("Patient ID", opt(m.patient.id.as_deref())));
        rows.push(("Birth date", opt(m.patient.birth_date.as_deref())));
    }
    egui::Grid::new(("metadata", image.id)).num_columns(2).striped(true).show(ui, |ui| {
        for (k, v) in rows {
            ui.label(egui::RichText::new(k).strong());
            ui.label(v);
            ui.end_row();
        }
    });
}
