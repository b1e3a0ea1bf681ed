//! Weight matrices on the GPU, in any [`WeightFormat`], split by rows into parts that each fit
//! the device's storage-binding limit (a 262,144-row embedding does not fit one binding on every
//! adapter), and the ops that read them: `linear` and `embed_rows`.

use super::batch::GpuBatch;
use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::Kernel;
use super::ops::{as_u32, need};
use crate::error::{Error, Result};
use crate::quant::{WeightFormat, WeightMatrix};

/// Rows of weights one linear workgroup covers (see linear.wgsl).
const ROWS_PER_GROUP: usize = 8;
/// Input rows one linear workgroup applies its weights to (see linear.wgsl).
const TILE_M: usize = 8;
/// Weight rows and input rows of one linear_tiled workgroup (see linear_tiled.wgsl).
const TILED_ROWS: usize = 64;
const TILED_M: usize = 32;
/// The number of input rows from which `linear` takes the tiled kernel.
const TILED_MIN_M: usize = 16;

/// Which product kernel [`GpuBatch::linear_with`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinearKernel {
    /// Tiles of 8 weight rows x up to 8 input rows, weights straight from memory (decode).
    Batched,
    /// Tiles of 64 weight rows x 32 input rows through workgroup memory (prefill).
    Tiled,
}

struct Part {
    weight: GpuBuffer,
    scales: Option<GpuBuffer>,
    row_start: usize,
    rows: usize,
}

/// A [rows, cols] weight matrix resident on the GPU.
pub struct GpuWeight {
    format: WeightFormat,
    rows: usize,
    cols: usize,
    parts: Vec<Part>,
}

impl GpuWeight {
    /// Rows (output features).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (input features).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Storage format.
    pub fn format(&self) -> WeightFormat {
        self.format
    }

    /// Bytes on the device (weights and scales).
    pub fn byte_len(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| p.weight.byte_len() + p.scales.as_ref().map_or(0, GpuBuffer::byte_len))
            .sum()
    }

    /// Number of row parts the matrix was split into.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }
}

/// Words of weights and of scales for `rows` rows of `cols` columns in `format`.
fn words_for(format: WeightFormat, rows: usize, cols: usize) -> (usize, usize) {
    let values = rows * cols;
    let scales = values.div_ceil(32).div_ceil(2);
    match format {
        WeightFormat::F32 => (values, 0),
        WeightFormat::F16 => (values.div_ceil(2), 0),
        WeightFormat::Q8 | WeightFormat::Gguf => (values.div_ceil(4), scales),
        WeightFormat::Q4 => (values.div_ceil(8), scales),
    }
}

impl GpuContext {
    /// Uploads a weight matrix, split into row parts no larger than the binding limit (an
    /// optional tighter `max_part_bytes` forces smaller parts, for tests).
    pub fn upload_weight(
        &self,
        w: &WeightMatrix,
        max_part_bytes: Option<u64>,
    ) -> Result<GpuWeight> {
        let weight = self.empty_weight(w.rows(), w.cols(), w.format(), max_part_bytes)?;
        weight.write_rows(self, 0, w)?;
        Ok(weight)
    }

    /// A [rows, cols] weight matrix in `format` (see [`WeightMatrix::effective_format`]) whose
    /// rows are written later, a chunk at a time ([`GpuWeight::write_rows`]).
    pub fn empty_weight(
        &self,
        rows: usize,
        cols: usize,
        format: WeightFormat,
        max_part_bytes: Option<u64>,
    ) -> Result<GpuWeight> {
        let format = WeightMatrix::effective_format(cols, format);
        let limits = self.limits();
        let limit = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            .min(max_part_bytes.unwrap_or(u64::MAX));
        let (w, s) = words_for(format, 2, cols);
        let row_bytes = ((w + s) as u64 * 2).max(1);
        // Parts start on even rows so that packed halves (f16 values, f16 scales) stay aligned;
        // each part's weights are padded to whole vec4<u32> words (16 bytes), as linear reads
        // them.
        let mut per_part = ((limit.saturating_sub(16) / row_bytes) as usize).max(2) & !1;
        if per_part >= rows {
            per_part = rows.max(1);
        }
        let mut parts = Vec::new();
        let mut start = 0;
        while start < rows || (rows == 0 && parts.is_empty()) {
            let end = (start + per_part).min(rows);
            let (words, scales) = words_for(format, end - start, cols);
            parts.push(Part {
                weight: self.create_buffer_bytes(
                    (words.max(1).next_multiple_of(4) * 4) as u64,
                    words,
                    "weight",
                )?,
                scales: (scales > 0)
                    .then(|| self.create_buffer(scales, "weight scales"))
                    .transpose()?,
                row_start: start,
                rows: end - start,
            });
            if rows == 0 {
                break;
            }
            start = end;
        }
        Ok(GpuWeight {
            format,
            rows,
            cols,
            parts,
        })
    }
}

