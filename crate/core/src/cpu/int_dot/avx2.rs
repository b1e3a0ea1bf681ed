//! AVX2 copies of the integer dot products in [`super::scalar`], for x86-64 CPUs with AVX2, FMA
//! and F16C (chosen at run time): 32 weights and 32 activations per `maddubs` (u8 x i8 pairs to
//! i16), `madd` to i32, one f32 fused multiply-add per block into eight lanes, one horizontal sum
//! per row.
//!
//! Every load is bounds-checked; callers pass rows of as many values as `a` holds (a shorter
//! activation row panics, which [`super::block_dot`] and [`super::linear_blocks`] rule out).

use super::acts::{ACT_BLOCK, Q8Row};
use super::decoded::{DecodedRow, TILE};
use crate::quant::ggml::{GgmlType, k4_scale_min};
use std::arch::x86_64::*;

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn f16_at(bytes: &[u8], at: usize) -> f32 {
    let bits = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(bits))))
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
}

/// Eight i32 sums of four u8 x i8 products each (u values at most 128).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_u8_i8(u: __m256i, s: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
}

/// Eight i32 sums of four i8 x i8 products each.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_i8_i8(x: __m256i, y: __m256i) -> __m256i {
    dot_u8_i8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x))
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn load32(bytes: &[u8], at: usize) -> __m256i {
    let v = &bytes[at..at + 32];
    // SAFETY: `v` holds the 32 bytes read.
    unsafe { _mm256_loadu_si256(v.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn acts32(a: &Q8Row, block: usize) -> __m256i {
    let v = &a.qs[ACT_BLOCK * block..ACT_BLOCK * (block + 1)];
    // SAFETY: `v` holds the 32 bytes read.
    unsafe { _mm256_loadu_si256(v.as_ptr().cast()) }
}

/// 32 nibbles of 16 bytes: low nibbles first (values 0..16), then the high ones.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn nibbles16(bytes: &[u8], at: usize) -> __m256i {
    let v = &bytes[at..at + 16];
    // SAFETY: `v` holds the 16 bytes read.
    let q = unsafe { _mm_loadu_si128(v.as_ptr().cast()) };
    let m4 = _mm_set1_epi8(15);
    _mm256_set_m128i(
        _mm_and_si128(_mm_srli_epi16(q, 4), m4),
        _mm_and_si128(q, m4),
    )
}

/// Q8_0.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_q8_0(row: &[u8], a: &Q8Row) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (b, blk) in row.chunks_exact(34).enumerate() {
        let s = dot_i8_i8(load32(blk, 2), acts32(a, b));
        let scale = _mm256_set1_ps(f16_at(blk, 0) * a.d[b]);
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc);
    }
    hsum(acc)
}

/// Q4_0.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_q4_0(row: &[u8], a: &Q8Row) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (b, blk) in row.chunks_exact(18).enumerate() {
        let w = _mm256_sub_epi8(nibbles16(blk, 2), _mm256_set1_epi8(8));
        let s = dot_i8_i8(w, acts32(a, b));
        let scale = _mm256_set1_ps(f16_at(blk, 0) * a.d[b]);
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc);
    }
    hsum(acc)
}

/// Byte i of the result is 0xff where bit i of `bits` is set.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn bytes_from_bits(bits: u32) -> __m256i {
    let v = _mm256_set1_epi32(bits as i32);
    let v = _mm256_shuffle_epi8(
        v,
        _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3,
            3, 3, 3,
        ),
    );
    // Byte i % 8 of the mask has every bit but bit i % 8 set.
    let v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbf_dfef_f7fb_fdfe_u64 as i64));
    _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1))
}

