//! Independent, reproducible random streams derived from one seed (the same scheme as the mammogram simulator).

use rand::{SeedableRng, rngs::StdRng};

use crate::imaging::seed::splitmix64 as mix;

/// A seed for sub-stream `index` of `seed`.
pub(crate) fn derive(seed: u64, index: u64) -> u64 {
    mix(mix(seed) ^ mix(index.wrapping_add(0xCD4A_3400)))
}

/// A generator for sub-stream `index` of `seed`.
pub(crate) fn stream(seed: u64, index: u64) -> StdRng {
    StdRng::seed_from_u64(derive(seed, index))
}
