//! A contact sheet of whole mammograms with the patches a calcification model marks, for the model card: each image
//! is drawn at a fixed height in its robust window, as the viewer renders it (MONOCHROME1 inverted) with the patches at or above the operating
//! point outlined (yellow at the threshold to red at probability 1) and a caption with the file, the count and the
//! highest probability. Thumbnails are rendered one at a time, so a sheet of many full-field images needs only one in
//! memory.

// Pixel geometry converts between f64 image coordinates and u32 thumbnail pixels; every value is clamped first.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]

use image::{Rgb, RgbImage};

use super::canvas::{TEXT, WHITE, draw_text, frame, truncate};
use crate::imaging::{cpu_render::render_grey8, histogram::robust_window, image::Image, voi::Display};
use crate::models::detector::PatchScore;

/// Height of the caption band above each thumbnail.
const CAPTION: u32 = 22;
/// Gap between thumbnails.
const GAP: u32 = 10;

/// The outline colour of a patch of probability `p` above `threshold`: yellow → red.
fn color(p: f32, threshold: f32) -> [u8; 3] {
    let t = if threshold < 1.0 { ((p - threshold) / (1.0 - threshold)).clamp(0.0, 1.0) } else { 1.0 };
    [255, (220.0 * (1.0 - t)) as u8, 0]
}

/// One thumbnail about `height` pixels high (plus its caption) of `image` with the patches at or above `threshold`,
/// rendered as the viewer draws it ([`render_grey8`]) in the image's robust window.
pub fn thumbnail(image: &Image, monochrome1: bool, patches: &[PatchScore], threshold: f32, caption: &str, height: u32) -> RgbImage {
    let wanted = f64::from(height.max(16)) / image.height.max(1) as f64;
    let display = Display { window: robust_window(image), inverted: monochrome1, ..Display::default() };
    let (width, height, grey) = render_grey8(image, &display, None, Some(((image.width as f64 * wanted).round() as usize).max(1)));
    let (width, height) = (width as u32, height as u32);
    let scale = f64::from(width) / image.width.max(1) as f64;
    let mut img = RgbImage::from_pixel(width.max(240), height + CAPTION, Rgb(WHITE));
    for (i, g) in grey.into_iter().enumerate() {
        img.put_pixel(i as u32 % width, CAPTION + i as u32 / width, Rgb([g, g, g]));
    }
    let marked: Vec<&PatchScore> = patches.iter().filter(|p| p.prob >= threshold).collect();
    for p in &marked {
        let (x, y) = ((p.x * scale).round().max(0.0) as u32, (p.y * scale).round().max(0.0) as u32 + CAPTION);
        let (w, h) = ((p.w * scale).round().max(2.0) as u32, (p.h * scale).round().max(2.0) as u32);
        let w = w.min(width.saturating_sub(x));
        let h = h.min((height + CAPTION).saturating_sub(y));
        if w >= 2 && h >= 2 {
            frame(&mut img, x, y, w, h, color(p.prob, threshold));
        }
    }
    let best = patches.iter().map(|p| p.prob).fold(0.0f32, f32::max);
    let text = format!("{}  {}/{} max {best:.2}", truncate(caption, 22), marked.len(), patches.len());
    draw_text(&mut img, 2, 3, &text, TEXT, false);
    img
}

/// Thumbnails laid out in rows of `columns`, left to right.
pub fn sheet(thumbnails: &[RgbImage], columns: usize) -> RgbImage {
    let columns = columns.max(1);
    let rows: Vec<&[RgbImage]> = thumbnails.chunks(columns).collect();
    let width = rows.iter().map(|r| r.iter().map(|t| t.width() + GAP).sum::<u32>() + GAP).max().unwrap_or(1);
    let height = rows.iter().map(|r| r.iter().map(RgbImage::height).max().unwrap_or(0) + GAP).sum::<u32>() + GAP;
    let mut out = RgbImage::from_pixel(width, height, Rgb(WHITE));
    let mut y = GAP;
    for row in rows {
        let mut x = GAP;
        for t in row {
            image::imageops::replace(&mut out, t, i64::from(x), i64::from(y));
            x += t.width() + GAP;
        }
        y += row.iter().map(RgbImage::height).max().unwrap_or(0) + GAP;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_patches_are_outlined_and_others_not() {
        let image = Image::new(400, 800, (0..400 * 800).map(|i| (i % 400) as f32).collect()).unwrap();
        let patches = [
            PatchScore { x: 0.0, y: 0.0, w: 200.0, h: 200.0, prob: 0.9 },
            PatchScore { x: 200.0, y: 400.0, w: 200.0, h: 200.0, prob: 0.1 },
        ];
        let t = thumbnail(&image, false, &patches, 0.5, "a.dcm", 200);
        assert_eq!(t.height(), 200 + CAPTION);
        // The marked patch's outline (top-left corner of the thumbnail) is coloured; the unmarked one's is grey.
        let px = |x: u32, y: u32| t.get_pixel(x, y + CAPTION).0;
        assert_eq!(px(0, 10)[2], 0);
        assert!(px(0, 10)[0] == 255);
        let g = px(50, 100);
        assert_eq!(g[0], g[1]);
        assert_eq!(g[1], g[2]);
        let s = sheet(&[t.clone(), t], 2);
        assert!(s.width() > 2 * 100 && s.height() == 200 + CAPTION + 2 * GAP);
    }
}