/// Q5_0.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_q5_0(row: &[u8], a: &Q8Row) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (b, blk) in row.chunks_exact(22).enumerate() {
        let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
        let high = _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(16));
        let w = _mm256_or_si256(nibbles16(blk, 6), high);
        let w = _mm256_sub_epi8(w, _mm256_set1_epi8(16));
        let s = dot_i8_i8(w, acts32(a, b));
        let scale = _mm256_set1_ps(f16_at(blk, 0) * a.d[b]);
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc);
    }
    hsum(acc)
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_k4_k5(row: &[u8], a: &Q8Row, five: bool) -> f32 {
    let size = if five { 176 } else { 144 };
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0f32;
    let m4 = _mm256_set1_epi8(15);
    for (sb, blk) in row.chunks_exact(size).enumerate() {
        let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
        let scales = &blk[4..16];
        let qs_at = if five { 48 } else { 16 };
        let qh = if five {
            load32(blk, 16)
        } else {
            _mm256_setzero_si256()
        };
        for c in 0..4 {
            let q = load32(blk, qs_at + 32 * c);
            let halves = [
                _mm256_and_si256(q, m4),
                _mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
            ];
            for (h, nib) in halves.into_iter().enumerate() {
                let j = 2 * c + h;
                let ab = 8 * sb + j;
                let w = if five {
                    let bit = _mm256_set1_epi8(1 << j);
                    let set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
                    _mm256_or_si256(nib, _mm256_and_si256(set, _mm256_set1_epi8(16)))
                } else {
                    nib
                };
                let (sc, m) = k4_scale_min(scales, j);
                let s = dot_u8_i8(w, acts32(a, ab));
                let scale = _mm256_set1_ps(d * sc * a.d[ab]);
                acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc);
                mins += dmin * m * a.d[ab] * a.block_sum(ab) as f32;
            }
        }
    }
    hsum(acc) - mins
}

/// Q4_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_q4_k(row: &[u8], a: &Q8Row) -> f32 {
    dot_k4_k5(row, a, false)
}

/// Q5_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_q5_k(row: &[u8], a: &Q8Row) -> f32 {
    dot_k4_k5(row, a, true)
}

/// Q6_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_q6_k(row: &[u8], a: &Q8Row) -> f32 {
    let mut acc = _mm256_setzero_ps();
    let mut offsets = 0f32;
    let (m4, m2) = (_mm256_set1_epi8(15), _mm256_set1_epi8(3));
    for (sb, blk) in row.chunks_exact(210).enumerate() {
        let d = f16_at(blk, 208);
        let scales = &blk[192..208];
        for h in 0..2 {
            let ql = [load32(blk, 64 * h), load32(blk, 64 * h + 32)];
            let qh = load32(blk, 128 + 32 * h);
            for t in 0..4 {
                // Values 32t.. of this half: ql[t % 2]'s nibble t / 2, qh's bit pair t.
                let low = if t < 2 {
                    _mm256_and_si256(ql[t % 2], m4)
                } else {
                    _mm256_and_si256(_mm256_srli_epi16(ql[t % 2], 4), m4)
                };
                let high = match t {
                    0 => _mm256_and_si256(qh, m2),
                    1 => _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2),
                    2 => _mm256_and_si256(_mm256_srli_epi16(qh, 4), m2),
                    _ => _mm256_and_si256(_mm256_srli_epi16(qh, 6), m2),
                };
                let q = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
                let g = 4 * h + t;
                let ab = 8 * sb + g;
                let (s0, s1) = (
                    i16::from(scales[2 * g] as i8),
                    i16::from(scales[2 * g + 1] as i8),
                );
                let p16 = _mm256_maddubs_epi16(q, acts32(a, ab));
                let sc = _mm256_set_m128i(_mm_set1_epi16(s1), _mm_set1_epi16(s0));
                let s = _mm256_madd_epi16(p16, sc);
                let scale = d * a.d[ab];
                acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(s), acc);
                let sums = i32::from(s0) * a.sums[2 * ab] + i32::from(s1) * a.sums[2 * ab + 1];
                offsets += scale * (32 * sums) as f32;
            }
        }
    }
    hsum(acc) - offsets
}

/// The f32 scales of Q8_0 rows: [blocks] per row, into `out`.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn q8_0_scales(row: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.extend(row.chunks_exact(34).map(|blk| f16_at(blk, 0)));
}

