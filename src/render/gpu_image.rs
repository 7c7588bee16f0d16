//! Modality values on the GPU: `R32Float` textures with mip levels, tiled to the device's size limit.

use std::sync::Arc;

use crate::imaging::{Image, pyramid::Pyramid, voi::VoiLut};

/// One tile: a rectangle of the image (level-0 pixels) with its own mip chain.
pub struct GpuTile {
    /// x, y, width, height in level-0 pixels.
    pub rect: [u32; 4],
    pub view: wgpu::TextureView,
    /// Mip levels of this tile: a small edge tile has fewer than a full one.
    pub levels: usize,
}

/// An uploaded image.
pub struct GpuImage {
    pub tiles: Vec<GpuTile>,
    pub bytes: u64,
}

/// Tile side: the largest power of two the device allows, so tile edges stay aligned at every mip level.
pub fn tile_side(max_texture_dimension: u32) -> u32 {
    let max = max_texture_dimension.max(1);
    1 << max.ilog2()
}

/// Copy the level-`l` part of a tile out of a pyramid level, row by row.
fn tile_level_pixels(level_image: &Image, rect: [u32; 4], level: usize) -> (u32, u32, Vec<f32>) {
    let x0 = (rect[0] >> level) as usize;
    let y0 = (rect[1] >> level) as usize;
    let x1 = ((rect[0] + rect[2]) as usize).div_ceil(1 << level).min(level_image.width);
    let y1 = ((rect[1] + rect[3]) as usize).div_ceil(1 << level).min(level_image.height);
    let (w, h) = (x1.saturating_sub(x0).max(1), y1.saturating_sub(y0).max(1));
    let mut data = Vec::with_capacity(w * h);
    for y in y0..y0 + h {
        let start = (y.min(level_image.height - 1)) * level_image.width;
        let row = level_image.data.get(start + x0..start + (x0 + w).min(level_image.width)).unwrap_or(&[]);
        data.extend_from_slice(row);
        data.resize(data.len() + (w - row.len()), row.last().copied().unwrap_or(0.0));
    }
    (w as u32, h as u32, data)
}

impl GpuImage {
    /// Upload a pyramid in tiles of at most `max_side` pixels (the device's texture limit, or less for tests).
    pub fn upload(device: &wgpu::Device, queue: &wgpu::Queue, pyramid: &Pyramid, max_side: u32) -> Self {
        let base = pyramid.base();
        let side = tile_side(device.limits().max_texture_dimension_2d.min(max_side));
        let (width, height) = (base.width as u32, base.height as u32);
        let mut tiles = Vec::new();
        let mut bytes = 0u64;
        for ty in (0..height).step_by(side as usize) {
            for tx in (0..width).step_by(side as usize) {
                let rect = [tx, ty, side.min(width - tx), side.min(height - ty)];
                // A texture of n pixels has at most log2(n) + 1 mip levels.
                let levels = pyramid.levels.len().min(rect[2].max(rect[3]).ilog2() as usize + 1);
                let texture = device.create_texture(&wgpu::TextureDescriptor {
                    label: Some("mammoscope_image_tile"),
                    size: wgpu::Extent3d { width: rect[2], height: rect[3], depth_or_array_layers: 1 },
                    mip_level_count: levels as u32,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: wgpu::TextureFormat::R32Float,
                    usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                    view_formats: &[],
                });
                for (level, level_image) in pyramid.levels.iter().take(levels).enumerate() {
                    let (w, h, data) = tile_level_pixels(level_image, rect, level);
                    // Texture mip sizes are max(1, size >> level); match them exactly.
                    let (mw, mh) = ((rect[2] >> level).max(1), (rect[3] >> level).max(1));
                    let data = fit(&data, (w, h), (mw, mh));
                    bytes += (data.len() * 4) as u64;
                    queue.write_texture(
                        wgpu::TexelCopyTextureInfo {
                            texture: &texture,
                            mip_level: level as u32,
                            origin: wgpu::Origin3d::ZERO,
                            aspect: wgpu::TextureAspect::All,
                        },
                        bytemuck::cast_slice(&data),
                        wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(4 * mw), rows_per_image: Some(mh) },
                        wgpu::Extent3d { width: mw, height: mh, depth_or_array_layers: 1 },
                    );
                }
                let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
                tiles.push(GpuTile { rect, view, levels });
            }
        }
        Self { tiles, bytes }
    }
}

/// Crop or edge-extend `data` (`from` w × h) to `to` w × h. Pyramid levels round up, texture mips round down.
fn fit(data: &[f32], from: (u32, u32), to: (u32, u32)) -> Vec<f32> {
    if from == to {
        return data.to_vec();
    }
    let (fw, fh) = (from.0 as usize, from.1 as usize);
    let mut out = Vec::with_capacity((to.0 * to.1) as usize);
    for y in 0..to.1 as usize {
        let sy = y.min(fh - 1);
        for x in 0..to.0 as usize {
            out.push(data[sy * fw + x.min(fw - 1)]);
        }
    }
    out
}

/// A VOI LUT as a 256-wide `R32Float` texture (LUTs can have 65536 entries, beyond a texture row's limit).
pub fn upload_lut(device: &wgpu::Device, queue: &wgpu::Queue, lut: Option<&Arc<VoiLut>>) -> wgpu::TextureView {
    let values: Vec<f32> = lut.map_or_else(|| vec![0.0], |l| l.data.iter().map(|&v| f32::from(v)).collect());
    let width = values.len().clamp(1, 256) as u32;
    let height = values.len().div_ceil(256).max(1) as u32;
    let mut padded = values;
    padded.resize((width * height) as usize, 0.0);
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("mammoscope_voi_lut"),
        size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::R32Float,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    queue.write_texture(
        wgpu::TexelCopyTextureInfo { texture: &texture, mip_level: 0, origin: wgpu::Origin3d::ZERO, aspect: wgpu::TextureAspect::All },
        bytemuck::cast_slice(&padded),
        wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(4 * width), rows_per_image: Some(height) },
        wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
    );
    texture.create_view(&wgpu::TextureViewDescriptor::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_side_is_power_of_two() {
        assert_eq!(tile_side(8192), 8192);
        assert_eq!(tile_side(10000), 8192);
        assert_eq!(tile_side(2048), 2048);
    }

    #[test]
    fn tile_level_copy() {
        let img = Image::new(4, 2, (0..8).map(|v| v as f32).collect()).unwrap();
        let (w, h, d) = tile_level_pixels(&img, [2, 0, 2, 2], 0);
        assert_eq!((w, h, d), (2, 2, vec![2.0, 3.0, 6.0, 7.0]));
        assert_eq!(fit(&[1.0, 2.0, 3.0, 4.0], (2, 2), (1, 1)), vec![1.0]);
    }
}
