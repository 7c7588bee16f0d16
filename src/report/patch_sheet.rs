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
    let (mut img, scale, width) = rendered(image, monochrome1, height);
    let height = img.height() - CAPTION;
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

/// `image` rendered about `height` pixels high below a blank caption band (at least 240 wide, for the caption), the
/// scale from image to thumbnail and the rendered width.
fn rendered(image: &Image, monochrome1: bool, height: u32) -> (RgbImage, f64, u32) {
    let wanted = f64::from(height.max(16)) / image.height.max(1) as f64;
    let display = Display { window: robust_window(image), inverted: monochrome1, ..Display::default() };
    let (width, height, grey) = render_grey8(image, &display, None, Some(((image.width as f64 * wanted).round() as usize).max(1)));
    let (width, height) = (width as u32, height as u32);
    let mut img = RgbImage::from_pixel(width.max(240), height + CAPTION, Rgb(WHITE));
    for (i, g) in grey.into_iter().enumerate() {
        img.put_pixel(i as u32 % width, CAPTION + i as u32 / width, Rgb([g, g, g]));
    }
    (img, f64::from(width) / image.width.max(1) as f64, width)
}

/// A thumbnail `height` pixels high of the square `size` × `size` region of `image` at `(x, y)` (clipped to the image),
/// in the region's own robust window, with a caption: one tile of an error sheet.
pub fn tile_thumbnail(image: &Image, x: usize, y: usize, size: usize, caption: &str, height: u32) -> RgbImage {
    let (x1, y1) = ((x + size).min(image.width), (y + size).min(image.height));
    let (w, h) = (x1.saturating_sub(x).max(1), y1.saturating_sub(y).max(1));
    let data = (0..h).flat_map(|r| (0..w).map(move |c| image.get(x + c, y + r).unwrap_or(0.0))).collect();
    let crop = Image::new(w, h, data).unwrap_or_else(|| Image::filled(1, 1, 0.0));
    let (mut img, ..) = rendered(&crop, false, height);
    draw_text(&mut img, 2, 3, &truncate(caption, 30), TEXT, false);
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
            PatchScore { x: 0.0, y: 0.0, w: 200.0, h: 200.0, prob: 0.9, evidence: [100.0, 100.0] },
            PatchScore { x: 200.0, y: 400.0, w: 200.0, h: 200.0, prob: 0.1, evidence: [300.0, 500.0] },
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

    #[test]
    fn a_tile_thumbnail_shows_the_region_clipped_to_the_image() {
        // Left half dark, right half bright; the tile straddles the right edge of the image.
        let image = Image::new(100, 100, (0..100 * 100).map(|i| if i % 100 < 80 { 0.0 } else { 1000.0 }).collect()).unwrap();
        let t = tile_thumbnail(&image, 60, 10, 50, "false p=0.9", 80);
        // 40 × 50 pixels of image in the crop: 80 high → 64 wide, padded to the caption's 240.
        assert_eq!((t.width(), t.height()), (240, 80 + CAPTION));
        let px = |x: u32| t.get_pixel(x, CAPTION + 40).0[0];
        assert!(px(5) < 30 && px(60) > 220, "dark then bright: {} {}", px(5), px(60));
        assert_eq!(t.get_pixel(200, CAPTION + 40).0, WHITE);
    }
}
