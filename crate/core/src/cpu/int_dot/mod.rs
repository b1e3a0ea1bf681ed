//! Integer products on GGML blocks as the file holds them: activations quantized to int8 blocks
//! of 32 ([`Q8Acts`]), each weight block multiplied with them in integers and scaled once, as
//! llama.cpp computes. A portable copy ([`scalar`]) is the reference; SIMD copies are picked at
//! run time ([`Isa::detect`]).

mod acts;
#[cfg(target_arch = "x86_64")]
mod avx2;
mod decoded;
pub mod scalar;
#[cfg(test)]
mod tests;

pub use acts::{ACT_BLOCK, Q8Acts, Q8Row};

use super::expect_len;
use super::parallel::for_row_ranges;
use crate::error::{Error, Result};
use crate::quant::blocks::BlockMatrix;
use crate::quant::ggml::GgmlType;
use decoded::{DecodedRow, TILE, scaled_sums};

/// One row of blocks dotted with one row of activations of as many values.
type RowDot = fn(&[u8], &Q8Row) -> f32;

/// A copy of the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Portable Rust (the reference).
    Scalar,
    /// x86-64 AVX2 + FMA + F16C.
    Avx2,
}

impl Isa {
    /// The fastest copy this CPU runs.
    pub fn detect() -> Self {
        if avx2_available() {
            Self::Avx2
        } else {
            Self::Scalar
        }
    }

    /// Every copy this CPU runs (the reference first).
    pub fn available() -> Vec<Self> {
        let mut all = vec![Self::Scalar];
        if avx2_available() {
            all.push(Self::Avx2);
        }
        all
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Avx2 => "avx2",
        }
    }

    fn row_dot(self, ty: GgmlType) -> Result<RowDot> {
        let unsupported =
            || Error::Unsupported(format!("integer products on {} blocks", ty.name()));
        match self {
            Self::Scalar => Ok(match ty {
                GgmlType::Q8_0 => scalar::dot_q8_0,
                GgmlType::Q4_0 => scalar::dot_q4_0,
                GgmlType::Q5_0 => scalar::dot_q5_0,
                GgmlType::Q4K => scalar::dot_q4_k,
                GgmlType::Q5K => scalar::dot_q5_k,
                GgmlType::Q6K => scalar::dot_q6_k,
                _ => return Err(unsupported()),
            }),
            Self::Avx2 => {
                if !avx2_available() {
                    return Err(Error::Unsupported("AVX2 on this CPU".into()));
                }
                avx2_row_dot(ty).ok_or_else(unsupported)
            }
        }
    }
}

impl Isa {
    /// Σ scale q a of a decoded row with `a` (minimums apart).
    fn decoded_dot(self, w: &DecodedRow, a: &Q8Row) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if self == Self::Avx2 && avx2_available() {
            // SAFETY: the CPU has AVX2 + FMA + F16C (checked just above); rows and activations
            // have the same length (the caller's).
            return unsafe { avx2::dot_decoded(w, a) };
        }
        w.scaled_dot(a)
    }

    /// Decodes `row` into `out` (values with this copy's SIMD where it has them).
    fn decode(self, ty: GgmlType, row: &[u8], out: &mut DecodedRow) {
        #[cfg(target_arch = "x86_64")]
        if self == Self::Avx2 && avx2_available() {
            out.decode_scales(ty, row);
            // SAFETY: as in `decoded_dot` (the features are checked just above).
            if unsafe { avx2::decode_values(ty, row, &mut out.qs) } {
                return;
            }
        }
        out.decode(ty, row);
    }

    /// [`Isa::decoded_dot`] of [`TILE`] rows with `A` activation rows: [A][TILE].
    fn decoded_dot_tile<const A: usize>(
        self,
        ws: [&DecodedRow; TILE],
        acts: [&Q8Row; A],
    ) -> [[f32; TILE]; A] {
        #[cfg(target_arch = "x86_64")]
        if self == Self::Avx2 && avx2_available() {
            // SAFETY: as in `decoded_dot` (the features are checked just above).
            return unsafe { avx2::dot_decoded_tile(ws, acts) };
        }
        acts.map(|a| ws.map(|w| w.scaled_dot(a)))
    }
}

/// From this many input rows on, each weight row is decoded once (to int8 with scales) and the
/// decoded row is used for all of them; below, the kernels read the blocks directly.
const DECODE_ROWS: usize = 4;

