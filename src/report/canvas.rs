//! Drawing primitives for the report figures (ROC, contrast-detail curve): rectangles, anti-aliased strokes, dots
//! and an embedded 5×7 bitmap font (with descenders) drawn ×2, into an `image::RgbImage`; PNG encoding to bytes.
//! Characters outside printable ASCII draw as `?`.

// Pixel geometry converts between f32 coordinates and u32/i64 pixel indices throughout; every value is clamped or
// bounds-checked before it indexes the image.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, clippy::cast_possible_wrap)]

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder as _, Rgb, RgbImage};

/// Encode `img` as an RGB PNG.
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes).write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)?;
    Ok(bytes)
}

/// Glyph width, height of a capital and height of the cell with its descender row, in font pixels.
pub(crate) const GLYPH_W: u32 = 5;
pub(crate) const GLYPH_CAP_H: u32 = 7;
pub(crate) const GLYPH_H: u32 = 8;
/// Every font pixel is drawn as a `TEXT_SCALE`×`TEXT_SCALE` block.
pub(crate) const TEXT_SCALE: u32 = 2;
/// Horizontal distance between the starts of two characters (one font pixel of spacing).
pub(crate) const ADVANCE: u32 = (GLYPH_W + 1) * TEXT_SCALE;
/// Height of a capital letter in pixels (text is centred on this; descenders hang below).
pub(crate) const CAP_H: u32 = GLYPH_CAP_H * TEXT_SCALE;

pub(crate) const WHITE: [u8; 3] = [255, 255, 255];
pub(crate) const BLACK: [u8; 3] = [0, 0, 0];
pub(crate) const TEXT: [u8; 3] = [25, 25, 25];
pub(crate) const GRID: [u8; 3] = [228, 228, 228];
pub(crate) const CHANCE: [u8; 3] = [140, 140, 140];
pub(crate) const LEGEND_FRAME: [u8; 3] = [170, 170, 170];

/// Operating-point dot radius in pixels (outline included).
pub(crate) const DOT_RADIUS: f32 = 5.0;
/// Width of the dot's black outline in pixels.
pub(crate) const DOT_OUTLINE: f32 = 1.5;
/// A filled dot of radius [`DOT_RADIUS`] in `color` with a black outline, centred on `c`.
pub(crate) fn dot(img: &mut RgbImage, c: (f32, f32), color: [u8; 3]) {
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
pub(crate) struct Coverage {
    width: u32,
    height: u32,
    alpha: Vec<f32>,
}

impl Coverage {
    pub(crate) fn new(width: u32, height: u32) -> Self {
        Self { width, height, alpha: vec![0.0; width as usize * height as usize] }
    }

    /// Add the segment `from`–`to` with round caps, `half_width` pixels either side of its centre line, anti-aliased
    /// over one pixel; `dash` = `(on, off)` lengths in pixels makes it dashed, the pattern symmetric about a dash
    /// centred on the segment's midpoint.
    pub(crate) fn stroke(&mut self, from: (f32, f32), to: (f32, f32), half_width: f32, dash: Option<(f32, f32)>) {
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
    pub(crate) fn paint(&self, img: &mut RgbImage, color: [u8; 3]) {
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
pub(crate) fn blend(img: &mut RgbImage, x: i64, y: i64, color: [u8; 3], alpha: f32) {
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
pub(crate) fn fill_rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
    for yy in y..y.saturating_add(h).min(img.height()) {
        for xx in x..x.saturating_add(w).min(img.width()) {
            img.put_pixel(xx, yy, Rgb(color));
        }
    }
}

/// A 1-px outline of the `w`×`h` rectangle at `(x, y)`.
pub(crate) fn frame(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
    if w == 0 || h == 0 {
        return;
    }
    fill_rect(img, x, y, w, 1, color);
    fill_rect(img, x, y + h - 1, w, 1, color);
    fill_rect(img, x, y, 1, h, color);
    fill_rect(img, x + w - 1, y, 1, h, color);
}

/// `text` cut to at most `max_chars` characters, ending in `...` when cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let keep = max_chars.saturating_sub(3);
    text.chars().take(keep).chain("...".chars()).take(max_chars).collect()
}

/// Width in pixels of `text` in the regular font.
pub(crate) fn text_width(text: &str) -> u32 {
    let n = text.chars().count() as u32;
    (n * ADVANCE).saturating_sub(TEXT_SCALE)
}

/// Width in pixels of `text` in the bold font (one pixel wider per character).
pub(crate) fn text_width_bold(text: &str) -> u32 {
    let n = text.chars().count() as u32;
    (n * (ADVANCE + 1)).saturating_sub(TEXT_SCALE)
}

/// The 5 column bitmaps of `c` (bit 0 = top row); `?` for anything outside printable ASCII.
pub(crate) fn glyph(c: char) -> &'static [u8; 5] {
    let code = u32::from(c);
    let index = if (32..=126).contains(&code) { code - 32 } else { u32::from('?') - 32 };
    &FONT[index as usize]
}

/// Draw `text` left to right with its top-left corner at `(x, y)`; `bold` doubles every stroke one pixel to the right.
pub(crate) fn draw_text(img: &mut RgbImage, x: i64, y: i64, text: &str, color: [u8; 3], bold: bool) {
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
pub(crate) fn draw_text_up(img: &mut RgbImage, left: i64, bottom: i64, text: &str, color: [u8; 3]) {
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

/// 5×7 bitmap font (plus a descender row) for printable ASCII 32–126: 5 columns per glyph, bit 0 = top row, bit 6 =
/// baseline, bit 7 = descender of g, j, p, q, y and the comma.
#[rustfmt::skip]
pub(crate) const FONT: [[u8; 5]; 95] = [
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
