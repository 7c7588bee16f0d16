//! ROC curves for a model card, drawn as a PNG with nothing but the `image` crate (primitives in [`super::canvas`]).
//!
//! [`write_roc_png`] draws a 640×560 figure: a square plot with a frame, a light grid at 0.2 steps, tick labels on both
//! axes, axis titles, the dashed grey chance diagonal, one 2-px anti-aliased polyline per [`RocSeries`], its operating
//! point as a filled dot with a black outline, a legend in the bottom-right corner of the plot (ROC curves hug the top
//! left) and the title on top. Text uses an embedded 5×7 bitmap font (with descenders) drawn ×2; characters outside printable ASCII draw
//! as `?`. The file is written atomically (a temporary file in the same folder, then a rename).

// Pixel geometry converts between f32 coordinates and u32/i64 pixel indices throughout; every value is clamped or
// bounds-checked before it indexes the image (the same lints are allowed crate-wide in Cargo.toml).
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, clippy::cast_possible_wrap)]

use std::path::Path;

use anyhow::{Context as _, bail};
use image::{Rgb, RgbImage};

use super::canvas::{
    ADVANCE, BLACK, CAP_H, CHANCE, Coverage, GRID, LEGEND_FRAME, TEXT, TEXT_SCALE, WHITE, dot, draw_text, draw_text_up, fill_rect, frame,
    text_width, text_width_bold, truncate,
};

/// One ROC curve to draw.
#[derive(Clone, Copy, Debug)]
pub struct RocSeries<'a> {
    /// Legend text, e.g. `plain, AUC 0.987` (non-ASCII characters draw as `?`).
    pub label: &'a str,
    /// `(fpr, tpr)` pairs sorted by threshold, from `(0, 0)` to `(1, 1)`. Values are clamped to `[0, 1]`;
    /// non-finite points are skipped.
    pub points: &'a [(f64, f64)],
    /// Line and dot colour (RGB).
    pub color: [u8; 3],
    /// `(fpr, tpr)` of the chosen threshold, drawn as a dot; none when `None`.
    pub operating_point: Option<(f64, f64)>,
}

/// Image width in pixels.
const WIDTH: u32 = 640;
/// Image height in pixels.
const HEIGHT: u32 = 560;
/// Side of the square plot area in pixels (divisible by 5, so the 0.2 grid falls on whole pixels).
const PLOT_SIZE: u32 = 440;
/// Left edge (frame column) of the plot area.
const PLOT_LEFT: u32 = 136;
/// Top edge (frame row) of the plot area.
const PLOT_TOP: u32 = 50;
/// Left edge of the vertical y-axis title.
const Y_TITLE_LEFT: u32 = 64;
/// Top of the figure title.
const TITLE_TOP: u32 = 16;
/// Length of the tick marks outside the frame.
const TICK_LEN: u32 = 5;

/// Half the width of a series line (2 px).
const SERIES_HALF_WIDTH: f32 = 1.0;
/// Half the width of the chance diagonal, and its dash and gap lengths in pixels.
const CHANCE_HALF_WIDTH: f32 = 0.75;
const CHANCE_DASH: f32 = 7.0;
const CHANCE_GAP: f32 = 5.0;

