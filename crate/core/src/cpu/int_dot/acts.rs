//! Activations quantized for integer dot products: each row in blocks of 32 values, each block
//! an int8 vector with one f32 scale (`x ≈ q * d`, `d = max|x| / 127`), and the sum of every 16
//! quantized values (what formats with an offset or a minimum subtract).

use crate::cpu::expect_len;
use crate::error::{Error, Result};

/// Values per activation block (every GGML block and K-quant sub-block of 32 is one of these).
pub const ACT_BLOCK: usize = 32;

/// m rows of activations [m, cols] in int8 blocks of 32.
#[derive(Debug, Clone)]
pub struct Q8Acts {
    cols: usize,
    /// [m, cols] quantized values.
    qs: Vec<i8>,
    /// [m, cols / 32] block scales.
    d: Vec<f32>,
    /// [m, cols / 16] sums of each 16 quantized values.
    sums: Vec<i32>,
}

/// One row of [`Q8Acts`].
#[derive(Debug, Clone, Copy)]
pub struct Q8Row<'a> {
    /// [cols] quantized values.
    pub qs: &'a [i8],
    /// [cols / 32] block scales.
    pub d: &'a [f32],
    /// [cols / 16] sums of 16 values.
    pub sums: &'a [i32],
}

impl Q8Acts {
    /// Quantizes x: [m, cols] (cols a multiple of 32).
    pub fn quantize(x: &[f32], m: usize, cols: usize) -> Result<Self> {
        expect_len("quantize activations", "x", x.len(), m * cols)?;
        if !cols.is_multiple_of(ACT_BLOCK) {
            return Err(Error::shape(
                "quantize activations",
                format!("{cols} columns are not whole blocks of {ACT_BLOCK}"),
            ));
        }
        let mut qs = vec![0i8; m * cols];
        let mut d = Vec::with_capacity(m * cols / ACT_BLOCK);
        let mut sums = Vec::with_capacity(m * cols / 16);
        for (block, q) in x
            .chunks_exact(ACT_BLOCK)
            .zip(qs.chunks_exact_mut(ACT_BLOCK))
        {
            // A NaN makes the block's scale NaN (the product is NaN, as in f32); the clamp keeps
            // values in -127..=127 even where 1 / scale overflows (the SIMD sign trick needs it).
            let amax = block.iter().fold(0f32, |a, v| {
                if v.is_nan() || v.abs() > a {
                    v.abs()
                } else {
                    a
                }
            });
            let scale = amax / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            for (q, v) in q.iter_mut().zip(block) {
                *q = (v * inv).round().clamp(-127.0, 127.0) as i8;
            }
            d.push(scale);
            for half in q.chunks_exact(16) {
                sums.push(half.iter().map(|v| i32::from(*v)).sum());
            }
        }
        Ok(Self { cols, qs, d, sums })
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> Q8Row<'_> {
        let c = self.cols;
        Q8Row {
            qs: &self.qs[i * c..(i + 1) * c],
            d: &self.d[i * c / ACT_BLOCK..(i + 1) * c / ACT_BLOCK],
            sums: &self.sums[i * c / 16..(i + 1) * c / 16],
        }
    }
}

impl Q8Row<'_> {
    /// The sum of the 32 quantized values of block `b`.
    #[inline]
    pub fn block_sum(&self, b: usize) -> i32 {
        self.sums[2 * b] + self.sums[2 * b + 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_scales_and_sums() {
        let mut x = vec![0f32; 64];
        x[0] = 2.54;
        x[1] = -1.26;
        x[20] = 0.5;
        let a = Q8Acts::quantize(&x, 1, 64).expect("quantizes");
        let r = a.row(0);
        assert_eq!((r.qs[0], r.qs[1], r.qs[20]), (127, -63, 25));
        assert!((r.d[0] - 0.02).abs() < 1e-7 && r.d[1] == 0.0);
        assert_eq!((r.sums[0], r.sums[1], r.block_sum(0)), (64, 25, 89));
        assert!(Q8Acts::quantize(&x[..40], 1, 40).is_err());
        // Tiny blocks stay in range; a NaN makes its block's scale NaN.
        let mut tiny = vec![1e-38f32; 32];
        tiny[3] = -2e-38;
        tiny.extend([f32::NAN; 32]);
        let a = Q8Acts::quantize(&tiny, 1, 64).expect("quantizes");
        assert!(a.row(0).qs.iter().all(|q| *q >= -127));
        assert!(a.row(0).d[0].is_finite() && a.row(0).d[1].is_nan());
    }
}
