//! The contrast-detail curve as a PNG figure: threshold gold thickness (µm) against disc diameter (mm), both axes
//! logarithmic as in the CDMAM Analyser and the European Guidelines, with the EUREF acceptable and achievable limits,
//! confidence bands and any number of curves.

// Pixel geometry converts between f64 data, f32 coordinates and integer pixel indices; every value is clamped or
// bounds-checked before it indexes the image.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, clippy::cast_possible_wrap)]

use image::{Rgb, RgbImage};

use super::canvas::{
    ADVANCE, BLACK, CAP_H, Coverage, GRID, LEGEND_FRAME, TEXT, TEXT_SCALE, WHITE, blend, dot, draw_text, draw_text_up, fill_rect, frame,
    text_width, text_width_bold, truncate,
};
use crate::phantom::cdmam::tables::EUREF_LIMITS;

/// One curve: `(diameter mm, thickness µm)` points, drawn as a polyline, optionally with dots and dashed.
#[derive(Clone, Debug)]
pub struct CdcSeries {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: [u8; 3],
    /// Join the points with a line.
    pub line: bool,
    pub dashed: bool,
    pub dots: bool,
}

/// A shaded band between `lower` and `upper` thickness at each diameter (a confidence interval).
#[derive(Clone, Debug)]
pub struct CdcBand {
    pub label: String,
    /// `(diameter mm, lower µm, upper µm)`.
    pub points: Vec<(f64, f64, f64)>,
    pub color: [u8; 3],
}

/// Everything on the figure.
#[derive(Clone, Debug, Default)]
pub struct CdcFigure {
    pub title: String,
    pub series: Vec<CdcSeries>,
    pub bands: Vec<CdcBand>,
    /// Draw the EUREF acceptable and achievable limits.
    pub limits: bool,
}

pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 560;
const PLOT_LEFT: u32 = 110;
const PLOT_TOP: u32 = 50;
const PLOT_W: u32 = 580;
const PLOT_H: u32 = 420;
/// Axis ranges (log10): diameters 0.05–2.5 mm, thicknesses 0.01–10 µm.
const X_RANGE: (f64, f64) = (-1.30103, 0.39794);
const Y_RANGE: (f64, f64) = (-2.0, 1.0);
const BAND_ALPHA: f32 = 0.22;

/// EUREF acceptable limit colour (red) and achievable (green), as in the CDMAM Analyser's plots.
pub const ACCEPTABLE_COLOR: [u8; 3] = [200, 30, 30];
pub const ACHIEVABLE_COLOR: [u8; 3] = [30, 140, 60];

/// Data → continuous pixel coordinates; `None` for non-positive or non-finite values.
fn to_px(d: f64, t: f64) -> Option<(f32, f32)> {
    if !(d > 0.0 && t > 0.0 && d.is_finite() && t.is_finite()) {
        return None;
    }
    let fx = (d.log10() - X_RANGE.0) / (X_RANGE.1 - X_RANGE.0);
    let fy = (t.log10() - Y_RANGE.0) / (Y_RANGE.1 - Y_RANGE.0);
    let x = f64::from(PLOT_LEFT) + 0.5 + fx.clamp(-0.02, 1.02) * f64::from(PLOT_W);
    let y = f64::from(PLOT_TOP + PLOT_H) + 0.5 - fy.clamp(-0.02, 1.02) * f64::from(PLOT_H);
    Some((x as f32, y as f32))
}