#[cfg(target_arch = "x86_64")]
fn avx2_available() -> bool {
    std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
        && std::is_x86_feature_detected!("f16c")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2_available() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn avx2_row_dot(ty: GgmlType) -> Option<RowDot> {
    macro_rules! checked {
        ($name:ident) => {{
            fn call(row: &[u8], a: &Q8Row) -> f32 {
                // SAFETY: `Isa::row_dot` hands this out only after `avx2_available()`, and
                // `linear_blocks` / `block_dot` pass rows of as many values as `a` holds.
                unsafe { avx2::$name(row, a) }
            }
            call as RowDot
        }};
    }
    Some(match ty {
        GgmlType::Q8_0 => checked!(dot_q8_0),
        GgmlType::Q4_0 => checked!(dot_q4_0),
        GgmlType::Q5_0 => checked!(dot_q5_0),
        GgmlType::Q4K => checked!(dot_q4_k),
        GgmlType::Q5K => checked!(dot_q5_k),
        GgmlType::Q6K => checked!(dot_q6_k),
        _ => return None,
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2_row_dot(_ty: GgmlType) -> Option<RowDot> {
    None
}

/// One row of `ty` blocks dotted with a row of activations, with the kernels of `isa`.
pub fn block_dot(isa: Isa, ty: GgmlType, row: &[u8], a: &Q8Row) -> Result<f32> {
    let values = row.len() / ty.type_size() * ty.block_size();
    if !row.len().is_multiple_of(ty.type_size()) || values != a.qs.len() {
        return Err(Error::shape(
            "block dot",
            format!(
                "{} bytes of {} against {} activations",
                row.len(),
                ty.name(),
                a.qs.len()
            ),
        ));
    }
    Ok(isa.row_dot(ty)?(row, a))
}

/// Y = X W^T for W in GGML blocks. x: [m, cols] -> y: [m, rows]; the activations are quantized
/// once, each weight row is read once for all m rows (it stays in cache while they pass).
pub fn linear_blocks(x: &[f32], m: usize, w: &BlockMatrix) -> Result<Vec<f32>> {
    linear_blocks_with(Isa::detect(), x, m, w)
}

/// [`linear_blocks`] with the kernels of `isa`.
pub fn linear_blocks_with(isa: Isa, x: &[f32], m: usize, w: &BlockMatrix) -> Result<Vec<f32>> {
    expect_len("linear", "x", x.len(), m * w.cols)?;
    let dot = isa.row_dot(w.ty)?;
    let acts = Q8Acts::quantize(x, m, w.cols)?;
    // Every row has w.cols values, as `dot` requires (BlockMatrix::new checks the bytes).
    let rows: Vec<Q8Row> = (0..m).map(|i| acts.row(i)).collect();
    let mut y = vec![0f32; m * w.rows];
    if m < DECODE_ROWS {
        for_row_ranges(&mut y, m, w.rows, w.cols, |range, out| {
            let width = range.len();
            for (j, r) in range.enumerate() {
                let weights = w.row(r);
                for (i, a) in rows.iter().enumerate() {
                    out[i * width + j] = dot(weights, a);
                }
            }
        });
        return Ok(y);
    }
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 && w.ty == GgmlType::Q8_0 {
        // Q8_0 values are int8 already: tiles of rows read as they are.
        for_row_ranges(&mut y, m, w.rows, w.cols, |range, out| {
            let width = range.len();
            let mut scales: [Vec<f32>; TILE] = Default::default();
            let mut j0 = 0;
            while j0 < width {
                let n = TILE.min(width - j0);
                let tile: [&[u8]; TILE] =
                    std::array::from_fn(|t| w.row(range.start + j0 + t.min(n - 1)));
                for (s, row) in scales.iter_mut().zip(tile) {
                    // SAFETY: Avx2 was checked by `row_dot`.
                    unsafe { avx2::q8_0_scales(row, s) };
                }
                let s = std::array::from_fn(|t| scales[t].as_slice());
                let mut i = 0;
                while i < m {
                    if n < TILE {
                        for t in 0..n {
                            out[i * width + j0 + t] = dot(w.row(range.start + j0 + t), &rows[i]);
                        }
                        i += 1;
                    } else if i + 1 < m {
                        // SAFETY: Avx2 was checked by `row_dot`; rows have w.cols values.
                        let dots =
                            unsafe { avx2::dot_q8_0_tile(tile, s, [&rows[i], &rows[i + 1]]) };
                        for (k, d) in dots.iter().enumerate() {
                            let at = (i + k) * width + j0;
                            out[at..at + TILE].copy_from_slice(d);
                        }
                        i += 2;
                    } else {
                        // SAFETY: as above.
                        let [d] = unsafe { avx2::dot_q8_0_tile(tile, s, [&rows[i]]) };
                        out[i * width + j0..i * width + j0 + TILE].copy_from_slice(&d);
                        i += 1;
                    }
                }
                j0 += n;
            }
        });
        return Ok(y);
    }
    let sums: Vec<Vec<f32>> = rows.iter().map(scaled_sums).collect();
    for_row_ranges(&mut y, m, w.rows, w.cols, |range, out| {
        let width = range.len();
        let mut tile: [DecodedRow; TILE] = Default::default();
        let mut j0 = 0;
        while j0 < width {
            // A tile of TILE weight rows; the last rows of a range one at a time.
            let n = TILE.min(width - j0);
            for (t, decoded) in tile.iter_mut().enumerate().take(n) {
                isa.decode(w.ty, w.row(range.start + j0 + t), decoded);
            }
            let ws: [&DecodedRow; TILE] = std::array::from_fn(|t| &tile[t]);
            let mut i = 0;
            while i < m {
                // Two activation rows at a time against a full tile, else one.
                let (dots, count): ([[f32; TILE]; 2], usize) = if n < TILE {
                    let mut d = [[0f32; TILE]; 2];
                    for (t, decoded) in tile.iter().enumerate().take(n) {
                        d[0][t] = isa.decoded_dot(decoded, &rows[i]);
                    }
                    (d, 1)
                } else if i + 1 < m {
                    (isa.decoded_dot_tile(ws, [&rows[i], &rows[i + 1]]), 2)
                } else {
                    let [d] = isa.decoded_dot_tile(ws, [&rows[i]]);
                    ([d, [0.0; TILE]], 1)
                };
                for (k, d) in dots.iter().enumerate().take(count) {
                    let at = (i + k) * width + j0;
                    for t in 0..n {
                        out[at + t] = d[t] - tile[t].min_dot(&sums[i + k]);
                    }
                }
                i += count;
            }
            j0 += n;
        }
    });
    Ok(y)
}
