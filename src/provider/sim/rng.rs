//! The simulator's random number generator: xoshiro256++, the algorithm
//! behind `rand`'s `SmallRng` on 64-bit targets, seeded the same way.
//!
//! The world must be saved and resumed mid-sequence, and `SmallRng` keeps
//! its state private; this one is plain data, so a saved world continues
//! with exactly the numbers it would have drawn.

use rand::RngCore;
use rand::rand_core::impls::fill_bytes_via_next;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct SimRng {
    state: [u64; 4],
}

impl SimRng {
    /// The same stream as `SmallRng::seed_from_u64(seed)` (SplitMix64
    /// expansion), so a seed gives the worlds it always gave.
    pub(super) fn seeded(seed: u64) -> Self {
        const PHI: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut state = [0; 4];
        let mut s = seed;
        for word in &mut state {
            s = s.wrapping_add(PHI);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *word = z ^ (z >> 31);
        }
        Self { state }
    }

    /// An all-zero state only ever yields zeros: a saved world holding one
    /// was not written by the simulator.
    pub(super) fn is_valid(&self) -> bool {
        self.state != [0; 4]
    }
}

impl RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        // The low bits are the weakest; the reference keeps the high half.
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        fill_bytes_via_next(self, dst)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn it_draws_what_small_rng_draws_for_the_same_seed() {
        for seed in [0, 1, 42, u64::MAX] {
            let mut ours = SimRng::seeded(seed);
            let mut theirs = SmallRng::seed_from_u64(seed);
            for _ in 0..1000 {
                assert_eq!(ours.next_u64(), theirs.next_u64());
                assert_eq!(ours.random::<f64>(), theirs.random::<f64>());
                assert_eq!(
                    ours.random_range(0..3600_i64),
                    theirs.random_range(0..3600_i64)
                );
                assert_eq!(ours.next_u32(), theirs.next_u32());
            }
        }
    }

    #[test]
    fn a_copy_continues_the_same_sequence() {
        let mut rng = SimRng::seeded(7);
        rng.next_u64();
        let text = serde_json::to_string(&rng).unwrap();
        let mut copy: SimRng = serde_json::from_str(&text).unwrap();
        for _ in 0..100 {
            assert_eq!(rng.next_u64(), copy.next_u64());
        }
    }
}
