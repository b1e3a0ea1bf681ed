//! The seeded random stream of a sequence: a counter-based generator, so that the draw for
//! (seed, stream, step) is the same on every backend and in every batch composition.

/// One round of the PCG output hash (O'Neill's RXS-M-XS on 32 bits), also used by the GPU kernel.
pub fn pcg_hash(input: u32) -> u32 {
    let state = input.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// A uniform draw in [0, 1) with 24 random bits for `step` of stream `stream` under `seed`.
pub fn uniform(seed: u64, stream: u64, step: u64) -> f32 {
    let mut h = pcg_hash(seed as u32);
    for word in [
        (seed >> 32) as u32,
        stream as u32,
        (stream >> 32) as u32,
        step as u32,
    ] {
        h = pcg_hash(h ^ word);
    }
    (h >> 8) as f32 / (1u32 << 24) as f32
}

#[cfg(test)]
mod tests {
    use super::uniform;

    #[test]
    fn draws_are_deterministic_distinct_and_uniform() {
        assert_eq!(uniform(1, 2, 3), uniform(1, 2, 3));
        assert_ne!(uniform(1, 2, 3), uniform(1, 2, 4));
        assert_ne!(uniform(1, 2, 3), uniform(1, 3, 3));
        assert_ne!(uniform(1, 2, 3), uniform(2, 2, 3));
        let n = 100_000;
        let mut buckets = [0usize; 10];
        for step in 0..n {
            let u = uniform(42, 7, step);
            assert!((0.0..1.0).contains(&u));
            buckets[(u * 10.0) as usize] += 1;
        }
        for b in buckets {
            assert!((b as f64 - 10_000.0).abs() < 500.0, "{buckets:?}");
        }
    }
}