/// [`TILE`] rows of Q8_0 blocks with `A` activation rows, read as they are (their values are
/// int8 already: nothing to decode); `scales` are the rows' block scales ([`q8_0_scales`]).
/// Each weight vector is loaded once for the `A` rows, each activation vector once for the
/// [`TILE`] rows. Result [A][TILE].
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::needless_range_loop)] // b indexes the activations, their scales and four rows
pub fn dot_q8_0_tile<const A: usize>(
    rows: [&[u8]; TILE],
    scales: [&[f32]; TILE],
    acts: [&Q8Row; A],
) -> [[f32; TILE]; A] {
    let mut acc = [[_mm256_setzero_ps(); TILE]; A];
    let ones = _mm256_set1_epi16(1);
    for b in 0..acts[0].qs.len() / ACT_BLOCK {
        let x: [__m256i; A] = std::array::from_fn(|i| acts32(acts[i], b));
        for t in 0..TILE {
            // |w| * sign(x, w) = w * x (|w| as u8: -128 too; activations stay in -127..=127).
            let w = load32(rows[t], 34 * b + 2);
            let aw = _mm256_sign_epi8(w, w);
            let ws = _mm256_set1_ps(scales[t][b]);
            for i in 0..A {
                let p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(x[i], w));
                let p = _mm256_madd_epi16(p, ones);
                let f = _mm256_mul_ps(_mm256_cvtepi32_ps(p), ws);
                acc[i][t] = _mm256_fmadd_ps(f, _mm256_set1_ps(acts[i].d[b]), acc[i][t]);
            }
        }
    }
    acc.map(|row| row.map(|v| hsum(v)))
}

/// Σ scale q a of [`TILE`] decoded rows with `A` activation rows (minimums apart): each
/// weight vector is loaded once for the `A` rows, each activation vector once for the rows.
/// Result [A][TILE].
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_decoded_tile<const A: usize>(
    ws: [&DecodedRow; TILE],
    acts: [&Q8Row; A],
) -> [[f32; TILE]; A] {
    let mut acc = [[_mm256_setzero_ps(); TILE]; A];
    let qs: [&[u8]; TILE] = ws.map(|w| bytemuck::cast_slice(&w.qs));
    let blocks = acts[0].qs.len() / ACT_BLOCK;
    let ones = _mm256_set1_epi16(1);
    for b in 0..blocks {
        let x: [__m256i; A] = std::array::from_fn(|i| acts32(acts[i], b));
        for t in 0..TILE {
            let w = load32(qs[t], ACT_BLOCK * b);
            // |w| * sign(x, w) = w * x, pairwise in i16, then in fours in i32 (|w| as u8: -128
            // too; activations stay in -127..=127).
            let aw = _mm256_sign_epi8(w, w);
            let lanes = &ws[t].lanes[8 * b..8 * b + 8];
            // SAFETY: `lanes` holds the 8 floats read.
            let scale = unsafe { _mm256_loadu_ps(lanes.as_ptr()) };
            for (i, x) in x.iter().enumerate() {
                let p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(*x, w));
                let p = _mm256_madd_epi16(p, ones);
                let f = _mm256_mul_ps(_mm256_cvtepi32_ps(p), scale);
                acc[i][t] = _mm256_fmadd_ps(f, _mm256_set1_ps(acts[i].d[b]), acc[i][t]);
            }
        }
    }
    acc.map(|row| row.map(|v| hsum(v)))
}

/// Σ scale q a of a decoded row (its minimums apart).
#[target_feature(enable = "avx2,fma,f16c")]
pub fn dot_decoded(w: &DecodedRow, a: &Q8Row) -> f32 {
    let mut acc = _mm256_setzero_ps();
    let qs: &[u8] = bytemuck::cast_slice(&w.qs);
    for b in 0..qs.len() / ACT_BLOCK {
        let s = dot_i8_i8(load32(qs, ACT_BLOCK * b), acts32(a, b));
        // Lanes 0..4 hold the first 16 values' sums, lanes 4..8 the second 16's.
        let scale = _mm256_set_m128(
            _mm_set1_ps(w.scale[2 * b + 1] * a.d[b]),
            _mm_set1_ps(w.scale[2 * b] * a.d[b]),
        );
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc);
    }
    hsum(acc)
}

