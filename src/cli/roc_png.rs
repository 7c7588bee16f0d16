//! ROC curves for a model card, drawn as a PNG with nothing but the `image` crate.
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
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder as _, Rgb, RgbImage};

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

/// Glyph width, height of a capital and height of the cell with its descender row, in font pixels.
const GLYPH_W: u32 = 5;
const GLYPH_CAP_H: u32 = 7;
const GLYPH_H: u32 = 8;
/// Every font pixel is drawn as a `TEXT_SCALE`×`TEXT_SCALE` block.
const TEXT_SCALE: u32 = 2;
/// Horizontal distance between the starts of two characters (one font pixel of spacing).
const ADVANCE: u32 = (GLYPH_W + 1) * TEXT_SCALE;
/// Height of a capital letter in pixels (text is centred on this; descenders hang below).
const CAP_H: u32 = GLYPH_CAP_H * TEXT_SCALE;

const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];
const TEXT: [u8; 3] = [25, 25, 25];
const GRID: [u8; 3] = [228, 228, 228];
const CHANCE: [u8; 3] = [140, 140, 140];
const LEGEND_FRAME: [u8; 3] = [170, 170, 170];

/// Operating-point dot radius in pixels (outline included).
const DOT_RADIUS: f32 = 5.0;
/// Width of the dot's black outline in pixels.
const DOT_OUTLINE: f32 = 1.5;
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

/// A filled dot of radius [`DOT_RADIUS`] in `color` with a black outline, centred on `c`.
fn dot(img: &mut RgbImage, c: (f32, f32), color: [u8; 3]) {
    let r = DOT_RADIUS;
    let x0 = (c.0 - r - 1.0).floor() as i64;
    let y0 = (c.1 - r - 1.0).floor() as i64;
    let x1 = (c.0 + r + 1.0).ceil() as i64;
    let y1 = (c.1 + r + 1.0).ceil() as i64;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = (x as f32 + 0.5 - c.0).hypot(y as f32 + 0.5 - c.1);
            blend(img, x, y, BLACK, r + 0.5 - d);
            blend(img, x, y, color, r - DOT_OUTLINE + 0.5 - d);
        }
    }
}

/// Per-pixel ink coverage in `[0, 1]` for one stroked shape: segments combine by maximum, so the joints of a polyline
/// are not drawn twice and do not darken.
struct Coverage {
    width: u32,
    height: u32,
    alpha: Vec<f32>,
}

impl Coverage {
    fn new(width: u32, height: u32) -> Self {
        Self { width, height, alpha: vec![0.0; width as usize * height as usize] }
    }

    /// Add the segment `from`–`to` with round caps, `half_width` pixels either side of its centre line, anti-aliased
    /// over one pixel; `dash` = `(on, off)` lengths in pixels makes it dashed, the pattern symmetric about a dash
    /// centred on the segment's midpoint.
    fn stroke(&mut self, from: (f32, f32), to: (f32, f32), half_width: f32, dash: Option<(f32, f32)>) {
        let reach = half_width + 1.0;
        let x0 = (from.0.min(to.0) - reach).floor().max(0.0) as u32;
        let y0 = (from.1.min(to.1) - reach).floor().max(0.0) as u32;
        let x1 = ((from.0.max(to.0) + reach).ceil().max(0.0) as u32).min(self.width);
        let y1 = ((from.1.max(to.1) + reach).ceil().max(0.0) as u32).min(self.height);
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let len2 = dx * dx + dy * dy;
        let len = len2.sqrt();
        // Distance along the segment at which a dash starts: the middle dash is centred.
        let phase = dash.map_or(0.0, |(on, _)| len / 2.0 - on / 2.0);
        for y in y0..y1 {
            for x in x0..x1 {
                // Pixel centre relative to `from`, and its projection onto the segment (0 at `from`, 1 at `to`).
                let (px, py) = (x as f32 + 0.5 - from.0, y as f32 + 0.5 - from.1);
                let along = if len2 > 0.0 { (px * dx + py * dy) / len2 } else { 0.0 };
                if let Some((on, off)) = dash
                    && (along * len - phase).rem_euclid(on + off) >= on
                {
                    continue;
                }
                let nearest = along.clamp(0.0, 1.0);
                let dist = (px - nearest * dx).hypot(py - nearest * dy);
                let ink = (half_width + 0.5 - dist).clamp(0.0, 1.0);
                let cell = &mut self.alpha[y as usize * self.width as usize + x as usize];
                *cell = cell.max(ink);
            }
        }
    }

