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

pub(crate) use crate::imaging::seed::splitmix64 as mix;

/// The generator for `index` (a row, or 0) of `step` under `seed`.
pub(crate) fn stream(seed: u64, step: Step, index: u64) -> StdRng {
    let s = mix(mix(seed) ^ mix((step as u64) << 48 ^ index));
    StdRng::seed_from_u64(s)
}