/// Fills `qs` [values in row] with the int8 values [`DecodedRow`] holds for `row` (its scales
/// come from [`DecodedRow::decode_scales`]); false for a type without a copy here.
#[target_feature(enable = "avx2,fma,f16c")]
pub fn decode_values(ty: GgmlType, row: &[u8], qs: &mut [i8]) -> bool {
    let qs: &mut [u8] = bytemuck::cast_slice_mut(qs);
    let m4 = _mm256_set1_epi8(15);
    let store = |qs: &mut [u8], at: usize, v: __m256i| {
        let out = &mut qs[at..at + 32];
        // SAFETY: `out` holds the 32 bytes written.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), v) }
    };
    match ty {
        GgmlType::Q8_0 => {
            for (b, blk) in row.chunks_exact(34).enumerate() {
                qs[32 * b..32 * b + 32].copy_from_slice(&blk[2..34]);
            }
        }
        GgmlType::Q4_0 => {
            for (b, blk) in row.chunks_exact(18).enumerate() {
                let w = _mm256_sub_epi8(nibbles16(blk, 2), _mm256_set1_epi8(8));
                store(qs, 32 * b, w);
            }
        }
        GgmlType::Q5_0 => {
            for (b, blk) in row.chunks_exact(22).enumerate() {
                let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
                let high = _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(16));
                let w = _mm256_or_si256(nibbles16(blk, 6), high);
                store(qs, 32 * b, _mm256_sub_epi8(w, _mm256_set1_epi8(16)));
            }
        }
        GgmlType::Q4K | GgmlType::Q5K => {
            let five = ty == GgmlType::Q5K;
            let size = if five { 176 } else { 144 };
            for (sb, blk) in row.chunks_exact(size).enumerate() {
                let qs_at = if five { 48 } else { 16 };
                let qh = if five {
                    load32(blk, 16)
                } else {
                    _mm256_setzero_si256()
                };
                for c in 0..4 {
                    let q = load32(blk, qs_at + 32 * c);
                    let halves = [
                        _mm256_and_si256(q, m4),
                        _mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                    ];
                    for (h, nib) in halves.into_iter().enumerate() {
                        let j = 2 * c + h;
                        let w = if five {
                            let bit = _mm256_set1_epi8(1 << j);
                            let set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
                            _mm256_or_si256(nib, _mm256_and_si256(set, _mm256_set1_epi8(16)))
                        } else {
                            nib
                        };
                        store(qs, 256 * sb + ACT_BLOCK * j, w);
                    }
                }
            }
        }
        GgmlType::Q6K => {
            let m2 = _mm256_set1_epi8(3);
            for (sb, blk) in row.chunks_exact(210).enumerate() {
                for h in 0..2 {
                    let ql = [load32(blk, 64 * h), load32(blk, 64 * h + 32)];
                    let qh = load32(blk, 128 + 32 * h);
                    for t in 0..4 {
                        let low = if t < 2 {
                            _mm256_and_si256(ql[t % 2], m4)
                        } else {
                            _mm256_and_si256(_mm256_srli_epi16(ql[t % 2], 4), m4)
                        };
                        let high = match t {
                            0 => _mm256_and_si256(qh, m2),
                            1 => _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2),
                            2 => _mm256_and_si256(_mm256_srli_epi16(qh, 4), m2),
                            _ => _mm256_and_si256(_mm256_srli_epi16(qh, 6), m2),
                        };
                        let q = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
                        let w = _mm256_sub_epi8(q, _mm256_set1_epi8(32));
                        store(qs, 256 * sb + 128 * h + 32 * t, w);
                    }
                }
            }
        }
        _ => return false,
    }
    true
}