/// Draw the figure in memory (`WIDTH` × `HEIGHT` RGB).
pub fn render_cdc(fig: &CdcFigure) -> RgbImage {
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb(WHITE));
    let (right, bottom) = (PLOT_LEFT + PLOT_W, PLOT_TOP + PLOT_H);
    let x_grid = [0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.31, 0.4, 0.5, 0.63, 0.8, 1.0, 1.25, 1.6, 2.0];
    let x_ticks = [0.06, 0.1, 0.16, 0.25, 0.5, 1.0, 2.0];
    let y_ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0];
    for &d in &x_grid {
        if let Some((x, _)) = to_px(d, 1.0) {
            fill_rect(&mut img, x as u32, PLOT_TOP, 1, PLOT_H, GRID);
        }
    }
    for &t in &y_ticks {
        if let Some((_, y)) = to_px(1.0, t) {
            fill_rect(&mut img, PLOT_LEFT, y as u32, PLOT_W, 1, GRID);
        }
    }
    for band in &fig.bands {
        fill_band(&mut img, band);
    }
    if fig.limits {
        let acceptable: Vec<(f64, f64)> = EUREF_LIMITS.iter().map(|l| (l.diameter_mm, l.acceptable_um)).collect();
        let achievable: Vec<(f64, f64)> = EUREF_LIMITS.iter().map(|l| (l.diameter_mm, l.achievable_um)).collect();
        polyline(&mut img, &acceptable, ACCEPTABLE_COLOR, 1.0, Some((8.0, 4.0)));
        polyline(&mut img, &achievable, ACHIEVABLE_COLOR, 1.0, Some((8.0, 4.0)));
        for p in acceptable.iter().chain(&achievable) {
            if let Some(c) = to_px(p.0, p.1) {
                small_square(&mut img, c, BLACK);
            }
        }
    }
    for s in fig.series.iter().filter(|s| s.line) {
        polyline(&mut img, &s.points, s.color, 1.0, s.dashed.then_some((7.0, 5.0)));
    }
    for s in fig.series.iter().filter(|s| s.dots) {
        for c in s.points.iter().filter_map(|p| to_px(p.0, p.1)) {
            dot(&mut img, c, s.color);
        }
    }
    fill_rect(&mut img, 0, 0, WIDTH, PLOT_TOP, WHITE);
    fill_rect(&mut img, 0, bottom + 1, WIDTH, HEIGHT - bottom - 1, WHITE);
    fill_rect(&mut img, 0, 0, PLOT_LEFT, HEIGHT, WHITE);
    fill_rect(&mut img, right + 1, 0, WIDTH - right - 1, HEIGHT, WHITE);
    frame(&mut img, PLOT_LEFT, PLOT_TOP, PLOT_W + 1, PLOT_H + 1, BLACK);

    for &d in &x_ticks {
        if let Some((x, _)) = to_px(d, 1.0) {
            let label = format!("{d}");
            fill_rect(&mut img, x as u32, bottom + 1, 1, 5, BLACK);
            draw_text(&mut img, i64::from(x as u32) - i64::from(text_width(&label) / 2), i64::from(bottom + 10), &label, TEXT, false);
        }
    }
    for &t in &y_ticks {
        if let Some((_, y)) = to_px(1.0, t) {
            let label = format!("{t}");
            fill_rect(&mut img, PLOT_LEFT - 5, y as u32, 5, 1, BLACK);
            let lx = i64::from(PLOT_LEFT - 10) - i64::from(text_width(&label));
            draw_text(&mut img, lx, i64::from(y as u32) - i64::from(CAP_H / 2), &label, TEXT, false);
        }
    }
    let x_title = "Disc diameter (mm)";
    let centre_x = i64::from(PLOT_LEFT + PLOT_W / 2);
    draw_text(&mut img, centre_x - i64::from(text_width(x_title) / 2), i64::from(bottom + 36), x_title, TEXT, false);
    let y_title = "Threshold gold thickness (um)";
    draw_text_up(&mut img, 20, i64::from(PLOT_TOP + PLOT_H / 2) + i64::from(text_width(y_title) / 2), y_title, TEXT);
    legend(&mut img, fig, right);
    let title = truncate(&fig.title, ((WIDTH - 16) / (ADVANCE + 1)) as usize);
    let tx = (centre_x - i64::from(text_width_bold(&title) / 2)).clamp(8, i64::from(WIDTH.saturating_sub(text_width_bold(&title) + 8)));
    draw_text(&mut img, tx, 16, &title, BLACK, true);
    img
}

fn polyline(img: &mut RgbImage, points: &[(f64, f64)], color: [u8; 3], half_width: f32, dash: Option<(f32, f32)>) {
    let pts: Vec<(f32, f32)> = points.iter().filter_map(|p| to_px(p.0, p.1)).collect();
    let mut cov = Coverage::new(WIDTH, HEIGHT);
    for w in pts.windows(2) {
        cov.stroke(w[0], w[1], half_width, dash);
    }
    cov.paint(img, color);
}

fn small_square(img: &mut RgbImage, (x, y): (f32, f32), color: [u8; 3]) {
    for dy in -2..=2 {
        for dx in -2..=2 {
            blend(img, x as i64 + dx, y as i64 + dy, color, 1.0);
        }
    }
}

/// Shade between the band's lower and upper curves, column by column, interpolating in log-log space; each column
/// is painted once (segments sharing a column do not darken it twice).
fn fill_band(img: &mut RgbImage, band: &CdcBand) {
    let pts: Vec<((f32, f32), (f32, f32))> =
        band.points.iter().filter_map(|&(d, lo, hi)| Some((to_px(d, lo.min(hi))?, to_px(d, hi.max(lo))?))).collect();
    let mut columns = std::collections::BTreeMap::<i64, (f32, f32)>::new();
    for w in pts.windows(2) {
        let ((xa, ya_lo), (_, ya_hi)) = (w[0].0, w[0].1);
        let ((xb, yb_lo), (_, yb_hi)) = (w[1].0, w[1].1);
        let (x0, x1) = (xa.min(xb).floor() as i64, xa.max(xb).ceil() as i64);
        for x in x0..x1 {
            let f = if (xb - xa).abs() > f32::EPSILON { ((x as f32 + 0.5 - xa) / (xb - xa)).clamp(0.0, 1.0) } else { 0.0 };
            let y_lo = ya_lo + f * (yb_lo - ya_lo); // lower thickness = larger y
            let y_hi = ya_hi + f * (yb_hi - ya_hi);
            let span = columns.entry(x).or_insert((y_hi, y_lo));
            *span = (span.0.min(y_hi), span.1.max(y_lo));
        }
    }
    for (x, (y_hi, y_lo)) in columns {
        for y in y_hi.round() as i64..=y_lo.round() as i64 {
            blend(img, x, y, band.color, BAND_ALPHA);
        }
    }
}

