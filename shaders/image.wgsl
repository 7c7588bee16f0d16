// Draws one tile of a modality-value image with VOI, inversion and gamma.
// The CPU reference is `src/imaging/voi.rs` (`Display::display_value`); `mammoscope render` and the tests use it.

// Keep in sync with `ImageUniforms` in src/render/uniforms.rs.
struct ImageUniforms {
    // image_px = frag_px * image_from_screen.xy + image_from_screen.zw (framebuffer pixels → level-0 image pixels)
    image_from_screen: vec4<f32>,
    // tile origin (x, y) and size (w, h) in level-0 image pixels
    tile: vec4<f32>,
    // center, width, function (0 LINEAR, 1 LINEAR_EXACT, 2 SIGMOID, 3 VOI LUT), inverted (0 or 1)
    voi: vec4<f32>,
    // gamma, level of detail (texels per screen pixel, log2), smooth magnification (0 or 1), number of mip levels
    params: vec4<f32>,
    // LUT first mapped value, LUT entries, LUT output maximum, target is sRGB (0 or 1)
    lut: vec4<f32>,
}

@group(0) @binding(0) var<uniform> u: ImageUniforms;
@group(0) @binding(1) var image_tex: texture_2d<f32>;
@group(0) @binding(2) var lut_tex: texture_2d<f32>;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
}

// One triangle covering the whole viewport; the scissor rect clips it to the view.
@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    let uv = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
    var out: VertexOut;
    out.position = vec4<f32>(uv * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0), 0.0, 1.0);
    return out;
}

fn load_clamped(level: i32, p: vec2<i32>) -> f32 {
    let size = vec2<i32>(textureDimensions(image_tex, level));
    return textureLoad(image_tex, clamp(p, vec2<i32>(0), size - vec2<i32>(1)), level).r;
}

// Bilinear interpolation of modality values at `q` (level pixels, centres at i + 0.5).
fn bilinear(level: i32, q: vec2<f32>) -> f32 {
    let t = q - vec2<f32>(0.5);
    let i = vec2<i32>(floor(t));
    let f = t - floor(t);
    let a = load_clamped(level, i);
    let b = load_clamped(level, i + vec2<i32>(1, 0));
    let c = load_clamped(level, i + vec2<i32>(0, 1));
    let d = load_clamped(level, i + vec2<i32>(1, 1));
    return mix(mix(a, b, f.x), mix(c, d, f.x), f.y);
}

fn sample_level(level: i32, local: vec2<f32>) -> f32 {
    return bilinear(level, local / exp2(f32(level)));
}

fn sample_value(local: vec2<f32>) -> f32 {
    let lod = u.params.y;
    if lod <= 0.0 {
        if u.params.z > 0.5 {
            return bilinear(0, local);
        }
        // Magnified: nearest raw pixel, as radiologists expect to see detector pixels.
        return load_clamped(0, vec2<i32>(floor(local)));
    }
    let max_level = u.params.w - 1.0;
    let l = clamp(lod, 0.0, max_level);
    let l0 = floor(l);
    let l1 = min(l0 + 1.0, max_level);
    return mix(sample_level(i32(l0), local), sample_level(i32(l1), local), l - l0);
}

// PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT and SIGMOID windows, output in [0, 1].
fn window_value(x: f32) -> f32 {
    let c = u.voi.x;
    let function = u.voi.z;
    if function < 0.5 {
        let w = max(u.voi.y, 1.0);
        if w <= 1.0 {
            return select(1.0, 0.0, x <= c - 0.5);
        }
        return clamp((x - (c - 0.5)) / (w - 1.0) + 0.5, 0.0, 1.0);
    }
    let w = max(u.voi.y, 1.0e-30);
    if function < 1.5 {
        return clamp((x - c) / w + 0.5, 0.0, 1.0);
    }
    return 1.0 / (1.0 + exp(-4.0 * (x - c) / w));
}

// PS3.3 C.11.2.1.1: VOI LUT, clamped to its first and last entries. Stored 256 entries per row.
fn lut_value(x: f32) -> f32 {
    let last = u.lut.y - 1.0;
    let index = i32(clamp(floor(x - u.lut.x), 0.0, last));
    return textureLoad(lut_tex, vec2<i32>(index % 256, index / 256), 0).r / u.lut.z;
}

fn srgb_to_linear(g: f32) -> f32 {
    if g <= 0.04045 {
        return g / 12.92;
    }
    return pow((g + 0.055) / 1.055, 2.4);
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let p = in.position.xy * u.image_from_screen.xy + u.image_from_screen.zw;
    let local = p - u.tile.xy;
    if local.x < 0.0 || local.y < 0.0 || local.x >= u.tile.z || local.y >= u.tile.w {
        discard;
    }
    let x = sample_value(local);
    var y: f32;
    if u.voi.z > 2.5 {
        y = lut_value(x);
    } else {
        y = window_value(x);
    }
    if u.voi.w > 0.5 {
        y = 1.0 - y;
    }
    if abs(u.params.x - 1.0) > 1.0e-6 {
        y = pow(max(y, 0.0), 1.0 / max(u.params.x, 0.01));
    }
    // Quantise like the CPU reference (round to 8 bits), then undo the target's sRGB encoding if it has one.
    y = round(clamp(y, 0.0, 1.0) * 255.0) / 255.0;
    if u.lut.w > 0.5 {
        y = srgb_to_linear(y);
    }
    return vec4<f32>(y, y, y, 1.0);
}