    /// Blend `color` into `img` with this coverage.
    fn paint(&self, img: &mut RgbImage, color: [u8; 3]) {
        for (i, &a) in self.alpha.iter().enumerate() {
            if a > 0.0 {
                let x = (i % self.width as usize) as i64;
                let y = (i / self.width as usize) as i64;
                blend(img, x, y, color, a);
            }
        }
    }
}

/// Mix `color` into the pixel at `(x, y)` with opacity `alpha` (clamped to `[0, 1]`); outside the image nothing happens.
fn blend(img: &mut RgbImage, x: i64, y: i64, color: [u8; 3], alpha: f32) {
    let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else { return };
    if x >= img.width() || y >= img.height() || alpha <= 0.0 {
        return;
    }
    let px = img.get_pixel_mut(x, y);
    if alpha >= 1.0 {
        px.0 = color;
        return;
    }
    for (dst, &src) in px.0.iter_mut().zip(&color) {
        *dst = (f32::from(*dst) * (1.0 - alpha) + f32::from(src) * alpha).round().clamp(0.0, 255.0) as u8;
    }
}

/// Fill a `w`×`h` rectangle with its top-left corner at `(x, y)`, clipped to the image.
fn fill_rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
    for yy in y..y.saturating_add(h).min(img.height()) {
        for xx in x..x.saturating_add(w).min(img.width()) {
            img.put_pixel(xx, yy, Rgb(color));
        }
    }
}

/// A 1-px outline of the `w`×`h` rectangle at `(x, y)`.
fn frame(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
    if w == 0 || h == 0 {
        return;
    }
    fill_rect(img, x, y, w, 1, color);
    fill_rect(img, x, y + h - 1, w, 1, color);
    fill_rect(img, x, y, 1, h, color);
    fill_rect(img, x + w - 1, y, 1, h, color);
}

/// `text` cut to at most `max_chars` characters, ending in `...` when cut.
fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let keep = max_chars.saturating_sub(3);
    text.chars().take(keep).chain("...".chars()).take(max_chars).collect()
}

/// Width in pixels of `text` in the regular font.
fn text_width(text: &str) -> u32 {
    let n = text.chars().count() as u32;
    (n * ADVANCE).saturating_sub(TEXT_SCALE)
}

/// Width in pixels of `text` in the bold font (one pixel wider per character).
fn text_width_bold(text: &str) -> u32 {
    let n = text.chars().count() as u32;
    (n * (ADVANCE + 1)).saturating_sub(TEXT_SCALE)
}

/// The 5 column bitmaps of `c` (bit 0 = top row); `?` for anything outside printable ASCII.
fn glyph(c: char) -> &'static [u8; 5] {
    let code = u32::from(c);
    let index = if (32..=126).contains(&code) { code - 32 } else { u32::from('?') - 32 };
    &FONT[index as usize]
}

/// Draw `text` left to right with its top-left corner at `(x, y)`; `bold` doubles every stroke one pixel to the right.
fn draw_text(img: &mut RgbImage, x: i64, y: i64, text: &str, color: [u8; 3], bold: bool) {
    let advance = i64::from(ADVANCE + u32::from(bold));
    let s = i64::from(TEXT_SCALE);
    for (i, c) in text.chars().enumerate() {
        let gx = x + i as i64 * advance;
        for (col, bits) in glyph(c).iter().enumerate() {
            for row in 0..GLYPH_H {
                if bits >> row & 1 == 0 {
                    continue;
                }
                let (px, py) = (gx + col as i64 * s, y + i64::from(row) * s);
                for dy in 0..s {
                    for dx in 0..s + i64::from(bold) {
                        blend(img, px + dx, py + dy, color, 1.0);
                    }
                }
            }
        }
    }
}