/// Legend in the top-right corner of the plot (CDCs fall from top left to bottom right, leaving it mostly free).
fn legend(img: &mut RgbImage, fig: &CdcFigure, right: u32) {
    const PAD: u32 = 8;
    const ROW: u32 = 20;
    const SWATCH: u32 = 28;
    let mut rows: Vec<(String, [u8; 3], u8)> = fig.series.iter().map(|s| (s.label.clone(), s.color, u8::from(s.dashed))).collect();
    rows.extend(fig.bands.iter().map(|b| (b.label.clone(), b.color, 2)));
    if fig.limits {
        rows.push(("EUREF acceptable".to_owned(), ACCEPTABLE_COLOR, 1));
        rows.push(("EUREF achievable".to_owned(), ACHIEVABLE_COLOR, 1));
    }
    rows.truncate(12);
    let rows: Vec<_> = rows.into_iter().map(|(t, c, k)| (truncate(&t, 30), c, k)).collect();
    let text_w = rows.iter().map(|r| text_width(&r.0)).max().unwrap_or(0);
    let (box_w, box_h) = (PAD + SWATCH + 10 + text_w + PAD, 2 * PAD + ROW * rows.len() as u32 - (ROW - CAP_H) + TEXT_SCALE);
    let (x0, y0) = (right - 10 - box_w, PLOT_TOP + 10);
    fill_rect(img, x0, y0, box_w, box_h, WHITE);
    frame(img, x0, y0, box_w, box_h, LEGEND_FRAME);
    for (i, (text, color, kind)) in rows.iter().enumerate() {
        let top = y0 + PAD + ROW * i as u32;
        let mid = top as f32 + CAP_H as f32 / 2.0;
        let sx = (x0 + PAD) as f32;
        if *kind == 2 {
            for y in top..top + CAP_H {
                for x in x0 + PAD..x0 + PAD + SWATCH {
                    blend(img, i64::from(x), i64::from(y), *color, BAND_ALPHA * 2.0);
                }
            }
        } else {
            let mut cov = Coverage::new(WIDTH, HEIGHT);
            cov.stroke((sx, mid), (sx + SWATCH as f32, mid), 1.0, (*kind == 1).then_some((7.0, 4.0)));
            cov.paint(img, *color);
        }
        draw_text(img, i64::from(x0 + PAD + SWATCH + 10), i64::from(top), text, TEXT, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> CdcFigure {
        let d: [f64; 12] = [1.0, 0.8, 0.63, 0.5, 0.4, 0.31, 0.25, 0.2, 0.16, 0.13, 0.1, 0.08];
        let auto: Vec<(f64, f64)> = d.iter().map(|&d| (d, 0.04 / d.powf(1.3))).collect();
        CdcFigure {
            title: "CDMAM - test".to_owned(),
            series: vec![CdcSeries {
                label: "automated".to_owned(),
                points: auto.clone(),
                color: [31, 119, 180],
                line: true,
                dashed: false,
                dots: true,
            }],
            bands: vec![CdcBand {
                label: "95% CI".to_owned(),
                points: auto.iter().map(|&(d, t)| (d, t * 0.8, t * 1.25)).collect(),
                color: [31, 119, 180],
            }],
            limits: true,
        }
    }

    #[test]
    fn draws_limits_curve_and_band() {
        let img = render_cdc(&figure());
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        // The curve's dot at 0.5 mm is the series colour.
        let (x, y) = to_px(0.5, 0.04 / 0.5f64.powf(1.3)).unwrap();
        assert_eq!(img.get_pixel(x as u32, y as u32).0, [31, 119, 180]);
        // The band tints a pixel between the curve and its upper bound.
        let (x, y) = to_px(0.3, 0.04 / 0.3f64.powf(1.3) * 1.15).unwrap();
        let p = img.get_pixel(x as u32, y as u32).0;
        assert!(p != WHITE && p[2] > p[0], "band pixel {p:?}");
        // Some pixels carry the EUREF limit colours.
        let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
        assert!(count(ACCEPTABLE_COLOR) > 50 && count(ACHIEVABLE_COLOR) > 50);
    }

    #[test]
    fn odd_values_do_not_panic() {
        let mut fig = figure();
        fig.series[0].points.extend([(0.0, 1.0), (f64::NAN, 2.0), (1.0, -3.0), (1e9, 1e-9)]);
        fig.bands[0].points.push((f64::INFINITY, 0.0, 1.0));
        fig.title = "x".repeat(400);
        let _ = render_cdc(&fig);
        let _ = render_cdc(&CdcFigure::default());
    }

    /// Writes the example figure for a visual check: `cargo test --lib report::cdc -- --ignored`.
    #[test]
    #[ignore = "writes /tmp/cdc_example.png for a visual check"]
    fn example_figure() {
        let png = crate::report::canvas::encode_png(&render_cdc(&figure())).unwrap();
        std::fs::write("/tmp/cdc_example.png", png).unwrap();
    }
}
