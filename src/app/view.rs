//! Visual-only state of the viewports: zoom, pan, the active tool, the loupe. Not part of the document.

use super::hanging::Orientation;

/// How the zoom of a viewport was chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ZoomMode {
    /// Whole image visible, chest wall against the midline.
    #[default]
    Fit,
    /// One image pixel per physical screen pixel.
    OneToOne,
    /// Physical size on screen (needs the pixel spacing and the screen's pixel pitch).
    TrueSize,
    /// Zoomed or panned by hand.
    Custom,
}

/// What a left-button drag does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tool {
    #[default]
    Pan,
    WindowLevel,
    Measure,
}

/// Zoom and pan of one viewport.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlotView {
    /// Screen points per image pixel.
    pub zoom: f32,
    /// The image point shown at the viewport's centre.
    pub center_in_image: [f32; 2],
    pub mode: ZoomMode,
    /// Image id the zoom was computed for: a new image in the slot is fitted again.
    pub fitted_for: Option<u64>,
}

impl Default for SlotView {
    fn default() -> Self {
        Self { zoom: 1.0, center_in_image: [0.0, 0.0], mode: ZoomMode::Fit, fitted_for: None }
    }
}

/// Horizontal alignment of a fitted image: -1 left, 0 centre, +1 right.
pub type AlignX = f32;

impl SlotView {
    /// Fit the whole image in `rect`, pushed against one side (the midline) when narrower than the viewport.
    pub fn fit(&mut self, rect: egui::Rect, image_size: [f32; 2], orientation: Orientation, align_x: AlignX) {
        let zoom = (rect.width() / image_size[0]).min(rect.height() / image_size[1]).max(1e-6);
        let spare = rect.width() - image_size[0] * zoom;
        let shown_center_x = rect.center().x + align_x * spare / 2.0;
        let sx = if orientation.flip_x { -1.0 } else { 1.0 };
        self.zoom = zoom;
        self.center_in_image = [image_size[0] / 2.0 + sx * (rect.center().x - shown_center_x) / zoom, image_size[1] / 2.0];
        self.mode = ZoomMode::Fit;
    }

    /// Set an absolute zoom keeping the viewport centre on the same image point.
    pub fn set_zoom(&mut self, zoom: f32, mode: ZoomMode) {
        self.zoom = zoom.clamp(1e-3, 200.0);
        self.mode = mode;
    }

    /// Image pixel coordinates (continuous; pixel `i` spans `[i, i + 1)`) of a UI position.
    pub fn image_from_ui(&self, rect: egui::Rect, orientation: Orientation, pos: egui::Pos2) -> [f64; 2] {
        let (sx, sy) = signs(orientation);
        let c = rect.center();
        [
            f64::from(self.center_in_image[0]) + f64::from(sx * (pos.x - c.x) / self.zoom),
            f64::from(self.center_in_image[1]) + f64::from(sy * (pos.y - c.y) / self.zoom),
        ]
    }

    pub fn ui_from_image(&self, rect: egui::Rect, orientation: Orientation, p: [f64; 2]) -> egui::Pos2 {
        let (sx, sy) = signs(orientation);
        let c = rect.center();
        egui::pos2(
            c.x + sx * (p[0] as f32 - self.center_in_image[0]) * self.zoom,
            c.y + sy * (p[1] as f32 - self.center_in_image[1]) * self.zoom,
        )
    }

    /// Zoom by `factor` keeping the image point under `pos` fixed (wheel zoom at the cursor).
    pub fn zoom_at(&mut self, rect: egui::Rect, orientation: Orientation, pos: egui::Pos2, factor: f32) {
        let before = self.image_from_ui(rect, orientation, pos);
        self.zoom = (self.zoom * factor).clamp(1e-3, 200.0);
        let after = self.image_from_ui(rect, orientation, pos);
        self.center_in_image[0] += (before[0] - after[0]) as f32;
        self.center_in_image[1] += (before[1] - after[1]) as f32;
        self.mode = ZoomMode::Custom;
    }

