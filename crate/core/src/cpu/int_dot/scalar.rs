//! The portable integer dot products of one row of GGML blocks with one row of [`Q8Acts`]
//! activations: the reference every SIMD copy is tested against, and the path where none exists.
//!
//! Each block's quantized weights are multiplied with the activations' int8 values and summed
//! in i32, then scaled once: by the weight block's scale and the activation block's scale, less
//! the weight's offset or minimum times the activations' sum.
//!
//! [`Q8Acts`]: super::acts::Q8Acts

use super::acts::{ACT_BLOCK, Q8Row};
use crate::quant::ggml::k4_scale_min;
use half::f16;

#[inline]
pub(super) fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

#[inline]
fn int_dot(w: impl Iterator<Item = i32>, a: &[i8]) -> i32 {
    w.zip(a).map(|(w, a)| w * i32::from(*a)).sum()
}

/// Q8_0 (34 bytes per 32: f16 d, 32 i8).
pub fn dot_q8_0(row: &[u8], a: &Q8Row) -> f32 {
    row.chunks_exact(34)
        .enumerate()
        .map(|(b, blk)| {
            let s = int_dot(
                blk[2..34].iter().map(|q| i32::from(*q as i8)),
                &a.qs[ACT_BLOCK * b..],
            );
            f16_at(blk, 0) * a.d[b] * s as f32
        })
        .sum()
}

/// Q4_0 (18 bytes per 32: f16 d, 16 bytes; value j is the low nibble of byte j, value j + 16
/// its high nibble; weight (q - 8) d).
pub fn dot_q4_0(row: &[u8], a: &Q8Row) -> f32 {
    row.chunks_exact(18)
        .enumerate()
        .map(|(b, blk)| {
            let qs = &blk[2..18];
            let x = &a.qs[ACT_BLOCK * b..];
            let s = int_dot(qs.iter().map(|q| i32::from(q & 15)), x)
                + int_dot(qs.iter().map(|q| i32::from(q >> 4)), &x[16..]);
            f16_at(blk, 0) * a.d[b] * (s - 8 * a.block_sum(b)) as f32
        })
        .sum()
}

/// Q5_0 (22 bytes per 32: f16 d, u32 of fifth bits, 16 bytes of nibbles as Q4_0; weight
/// (q - 16) d).
pub fn dot_q5_0(row: &[u8], a: &Q8Row) -> f32 {
    row.chunks_exact(22)
        .enumerate()
        .map(|(b, blk)| {
            let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
            let qs = &blk[6..22];
            let x = &a.qs[ACT_BLOCK * b..];
            let bit = |j: usize| ((qh >> j) & 1) as i32 * 16;
            let s = int_dot(
                qs.iter()
                    .enumerate()
                    .map(|(j, q)| i32::from(q & 15) + bit(j)),
                x,
            ) + int_dot(
                qs.iter()
                    .enumerate()
                    .map(|(j, q)| i32::from(q >> 4) + bit(j + 16)),
                &x[16..],
            );
            f16_at(blk, 0) * a.d[b] * (s - 16 * a.block_sum(b)) as f32
        })
        .sum()
}

/// Q4_K and Q5_K (256 values: f16 d, f16 dmin, 12 bytes of 6-bit scales and minimums, [Q5_K:
/// 32 bytes of fifth bits], 128 bytes of nibbles; sub-block j of 32 takes the low nibbles of
/// bytes 32 (j / 2).. for even j, the high ones for odd j; weight d sc_j q - dmin m_j).
fn dot_k4_k5(row: &[u8], a: &Q8Row, five: bool) -> f32 {
    let size = if five { 176 } else { 144 };
    let mut acc = 0f32;
    for (sb, blk) in row.chunks_exact(size).enumerate() {
        let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
        let scales = &blk[4..16];
        let (qh, qs) = if five {
            (&blk[16..48], &blk[48..176])
        } else {
            (&blk[0..0], &blk[16..144])
        };
        for j in 0..8 {
            let ab = 8 * sb + j;
            let bytes = &qs[32 * (j / 2)..32 * (j / 2) + 32];
            let shift = 4 * (j % 2);
            let w = bytes.iter().enumerate().map(|(l, q)| {
                let high = if five { ((qh[l] >> j) & 1) << 4 } else { 0 };
                i32::from(((q >> shift) & 15) | high)
            });
            let s = int_dot(w, &a.qs[ACT_BLOCK * ab..]);
            let (sc, m) = k4_scale_min(scales, j);
            acc += a.d[ab] * (d * sc * s as f32 - dmin * m * a.block_sum(ab) as f32);
        }
    }
    acc
}

/// Q4_K.
pub fn dot_q4_k(row: &[u8], a: &Q8Row) -> f32 {
    dot_k4_k5(row, a, false)
}

/// Q5_K.
pub fn dot_q5_k(row: &[u8], a: &Q8Row) -> f32 {
    dot_k4_k5(row, a, true)
}

/// Q6_K (256 values: 128 bytes of low nibbles, 64 of high bit pairs, 16 i8 scales, f16 d;
/// value v of half h = v / 128, i = v % 128: low nibble of ql[64 h + i % 64] (shifted by
/// 4 (i / 64)), high pair of qh[32 h + i % 32] (shifted by 2 (i / 32)); weight d sc_{v/16}
/// (q - 32)).
pub fn dot_q6_k(row: &[u8], a: &Q8Row) -> f32 {
    let mut acc = 0f32;
    for (sb, blk) in row.chunks_exact(210).enumerate() {
        let (ql, qh, scales) = (&blk[0..128], &blk[128..192], &blk[192..208]);
        let d = f16_at(blk, 208);
        for g in 0..8 {
            // Group g: 32 values, one activation block, two scales of 16.
            let (h, i0) = (g / 4, 32 * (g % 4));
            let ab = 8 * sb + g;
            let x = &a.qs[ACT_BLOCK * ab..ACT_BLOCK * ab + 32];
            let mut sum = 0f32;
            for half in 0..2 {
                let w = (0..16).map(|l| {
                    let i = i0 + 16 * half + l;
                    let low = (ql[64 * h + i % 64] >> (4 * (i / 64))) & 15;
                    let high = (qh[32 * h + i % 32] >> (2 * (i / 32))) & 3;
                    i32::from(low | (high << 4))
                });
                let s = int_dot(w, &x[16 * half..]) - 32 * a.sums[2 * ab + half];
                sum += f32::from(scales[2 * g + half] as i8) * s as f32;
            }
            acc += d * a.d[ab] * sum;
        }
    }
    acc
}
