//! The one-page CDMAM QA report: a self-contained HTML file (the contrast-detail figure embedded as a PNG) with the
//! system, dates, the images used and left out, the thresholds table with confidence intervals, the EUREF verdicts
//! and the image quality figure — what pylinac or the CDMAM Analyser print for a phantom test.

use std::fmt::Write as _;

use super::cdc::{CdcBand, CdcFigure, CdcSeries, render_cdc};
use crate::dicom::ImageMeta;
use crate::phantom::cdmam::analysis::{HumanThreshold, RowFlag, VerdictLevel};
use crate::phantom::cdmam::readout::SetReadout;

/// Facts about the acquisition for the report header (from the DICOM headers; never patient data).
#[derive(Clone, Debug, Default)]
pub struct ReportContext {
    /// Manufacturer, model and station of the unit.
    pub system: String,
    /// Acquisition date(s) as stated in the files.
    pub acquisition_date: String,
    /// Tube voltage and mAs, when the files state them.
    pub technique: String,
    /// When the report was made (UTC).
    pub generated: String,
    /// Per exposure used or left out: file name and SOP Instance UID.
    pub images: Vec<(String, Option<String>)>,
}

impl ReportContext {
    /// The header facts from the images' metadata: `(file name, metadata)` per exposure.
    pub fn from_metas<'a>(images: impl IntoIterator<Item = (String, &'a ImageMeta)>) -> Self {
        let mut ctx = Self { generated: utc_now(), ..Self::default() };
        let (mut systems, mut dates, mut techniques) = (Vec::new(), Vec::new(), Vec::new());
        for (name, meta) in images {
            let m = &meta.mammo;
            push_unique(&mut systems, [m.manufacturer.as_deref(), m.model.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "));
            push_unique(&mut dates, meta.study_date.clone().unwrap_or_default());
            if let (Some(kvp), Some(mas)) = (m.kvp, m.exposure_mas) {
                push_unique(&mut techniques, format!("{kvp} kVp, {mas} mAs"));
            }
            ctx.images.push((name, meta.sop_instance_uid.clone()));
        }
        ctx.system = systems.join("; ");
        ctx.acquisition_date = dates.join("; ");
        ctx.technique = techniques.join("; ");
        ctx
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !value.trim().is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

pub const AUTOMATED_COLOR: [u8; 3] = [31, 119, 180];
pub const HUMAN_COLOR: [u8; 3] = [120, 60, 170];

/// The contrast-detail figure of a readout: the rows' own thresholds as dots, the fitted automated curve, the
/// predicted human curve with its 95 % band, and the EUREF limits.
pub fn cdc_figure(readout: &SetReadout, title: &str) -> CdcFigure {
    let cdc = &readout.cdc;
    let own: Vec<(f64, f64)> = cdc.diameters.iter().filter_map(|d| Some((d.diameter_mm, d.automated_um?))).collect();
    let mut series = Vec::new();
    if let Some(curve) = &cdc.curve {
        let line = |label: &str, points: Vec<(f64, f64)>, color| CdcSeries {
            label: label.to_owned(),
            points,
            color,
            line: true,
            dashed: false,
            dots: false,
        };
        series.push(line(
            "automated (fitted curve)",
            curve.dense.iter().map(|p| (p.diameter_mm, p.automated_um)).collect(),
            AUTOMATED_COLOR,
        ));
        series.push(line("predicted human", curve.dense.iter().map(|p| (p.diameter_mm, p.human_um)).collect(), HUMAN_COLOR));
    }
    series.push(CdcSeries {
        label: "automated per diameter".to_owned(),
        points: own,
        color: AUTOMATED_COLOR,
        line: cdc.curve.is_none(),
        dashed: false,
        dots: true,
    });
    let band: Vec<(f64, f64, f64)> = cdc.diameters.iter().filter_map(|d| Some((d.diameter_mm, d.ci_human?[0], d.ci_human?[1]))).collect();
    let bands =
        if band.is_empty() { Vec::new() } else { vec![CdcBand { label: "human 95% CI".to_owned(), points: band, color: HUMAN_COLOR }] };
    CdcFigure { title: title.to_owned(), series, bands, limits: true }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A thickness in µm to 3 decimals, or a dash.
pub fn um(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.3}"))
}

/// A confidence interval `lo–hi` in µm, or a dash.
pub fn ci(v: Option<[f64; 2]>) -> String {
    v.map_or_else(|| "–".to_owned(), |[a, b]| format!("{a:.3}–{b:.3}"))
}

pub fn level_text(level: VerdictLevel) -> &'static str {
    match level {
        VerdictLevel::Achievable => "achievable",
        VerdictLevel::Acceptable => "acceptable",
        VerdictLevel::Fail => "FAIL",
        VerdictLevel::NotAssessed => "not assessed",
    }
}

/// What is known of a predicted human threshold: a value, a bound (≤, ≥) or a dash.
pub fn human_text(h: HumanThreshold) -> String {
    match h {
        HumanThreshold::Value(v) => format!("{v:.3}"),
        HumanThreshold::AtMost(v) => format!("≤ {v:.3}"),
        HumanThreshold::AtLeast(v) => format!("≥ {v:.3}"),
        HumanThreshold::Unknown => "–".to_owned(),
    }
}

/// The report as one self-contained HTML page.
///
/// # Errors
/// When the figure cannot be encoded as PNG.
pub fn render_html(readout: &SetReadout, ctx: &ReportContext) -> Result<String, image::ImageError> {
    let cdc = &readout.cdc;
    let png = super::canvas::encode_png(&render_cdc(&cdc_figure(readout, "CDMAM 3.4 contrast-detail curve")))?;
    let mut h = String::new();
    let w = &mut h;
    // `write!` into a String cannot fail.
    let _ = write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>CDMAM QA report</title>\n<style>\
body{{font-family:sans-serif;margin:24px;max-width:900px;color:#111}} h1{{font-size:20px;margin:0 0 4px}} \
table{{border-collapse:collapse;font-size:12px;margin:6px 0 12px}} td,th{{border:1px solid #bbb;padding:2px 6px;text-align:right}} \
th{{background:#eee}} td.l,th.l{{text-align:left}} .fail{{color:#b00;font-weight:bold}} .ok{{color:#070}} .meta td{{border:none;text-align:left;padding:1px 8px 1px 0}} \
.small{{font-size:11px;color:#555}} @media print{{body{{margin:8mm}}}}</style></head><body>\n"
    );
    let _ = write!(w, "<h1>CDMAM 3.4 image quality — automated readout</h1>\n<table class=\"meta\">");
    for (k, v) in [
        ("System", ctx.system.as_str()),
        ("Acquisition date", ctx.acquisition_date.as_str()),
        ("Technique", ctx.technique.as_str()),
        ("Report generated", ctx.generated.as_str()),
    ] {
        let _ = write!(w, "<tr><td><b>{k}</b></td><td>{}</td></tr>", esc(v));
    }
    let overall = level_text(cdc.overall);
    let class = if cdc.overall == VerdictLevel::Fail { "fail" } else { "ok" };
    let _ = write!(
        w,
        "<tr><td><b>Result</b></td><td class=\"{class}\">{overall}</td></tr><tr><td><b>Images</b></td><td>{} used, {} left out; truth: {}</td></tr>",
        readout.exposures.len(),
        readout.failures.len(),
        match cdc.truth_source {
            crate::phantom::cdmam::analysis::TruthSource::Layout => "CDMAM 3.4 layout chart (confirmed by the images)",
            crate::phantom::cdmam::analysis::TruthSource::Consensus => "leave-one-out consensus of the images",
        }
    );
    let _ = writeln!(
        w,
        "<tr><td><b>Image quality figure</b></td><td>IQF = Σ d·T<sub>human</sub> = {} mm·µm; IQF<sub>inv</sub> = 100 / Σ d·T<sub>auto</sub> = {}</td></tr></table>",
        um(cdc.iqf),
        cdc.iqf_inv.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
    );
    for warning in &cdc.warnings {
        let _ = writeln!(w, "<p class=\"small\">⚠ {}</p>", esc(&warning.to_string()));
    }
    let _ = writeln!(w, "<img alt=\"contrast-detail curve\" width=\"720\" height=\"560\" src=\"data:image/png;base64,{}\">", base64(&png));

    let _ = write!(
        w,
        "<h2 style=\"font-size:15px\">EUREF limits (predicted human threshold, µm)</h2><table><tr><th>diameter (mm)</th><th>predicted human</th><th>acceptable</th><th>achievable</th><th>verdict</th></tr>"
    );
    for v in &cdc.verdicts {
        let class = if v.level == VerdictLevel::Fail { "fail" } else { "" };
        let _ = write!(
            w,
            "<tr><td>{:.2}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td class=\"{class}\">{}{}</td></tr>",
            v.diameter_mm,
            human_text(v.human),
            v.acceptable_um,
            v.achievable_um,
            level_text(v.level),
            if v.in_readout_range { "" } else { " (outside the automated range)" }
        );
    }
    let _ = write!(
        w,
        "</table><h2 style=\"font-size:15px\">Thresholds per diameter (gold thickness, µm)</h2><table><tr><th>diameter (mm)</th>\
<th>automated (row fit)</th><th>automated (curve)</th><th>95% CI</th><th>human factor</th><th>predicted human</th><th>95% CI</th><th class=\"l\">notes</th></tr>"
    );
    for d in &cdc.diameters {
        let notes: Vec<&str> = d
            .flags
            .iter()
            .map(|f| match f {
                RowFlag::BelowRange => "every disc seen: below the thinnest disc",
                RowFlag::AboveRange => "at chance: above the thickest disc",
                RowFlag::TooFewPoints => "too few cells scored",
                RowFlag::NotConverged => "fit did not converge",
            })
            .collect();
        let _ = write!(
            w,
            "<tr><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
            d.diameter_mm,
            d.automated_um.map_or_else(|| d.upper_bound_um.map_or_else(|| "–".to_owned(), |u| format!("≤ {u:.3}")), |v| format!("{v:.3}")),
            um(d.fitted_um),
            ci(d.ci_automated),
            d.human_factor,
            um(d.human_um),
            ci(d.ci_human),
            esc(&notes.join(", "))
        );
    }
    let _ = write!(
        w,
        "</table><h2 style=\"font-size:15px\">Images</h2><table><tr><th class=\"l\">file</th><th class=\"l\">SOP Instance UID</th><th class=\"l\">status</th></tr>"
    );
    for (name, uid) in &ctx.images {
        let failure = readout.failures.iter().find(|(n, _)| n == name).map(|(_, why)| why.as_str());
        let _ = write!(
            w,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(name),
            esc(uid.as_deref().unwrap_or("–")),
            failure.map_or_else(|| "used".to_owned(), |why| format!("left out: {}", esc(why)))
        );
    }
    let _ = writeln!(
        w,
        "</table><p class=\"small\">Automated readout as recommended by the European Guidelines: 4-alternative forced choice per cell with a \
matched filter, nearest-neighbour correction, detection matrix summed over {} images and smoothed, psychometric fit \
p(t) = 0.25 + 0.75/(1 + exp(−f(C − C<sub>t</sub>))) with C = ln(1 − exp(−0.19 t)) per diameter, threshold at 62.5 % correct, \
thresholds smoothed with T(d) = a + b/d + c/d² + e/d³, predicted human threshold = human factor × automated; confidence intervals \
by the bootstrap over images ({} replicates). Mammoscope {} — research software, not for clinical use.</p></body></html>",
        cdc.images,
        cdc.bootstrap_replicates,
        env!("CARGO_PKG_VERSION")
    );
    Ok(h)
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The current time as `YYYY-MM-DD HH:MM UTC` (no time-zone database needed).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn utc_now_is_a_plausible_date() {
        let now = utc_now();
        assert_eq!(now.len(), "2026-11-21 11:30 UTC".len(), "{now}");
        assert!(now.starts_with("20"), "{now}");
    }

    #[test]
    fn html_escapes() {
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
