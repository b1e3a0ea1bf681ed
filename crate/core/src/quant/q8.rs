//! Symmetric int8 weights in groups of 32 along the input dimension, with f16 scales.
//!
//! W [rows, cols] is stored as `qweight`: rows * cols / 4 u32 words, row-major; column `4w + i`
//! of a row is byte `i` (bits 8i..8i+8) of its word `w`, a signed value in -127..=127; and
//! `scales`: one f16 per 32 values (flat index over the matrix), packed two per u32. The value of
//! a weight is `q * scale`, with `scale = max|w| / 127` rounded to f16.

use super::f16pack::{pack_f16, unpack_f16_at};
use crate::error::{Error, Result};
use half::f16;

/// Values per quantization group.
pub const GROUP_SIZE: usize = 32;

/// An int8 group-32 matrix in the packed layout the kernels read.
#[derive(Debug, Clone, PartialEq)]
pub struct Q8Matrix {
    /// Output features.
    pub rows: usize,
    /// Input features; a multiple of [`GROUP_SIZE`].
    pub cols: usize,
    /// Packed bytes: [rows, cols / 4] u32.
    pub qweight: Vec<u32>,
    /// Packed f16 scales: ceil(rows * cols / 32 / 2) u32.
    pub scales: Vec<u32>,
}

impl Q8Matrix {
    /// Quantizes a row-major f32 matrix [rows, cols].
    pub fn quantize(weights: &[f32], rows: usize, cols: usize) -> Result<Self> {
        if !cols.is_multiple_of(GROUP_SIZE) || weights.len() != rows * cols {
            return Err(Error::shape(
                "q8 quantize",
                format!(
                    "{} weights for {rows}x{cols} (cols must be a multiple of {GROUP_SIZE})",
                    weights.len()
                ),
            ));
        }
        let mut scales = Vec::with_capacity(rows * cols / GROUP_SIZE);
        let mut qweight = Vec::with_capacity(rows * cols / 4);
        for group in weights.chunks_exact(GROUP_SIZE) {
            let amax = group.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let scale = f16::from_f32(amax / 127.0).to_f32();
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            scales.push(scale);
            for word in group.chunks_exact(4) {
                let mut packed = 0u32;
                for (i, v) in word.iter().enumerate() {
                    let q = (v * inv).round().clamp(-127.0, 127.0) as i8;
                    packed |= (q as u8 as u32) << (8 * i);
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

    /// Row `r` dequantized into `out` [cols].
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        // A group at a time: one scale, eight words of four bytes.
        let groups = self.cols / GROUP_SIZE;
        for (g, chunk) in out[..self.cols].chunks_exact_mut(GROUP_SIZE).enumerate() {
            let group = r * groups + g;
            let scale = unpack_f16_at(&self.scales, group);
            let words = &self.qweight[group * GROUP_SIZE / 4..(group + 1) * GROUP_SIZE / 4];
            for (values, word) in chunk.chunks_exact_mut(4).zip(words) {
                for (b, v) in values.iter_mut().enumerate() {
                    *v = f32::from((word >> (8 * b)) as u8 as i8) * scale;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_error_bound() {
        let mut w = vec![0.0f32; 64];
        w[0] = 127.0;
        w[1] = -127.0;
        w[5] = 3.0;
        w[40] = 1.0;
        let q = Q8Matrix::quantize(&w, 1, 64).unwrap();
        // Group 0: scale 1.0; bytes 0 and 1 of word 0 are 127 and -127 (0x81).
        assert_eq!(q.qweight[0], 0x0000_817f);
        assert_eq!(q.qweight[1], 0x0000_0300);
        let mut row = vec![0.0; 64];
        q.dequantize_row(0, &mut row);
        assert_eq!(row[..32], w[..32]);
        // Group 1's scale 1/127 is rounded to f16: 127 * f16(1/127) = 0.99994.
        assert!((row[40] - 1.0).abs() < 1e-4 && row[41..].iter().all(|v| *v == 0.0));
        assert_eq!(
            Q8Matrix::quantize(&[0.0; 40], 1, 40).unwrap_err().code(),
            "shape"
        );
    }
}
