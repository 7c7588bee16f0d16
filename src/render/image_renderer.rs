//! The image pipeline and its GPU resources, kept in `egui_wgpu`'s `callback_resources`.

use std::collections::HashMap;
use std::sync::Arc;

use super::gpu_image::{GpuImage, upload_lut};
use super::uniforms::ImageUniforms;
use crate::imaging::{pyramid::Pyramid, voi::VoiLut};

/// Identifies one uploaded texture: (image id, frame index, variant). Variant 0 is the frame itself; others are
/// derived images (e.g. a perturbation result), numbered by their producer.
pub type TextureKey = (u64, u32, u32);

/// Identifies one on-screen draw (a viewport slot or the loupe), which owns its uniform buffers.
pub type DrawId = u64;

/// How many frames stay on the GPU when not drawn (least recently used are freed first).
const TEXTURE_BUDGET: usize = 12;

struct DrawSlot {
    texture: TextureKey,
    lut: Option<(u64, usize)>,
    buffers: Vec<wgpu::Buffer>,
    bind_groups: Vec<wgpu::BindGroup>,
}

struct Uploaded {
    image: GpuImage,
    last_used: u64,
}

/// Pipeline, textures and per-draw uniforms.
pub struct ImageRenderer {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    srgb_target: bool,
    textures: HashMap<TextureKey, Uploaded>,
    luts: HashMap<Option<(u64, usize)>, wgpu::TextureView>,
    draws: HashMap<DrawId, DrawSlot>,
    frame_counter: u64,
    /// Largest tile side; the device's limit unless lowered (tests exercise tiling with small images this way).
    max_tile_side: u32,
}

/// The WGSL source: compiled in for release builds, re-read from disk in debug builds so shader edits need no rebuild.
pub fn shader_source() -> std::borrow::Cow<'static, str> {
    const BUILTIN: &str = include_str!("../../shaders/image.wgsl");
    if cfg!(debug_assertions) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/image.wgsl");
        if let Ok(text) = std::fs::read_to_string(path) {
            return text.into();
        }
    }
    BUILTIN.into()
}