/// Draw `series` as ROC curves under `title` and write the figure to `path` as a 640×560 RGB PNG.
///
/// The PNG is encoded into a temporary file beside `path` (`.NAME.PID.N.tmp`) and renamed over `path`, so readers never
/// see a half-written file; the temporary file is removed on error.
///
/// # Errors
///
/// When `path` names no file or a directory, or the temporary file cannot be created, written or renamed (a missing
/// or read-only folder, a full disk).
pub fn write_roc_png(path: &Path, title: &str, series: &[RocSeries<'_>]) -> anyhow::Result<()> {
    let img = render(title, series);
    write_png_atomically(path, &img)
}

/// Draw the whole figure in memory.
fn render(title: &str, series: &[RocSeries<'_>]) -> RgbImage {
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb(WHITE));
    let right = PLOT_LEFT + PLOT_SIZE;
    let bottom = PLOT_TOP + PLOT_SIZE;

    // Grid, chance diagonal, curves, then the frame (curves running along an edge stay visible over it).
    for k in 1..5 {
        let off = k * PLOT_SIZE / 5;
        fill_rect(&mut img, PLOT_LEFT + off, PLOT_TOP, 1, PLOT_SIZE + 1, GRID);
        fill_rect(&mut img, PLOT_LEFT, bottom - off, PLOT_SIZE + 1, 1, GRID);
    }
    let mut cov = Coverage::new(WIDTH, HEIGHT);
    cov.stroke(to_px(0.0, 0.0), to_px(1.0, 1.0), CHANCE_HALF_WIDTH, Some((CHANCE_DASH, CHANCE_GAP)));
    cov.paint(&mut img, CHANCE);

    frame(&mut img, PLOT_LEFT, PLOT_TOP, PLOT_SIZE + 1, PLOT_SIZE + 1, BLACK);
    for s in series {
        let mut cov = Coverage::new(WIDTH, HEIGHT);
        let pts: Vec<(f32, f32)> = s.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite()).map(|&(x, y)| to_px(x, y)).collect();
        match pts.as_slice() {
            [] => {}
            [p] => cov.stroke(*p, *p, SERIES_HALF_WIDTH, None),
            _ => {
                for w in pts.windows(2) {
                    cov.stroke(w[0], w[1], SERIES_HALF_WIDTH, None);
                }
            }
        }
        cov.paint(&mut img, s.color);
    }

    // Ticks and tick labels.
    for k in 0..=5 {
        let off = k * PLOT_SIZE / 5;
        let label = format!("{:.1}", f64::from(k) * 0.2);
        let w = text_width(&label);
        let x = PLOT_LEFT + off;
        fill_rect(&mut img, x, bottom + 1, 1, TICK_LEN, BLACK);
        draw_text(&mut img, i64::from(x) - i64::from(w / 2), i64::from(bottom + TICK_LEN + 5), &label, TEXT, false);
        let y = bottom - off;
        fill_rect(&mut img, PLOT_LEFT - TICK_LEN, y, TICK_LEN, 1, BLACK);
        let lx = i64::from(PLOT_LEFT - TICK_LEN - 5) - i64::from(w);
        draw_text(&mut img, lx, i64::from(y) - i64::from(CAP_H / 2), &label, TEXT, false);
    }

    // Axis titles: x centred under the tick labels, y written bottom to top left of its tick labels.
    let centre_x = i64::from(PLOT_LEFT + PLOT_SIZE / 2);
    let x_title = "False positive rate (1 - specificity)";
    draw_text(&mut img, centre_x - i64::from(text_width(x_title) / 2), i64::from(bottom + TICK_LEN + 31), x_title, TEXT, false);
    let y_title = "True positive rate (sensitivity)";
    let y_start = i64::from(PLOT_TOP + PLOT_SIZE / 2) + i64::from(text_width(y_title) / 2);
    draw_text_up(&mut img, i64::from(Y_TITLE_LEFT), y_start, y_title, TEXT);

    // Operating points above every curve.
    for s in series {
        if let Some((x, y)) = s.operating_point
            && x.is_finite()
            && y.is_finite()
        {
            dot(&mut img, to_px(x, y), s.color);
        }
    }

    legend(&mut img, series, right, bottom);

    // Title: bold, centred over the plot, truncated to the image width.
    let title = truncate(title, ((WIDTH - 16) / (ADVANCE + 1)) as usize);
    let tw = text_width_bold(&title);
    let tx = (centre_x - i64::from(tw / 2)).clamp(8, i64::from(WIDTH.saturating_sub(tw + 8)));
    draw_text(&mut img, tx, i64::from(TITLE_TOP), &title, BLACK, true);
    img
}

