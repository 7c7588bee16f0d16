//! The egui paint callback that draws an image through [`ImageRenderer`].

use std::sync::Arc;

use super::image_renderer::{DrawId, ImageRenderer, TextureKey};
use super::uniforms::{ImageUniforms, LutParams};
use crate::imaging::{
    pyramid::Pyramid,
    voi::{Display, VoiLut},
};

/// Where the image sits on screen: `image = center_in_image + flip * (pos_in_ui - rect_center_in_ui) / zoom`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScreenMapping {
    pub rect_center_in_ui: [f32; 2],
    pub center_in_image: [f32; 2],
    /// Screen points per image pixel.
    pub zoom: f32,
    pub flip_x: bool,
    pub flip_y: bool,
}

impl ScreenMapping {
    /// `[a_x, a_y, b_x, b_y]` with `image_px = frag_px * a + b`, framebuffer pixels at `pixels_per_point`.
    pub fn image_from_framebuffer(&self, pixels_per_point: f32) -> [f32; 4] {
        let sx = if self.flip_x { -1.0 } else { 1.0 };
        let sy = if self.flip_y { -1.0 } else { 1.0 };
        let z = self.zoom.max(1e-6);
        [
            sx / (z * pixels_per_point),
            sy / (z * pixels_per_point),
            self.center_in_image[0] - sx * self.rect_center_in_ui[0] / z,
            self.center_in_image[1] - sy * self.rect_center_in_ui[1] / z,
        ]
    }
}

/// One image draw: a view slot or the loupe.
pub struct ImageCallback {
    pub draw: DrawId,
    pub key: TextureKey,
    pub pyramid: Pyramid,
    /// The selected VOI LUT (index in the file's list) when the display uses it.
    pub lut: Option<(usize, Arc<VoiLut>)>,
    pub display: Display,
    pub mapping: ScreenMapping,
    /// Bilinear rather than nearest-pixel sampling when magnified.
    pub smooth: bool,
}

impl egui_wgpu::CallbackTrait for ImageCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(renderer) = resources.get_mut::<ImageRenderer>() else {
            tracing::error!("image renderer not installed");
            return Vec::new();
        };
        let image_from_screen = self.mapping.image_from_framebuffer(screen.pixels_per_point);
        let lut_params = self.lut.as_ref().map(|(_, l)| LutParams {
            first_mapped: l.first_mapped as f32,
            entries: l.data.len().max(1) as f32,
            out_max: ((1u64 << l.bits.clamp(1, 16)) - 1) as f32,
        });
        let srgb = renderer.srgb_target();
        let lut = self.lut.as_ref().map(|(i, l)| (*i, l));
        renderer.prepare_draw(device, queue, self.draw, self.key, &self.pyramid, lut, |rect, levels| {
            let tile = [rect[0] as f32, rect[1] as f32, rect[2] as f32, rect[3] as f32];
            ImageUniforms::new(image_from_screen, tile, &self.display, lut_params, self.smooth, levels, srgb)
        });
        Vec::new()
    }

    fn paint(&self, _info: egui::PaintCallbackInfo, render_pass: &mut wgpu::RenderPass<'static>, resources: &egui_wgpu::CallbackResources) {
        if let Some(renderer) = resources.get::<ImageRenderer>() {
            renderer.paint(self.draw, render_pass);
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point of these tests
mod tests {
    use super::*;

    #[test]
    fn mapping_centres_and_flips() {
        let m = ScreenMapping { rect_center_in_ui: [100.0, 50.0], center_in_image: [10.0, 20.0], zoom: 2.0, flip_x: true, flip_y: false };
        let a = m.image_from_framebuffer(1.0);
        // The rect centre maps to the image centre; one point to the right is half a pixel to the left (flipped).
        assert_eq!(100.0 * a[0] + a[2], 10.0);
        assert_eq!(50.0 * a[1] + a[3], 20.0);
        assert_eq!(102.0 * a[0] + a[2], 9.0);
    }
}
