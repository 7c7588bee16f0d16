//! The uniform block of `shaders/image.wgsl`, mirrored by hand.

use crate::imaging::voi::Display;

/// Keep in sync with mirror in `shaders/image.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ImageUniforms {
    /// `image_px = frag_px * xy + zw`.
    pub image_from_screen: [f32; 4],
    /// Tile origin and size in level-0 image pixels.
    pub tile: [f32; 4],
    /// Center, width, function (0..=2, 3 = VOI LUT), inverted.
    pub voi: [f32; 4],
    /// Gamma, log2 of texels per screen pixel, smooth magnification, mip level count.
    pub params: [f32; 4],
    /// LUT first mapped value, entries, output maximum, sRGB target.
    pub lut: [f32; 4],
}

/// The LUT facts the shader needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LutParams {
    pub first_mapped: f32,
    pub entries: f32,
    pub out_max: f32,
}

impl ImageUniforms {
    /// Uniforms for one tile. `image_from_screen` maps framebuffer pixels to level-0 image pixels.
    #[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // one flag per uniform field
    pub fn new(
        image_from_screen: [f32; 4],
        tile: [f32; 4],
        display: &Display,
        lut: Option<LutParams>,
        smooth: bool,
        levels: usize,
        srgb_target: bool,
    ) -> Self {
        let function = match lut {
            Some(_) if display.use_lut => 3.0,
            _ => display.function.shader_index() as f32,
        };
        let texels_per_pixel = image_from_screen[0].abs().max(image_from_screen[1].abs()).max(1e-6);
        let lut = lut.unwrap_or(LutParams { first_mapped: 0.0, entries: 1.0, out_max: 1.0 });
        Self {
            image_from_screen,
            tile,
            voi: [display.window.center as f32, display.window.width as f32, function, f32::from(u8::from(display.inverted))],
            params: [display.gamma, texels_per_pixel.log2(), f32::from(u8::from(smooth)), levels.max(1) as f32],
            lut: [lut.first_mapped, lut.entries, lut.out_max, f32::from(u8::from(srgb_target))],
        }
    }
}
