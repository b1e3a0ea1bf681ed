//! Sampling on the GPU: one token per row of logits with its logprob and the top logprobs, so
//! that a decode step reads back a few words per sequence instead of a vocabulary of logits.

use super::batch::GpuBatch;
use super::buffer::GpuBuffer;
use super::kernels::Kernel;
use super::ops::{as_u32, need};
use crate::error::{Error, Result};

/// Most top logprobs the kernel returns per row.
pub const MAX_TOP_LOGPROBS: usize = 20;

/// Words the sampling kernel writes per row for `top_n` top logprobs.
pub fn sample_row_words(top_n: usize) -> usize {
    2 + 2 * top_n
}

impl GpuBatch<'_> {
    /// out [rows, 2 + 2 * top_n] from logits [rows, vocab] and draws [rows, 4] =
    /// (temperature, top_p, top_k, u) as f32/f32/u32/f32 bits; see `kernels/sample.wgsl`.
    pub fn sample(
        &mut self,
        logits: &GpuBuffer,
        draws: &GpuBuffer,
        out: &GpuBuffer,
        rows: usize,
        vocab: usize,
        top_n: usize,
    ) -> Result<()> {
        if vocab == 0 || top_n > MAX_TOP_LOGPROBS || top_n > vocab {
            return Err(Error::shape(
                "sample",
                format!("vocab {vocab}, top_n {top_n} (at most {MAX_TOP_LOGPROBS})"),
            ));
        }
        need("sample", "logits", logits, rows * vocab)?;
        need("sample", "draws", draws, rows * 4)?;
        need("sample", "out", out, rows * sample_row_words(top_n))?;
        let p = [
            as_u32("sample", rows)?,
            as_u32("sample", vocab)?,
            as_u32("sample", top_n)?,
        ];
        self.dispatch(Kernel::Sample, &[logits, draws, out], &p, rows)
    }
}
