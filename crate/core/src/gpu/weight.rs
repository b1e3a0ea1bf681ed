//! Weight matrices on the GPU, in any [`WeightFormat`] or as a GGUF file's own blocks, split by
//! rows into parts that each fit the device's storage-binding limit (a 262,144-row embedding
//! does not fit one binding on every adapter), and the ops that read them: `linear` and
//! `embed_rows`.

use super::batch::GpuBatch;
use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::{Kernel, reads_blocks};
use super::ops::{as_u32, need};
use crate::error::{Error, Result};
use crate::quant::ggml::GgmlType;
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
    /// For [`WeightFormat::Gguf`]: the type of the file's blocks the parts hold.
    blocks: Option<GgmlType>,
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

    /// The GGUF block type the matrix holds, for [`WeightFormat::Gguf`].
    pub fn block_type(&self) -> Option<GgmlType> {
        self.blocks
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

/// Words of weights and of scales for `rows` rows of `cols` columns in `format` (GGUF blocks of
/// type `blocks`: the blocks' bytes, no scales).
fn words_for(
    format: WeightFormat,
    blocks: Option<GgmlType>,
    rows: usize,
    cols: usize,
) -> (usize, usize) {
    let values = rows * cols;
    let scales = values.div_ceil(32).div_ceil(2);
    match (format, blocks) {
        (_, Some(ty)) => ((values / ty.block_size() * ty.type_size()).div_ceil(4), 0),
        (WeightFormat::F32, None) => (values, 0),
        (WeightFormat::F16, None) => (values.div_ceil(2), 0),
        (WeightFormat::Q8 | WeightFormat::Gguf, None) => (values.div_ceil(4), scales),
        (WeightFormat::Q4, None) => (values.div_ceil(8), scales),
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
        let weight = match w {
            WeightMatrix::Blocks(b) if reads_blocks(b.ty) => {
                self.empty_blocks(w.rows(), w.cols(), b.ty, max_part_bytes)?
            }
            _ => self.empty_weight(w.rows(), w.cols(), w.format(), max_part_bytes)?,
        };
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
        self.empty_parts(rows, cols, format, None, max_part_bytes)
    }

    /// A [rows, cols] matrix of GGUF blocks of type `ty`, as the file holds them (rows written
    /// later with [`GpuWeight::write_rows`]); `unsupported` for a type the kernels do not read,
    /// `shape` where `cols` is not whole blocks.
    pub fn empty_blocks(
        &self,
        rows: usize,
        cols: usize,
        ty: GgmlType,
        max_part_bytes: Option<u64>,
    ) -> Result<GpuWeight> {
        if !reads_blocks(ty) {
            return Err(Error::Unsupported(format!(
                "GPU kernels on {} blocks",
                ty.name()
            )));
        }
        if !cols.is_multiple_of(ty.block_size()) {
            return Err(Error::shape(
                "gpu blocks",
                format!("{cols} columns are not whole {} blocks", ty.name()),
            ));
        }
        self.empty_parts(rows, cols, WeightFormat::Gguf, Some(ty), max_part_bytes)
    }

    fn empty_parts(
        &self,
        rows: usize,
        cols: usize,
        format: WeightFormat,
        blocks: Option<GgmlType>,
        max_part_bytes: Option<u64>,
    ) -> Result<GpuWeight> {
        let limits = self.limits();
        let limit = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            .min(max_part_bytes.unwrap_or(u64::MAX));
        let (w, s) = words_for(format, blocks, 2, cols);
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
            let (words, scales) = words_for(format, blocks, end - start, cols);
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
            blocks,
            rows,
            cols,
            parts,
        })
    }
}

impl GpuWeight {
    /// Writes `chunk`'s rows as rows `start..` of this matrix (same format and columns; `start`
    /// even, so that packed halves start a word). Blocks of this matrix's type are written as
    /// they are; other blocks are converted to its format.
    pub fn write_rows(&self, ctx: &GpuContext, start: usize, chunk: &WeightMatrix) -> Result<()> {
        let converted;
        let chunk = match chunk {
            WeightMatrix::Blocks(b) if Some(b.ty) != self.blocks => {
                converted = chunk.to_format(self.format)?;
                &converted
            }
            other => other,
        };
        let end = start + chunk.rows();
        // A chunk ends on an even row or at the matrix's end: its last word may be padding.
        if chunk.cols() != self.cols
            || chunk.format() != self.format
            || end > self.rows
            || !start.is_multiple_of(2)
            || !(end.is_multiple_of(2) || end == self.rows)
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
            let (offset, scale_offset) =
                words_for(self.format, self.blocks, a - part.row_start, self.cols);
            if let WeightMatrix::Blocks(m) = chunk {
                // Rows of blocks are an even number of bytes, so an even row starts a word; the
                // last row's bytes are padded to a word.
                let rb = m.row_bytes();
                let bytes = &m.data[(a - start) * rb..(b - start) * rb];
                let words: Vec<u32> = bytes
                    .chunks(4)
                    .map(|c| {
                        let mut w = [0u8; 4];
                        w[..c.len()].copy_from_slice(c);
                        u32::from_le_bytes(w)
                    })
                    .collect();
                ctx.write_u32(&part.weight, offset, &words)?;
                continue;
            }
            let (words, scales) = chunk.row_words(a - start, b - start)?;
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
        let (kernel, rows_per_group, tile_m) = match (kernel, w.blocks) {
            (LinearKernel::Batched, None) => (Kernel::Linear(w.format), ROWS_PER_GROUP, TILE_M),
            (LinearKernel::Batched, Some(ty)) => (Kernel::LinearBlocks(ty), ROWS_PER_GROUP, TILE_M),
            (LinearKernel::Tiled, Some(ty)) => (Kernel::LinearTiledBlocks(ty), TILED_ROWS, TILED_M),
            (LinearKernel::Tiled, None) if w.cols.is_multiple_of(32) => {
                (Kernel::LinearTiled(w.format), TILED_ROWS, TILED_M)
            }
            (LinearKernel::Tiled, None) => {
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
            let (words, scales) = words_for(w.format, w.blocks, part.rows, w.cols);
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
            let kernel = match w.blocks {
                Some(ty) => Kernel::EmbedRowsBlocks(ty),
                None => Kernel::EmbedRows(w.format),
            };
            self.dispatch(kernel, &buffers, &p, (n * w.cols).div_ceil(256))?;
        }
        Ok(())
    }
}
