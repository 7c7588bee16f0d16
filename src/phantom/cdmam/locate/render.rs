//! A small renderer of CDMAM exposures for the unit tests: plate, grid lines, discs, text strokes, open field,
//! Gaussian noise. Supersampled 3 × 3; deliberately independent of the simulator in `synth`.

use crate::imaging::Image;
use crate::imaging::seed::splitmix64;
use crate::phantom::cdmam::geometry::{Cell, PhantomPose};
use crate::phantom::cdmam::layout::Layout;
use crate::phantom::cdmam::tables::{CELL_PITCH_MM, CORNER_OFFSET_MM, GRID_LINE_GOLD_UM, GRID_LINE_WIDTH_MM};

/// Gold attenuation per µm.
const MU_PER_UM: f64 = 0.19;

pub(super) struct Scene {
    pub width: usize,
    pub height: usize,
    pub pose: PhantomPose,
    /// Signal behind the plate (away from gold).
    pub plate_signal: f32,
    /// Signal outside the plate; `None`: the plate covers the whole image.
    pub open_field: Option<f32>,
    pub noise_sigma: f32,
    /// Strokes of gold "text" above and below the matrix.
    pub text: bool,
    /// Gold brighter than the plate (an inverted image).
    pub bright_gold: bool,
    pub seed: u64,
}

impl Scene {
    /// A plate-covered image at `pixel_mm` holding the phantom in the nominal pose, rotated by `extra_deg` more.
    pub fn new(width_mm: f64, height_mm: f64, pixel_mm: f64, extra_deg: f64, seed: u64) -> Self {
        let (width, height) = ((width_mm / pixel_mm).round() as usize, (height_mm / pixel_mm).round() as usize);
        let mut pose = PhantomPose::nominal([width as f64 / 2.0 + 3.3, height as f64 / 2.0 - 2.7], pixel_mm);
        pose.angle_rad += extra_deg.to_radians();
        Self { width, height, pose, plate_signal: 1000.0, open_field: None, noise_sigma: 6.0, text: false, bright_gold: false, seed }
    }
}

/// Gold thickness (µm) at phantom point `(u, v)` mm.
fn gold_um(u: f64, v: f64, layout: &Layout, strokes: &[[f64; 4]]) -> f64 {
    let mut gold = 0.0;
    let (cu, cv) = (u / CELL_PITCH_MM + 8.0, v / CELL_PITCH_MM + 8.0);
    let half_line = 0.5 * GRID_LINE_WIDTH_MM / CELL_PITCH_MM;
    let exists = |r: f64, c: f64| r >= 0.0 && c >= 0.0 && Cell::exists(r as usize, c as usize);
    // Vertical line (constant u) near: exists if a cell on either side exists.
    let (ku, kv) = (cu.round(), cv.round());
    let on_u = (cu - ku).abs() < half_line && (exists(cv.floor(), ku - 1.0) || exists(cv.floor(), ku));
    let on_v = (cv - kv).abs() < half_line && (exists(kv - 1.0, cu.floor()) || exists(kv, cu.floor()));
    if on_u || on_v {
        gold += GRID_LINE_GOLD_UM;
    }
    if exists(cv.floor(), cu.floor()) {
        let cell = Cell { row: cv.floor() as usize, col: cu.floor() as usize };
        let [x0, y0] = cell.centre_mm();
        let r = cell.diameter_mm() / 2.0;
        let corner = layout.corner(cell).map_or([0.0, 0.0], crate::phantom::cdmam::geometry::Corner::direction);
        let [x1, y1] = [x0 + corner[0] * CORNER_OFFSET_MM, y0 + corner[1] * CORNER_OFFSET_MM];
        if (u - x0).hypot(v - y0) < r || (u - x1).hypot(v - y1) < r {
            gold += cell.thickness_um();
        }
    }
    if strokes.iter().any(|&[a, b, c, d]| (a..b).contains(&u) && (c..d).contains(&v)) {
        gold += 1.0;
    }
    gold
}

fn uniform(state: &mut u64) -> f64 {
    *state = splitmix64(*state);
    ((*state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Render `scene` with the standard layout.
pub(super) fn render(scene: &Scene) -> Image {
    let layout = Layout::standard();
    let mut state = scene.seed;
    let strokes: Vec<[f64; 4]> = if scene.text {
        (0..40)
            .map(|k| {
                let u = -60.0 + 3.0 * f64::from(k) + uniform(&mut state);
                let v = if k % 2 == 0 { -92.0 } else { 86.0 } + 3.0 * uniform(&mut state);
                if uniform(&mut state) < 0.5 { [u, u + 0.4, v, v + 3.0] } else { [u, u + 2.0, v, v + 0.4] }
            })
            .collect()
    } else {
        Vec::new()
    };
    let plate = [90.0, 125.0];
    let mut data = vec![0.0f32; scene.width * scene.height];
    for (i, out) in data.iter_mut().enumerate() {
        let (x, y) = ((i % scene.width) as f64, (i / scene.width) as f64);
        let mut sum = 0.0;
        for sy in [-1.0 / 3.0, 0.0, 1.0 / 3.0] {
            for sx in [-1.0 / 3.0, 0.0, 1.0 / 3.0] {
                let [u, v] = scene.pose.to_phantom([x + sx, y + sy]);
                let on_plate = u.abs() < plate[0] && v.abs() < plate[1];
                sum += match scene.open_field {
                    Some(open) if !on_plate => f64::from(open),
                    _ => {
                        let t = (-MU_PER_UM * gold_um(u, v, &layout, &strokes)).exp();
                        let t = if scene.bright_gold { 2.0 - t } else { t };
                        f64::from(scene.plate_signal) * t
                    }
                };
            }
        }
        let noise = (-2.0 * uniform(&mut state).ln()).sqrt() * (std::f64::consts::TAU * uniform(&mut state)).cos();
        *out = (sum / 9.0 + f64::from(scene.noise_sigma) * noise) as f32;
    }
    Image::new(scene.width, scene.height, data).expect("size")
}
