//! Seed derivation: one independent generator per (seed, step, row), so parallel loops give the same image whatever
//! the number of threads.

use rand::{SeedableRng as _, rngs::StdRng};

/// The random stream of each step; distinct so that changing the dose never changes the Gaussian noise field.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    Dose = 1,
    Noise = 2,
    Shuffle = 3,
}

/// The `SplitMix64` finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for `index` (a row, or 0) of `step` under `seed`.
pub(crate) fn stream(seed: u64, step: Step, index: u64) -> StdRng {
    let s = mix(mix(seed) ^ mix((step as u64) << 48 ^ index));
    StdRng::seed_from_u64(s)
}