impl ImageRenderer {
    pub fn new(device: &wgpu::Device, target_format: wgpu::TextureFormat) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("mammoscope_image_shader"),
            source: wgpu::ShaderSource::Wgsl(shader_source()),
        });
        let texture_entry = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                multisampled: false,
                sample_type: wgpu::TextureSampleType::Float { filterable: false },
                view_dimension: wgpu::TextureViewDimension::D2,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("mammoscope_image_layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(std::mem::size_of::<ImageUniforms>() as u64),
                    },
                    count: None,
                },
                texture_entry(1),
                texture_entry(2),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("mammoscope_image_pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("mammoscope_image_pipeline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                buffers: &[],
                compilation_options: wgpu::PipelineCompilationOptions::default(),
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                targets: &[Some(wgpu::ColorTargetState { format: target_format, blend: None, write_mask: wgpu::ColorWrites::ALL })],
                compilation_options: wgpu::PipelineCompilationOptions::default(),
            }),
            multiview_mask: None,
            cache: None,
        });
        Self {
            pipeline,
            layout,
            srgb_target: target_format.is_srgb(),
            textures: HashMap::new(),
            luts: HashMap::new(),
            draws: HashMap::new(),
            frame_counter: 0,
            max_tile_side: u32::MAX,
        }
    }

    /// Register the renderer with an `egui_wgpu` render state (eframe's or a test harness's).
    pub fn install(render_state: &egui_wgpu::RenderState) {
        let renderer = Self::new(&render_state.device, render_state.target_format);
        render_state.renderer.write().callback_resources.insert(renderer);
    }

    /// Split images into tiles of at most `side` pixels even when the device allows larger textures.
    pub fn set_max_tile_side(&mut self, side: u32) {
        self.max_tile_side = side.max(1);
        self.textures.clear();
        self.draws.clear();
    }

    pub fn srgb_target(&self) -> bool {
        self.srgb_target
    }

    /// Bytes of image data on the GPU.
    pub fn texture_bytes(&self) -> u64 {
        self.textures.values().map(|t| t.image.bytes).sum()
    }

    /// Drop every texture of an image (when it is closed).
    pub fn forget_image(&mut self, image_id: u64) {
        self.textures.retain(|k, _| k.0 != image_id);
        self.luts.retain(|k, _| k.is_none_or(|(id, _)| id != image_id));
        self.draws.retain(|_, d| d.texture.0 != image_id);
    }

    /// Upload the frame if needed, then write the uniforms of every tile for this draw.
    #[allow(clippy::too_many_arguments)]
    pub fn prepare_draw(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        draw: DrawId,
        key: TextureKey,
        pyramid: &Pyramid,
        lut: Option<(usize, &Arc<VoiLut>)>,
        uniforms_for_tile: impl Fn([u32; 4], usize) -> ImageUniforms,
    ) {
        self.frame_counter += 1;
        let now = self.frame_counter;
        if !self.textures.contains_key(&key) {
            if key.2 != 0 {
                // A new derived image (e.g. a perturbation result) replaces the older ones of the same frame.
                self.textures.retain(|k, _| !(k.0 == key.0 && k.1 == key.1 && k.2 != 0));
                self.draws.retain(|_, d| !(d.texture.0 == key.0 && d.texture.1 == key.1 && d.texture.2 != 0));
            }
            self.evict_beyond_budget();
            let image = GpuImage::upload(device, queue, pyramid, self.max_tile_side);
            tracing::debug!("uploaded frame {key:?}: {} tiles, {} MB", image.tiles.len(), image.bytes >> 20);
            self.textures.insert(key, Uploaded { image, last_used: now });
            self.draws.retain(|_, d| d.texture != key); // stale bind groups
        }
        let lut_key = lut.map(|(index, _)| (key.0, index));
        self.luts.entry(lut_key).or_insert_with(|| upload_lut(device, queue, lut.map(|(_, l)| l)));
        let Some(uploaded) = self.textures.get_mut(&key) else { return };
        uploaded.last_used = now;
        let rebuild = self.draws.get(&draw).is_none_or(|d| d.texture != key || d.lut != lut_key);
        if rebuild {
            let Some(lut_view) = self.luts.get(&lut_key) else { return };
            let mut buffers = Vec::new();
            let mut bind_groups = Vec::new();
            for tile in &uploaded.image.tiles {
                let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("mammoscope_image_uniforms"),
                    size: std::mem::size_of::<ImageUniforms>() as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                bind_groups.push(device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("mammoscope_image_bind_group"),
                    layout: &self.layout,
                    entries: &[
                        wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() },
                        wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&tile.view) },
                        wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::TextureView(lut_view) },
                    ],
                }));
                buffers.push(buffer);
            }
            self.draws.insert(draw, DrawSlot { texture: key, lut: lut_key, buffers, bind_groups });
        }
        let Some(slot) = self.draws.get(&draw) else { return };
        for (tile, buffer) in uploaded.image.tiles.iter().zip(&slot.buffers) {
            let uniforms = uniforms_for_tile(tile.rect, tile.levels);
            queue.write_buffer(buffer, 0, bytemuck::bytes_of(&uniforms));
        }
    }

    fn evict_beyond_budget(&mut self) {
        while self.textures.len() >= TEXTURE_BUDGET {
            let Some(oldest) = self.textures.iter().min_by_key(|(_, t)| t.last_used).map(|(k, _)| *k) else { break };
            self.textures.remove(&oldest);
            self.draws.retain(|_, d| d.texture != oldest);
        }
    }

    /// Draw every tile of a prepared draw.
    pub fn paint(&self, draw: DrawId, render_pass: &mut wgpu::RenderPass<'static>) {
        let Some(slot) = self.draws.get(&draw) else { return };
        render_pass.set_pipeline(&self.pipeline);
        for bind_group in &slot.bind_groups {
            render_pass.set_bind_group(0, bind_group, &[]);
            render_pass.draw(0..3, 0..1);
        }
    }
}