/// Draw `text` rotated a quarter turn anticlockwise (reading bottom to top): the glyphs' tops face left, `left` is the
/// leftmost column and `bottom` the row below the text's start.
fn draw_text_up(img: &mut RgbImage, left: i64, bottom: i64, text: &str, color: [u8; 3]) {
    let scale = i64::from(TEXT_SCALE);
    for (i, c) in text.chars().enumerate() {
        let start = i as i64 * i64::from(ADVANCE);
        for (col, bits) in glyph(c).iter().enumerate() {
            for row in 0..GLYPH_H {
                if bits >> row & 1 == 0 {
                    continue;
                }
                // Text coordinates (`along` the string, `down` the glyph) map to (left + down, bottom - 1 - along).
                let (along, down) = (start + col as i64 * scale, i64::from(row) * scale);
                for da in 0..scale {
                    for dd in 0..scale {
                        blend(img, left + down + dd, bottom - 1 - (along + da), color, 1.0);
                    }
                }
            }
        }
    }
}

/// Encode `img` as PNG into a temporary file beside `out`, then rename it over `out`; the temporary file is removed on
/// error.
fn write_png_atomically(out: &Path, img: &RgbImage) -> anyhow::Result<()> {
    if out.is_dir() {
        bail!("ROC plot path is a directory ({})", out.display());
    }
    super::write_atomically(out, |writer| {
        PngEncoder::new(writer)
            .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
            .with_context(|| format!("cannot encode PNG ({})", out.display()))
    })
}

