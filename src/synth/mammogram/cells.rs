//! Cellular (Worley) noise for fat lobules and the Cooper's ligaments between them: one jittered site per grid
//! cell, hashed from the seed and the cell index, so any point can be evaluated independently (no state).

use super::rng::mix;

/// Distances to the nearest and second-nearest site, and the nearest site's hash, in grid units.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CellSample {
    pub nearest: f64,
    pub second: f64,
    pub id: u64,
}

impl CellSample {
    /// Distance to the wall between the two nearest lobules, in grid units (0 on the wall).
    pub fn wall_distance(self) -> f64 {
        0.5 * (self.second - self.nearest)
    }

    /// A uniform number in `[0, 1)` attached to the nearest lobule.
    pub fn unit(self) -> f64 {
        (self.id >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Evaluates cellular noise with unit cell size at `p` (grid units); `jitter` ≤ 1 places sites in their cells.
pub(crate) fn sample(p: [f64; 2], jitter: f64, seed: u64) -> CellSample {
    let (cx, cy) = (p[0].floor() as i64, p[1].floor() as i64);
    let mut best = CellSample { nearest: f64::INFINITY, second: f64::INFINITY, id: 0 };
    for gy in cy - 1..=cy + 1 {
        for gx in cx - 1..=cx + 1 {
            let id = mix(seed ^ mix((gx as u64) ^ mix(gy as u64).rotate_left(17)));
            let jx = (id & 0xFFFF) as f64 / 65536.0;
            let jy = ((id >> 16) & 0xFFFF) as f64 / 65536.0;
            let sx = gx as f64 + 0.5 + jitter * (jx - 0.5);
            let sy = gy as f64 + 0.5 + jitter * (jy - 0.5);
            let d = (p[0] - sx).hypot(p[1] - sy);
            if d < best.nearest {
                best.second = best.nearest;
                best.nearest = d;
                best.id = id;
            } else if d < best.second {
                best.second = d;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_ordered_and_deterministic() {
        for i in 0..200 {
            let p = [f64::from(i) * 0.37 - 20.0, f64::from(i) * 0.11 + 3.0];
            let a = sample(p, 0.9, 5);
            assert!(a.nearest <= a.second && a.second < 2.5);
            assert_eq!(a.id, sample(p, 0.9, 5).id);
            assert!((0.0..1.0).contains(&a.unit()));
        }
    }
}
