//! Weight matrices in the formats the engine runs: f32, f16 (packed in u32), q8 and q4
//! (group-32, f16 scales), and a GGUF file's own blocks, chosen at load time, with row access for
//! the CPU backend.

use super::blocks::BlockMatrix;
use super::f16pack::{pack_f16, unpack_f16_at};
use super::q4::Q4Matrix;
use super::q8::Q8Matrix;
use crate::error::{Error, Result};
use serde::Serialize;

/// How weights are stored in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum WeightFormat {
    /// 32-bit floats (the reference).
    F32,
    /// 16-bit floats.
    F16,
    /// int8, groups of 32, f16 scales.
    Q8,
    /// int4, groups of 32, f16 scales.
    Q4,
    /// A GGUF file's own blocks where the backend computes with them (Q8_0, Q4_0, Q5_0, Q4_K,
    /// Q5_K, Q6_K on the CPU); float tensors keep their f32 / f16, other types and other
    /// checkpoints become q8.
    Gguf,
}

impl WeightFormat {
    /// Parses "f32", "f16", "q8", "q4" or "gguf".
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "f32" => Self::F32,
            "f16" => Self::F16,
            "q8" => Self::Q8,
            "q4" => Self::Q4,
            "gguf" => Self::Gguf,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "weight format {other:?}: use f32, f16, q8, q4 or gguf"
                )));
            }
        })
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Q8 => "q8",
            Self::Q4 => "q4",
            Self::Gguf => "gguf",
        }
    }
}

/// A [rows, cols] weight matrix in one of the [`WeightFormat`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightMatrix {
    /// Row-major f32.
    F32 {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Values.
        data: Vec<f32>,
    },
    /// Row-major f16, two per u32.
    F16 {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Packed values.
        data: Vec<u32>,
    },
    /// int8 group-32.
    Q8(Q8Matrix),
    /// int4 group-32.
    Q4(Q4Matrix),
    /// A GGUF file's blocks.
    Blocks(BlockMatrix),
}