    /// Move the image with the pointer by `delta` screen points.
    pub fn pan_by(&mut self, orientation: Orientation, delta: egui::Vec2) {
        let (sx, sy) = signs(orientation);
        self.center_in_image[0] -= sx * delta.x / self.zoom;
        self.center_in_image[1] -= sy * delta.y / self.zoom;
        self.mode = ZoomMode::Custom;
    }
}

fn signs(o: Orientation) -> (f32, f32) {
    (if o.flip_x { -1.0 } else { 1.0 }, if o.flip_y { -1.0 } else { 1.0 })
}

/// Where the pointer is, for the status bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Hover {
    pub image_id: u64,
    pub pos_in_image: [f64; 2],
    pub value: Option<f32>,
}

/// A measurement being dragged out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PendingMeasurement {
    pub slot: usize,
    pub a_in_image: [f64; 2],
    pub b_in_image: [f64; 2],
}

/// All visual-only state.
#[derive(Clone, Debug)]
#[allow(clippy::struct_excessive_bools)] // independent toggles of the toolbar, not a state machine
pub struct ViewState {
    pub slots: Vec<SlotView>,
    pub tool: Tool,
    pub loupe: bool,
    /// Loupe magnification in screen pixels per image pixel (2–8), sampling raw pixels.
    pub loupe_factor: f32,
    /// Apply zoom and pan to all viewports together.
    pub link_views: bool,
    /// Bilinear instead of nearest-pixel magnification.
    pub smooth: bool,
    /// Physical size of one screen point in mm, for true-size display (96 dpi by default).
    pub screen_mm_per_point: f32,
    pub show_metadata: bool,
    pub show_phi: bool,
    pub hover: Option<Hover>,
    pub pending_measurement: Option<PendingMeasurement>,
    /// Zoom the viewport showing this image to this rectangle `[x, y, w, h]` in image pixels (set by the
    /// calcification list, consumed by the viewport).
    pub zoom_to: Option<(u64, [f64; 4])>,
    /// Size in points of each viewport at the last frame (which part of an image is visible, for jobs that do
    /// the visible region first).
    pub viewport_sizes: Vec<[f32; 2]>,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            slots: vec![SlotView::default(); 4],
            tool: Tool::Pan,
            loupe: false,
            loupe_factor: 4.0,
            link_views: false,
            smooth: false,
            screen_mm_per_point: 25.4 / 96.0,
            show_metadata: true,
            show_phi: false,
            hover: None,
            pending_measurement: None,
            zoom_to: None,
            viewport_sizes: vec![[0.0, 0.0]; 4],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_at_keeps_point_under_cursor() {
        let rect = egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(200.0, 100.0));
        let o = Orientation { flip_x: true, flip_y: false, basis: "" };
        let mut v = SlotView::default();
        v.fit(rect, [400.0, 100.0], o, 1.0);
        let p = egui::pos2(37.0, 61.0);
        let before = v.image_from_ui(rect, o, p);
        v.zoom_at(rect, o, p, 3.0);
        let after = v.image_from_ui(rect, o, p);
        assert!((before[0] - after[0]).abs() < 1e-3 && (before[1] - after[1]).abs() < 1e-3);
        let back = v.ui_from_image(rect, o, after);
        assert!((back - p).length() < 1e-3);
    }

    #[test]
    fn fit_pushes_against_midline() {
        // A tall image in a wide viewport, aligned right: its right edge touches the viewport's right edge.
        let rect = egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(400.0, 100.0));
        let o = Orientation::default();
        let mut v = SlotView::default();
        v.fit(rect, [50.0, 100.0], o, 1.0);
        let right_edge = v.ui_from_image(rect, o, [50.0, 50.0]);
        assert!((right_edge.x - 400.0).abs() < 1e-3);
        // Mirrored: image column 0 (the chest wall) is now at the right edge.
        let o = Orientation { flip_x: true, flip_y: false, basis: "" };
        v.fit(rect, [50.0, 100.0], o, 1.0);
        assert!((v.ui_from_image(rect, o, [0.0, 50.0]).x - 400.0).abs() < 1e-3);
    }
}
