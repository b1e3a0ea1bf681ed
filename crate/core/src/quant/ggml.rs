//! GGML tensor types of GGUF files and their dequantization to f32.
//!
//! Block layouts follow ggml (and PyPI `gguf`'s `quants.py`, the reference the tests compare
//! with): a block of `block_size` values takes `type_size` bytes; f16 scales are little-endian.

use crate::error::{Error, Result};
use half::{bf16, f16};

/// Values per K-quant super-block.
const QK_K: usize = 256;

/// The GGML tensor types ttsearch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
    /// bfloat16.
    BF16,
    /// 4-bit, blocks of 32, scale only.
    Q4_0,
    /// 4-bit, blocks of 32, scale and minimum.
    Q4_1,
    /// 5-bit, blocks of 32, scale only.
    Q5_0,
    /// 5-bit, blocks of 32, scale and minimum.
    Q5_1,
    /// 8-bit, blocks of 32.
    Q8_0,
    /// 2-bit K-quant, super-blocks of 256.
    Q2K,
    /// 3-bit K-quant.
    Q3K,
    /// 4-bit K-quant.
    Q4K,
    /// 5-bit K-quant.
    Q5K,
    /// 6-bit K-quant.
    Q6K,
}

impl GgmlType {
    /// The type with GGML id `id`, or a typed error naming it.
    pub fn from_id(id: u32) -> Result<Self> {
        Ok(match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            6 => Self::Q5_0,
            7 => Self::Q5_1,
            8 => Self::Q8_0,
            10 => Self::Q2K,
            11 => Self::Q3K,
            12 => Self::Q4K,
            13 => Self::Q5K,
            14 => Self::Q6K,
            30 => Self::BF16,
            other => {
                return Err(Error::Unsupported(format!(
                    "GGML tensor type {other} ({})",
                    ggml_type_name(other)
                )));
            }
        })
    }

    /// The name llama.cpp uses ("Q4_K", "F16", ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::BF16 => "BF16",
            Self::Q4_0 => "Q4_0",
            Self::Q4_1 => "Q4_1",
            Self::Q5_0 => "Q5_0",
            Self::Q5_1 => "Q5_1",
            Self::Q8_0 => "Q8_0",
            Self::Q2K => "Q2_K",
            Self::Q3K => "Q3_K",
            Self::Q4K => "Q4_K",
            Self::Q5K => "Q5_K",
            Self::Q6K => "Q6_K",
        }
    }

    /// Values per block.
    pub fn block_size(self) -> usize {
        match self {
            Self::F32 | Self::F16 | Self::BF16 => 1,
            Self::Q4_0 | Self::Q4_1 | Self::Q5_0 | Self::Q5_1 | Self::Q8_0 => 32,
            Self::Q2K | Self::Q3K | Self::Q4K | Self::Q5K | Self::Q6K => QK_K,
        }
    }

    /// Bytes per block.
    pub fn type_size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q5_0 => 22,
            Self::Q5_1 => 24,
            Self::Q8_0 => 34,
            Self::Q2K => 84,
            Self::Q3K => 110,
            Self::Q4K => 144,
            Self::Q5K => 176,
            Self::Q6K => 210,
        }
    }

    /// Bytes of `values` values (which must fill whole blocks).
    pub fn byte_len(self, values: u64) -> Result<u64> {
        let block = self.block_size() as u64;
        if !values.is_multiple_of(block) {
            return Err(Error::format(
                "GGUF tensor",
                format!(
                    "{values} values do not fill whole {} blocks of {block}",
                    self.name()
                ),
            ));
        }
        (values / block)
            .checked_mul(self.type_size() as u64)
            .ok_or_else(|| {
                Error::format(
                    "GGUF tensor",
                    format!("{values} values overflow a byte count"),
                )
            })
    }
}

fn ggml_type_name(id: u32) -> &'static str {
    match id {
        9 => "Q8_1",
        15 => "Q8_K",
        16..=23 | 29 => "an IQ quant",
        24 => "I8",
        25 => "I16",
        26 => "I32",
        27 => "I64",
        28 => "F64",
        34 | 35 => "a ternary quant",
        _ => "unknown",
    }
}

#[inline]
fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// The 6-bit scale and minimum of sub-block `j` of a Q4_K/Q5_K super-block.
#[inline]
pub(crate) fn k4_scale_min(scales: &[u8], j: usize) -> (f32, f32) {
    if j < 4 {
        ((scales[j] & 63) as f32, (scales[j + 4] & 63) as f32)
    } else {
        let sc = (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4);
        let m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
        (sc as f32, m as f32)
    }
}