/// 5×7 bitmap font (plus a descender row) for printable ASCII 32–126: 5 columns per glyph, bit 0 = top row, bit 6 =
/// baseline, bit 7 = descender of g, j, p, q, y and the comma.
#[rustfmt::skip]
const FONT: [[u8; 5]; 95] = [
    [0x00, 0x00, 0x00, 0x00, 0x00], // ' '
    [0x00, 0x00, 0x5F, 0x00, 0x00], // !
    [0x00, 0x07, 0x00, 0x07, 0x00], // "
    [0x14, 0x7F, 0x14, 0x7F, 0x14], // #
    [0x24, 0x2A, 0x7F, 0x2A, 0x12], // $
    [0x23, 0x13, 0x08, 0x64, 0x62], // %
    [0x36, 0x49, 0x55, 0x22, 0x50], // &
    [0x00, 0x05, 0x03, 0x00, 0x00], // '
    [0x00, 0x1C, 0x22, 0x41, 0x00], // (
    [0x00, 0x41, 0x22, 0x1C, 0x00], // )
    [0x08, 0x2A, 0x1C, 0x2A, 0x08], // *
    [0x08, 0x08, 0x3E, 0x08, 0x08], // +
    [0x00, 0x80, 0x60, 0x00, 0x00], // ,
    [0x08, 0x08, 0x08, 0x08, 0x08], // -
    [0x00, 0x60, 0x60, 0x00, 0x00], // .
    [0x20, 0x10, 0x08, 0x04, 0x02], // /
    [0x3E, 0x51, 0x49, 0x45, 0x3E], // 0
    [0x00, 0x42, 0x7F, 0x40, 0x00], // 1
    [0x42, 0x61, 0x51, 0x49, 0x46], // 2
    [0x21, 0x41, 0x45, 0x4B, 0x31], // 3
    [0x18, 0x14, 0x12, 0x7F, 0x10], // 4
    [0x27, 0x45, 0x45, 0x45, 0x39], // 5
    [0x3C, 0x4A, 0x49, 0x49, 0x30], // 6
    [0x01, 0x71, 0x09, 0x05, 0x03], // 7
    [0x36, 0x49, 0x49, 0x49, 0x36], // 8
    [0x06, 0x49, 0x49, 0x29, 0x1E], // 9
    [0x00, 0x36, 0x36, 0x00, 0x00], // :
    [0x00, 0x86, 0x66, 0x00, 0x00], // ;
    [0x08, 0x14, 0x22, 0x41, 0x00], // <
    [0x14, 0x14, 0x14, 0x14, 0x14], // =
    [0x00, 0x41, 0x22, 0x14, 0x08], // >
    [0x02, 0x01, 0x51, 0x09, 0x06], // ?
    [0x32, 0x49, 0x79, 0x41, 0x3E], // @
    [0x7E, 0x11, 0x11, 0x11, 0x7E], // A
    [0x7F, 0x49, 0x49, 0x49, 0x36], // B
    [0x3E, 0x41, 0x41, 0x41, 0x22], // C
    [0x7F, 0x41, 0x41, 0x22, 0x1C], // D
    [0x7F, 0x49, 0x49, 0x49, 0x41], // E
    [0x7F, 0x09, 0x09, 0x09, 0x01], // F
    [0x3E, 0x41, 0x49, 0x49, 0x7A], // G
    [0x7F, 0x08, 0x08, 0x08, 0x7F], // H
    [0x00, 0x41, 0x7F, 0x41, 0x00], // I
    [0x20, 0x40, 0x41, 0x3F, 0x01], // J
    [0x7F, 0x08, 0x14, 0x22, 0x41], // K
    [0x7F, 0x40, 0x40, 0x40, 0x40], // L
    [0x7F, 0x02, 0x0C, 0x02, 0x7F], // M
    [0x7F, 0x04, 0x08, 0x10, 0x7F], // N
    [0x3E, 0x41, 0x41, 0x41, 0x3E], // O
    [0x7F, 0x09, 0x09, 0x09, 0x06], // P
    [0x3E, 0x41, 0x51, 0x21, 0x5E], // Q
    [0x7F, 0x09, 0x19, 0x29, 0x46], // R
    [0x46, 0x49, 0x49, 0x49, 0x31], // S
    [0x01, 0x01, 0x7F, 0x01, 0x01], // T
    [0x3F, 0x40, 0x40, 0x40, 0x3F], // U
    [0x1F, 0x20, 0x40, 0x20, 0x1F], // V
    [0x3F, 0x40, 0x38, 0x40, 0x3F], // W
    [0x63, 0x14, 0x08, 0x14, 0x63], // X
    [0x07, 0x08, 0x70, 0x08, 0x07], // Y
    [0x61, 0x51, 0x49, 0x45, 0x43], // Z
    [0x00, 0x7F, 0x41, 0x41, 0x00], // [
    [0x02, 0x04, 0x08, 0x10, 0x20], // backslash
    [0x00, 0x41, 0x41, 0x7F, 0x00], // ]
    [0x04, 0x02, 0x01, 0x02, 0x04], // ^
    [0x40, 0x40, 0x40, 0x40, 0x40], // _
    [0x00, 0x01, 0x02, 0x04, 0x00], // `
    [0x20, 0x54, 0x54, 0x54, 0x78], // a
    [0x7F, 0x48, 0x44, 0x44, 0x38], // b
    [0x38, 0x44, 0x44, 0x44, 0x20], // c
    [0x38, 0x44, 0x44, 0x48, 0x7F], // d
    [0x38, 0x54, 0x54, 0x54, 0x18], // e
    [0x08, 0x7E, 0x09, 0x01, 0x02], // f
    [0x18, 0xA4, 0xA4, 0xA4, 0x7C], // g
    [0x7F, 0x08, 0x04, 0x04, 0x78], // h
    [0x00, 0x44, 0x7D, 0x40, 0x00], // i
    [0x40, 0x80, 0x84, 0x7D, 0x00], // j
    [0x7F, 0x10, 0x28, 0x44, 0x00], // k
    [0x00, 0x41, 0x7F, 0x40, 0x00], // l
    [0x7C, 0x04, 0x18, 0x04, 0x78], // m
    [0x7C, 0x08, 0x04, 0x04, 0x78], // n
    [0x38, 0x44, 0x44, 0x44, 0x38], // o
    [0xFC, 0x24, 0x24, 0x24, 0x18], // p
    [0x18, 0x24, 0x24, 0x24, 0xFC], // q
    [0x7C, 0x08, 0x04, 0x04, 0x08], // r
    [0x48, 0x54, 0x54, 0x54, 0x20], // s
    [0x04, 0x3F, 0x44, 0x40, 0x20], // t
    [0x3C, 0x40, 0x40, 0x20, 0x7C], // u
    [0x1C, 0x20, 0x40, 0x20, 0x1C], // v
    [0x3C, 0x40, 0x30, 0x40, 0x3C], // w
    [0x44, 0x28, 0x10, 0x28, 0x44], // x
    [0x1C, 0xA0, 0xA0, 0xA0, 0x7C], // y
    [0x44, 0x64, 0x54, 0x4C, 0x44], // z
    [0x00, 0x08, 0x36, 0x41, 0x00], // {
    [0x00, 0x00, 0x7F, 0x00, 0x00], // |
    [0x00, 0x41, 0x36, 0x08, 0x00], // }
    [0x08, 0x04, 0x08, 0x10, 0x08], // ~
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

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
