//! Symmetric int4 weights in groups of 32 along the input dimension, with f16 scales.
//!
//! A matrix W [rows, cols] (HF `Linear.weight` layout: [out_features, in_features]) is stored as:
//! - `qweight`: rows * cols / 8 u32 words, row-major; word `w` of a row holds columns
//!   `8w .. 8w + 8`, column `8w + i` in bits `4i .. 4i + 4` as an unsigned nibble `q` in 0..=15;
//! - `scales`: rows * cols / 32 f16 values packed two per u32 ([`super::f16pack`]), group `g` of
//!   row `r` at flat index `r * cols / 32 + g`.
//!
//! The value of a weight is `(q - 8) * scale`. Quantization follows ggml's Q4_0: the weight of
//! largest magnitude `e` gets `scale = e / -8` (so it is exact up to the f16 rounding of the
//! scale, and all 16 levels are used); the scale is negative when `e` is positive.

use super::f16pack::{pack_f16, unpack_f16_at};
use crate::error::{Error, Result};
use half::f16;

/// Values per quantization group.
pub const GROUP_SIZE: usize = 32;
/// Nibbles per packed u32 word.
pub const NIBBLES_PER_WORD: usize = 8;

/// An int4 group-32 matrix in the packed layout the kernels read.
#[derive(Debug, Clone, PartialEq)]
pub struct Q4Matrix {
    /// Output features.
    pub rows: usize,
    /// Input features; a multiple of [`GROUP_SIZE`].
    pub cols: usize,
    /// Packed nibbles: [rows, cols / 8] u32.
    pub qweight: Vec<u32>,
    /// Packed f16 scales: ceil(rows * cols / 32 / 2) u32.
    pub scales: Vec<u32>,
}

impl Q4Matrix {
    /// Quantizes a row-major f32 matrix [rows, cols].
    pub fn quantize(weights: &[f32], rows: usize, cols: usize) -> Result<Self> {
        if !cols.is_multiple_of(GROUP_SIZE) {
            return Err(Error::shape(
                "q4 quantize",
                format!("cols = {cols} is not a multiple of the group size {GROUP_SIZE}"),
            ));
        }
        if weights.len() != rows * cols {
            return Err(Error::shape(
                "q4 quantize",
                format!("{} weights for a {rows}x{cols} matrix", weights.len()),
            ));
        }
        let groups = rows * cols / GROUP_SIZE;
        let mut scales = Vec::with_capacity(groups);
        let mut qweight = Vec::with_capacity(rows * cols / NIBBLES_PER_WORD);
        for group in weights.chunks_exact(GROUP_SIZE) {
            // All 16 levels: the value of largest magnitude maps to -8 (ggml's Q4_0 rule), so the
            // scale is negative when that value is positive.
            let extreme = group
                .iter()
                .fold(0.0f32, |m, v| if v.abs() > m.abs() { *v } else { m });
            // Round the scale to f16 first so the nibbles are chosen for the scale the kernel uses.
            let scale = f16::from_f32(extreme / -8.0).to_f32();
            let inv = if scale != 0.0 { 1.0 / scale } else { 0.0 };
            scales.push(scale);
            for word in group.chunks_exact(NIBBLES_PER_WORD) {
                let mut packed = 0u32;
                for (i, v) in word.iter().enumerate() {
                    let q = ((v * inv).round() + 8.0).clamp(0.0, 15.0) as u32;
                    packed |= q << (4 * i);
                }
                qweight.push(packed);
            }
        }
        Ok(Self {
            rows,
            cols,
            qweight,
            scales: pack_f16(&scales),
        })
    }

    /// The scale of group `group` (flat index over all rows).
    #[inline]
    pub fn scale(&self, group: usize) -> f32 {
        unpack_f16_at(&self.scales, group)
    }

    /// Dequantizes back to a row-major f32 matrix.
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.rows * self.cols);
        for (w, word) in self.qweight.iter().enumerate() {
            let scale = self.scale(w * NIBBLES_PER_WORD / GROUP_SIZE);
            for i in 0..NIBBLES_PER_WORD {
                let q = (word >> (4 * i)) & 0xf;
                out.push((q as f32 - 8.0) * scale);
            }
        }
        out
    }

    /// Bytes of packed weights plus scales.
    pub fn byte_len(&self) -> usize {
        4 * (self.qweight.len() + self.scales.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_cols_not_multiple_of_group() {
        let err = Q4Matrix::quantize(&[0.0; 40], 1, 40).unwrap_err();
        assert_eq!(err.code(), "shape");
    }

    #[test]
    fn packs_nibbles_in_documented_order() {
        // One group whose extreme is -8: scale = -8 / -8 = 1.0, so q = v + 8.
        let mut w = vec![0.0f32; 32];
        w[0] = 7.0;
        w[1] = -8.0;
        w[2] = 3.0;
        w[9] = -1.0;
        let q = Q4Matrix::quantize(&w, 1, 32).unwrap();
        assert_eq!(q.scale(0), 1.0);
        // column 0 -> 15, column 1 -> 0, column 2 -> 11, others 8.
        assert_eq!(q.qweight[0], 0x8888_8b0f);
        // column 9 is nibble 1 of word 1 -> 7.
        assert_eq!(q.qweight[1], 0x8888_8878);
        assert_eq!(q.dequantize(), w);
        // A positive extreme gives a negative scale and maps to nibble 0.
        let mut p = vec![0.0f32; 32];
        p[3] = 4.0;
        let q = Q4Matrix::quantize(&p, 1, 32).unwrap();
        assert_eq!(q.scale(0), -0.5);
        assert_eq!((q.qweight[0] >> 12) & 0xf, 0);
        assert_eq!(q.dequantize(), p);
    }

    #[test]
    fn error_is_bounded_by_a_step() {
        let w: Vec<f32> = (0..128)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 13.0)
            .collect();
        let q = Q4Matrix::quantize(&w, 2, 64).unwrap();
        let d = q.dequantize();
        for (g, chunk) in w.chunks(32).enumerate() {
            // Half a step, or the overshoot of a value clamped at +7 (opposite to the extreme).
            let step = q.scale(g).abs();
            for (i, v) in chunk.iter().enumerate() {
                let err = (v - d[g * 32 + i]).abs();
                let clamped = (v / q.scale(g)).round() > 7.0;
                // A clamped value dequantizes to 7 steps (in its own direction).
                let bound = if clamped {
                    v.abs() - 7.0 * step
                } else {
                    step * 0.5
                };
                assert!(err <= bound + 1e-5, "{v}: {err} > {bound}");
            }
        }
    }
}
