//! Matrices kept in a GGUF file's own quantized blocks: the file's bytes, row after row, so that
//! the engine computes with the file's own values and holds no more memory than the file does.
//!
//! A row of `cols` values is `cols / block_size` blocks of the type's layout (see
//! [`super::ggml`]); rows are whole blocks (GGUF stores each row of a matrix as its own run of
//! blocks). The types kept are the ones llama.cpp's Q8_0 / Q4_0 / Q5_0 / Q4_K_M / Q5_K_M files
//! use for matrices; other quantized types are repacked to q8 at load.

use super::ggml::{GgmlType, dequantize_into};
use crate::error::{Error, Result};

/// A [rows, cols] matrix of GGML blocks of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockMatrix {
    /// The block type.
    pub ty: GgmlType,
    /// Output features.
    pub rows: usize,
    /// Input features; a multiple of the type's block size.
    pub cols: usize,
    /// The blocks: rows * row_bytes bytes, row-major.
    pub data: Vec<u8>,
}

impl BlockMatrix {
    /// Whether matrices of type `ty` are kept as blocks (else they are converted at load).
    pub fn keeps(ty: GgmlType) -> bool {
        matches!(
            ty,
            GgmlType::Q8_0
                | GgmlType::Q4_0
                | GgmlType::Q5_0
                | GgmlType::Q4K
                | GgmlType::Q5K
                | GgmlType::Q6K
        )
    }

    /// Wraps `data`, checking that it holds `rows` rows of `cols` values of type `ty`.
    pub fn new(ty: GgmlType, rows: usize, cols: usize, data: Vec<u8>) -> Result<Self> {
        if !Self::keeps(ty) {
            return Err(Error::Unsupported(format!(
                "{} blocks are not kept as they are",
                ty.name()
            )));
        }
        if !cols.is_multiple_of(ty.block_size()) {
            return Err(Error::shape(
                "block matrix",
                format!(
                    "{cols} columns are not whole {} blocks of {}",
                    ty.name(),
                    ty.block_size()
                ),
            ));
        }
        let want = rows * cols / ty.block_size() * ty.type_size();
        if data.len() != want {
            return Err(Error::shape(
                "block matrix",
                format!(
                    "{} bytes for {rows}x{cols} {} (expected {want})",
                    data.len(),
                    ty.name()
                ),
            ));
        }
        Ok(Self {
            ty,
            rows,
            cols,
            data,
        })
    }

    /// An empty matrix to grow with [`BlockMatrix::append_rows`].
    pub fn empty(ty: GgmlType, cols: usize) -> Self {
        Self {
            ty,
            rows: 0,
            cols,
            data: Vec::new(),
        }
    }

    /// Bytes of one row.
    pub fn row_bytes(&self) -> usize {
        self.cols / self.ty.block_size() * self.ty.type_size()
    }

    /// The blocks of row `r`.
    pub fn row(&self, r: usize) -> &[u8] {
        let n = self.row_bytes();
        &self.data[r * n..(r + 1) * n]
    }

    /// Every value, row-major [rows, cols] (ggml's dequantization).
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.rows * self.cols];
        for (r, row) in out.chunks_exact_mut(self.cols.max(1)).enumerate() {
            self.dequantize_row(r, row);
        }
        out
    }

    /// Row `r` dequantized into `out` [cols] (the file's values exactly, as PyPI `gguf` gives
    /// them).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        dequantize_into(self.ty, self.row(r), &mut out[..self.cols]);
    }

    /// Appends the rows of `more` (same type and columns).
    pub fn append_rows(&mut self, more: &BlockMatrix) -> Result<()> {
        if more.ty != self.ty || more.cols != self.cols {
            return Err(Error::shape(
                "append rows",
                format!(
                    "{} [{}, {}] onto {} [{}, {}]",
                    more.ty.name(),
                    more.rows,
                    more.cols,
                    self.ty.name(),
                    self.rows,
                    self.cols
                ),
            ));
        }
        self.data.extend_from_slice(&more.data);
        self.rows += more.rows;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_sizes_and_types() {
        let ok = BlockMatrix::new(GgmlType::Q8_0, 2, 64, vec![0; 4 * 34]).expect("fits");
        assert_eq!((ok.row_bytes(), ok.row(1).len()), (68, 68));
        let err = |r: Result<BlockMatrix>| r.expect_err("refused").code();
        assert_eq!(
            err(BlockMatrix::new(GgmlType::Q8_0, 2, 64, vec![0; 5])),
            "shape"
        );
        assert_eq!(
            err(BlockMatrix::new(GgmlType::Q4K, 1, 64, vec![0; 36])),
            "shape"
        );
        assert_eq!(
            err(BlockMatrix::new(GgmlType::Q2K, 1, 256, vec![0; 84])),
            "unsupported"
        );
    }
}