impl WeightMatrix {
    /// Converts f32 values to `format`. Matrices whose rows do not split into groups of 32 keep
    /// f16 when q8 or q4 is asked for (the format() tells which one was used).
    pub fn from_f32(
        data: Vec<f32>,
        rows: usize,
        cols: usize,
        format: WeightFormat,
    ) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(Error::shape(
                "weight",
                format!("{} values for {rows}x{cols}", data.len()),
            ));
        }
        Ok(match Self::effective_format(cols, format) {
            WeightFormat::F32 => Self::F32 { rows, cols, data },
            WeightFormat::Q8 | WeightFormat::Gguf => {
                Self::Q8(Q8Matrix::quantize(&data, rows, cols)?)
            }
            WeightFormat::Q4 => Self::Q4(Q4Matrix::quantize(&data, rows, cols)?),
            WeightFormat::F16 => Self::F16 {
                rows,
                cols,
                data: pack_f16(&data),
            },
        })
    }

    /// The format a [rows, cols] matrix made from f32 values in `format` is stored in: q8 and
    /// q4 need rows that split into groups of 32, else f16; gguf (no file blocks to keep) is q8.
    pub fn effective_format(cols: usize, format: WeightFormat) -> WeightFormat {
        match format {
            WeightFormat::Q8 | WeightFormat::Q4 | WeightFormat::Gguf
                if !cols.is_multiple_of(32) =>
            {
                WeightFormat::F16
            }
            WeightFormat::Gguf => WeightFormat::Q8,
            other => other,
        }
    }

    /// An empty matrix of `cols` columns in `format` (as [`WeightMatrix::effective_format`]
    /// picks), to grow with [`WeightMatrix::append_rows`].
    pub fn empty(cols: usize, format: WeightFormat) -> Self {
        match Self::effective_format(cols, format) {
            WeightFormat::F32 => Self::F32 {
                rows: 0,
                cols,
                data: Vec::new(),
            },
            WeightFormat::F16 => Self::F16 {
                rows: 0,
                cols,
                data: Vec::new(),
            },
            WeightFormat::Q8 | WeightFormat::Gguf => Self::Q8(Q8Matrix {
                rows: 0,
                cols,
                qweight: Vec::new(),
                scales: Vec::new(),
            }),
            WeightFormat::Q4 => Self::Q4(Q4Matrix {
                rows: 0,
                cols,
                qweight: Vec::new(),
                scales: Vec::new(),
            }),
        }
    }

    /// Appends the rows of `more` (same format and columns). Packed halves (f16 values, f16
    /// scales) stay aligned only when this matrix has an even number of rows so far, or its rows
    /// fill whole words; anything else is refused.
    pub fn append_rows(&mut self, more: &WeightMatrix) -> Result<()> {
        let (rows, cols, format) = (self.rows(), self.cols(), self.format());
        let mismatch = || {
            Error::shape(
                "append rows",
                format!(
                    "{:?} [{}, {}] onto {format:?} [{rows}, {cols}]",
                    more.format(),
                    more.rows(),
                    more.cols(),
                ),
            )
        };
        if more.cols() != cols || more.format() != format {
            return Err(mismatch());
        }
        let halves_aligned = |per_row: usize| (rows * per_row).is_multiple_of(2);
        match (self, more) {
            (
                Self::F32 { rows, data, .. },
                Self::F32 {
                    rows: r, data: d, ..
                },
            ) => {
                data.extend_from_slice(d);
                *rows += r;
            }
            (
                Self::F16 { rows, data, cols },
                Self::F16 {
                    rows: r, data: d, ..
                },
            ) => {
                if !halves_aligned(*cols) {
                    return Err(mismatch());
                }
                data.extend_from_slice(d);
                *rows += r;
            }
            (Self::Q8(a), Self::Q8(b)) => {
                if !halves_aligned(a.cols / 32) {
                    return Err(mismatch());
                }
                a.qweight.extend_from_slice(&b.qweight);
                a.scales.extend_from_slice(&b.scales);
                a.rows += b.rows;
            }
            (Self::Q4(a), Self::Q4(b)) => {
                if !halves_aligned(a.cols / 32) {
                    return Err(mismatch());
                }
                a.qweight.extend_from_slice(&b.qweight);
                a.scales.extend_from_slice(&b.scales);
                a.rows += b.rows;
            }
            (Self::Blocks(a), Self::Blocks(b)) => a.append_rows(b)?,
            _ => return Err(mismatch()),
        }
        Ok(())
    }

    /// The storage format.
    pub fn format(&self) -> WeightFormat {
        match self {
            Self::F32 { .. } => WeightFormat::F32,
            Self::F16 { .. } => WeightFormat::F16,
            Self::Q8(_) => WeightFormat::Q8,
            Self::Q4(_) => WeightFormat::Q4,
            Self::Blocks(_) => WeightFormat::Gguf,
        }
    }

    /// Rows (output features).
    pub fn rows(&self) -> usize {
        match self {
            Self::F32 { rows, .. } | Self::F16 { rows, .. } => *rows,
            Self::Q8(q) => q.rows,
            Self::Q4(q) => q.rows,
            Self::Blocks(b) => b.rows,
        }
    }

    /// Columns (input features).
    pub fn cols(&self) -> usize {
        match self {
            Self::F32 { cols, .. } | Self::F16 { cols, .. } => *cols,
            Self::Q8(q) => q.cols,
            Self::Q4(q) => q.cols,
            Self::Blocks(b) => b.cols,
        }
    }

    /// Bytes of storage.
    pub fn byte_len(&self) -> usize {
        match self {
            Self::F32 { data, .. } => data.len() * 4,
            Self::F16 { data, .. } => data.len() * 4,
            Self::Q8(q) => 4 * (q.qweight.len() + q.scales.len()),
            Self::Q4(q) => q.byte_len(),
            Self::Blocks(b) => b.data.len(),
        }
    }

    /// Row `r` as f32 into `out` [cols].
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let cols = self.cols();
        match self {
            Self::F32 { data, .. } => out[..cols].copy_from_slice(&data[r * cols..(r + 1) * cols]),
            Self::F16 { data, .. } => {
                for (c, o) in out.iter_mut().enumerate().take(cols) {
                    *o = unpack_f16_at(data, r * cols + c);
                }
            }
            Self::Q8(q) => q.dequantize_row(r, out),
            Self::Blocks(b) => b.dequantize_row(r, out),
            Self::Q4(q) => {
                // A group of 32 at a time: one scale, four words of eight nibbles.
                let groups = cols / 32;
                for (g, chunk) in out[..cols].chunks_exact_mut(32).enumerate() {
                    let group = r * groups + g;
                    let scale = q.scale(group);
                    let words = &q.qweight[group * 4..group * 4 + 4];
                    for (values, word) in chunk.chunks_exact_mut(8).zip(words) {
                        for (n, v) in values.iter_mut().enumerate() {
                            *v = (((word >> (4 * n)) & 0xf) as f32 - 8.0) * scale;
                        }
                    }
                }
            }
        }
    }

    /// The same matrix in `format` ([`WeightMatrix::effective_format`] applied): GGUF blocks
    /// become q8 for backends without kernels for them.
    pub fn to_format(&self, format: WeightFormat) -> Result<WeightMatrix> {
        let (rows, cols) = (self.rows(), self.cols());
        let mut data = vec![0f32; rows * cols];
        for (r, out) in data.chunks_exact_mut(cols.max(1)).enumerate().take(rows) {
            self.dequantize_row(r, out);
        }
        Self::from_f32(data, rows, cols, format)
    }

    /// The raw words of rows `start..end` and of their scales (q8/q4), for uploading a part
    /// (`start` even, so that packed halves start a word); GGUF blocks have none (see
    /// [`WeightMatrix::to_format`]).
    pub(crate) fn row_words(&self, start: usize, end: usize) -> Result<(&[u32], Option<&[u32]>)> {
        let cols = self.cols();
        Ok(match self {
            Self::F32 { data, .. } => (bytemuck::cast_slice(&data[start * cols..end * cols]), None),
            // f16 rows are whole words when cols is even; odd cols keep one matrix per part.
            Self::F16 { data, .. } => (&data[start * cols / 2..(end * cols).div_ceil(2)], None),
            Self::Q8(q) => (
                &q.qweight[start * cols / 4..end * cols / 4],
                Some(&q.scales[start * cols / 64..(end * cols / 32).div_ceil(2)]),
            ),
            Self::Q4(q) => (
                &q.qweight[start * cols / 8..end * cols / 8],
                Some(&q.scales[start * cols / 64..(end * cols / 32).div_ceil(2)]),
            ),
            Self::Blocks(b) => {
                return Err(Error::Unsupported(format!(
                    "uploading {} blocks as words",
                    b.ty.name()
                )));
            }
        })
    }
}