fn block(ty: GgmlType, b: &[u8], out: &mut [f32]) {
    match ty {
        GgmlType::F32 => out[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        GgmlType::F16 => out[0] = f16_at(b, 0),
        GgmlType::BF16 => out[0] = bf16::from_le_bytes([b[0], b[1]]).to_f32(),
        GgmlType::Q8_0 => {
            let d = f16_at(b, 0);
            for (o, q) in out.iter_mut().zip(&b[2..34]) {
                *o = d * (*q as i8) as f32;
            }
        }
        GgmlType::Q4_0 | GgmlType::Q4_1 => {
            let d = f16_at(b, 0);
            let (m, qs) = if ty == GgmlType::Q4_1 {
                (f16_at(b, 2), &b[4..20])
            } else {
                (0.0, &b[2..18])
            };
            let offset = if ty == GgmlType::Q4_0 { -8.0 } else { 0.0 };
            for (j, q) in qs.iter().enumerate() {
                out[j] = ((q & 0x0f) as f32 + offset) * d + m;
                out[j + 16] = ((q >> 4) as f32 + offset) * d + m;
            }
        }
        GgmlType::Q5_0 | GgmlType::Q5_1 => {
            let d = f16_at(b, 0);
            let (m, rest) = if ty == GgmlType::Q5_1 {
                (f16_at(b, 2), &b[4..])
            } else {
                (0.0, &b[2..])
            };
            let qh = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let qs = &rest[4..20];
            let offset = if ty == GgmlType::Q5_0 { -16.0 } else { 0.0 };
            for (j, q) in qs.iter().enumerate() {
                let lo = (q & 0x0f) as u32 | (((qh >> j) & 1) << 4);
                let hi = (q >> 4) as u32 | (((qh >> (j + 16)) & 1) << 4);
                out[j] = (lo as f32 + offset) * d + m;
                out[j + 16] = (hi as f32 + offset) * d + m;
            }
        }
        GgmlType::Q2K => {
            // scales[16] (low nibble scale, high nibble min), qs[64], d, dmin.
            let (scales, qs) = (&b[0..16], &b[16..80]);
            let (d, dmin) = (f16_at(b, 80), f16_at(b, 82));
            for (v, o) in out.iter_mut().enumerate() {
                let (half, shift, l) = (v / 128, (v % 128) / 32, v % 32);
                let q = (qs[32 * half + l] >> (2 * shift)) & 3;
                let s = scales[v / 16];
                *o = d * (s & 0x0f) as f32 * q as f32 - dmin * (s >> 4) as f32;
            }
        }
        GgmlType::Q3K => {
            // hmask[32], qs[64], scales[12] (16 six-bit values), d.
            let (hmask, qs, packed) = (&b[0..32], &b[32..96], &b[96..108]);
            let d = f16_at(b, 108);
            let mut scales = [0f32; 16];
            for (i, s) in scales.iter_mut().enumerate() {
                let low = if i < 8 {
                    packed[i] & 0x0f
                } else {
                    packed[i - 8] >> 4
                };
                let high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
                *s = ((low | (high << 4)) as i32 - 32) as f32;
            }
            for (v, o) in out.iter_mut().enumerate() {
                let (half, shift, l) = (v / 128, (v % 128) / 32, v % 32);
                let low = ((qs[32 * half + l] >> (2 * shift)) & 3) as i32;
                let high_set = (hmask[l] >> (v / 32)) & 1 == 1;
                let q = low - if high_set { 0 } else { 4 };
                *o = d * scales[v / 16] * q as f32;
            }
        }
        GgmlType::Q4K | GgmlType::Q5K => {
            // d, dmin, scales[12], (qh[32] for Q5_K), qs[128].
            let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
            let scales = &b[4..16];
            let (qh, qs) = if ty == GgmlType::Q5K {
                (&b[16..48], &b[48..176])
            } else {
                (&b[0..0], &b[16..144])
            };
            for (v, o) in out.iter_mut().enumerate() {
                // Sub-block j (32 values): low nibbles of chunk j/2 for even j, high for odd j.
                let (j, l) = (v / 32, v % 32);
                let byte = qs[32 * (j / 2) + l];
                let mut q = if j % 2 == 0 { byte & 0x0f } else { byte >> 4 } as u32;
                if ty == GgmlType::Q5K {
                    q |= (((qh[l] >> j) & 1) as u32) << 4;
                }
                let (sc, m) = k4_scale_min(scales, j);
                *o = d * sc * q as f32 - dmin * m;
            }
        }
        GgmlType::Q6K => {
            // ql[128], qh[64], scales[16] (i8), d.
            let (ql, qh, scales) = (&b[0..128], &b[128..192], &b[192..208]);
            let d = f16_at(b, 208);
            for (v, o) in out.iter_mut().enumerate() {
                let (half, within) = (v / 128, v % 128);
                let low = (ql[64 * half + within % 64] >> (4 * (within / 64))) & 0x0f;
                let high = (qh[32 * half + within % 32] >> (2 * (within / 32))) & 3;
                let q = (low | (high << 4)) as i32 - 32;
                *o = d * (scales[v / 16] as i8) as f32 * q as f32;
            }
        }
    }
}

/// Dequantizes `bytes` of type `ty` (whole blocks) into f32 values.
pub fn dequantize(ty: GgmlType, bytes: &[u8]) -> Result<Vec<f32>> {
    let (bs, ts) = (ty.block_size(), ty.type_size());
    if !bytes.len().is_multiple_of(ts) {
        return Err(Error::format(
            "GGUF tensor data",
            format!(
                "{} bytes are not whole {} blocks of {ts} bytes",
                bytes.len(),
                ty.name()
            ),
        ));
    }
    let mut out = vec![0f32; bytes.len() / ts * bs];
    dequantize_into(ty, bytes, &mut out);
    Ok(out)
}

/// Dequantizes whole blocks of `bytes` into `out` (as many values as the blocks hold).
pub fn dequantize_into(ty: GgmlType, bytes: &[u8], out: &mut [f32]) {
    let (bs, ts) = (ty.block_size(), ty.type_size());
    for (b, o) in bytes.chunks_exact(ts).zip(out.chunks_exact_mut(bs)) {
        block(ty, b, o);
    }
}
