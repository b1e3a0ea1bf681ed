//! A row of GGML blocks decoded once into int8 values with a scale and a minimum per 16 values
//! (`weight = scale * q - min`), for products over many activation rows: the bit unpacking and
//! scale decoding are paid once per weight row instead of once per (weight row, input row).

use super::acts::{ACT_BLOCK, Q8Row};
use super::scalar::f16_at;
use crate::quant::ggml::{GgmlType, k4_scale_min};

/// One weight row, decoded.
#[derive(Debug, Clone, Default)]
pub struct DecodedRow {
    /// [cols] values in -128..=127.
    pub qs: Vec<i8>,
    /// [cols / 16] scales.
    pub scale: Vec<f32>,
    /// [cols / 16] minimums (all zero for types without one).
    pub min: Vec<f32>,
    /// Whether any minimum is set (Q4_K, Q5_K).
    pub has_min: bool,
    /// [cols / 32, 8] the scales as SIMD lanes take them: per block of 32, the first 16 values'
    /// scale four times, then the second 16's.
    pub lanes: Vec<f32>,
}

/// Weight rows decoded together and multiplied with each activation row in one pass (the
/// activations are loaded once for all of them).
pub const TILE: usize = 4;

impl DecodedRow {
    /// Decodes `row` (whole blocks of `ty`, a type [`super::Isa`] has kernels for).
    pub fn decode(&mut self, ty: GgmlType, row: &[u8]) {
        self.decode_parts(ty, row, true);
    }

    /// Decodes the scales and minimums only, leaving `qs` sized [cols] for a SIMD copy to fill.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub fn decode_scales(&mut self, ty: GgmlType, row: &[u8]) {
        self.decode_parts(ty, row, false);
    }

    fn decode_parts(&mut self, ty: GgmlType, row: &[u8], values: bool) {
        let cols = row.len() / ty.type_size() * ty.block_size();
        self.qs.resize(cols, 0);
        self.scale.resize(cols / 16, 0.0);
        self.min.clear();
        self.min.resize(cols / 16, 0.0);
        self.has_min = matches!(ty, GgmlType::Q4K | GgmlType::Q5K);
        let blocks = row.chunks_exact(ty.type_size());
        let (qs, scale) = (&mut self.qs, &mut self.scale);
        match ty {
            GgmlType::Q8_0 => {
                for (b, blk) in blocks.enumerate() {
                    if values {
                        for (q, v) in qs[32 * b..32 * b + 32].iter_mut().zip(&blk[2..34]) {
                            *q = *v as i8;
                        }
                    }
                    scale[2 * b..2 * b + 2].fill(f16_at(blk, 0));
                }
            }
            GgmlType::Q4_0 | GgmlType::Q5_0 => {
                let five = ty == GgmlType::Q5_0;
                for (b, blk) in blocks.enumerate() {
                    let (qh, nibbles) = if five {
                        (
                            u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]),
                            &blk[6..22],
                        )
                    } else {
                        (0, &blk[2..18])
                    };
                    let out = &mut qs[32 * b..32 * b + 32];
                    for (j, v) in nibbles.iter().enumerate().filter(|_| values) {
                        let bit = |k: usize| (((qh >> k) & 1) << 4) as i32;
                        let offset = if five { 16 } else { 8 };
                        out[j] = (i32::from(v & 15) + bit(j) - offset) as i8;
                        out[j + 16] = (i32::from(v >> 4) + bit(j + 16) - offset) as i8;
                    }
                    scale[2 * b..2 * b + 2].fill(f16_at(blk, 0));
                }
            }
            GgmlType::Q4K | GgmlType::Q5K => {
                let five = ty == GgmlType::Q5K;
                for (sb, blk) in blocks.enumerate() {
                    let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
                    let (qh, nibbles) = if five {
                        (&blk[16..48], &blk[48..176])
                    } else {
                        (&blk[0..0], &blk[16..144])
                    };
                    for j in 0..8 {
                        let (sc, m) = k4_scale_min(&blk[4..16], j);
                        let at = 256 * sb + ACT_BLOCK * j;
                        let bytes = &nibbles[32 * (j / 2)..32 * (j / 2) + 32];
                        for (l, v) in bytes.iter().enumerate().filter(|_| values) {
                            let high = if five { ((qh[l] >> j) & 1) << 4 } else { 0 };
                            qs[at + l] = (((v >> (4 * (j % 2))) & 15) | high) as i8;
                        }
                        scale[at / 16..at / 16 + 2].fill(d * sc);
                        self.min[at / 16..at / 16 + 2].fill(dmin * m);
                    }
                }
            }
            GgmlType::Q6K => {
                for (sb, blk) in blocks.enumerate() {
                    let (ql, qh, scales) = (&blk[0..128], &blk[128..192], &blk[192..208]);
                    let d = f16_at(blk, 208);
                    for v in (0..256).filter(|_| values) {
                        let (h, i) = (v / 128, v % 128);
                        let low = (ql[64 * h + i % 64] >> (4 * (i / 64))) & 15;
                        let high = (qh[32 * h + i % 32] >> (2 * (i / 32))) & 3;
                        qs[256 * sb + v] = ((low | (high << 4)) as i32 - 32) as i8;
                    }
                    for (k, s) in scales.iter().enumerate() {
                        scale[16 * sb + k] = d * f32::from(*s as i8);
                    }
                }
            }
            _ => {}
        }
        self.lanes.clear();
        for pair in self.scale.chunks_exact(2) {
            self.lanes.extend([pair[0]; 4]);
            self.lanes.extend([pair[1]; 4]);
        }
    }

    /// Σ scale q a over the row, without the minimums (see [`DecodedRow::min_dot`]).
    pub fn scaled_dot(&self, a: &Q8Row) -> f32 {
        let mut acc = 0f32;
        for (b, (w, x)) in self
            .qs
            .chunks_exact(ACT_BLOCK)
            .zip(a.qs.chunks_exact(ACT_BLOCK))
            .enumerate()
        {
            let half = |h: usize| -> f32 {
                let s: i32 = w[16 * h..16 * h + 16]
                    .iter()
                    .zip(&x[16 * h..16 * h + 16])
                    .map(|(w, x)| i32::from(*w) * i32::from(*x))
                    .sum();
                self.scale[2 * b + h] * s as f32
            };
            acc += a.d[b] * (half(0) + half(1));
        }
        acc
    }

    /// Σ min x over the row, from `asum` [cols / 16]: each 16 activations' sum times their scale.
    pub fn min_dot(&self, asum: &[f32]) -> f32 {
        if !self.has_min {
            return 0.0;
        }
        self.min.iter().zip(asum).map(|(m, s)| m * s).sum()
    }
}

/// Each 16 activations' sum times their block's scale: [cols / 16].
pub fn scaled_sums(a: &Q8Row) -> Vec<f32> {
    a.sums
        .iter()
        .enumerate()
        .map(|(k, s)| a.d[k / 2] * *s as f32)
        .collect()
}
