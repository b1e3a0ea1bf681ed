//! The ops of the GPU backend: shape-checked dispatches of the kernels into a [`GpuBatch`].
//!
//! Each op mirrors the function of the same name in [`crate::cpu`].

use super::batch::GpuBatch;
use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::Kernel;
use crate::error::{Error, Result};
use crate::quant::q4::{GROUP_SIZE, NIBBLES_PER_WORD, Q4Matrix};

/// Rows of the weight matrix one matvec workgroup covers (see matvec.wgsl).
const MATVEC_ROWS_PER_GROUP: usize = 4;
/// Output tile edge of the matmul kernel.
const MATMUL_TILE: usize = 16;

/// An int4 group-32 matrix resident on the GPU.
#[derive(Debug)]
pub struct GpuQ4Matrix {
    /// Output features.
    pub rows: usize,
    /// Input features.
    pub cols: usize,
    qweight: GpuBuffer,
    scales: GpuBuffer,
}

impl GpuContext {
    /// Uploads a quantized matrix.
    pub fn upload_q4(&self, matrix: &Q4Matrix) -> Result<GpuQ4Matrix> {
        Ok(GpuQ4Matrix {
            rows: matrix.rows,
            cols: matrix.cols,
            qweight: self.upload_u32(&matrix.qweight, "q4 weight")?,
            scales: self.upload_u32(&matrix.scales, "q4 scales")?,
        })
    }
}

pub(crate) fn need(op: &'static str, what: &str, buffer: &GpuBuffer, words: usize) -> Result<()> {
    if buffer.words() < words {
        return Err(Error::shape(
            op,
            format!("{what} holds {} words, needs {words}", buffer.words()),
        ));
    }
    Ok(())
}

pub(crate) fn as_u32(op: &'static str, value: usize) -> Result<u32> {
    u32::try_from(value)
        .map_err(|_| Error::shape(op, format!("dimension {value} does not fit in u32")))
}

impl GpuBatch<'_> {
    /// y = W x. weight: [rows, cols], x: [cols] -> y: [rows].
    pub fn matvec(
        &mut self,
        weight: &GpuBuffer,
        x: &GpuBuffer,
        y: &GpuBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<()> {
        need("matvec", "weight", weight, rows * cols)?;
        need("matvec", "x", x, cols)?;
        need("matvec", "y", y, rows)?;
        let params = [as_u32("matvec", rows)?, as_u32("matvec", cols)?];
        self.dispatch(
            Kernel::Matvec,
            &[weight, x, y],
            &params,
            rows.div_ceil(MATVEC_ROWS_PER_GROUP),
        )
    }

    /// Y = X W^T. x: [m, k], weight: [n, k] -> y: [m, n].
    pub fn matmul(
        &mut self,
        x: &GpuBuffer,
        weight: &GpuBuffer,
        y: &GpuBuffer,
        m: usize,
        n: usize,
        k: usize,
    ) -> Result<()> {
        need("matmul", "x", x, m * k)?;
        need("matmul", "weight", weight, n * k)?;
        need("matmul", "y", y, m * n)?;
        let params = [
            as_u32("matmul", m)?,
            as_u32("matmul", n)?,
            as_u32("matmul", k)?,
        ];
        let tiles = m.div_ceil(MATMUL_TILE) * n.div_ceil(MATMUL_TILE);
        self.dispatch(Kernel::Matmul, &[x, weight, y], &params, tiles)
    }

    /// RMSNorm of each row. x: [rows, n], weight: [n] -> y: [rows, n].
    #[allow(clippy::too_many_arguments)]
    pub fn rms_norm(
        &mut self,
        x: &GpuBuffer,
        weight: &GpuBuffer,
        y: &GpuBuffer,
        rows: usize,
        n: usize,
        eps: f32,
        weight_offset: f32,
    ) -> Result<()> {
        if n == 0 {
            return Err(Error::shape("rms_norm", "row length is zero"));
        }
        need("rms_norm", "x", x, rows * n)?;
        need("rms_norm", "weight", weight, n)?;
        need("rms_norm", "y", y, rows * n)?;
        let params = [
            as_u32("rms_norm", rows)?,
            as_u32("rms_norm", n)?,
            eps.to_bits(),
            weight_offset.to_bits(),
        ];
        self.dispatch(Kernel::RmsNorm, &[x, weight, y], &params, rows)
    }

    /// Softmax of each row. x: [rows, n] -> y: [rows, n].
    pub fn softmax(&mut self, x: &GpuBuffer, y: &GpuBuffer, rows: usize, n: usize) -> Result<()> {
        if n == 0 {
            return Err(Error::shape("softmax", "row length is zero"));
        }
        need("softmax", "x", x, rows * n)?;
        need("softmax", "y", y, rows * n)?;
        let params = [as_u32("softmax", rows)?, as_u32("softmax", n)?];
        self.dispatch(Kernel::Softmax, &[x, y], &params, rows)
    }

    /// y = W x with int4 weights. x: [cols] -> y: [rows].
    pub fn q4_matvec(&mut self, weight: &GpuQ4Matrix, x: &GpuBuffer, y: &GpuBuffer) -> Result<()> {
        let (rows, cols) = (weight.rows, weight.cols);
        if !cols.is_multiple_of(GROUP_SIZE) {
            return Err(Error::shape(
                "q4_matvec",
                format!("cols = {cols} is not a multiple of {GROUP_SIZE}"),
            ));
        }
        need(
            "q4_matvec",
            "qweight",
            &weight.qweight,
            rows * cols / NIBBLES_PER_WORD,
        )?;
        need(
            "q4_matvec",
            "scales",
            &weight.scales,
            (rows * cols / GROUP_SIZE).div_ceil(2),
        )?;
        need("q4_matvec", "x", x, cols)?;
        need("q4_matvec", "y", y, rows)?;
        let params = [as_u32("q4_matvec", rows)?, as_u32("q4_matvec", cols)?];
        self.dispatch(
            Kernel::Q4Matvec,
            &[&weight.qweight, &weight.scales, x, y],
            &params,
            rows.div_ceil(MATVEC_ROWS_PER_GROUP),
        )
    }
}
