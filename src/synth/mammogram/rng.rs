//! Independent, reproducible random streams derived from one seed.

use rand::{SeedableRng, rngs::StdRng};

/// `SplitMix64` finaliser: a bijective 64-bit mix.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for sub-stream `index` of `seed` (outline, texture, noise … each get their own).
pub(crate) fn derive(seed: u64, index: u64) -> u64 {
    mix(mix(seed) ^ mix(index.wrapping_add(0x5151_5151)))
}

/// A generator for sub-stream `index` of `seed`.
pub(crate) fn stream(seed: u64, index: u64) -> StdRng {
    StdRng::seed_from_u64(derive(seed, index))
}