impl GpuWeight {
    /// Writes `chunk`'s rows as rows `start..` of this matrix (same format and columns; `start`
    /// even, so that packed halves start a word).
    pub fn write_rows(&self, ctx: &GpuContext, start: usize, chunk: &WeightMatrix) -> Result<()> {
        // No GPU kernel reads GGUF blocks yet: they go up as this matrix's format (q8).
        let converted;
        let chunk = match chunk {
            WeightMatrix::Blocks(_) => {
                converted = chunk.to_format(self.format)?;
                &converted
            }
            other => other,
        };
        let end = start + chunk.rows();
        if chunk.cols() != self.cols
            || chunk.format() != self.format
            || end > self.rows
            || !start.is_multiple_of(2)
        {
            return Err(Error::shape(
                "weight rows",
                format!(
                    "{:?} [{}, {}] at row {start} of {:?} [{}, {}]",
                    chunk.format(),
                    chunk.rows(),
                    chunk.cols(),
                    self.format,
                    self.rows,
                    self.cols
                ),
            ));
        }
        for part in &self.parts {
            let (a, b) = (
                start.max(part.row_start),
                end.min(part.row_start + part.rows),
            );
            if a >= b {
                continue;
            }
            let (words, scales) = chunk.row_words(a - start, b - start)?;
            let (offset, scale_offset) = words_for(self.format, a - part.row_start, self.cols);
            ctx.write_u32(&part.weight, offset, words)?;
            if let (Some(buffer), Some(scales)) = (&part.scales, scales) {
                ctx.write_u32(buffer, scale_offset, scales)?;
            }
        }
        Ok(())
    }
}

impl GpuBatch<'_> {
    /// y = x W^T. x: [m, cols] -> y: [m, rows], each part writing its columns of y: the tiled
    /// kernel for prefill-sized m on widths that are multiples of 32, else tiles of 8 inputs.
    pub fn linear(&mut self, x: &GpuBuffer, m: usize, w: &GpuWeight, y: &GpuBuffer) -> Result<()> {
        let kernel = if m >= TILED_MIN_M && w.cols.is_multiple_of(32) {
            LinearKernel::Tiled
        } else {
            LinearKernel::Batched
        };
        self.linear_with(kernel, x, m, w, y)
    }

    /// [`GpuBatch::linear`] with the kernel chosen by the caller (`Tiled` needs a width that is
    /// a multiple of 32).
    pub fn linear_with(
        &mut self,
        kernel: LinearKernel,
        x: &GpuBuffer,
        m: usize,
        w: &GpuWeight,
        y: &GpuBuffer,
    ) -> Result<()> {
        need("linear", "x", x, m * w.cols)?;
        need("linear", "y", y, m * w.rows)?;
        let (kernel, rows_per_group, tile_m) = match kernel {
            LinearKernel::Batched => (Kernel::Linear(w.format), ROWS_PER_GROUP, TILE_M),
            LinearKernel::Tiled if w.cols.is_multiple_of(32) => {
                (Kernel::LinearTiled(w.format), TILED_ROWS, TILED_M)
            }
            LinearKernel::Tiled => {
                return Err(Error::shape(
                    "linear_tiled",
                    format!("{} columns are not a multiple of 32", w.cols),
                ));
            }
        };
        let tiles = m.div_ceil(tile_m);
        for part in &w.parts {
            let blocks = part.rows.div_ceil(rows_per_group);
            let p = [
                as_u32("linear", part.rows)?,
                as_u32("linear", w.cols)?,
                as_u32("linear", m)?,
                as_u32("linear", w.rows)?,
                as_u32("linear", part.row_start)?,
                as_u32("linear", blocks)?,
            ];
            let mut buffers = vec![&part.weight];
            buffers.extend(part.scales.as_ref());
            buffers.extend([x, y]);
            self.dispatch(kernel, &buffers, &p, blocks * tiles)?;
            let (words, scales) = words_for(w.format, part.rows, w.cols);
            self.count_reads(((words + scales) * 4 * tiles) as u64, 0);
        }
        Ok(())
    }

    /// x[t] = W[tokens[t]] * scale. tokens: [n] u32 (checked < rows by the caller) -> x: [n, cols].
    pub fn embed_rows(
        &mut self,
        w: &GpuWeight,
        tokens: &GpuBuffer,
        x: &GpuBuffer,
        n: usize,
        scale: f32,
    ) -> Result<()> {
        need("embed_rows", "tokens", tokens, n)?;
        need("embed_rows", "x", x, n * w.cols)?;
        if w.parts.is_empty() {
            return Err(Error::shape("embed_rows", "empty embedding"));
        }
        for part in &w.parts {
            let p = [
                as_u32("embed_rows", n)?,
                as_u32("embed_rows", w.cols)?,
                as_u32("embed_rows", part.row_start)?,
                as_u32("embed_rows", part.rows)?,
                scale.to_bits(),
            ];
            let mut buffers = vec![&part.weight];
            buffers.extend(part.scales.as_ref());
            buffers.extend([tokens, x]);
            self.dispatch(
                Kernel::EmbedRows(w.format),
                &buffers,
                &p,
                (n * w.cols).div_ceil(256),
            )?;
        }
        Ok(())
    }
}