/// The legend box, anchored in the bottom-right corner of the plot (`right`, `bottom` are the frame's edges): one row
/// per series (line swatch and label), one for the chance diagonal and, when any series has one, one for the
/// operating-point dot.
fn legend(img: &mut RgbImage, series: &[RocSeries<'_>], right: u32, bottom: u32) {
    const MARGIN: u32 = 10;
    const PAD: u32 = 8;
    const ROW: u32 = 20;
    const SWATCH: u32 = 28;
    const GAP: u32 = 10;
    let max_chars = ((PLOT_SIZE - 2 * MARGIN - 2 * PAD - SWATCH - GAP) / ADVANCE) as usize;
    let has_dot = series.iter().any(|s| s.operating_point.is_some());

    let mut rows: Vec<(String, Swatch)> = series.iter().map(|s| (truncate(s.label, max_chars), Swatch::Line(s.color))).collect();
    rows.push(("chance".to_owned(), Swatch::Dashed));
    if has_dot {
        rows.push(("operating point".to_owned(), Swatch::Dot));
    }
    // At most as many rows as fit in the plot.
    rows.truncate(((PLOT_SIZE - 2 * MARGIN - 2 * PAD) / ROW) as usize);

    let text_w = rows.iter().map(|(t, _)| text_width(t)).max().unwrap_or(0);
    let box_w = PAD + SWATCH + GAP + text_w + PAD;
    // The last row's descenders hang into the bottom padding: two pixels more there.
    let box_h = 2 * PAD + ROW * rows.len() as u32 - (ROW - CAP_H) + TEXT_SCALE;
    let x0 = right - MARGIN - box_w;
    let y0 = bottom - MARGIN - box_h;
    fill_rect(img, x0, y0, box_w, box_h, WHITE);
    frame(img, x0, y0, box_w, box_h, LEGEND_FRAME);

    for (i, (text, swatch)) in rows.iter().enumerate() {
        let top = y0 + PAD + ROW * i as u32;
        let mid = top as f32 + CAP_H as f32 / 2.0;
        let sx0 = (x0 + PAD) as f32;
        let sx1 = sx0 + SWATCH as f32;
        let mut cov = Coverage::new(WIDTH, HEIGHT);
        match *swatch {
            Swatch::Line(color) => {
                cov.stroke((sx0, mid), (sx1, mid), SERIES_HALF_WIDTH, None);
                cov.paint(img, color);
            }
            Swatch::Dashed => {
                cov.stroke((sx0, mid), (sx1, mid), CHANCE_HALF_WIDTH, Some((CHANCE_DASH, CHANCE_GAP)));
                cov.paint(img, CHANCE);
            }
            Swatch::Dot => dot(img, (f32::midpoint(sx0, sx1), mid), WHITE),
        }
        draw_text(img, i64::from(x0 + PAD + SWATCH + GAP), i64::from(top), text, TEXT, false);
    }
}

/// What a legend row shows left of its label.
#[derive(Clone, Copy)]
enum Swatch {
    Line([u8; 3]),
    Dashed,
    Dot,
}

/// `(fpr, tpr)` to continuous image coordinates (pixel `(i, j)` covers `[i, i+1) × [j, j+1)`); 0 and 1 fall on the
/// centres of the frame's pixels. Values are clamped to `[0, 1]`.
fn to_px(fpr: f64, tpr: f64) -> (f32, f32) {
    let size = f64::from(PLOT_SIZE);
    let x = f64::from(PLOT_LEFT) + 0.5 + fpr.clamp(0.0, 1.0) * size;
    let y = f64::from(PLOT_TOP + PLOT_SIZE) + 0.5 - tpr.clamp(0.0, 1.0) * size;
    (x as f32, y as f32)
}

/// Encode `img` as PNG into a temporary file beside `out`, then rename it over `out`; the temporary file is removed on
/// error.
fn write_png_atomically(out: &Path, img: &RgbImage) -> anyhow::Result<()> {
    if out.is_dir() {
        bail!("ROC plot path is a directory ({})", out.display());
    }
    let bytes = super::canvas::encode_png(img).with_context(|| format!("cannot encode PNG ({})", out.display()))?;
    crate::dicom::atomic::write_file_atomically(out, &bytes).with_context(|| format!("cannot write {}", out.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::report::canvas::{DOT_RADIUS, FONT, glyph};

    /// `(fpr, tpr)` points of one curve.
    type Curve = Vec<(f64, f64)>;

    /// A good curve and a worse one.
    fn example() -> (Curve, Curve) {
        let good = (0..=100)
            .map(|i| {
                let x = f64::from(i) / 100.0;
                (x, 1.0 - (1.0 - x).powi(12))
            })
            .collect();
        let worse = (0..=100)
            .map(|i| {
                let x = f64::from(i) / 100.0;
                (x, x.powf(0.4))
            })
            .collect();
        (good, worse)
    }

    /// The pixel whose centre is nearest to `(fpr, tpr)`.
    fn pixel_at(img: &RgbImage, fpr: f64, tpr: f64) -> [u8; 3] {
        let (x, y) = to_px(fpr, tpr);
        img.get_pixel(x.floor() as u32, y.floor() as u32).0
    }

    #[test]
    fn writes_png_of_expected_size_with_diagonal_and_operating_point() {
        let (good, worse) = example();
        let series = [
            RocSeries { label: "plain, AUC 0.987", points: &good, color: [31, 119, 180], operating_point: Some((0.1, 0.8)) },
            RocSeries { label: "noisy, AUC 0.812", points: &worse, color: [214, 39, 40], operating_point: None },
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roc.png");
        write_roc_png(&path, "ROC — calcification detector", &series).unwrap();

        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        // Only the PNG is left in the folder (the temporary file was renamed).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        // Along the middle of the diagonal every pixel is grey or white, and the dashes leave grey ones.
        let mut grey = 0;
        for i in 300..=700 {
            let t = f64::from(i) / 1000.0;
            let [r, g, b] = pixel_at(&img, t, t);
            assert!(r == g && g == b, "diagonal pixel at {t} is not grey: {:?}", [r, g, b]);
            if r < 200 {
                grey += 1;
            }
        }
        assert!(grey > 100, "only {grey} grey pixels on the diagonal");
        let [r, g, b] = pixel_at(&img, 0.5, 0.5);
        assert!(r == g && g == b && r < 200, "centre of the diagonal is {:?}", [r, g, b]);

        assert_eq!(pixel_at(&img, 0.1, 0.8), [31, 119, 180]);
        // The dot has a black outline.
        let (cx, cy) = to_px(0.1, 0.8);
        assert_eq!(img.get_pixel((cx + DOT_RADIUS - 1.0).floor() as u32, cy.floor() as u32).0, BLACK);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-folder").join("roc.png");
        let err = write_roc_png(&path, "t", &[]).unwrap_err();
        assert!(format!("{err:#}").contains("no-such-folder"), "{err:#}");
        assert!(!path.exists());
    }

    #[test]
    fn directory_target_is_an_error_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_roc_png(dir.path(), "t", &[]).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn odd_input_does_not_panic() {
        let nan = [(f64::NAN, 0.5), (-1.0, 2.0), (0.5, f64::INFINITY)];
        let single = [(0.3, 0.3)];
        let long = "x".repeat(500);
        let series = [
            RocSeries { label: &long, points: &nan, color: [0, 0, 0], operating_point: Some((f64::NAN, 0.0)) },
            RocSeries { label: "é ünïcode", points: &single, color: [0, 200, 0], operating_point: Some((2.0, -1.0)) },
            RocSeries { label: "", points: &[], color: [0, 0, 200], operating_point: None },
        ];
        let img = render(&"title ".repeat(100), &series);
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        let many: Vec<RocSeries<'_>> = (0..100).map(|_| series[1]).collect();
        let _ = render("many", &many);
    }

    #[test]
    fn non_ascii_draws_as_question_mark() {
        assert_eq!(glyph('é'), glyph('?'));
        assert_eq!(glyph('\t'), glyph('?'));
        assert_eq!(glyph('A'), &FONT[33]);
        assert_eq!(text_width("0.0"), 3 * ADVANCE - TEXT_SCALE);
    }

    /// Writes the example figure and a font sheet under /tmp for a visual check: `cargo test -- --ignored`.
    #[test]
    #[ignore = "writes /tmp/roc_example.png for a visual check"]
    fn example_figure() {
        let (good, worse) = example();
        let series = [
            RocSeries { label: "plain, AUC 0.987", points: &good, color: [31, 119, 180], operating_point: Some((0.1, 0.8)) },
            RocSeries { label: "noisy, AUC 0.812", points: &worse, color: [214, 39, 40], operating_point: Some((0.3, 0.6)) },
        ];
        write_roc_png(Path::new("/tmp/roc_example.png"), "ROC - calcification detector (test set)", &series).unwrap();

        let mut sheet = RgbImage::from_pixel(WIDTH, 120, Rgb(WHITE));
        let chars: String = (32u8..=126).map(char::from).collect();
        for (i, chunk) in chars.as_bytes().chunks(48).enumerate() {
            let line = std::str::from_utf8(chunk).unwrap();
            draw_text(&mut sheet, 10, 10 + 24 * i as i64, line, BLACK, false);
            draw_text(&mut sheet, 10, 58 + 24 * i as i64, line, BLACK, true);
        }
        image::imageops::resize(&sheet, WIDTH * 2, 240, image::imageops::FilterType::Nearest).save("/tmp/roc_font.png").unwrap();
    }
}
