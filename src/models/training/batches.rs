//! Mini-batches of patches: a seeded shuffle per epoch and the eight flips/rotations as augmentation
//! (calcifications have no preferred orientation; the chest wall may be on either side).

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};

use crate::imaging::seed::splitmix64;
use crate::models::error::ModelError;

/// A square patch transformed by one of the 8 symmetries of the square (`k` in 0..8): `k & 3` quarter turns,
/// then a horizontal flip when `k & 4`.
pub fn dihedral(patch: &[f32], size: usize, k: u8) -> Vec<f32> {
    let mut out = vec![0.0; size * size];
    let last = size - 1;
    for y in 0..size {
        for x in 0..size {
            let (sx, sy) = match k & 3 {
                0 => (x, y),
                1 => (y, last - x),
                2 => (last - x, last - y),
                _ => (last - y, x),
            };
            let sx = if k & 4 == 0 { sx } else { last - sx };
            out[y * size + x] = patch[sy * size + sx];
        }
    }
    out
}

/// The order in which an epoch visits the samples.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(splitmix64(seed ^ splitmix64(0x0ba7_c4e5 + epoch as u64))));
    order
}

/// A batch tensor `(B, 1, size, size)` from the patches at `indices`, augmented when `augment_seed` is given.
pub fn batch_tensor(
    indices: &[usize],
    size: usize,
    patch: impl Fn(usize) -> Vec<f32>,
    augment_seed: Option<u64>,
    device: &Device,
) -> Result<Tensor, ModelError> {
    let mut rng = augment_seed.map(StdRng::seed_from_u64);
    let mut data = Vec::with_capacity(indices.len() * size * size);
    for &i in indices {
        let p = patch(i);
        match rng.as_mut() {
            Some(r) => data.extend(dihedral(&p, size, r.random_range(0..8))),
            None => data.extend(p),
        }
    }
    Ok(Tensor::from_vec(data, (indices.len(), 1, size, size), device)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dihedral_group_is_complete_and_invertible() {
        let size = 3;
        let p: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let all: std::collections::HashSet<Vec<u32>> = (0..8).map(|k| dihedral(&p, size, k).iter().map(|v| *v as u32).collect()).collect();
        assert_eq!(all.len(), 8);
        // four quarter turns are the identity
        let mut q = p.clone();
        for _ in 0..4 {
            q = dihedral(&q, size, 1);
        }
        assert_eq!(q, p);
    }

    #[test]
    fn epoch_order_is_a_seeded_permutation() {
        let a = epoch_order(100, 7, 0);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, epoch_order(100, 7, 0));
        assert_ne!(a, epoch_order(100, 7, 1));
    }
}
