//! f16 values packed two per u32 word, the layout WGSL's `unpack2x16float` reads.
//!
//! Word `i` holds element `2i` in its low 16 bits and element `2i + 1` in its high 16 bits.
//! Kernels never need the `shader-f16` feature (many adapters lack it): they unpack to f32.

use half::f16;

/// Packs f32 values as f16 pairs; an odd count is padded with a zero in the last high half.
pub fn pack_f16(values: &[f32]) -> Vec<u32> {
    values
        .chunks(2)
        .map(|pair| {
            let lo = f16::from_f32(pair[0]).to_bits() as u32;
            let hi = pair
                .get(1)
                .map_or(0, |v| f16::from_f32(*v).to_bits() as u32);
            lo | (hi << 16)
        })
        .collect()
}

/// Reads element `index` of a packed f16 array as f32.
#[inline]
pub fn unpack_f16_at(words: &[u32], index: usize) -> f32 {
    let word = words[index / 2];
    let bits = if index.is_multiple_of(2) {
        word & 0xffff
    } else {
        word >> 16
    };
    f16::from_bits(bits as u16).to_f32()
}

/// Unpacks `len` f16 values to f32.
pub fn unpack_f16(words: &[u32], len: usize) -> Vec<f32> {
    (0..len).map(|i| unpack_f16_at(words, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exact_halves() {
        let values = [1.0, -2.5, 0.0, 65504.0, -0.000_061_035_156];
        let packed = pack_f16(&values);
        assert_eq!(packed.len(), 3);
        assert_eq!(unpack_f16(&packed, values.len()), values);
        // 1.0 is 0x3c00 in the low half; -2.5 is 0xc100 in the high half.
        assert_eq!(packed[0], 0xc100_3c00);
    }
}
