//! The element-wise and attention ops of the GPU forward pass: shape-checked dispatches into a
//! [`GpuBatch`], each mirroring a step of `model::forward_cpu`.

use super::batch::GpuBatch;
use super::buffer::GpuBuffer;
use super::kernels::Kernel;
use super::ops::{as_u32, need};
use crate::error::Result;
use crate::layout::PagedShape;

/// Invocations per workgroup of the element-wise kernels.
const WG: usize = 256;
/// The largest head the attention kernel holds (see paged_attn.wgsl).
const MAX_HEAD_DIM: usize = 512;

impl GpuBatch<'_> {
    /// y[r] += bias for every row. y: [rows, cols], bias: [cols].
    pub fn bias_add(
        &mut self,
        bias: &GpuBuffer,
        y: &GpuBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<()> {
        need("bias_add", "bias", bias, cols)?;
        need("bias_add", "y", y, rows * cols)?;
        let p = [as_u32("bias_add", rows)?, as_u32("bias_add", cols)?];
        self.dispatch(Kernel::BiasAdd, &[bias, y], &p, (rows * cols).div_ceil(WG))
    }

    /// x += y over `len` values.
    pub fn add(&mut self, y: &GpuBuffer, x: &GpuBuffer, len: usize) -> Result<()> {
        need("add", "y", y, len)?;
        need("add", "x", x, len)?;
        self.dispatch(
            Kernel::Add,
            &[y, x],
            &[as_u32("add", len)?],
            len.div_ceil(WG),
        )
    }

    /// out = act(gate) * up over `len` values; `gelu` picks GELU-tanh over SiLU.
    pub fn gated_act(
        &mut self,
        gate: &GpuBuffer,
        up: &GpuBuffer,
        out: &GpuBuffer,
        len: usize,
        gelu: bool,
    ) -> Result<()> {
        need("gated_act", "gate", gate, len)?;
        need("gated_act", "up", up, len)?;
        need("gated_act", "out", out, len)?;
        let p = [as_u32("gated_act", len)?, u32::from(gelu)];
        self.dispatch(Kernel::GatedAct, &[gate, up, out], &p, len.div_ceil(WG))
    }

    /// Rotary embedding in place. x: [n, heads, head_dim], cos_sin: [n, head_dim / 2, 2].
    pub fn rope(
        &mut self,
        cos_sin: &GpuBuffer,
        x: &GpuBuffer,
        n: usize,
        heads: usize,
        head_dim: usize,
    ) -> Result<()> {
        need("rope", "cos_sin", cos_sin, n * head_dim)?;
        need("rope", "x", x, n * heads * head_dim)?;
        let p = [
            as_u32("rope", n)?,
            as_u32("rope", heads)?,
            as_u32("rope", head_dim)?,
        ];
        self.dispatch(
            Kernel::Rope,
            &[cos_sin, x],
            &p,
            (n * heads * head_dim / 2).div_ceil(WG),
        )
    }

    /// cache[slots[t]] = src[t] for each new token. src: [tokens, row], cache: [slots, row].
    pub fn kv_write(
        &mut self,
        src: &GpuBuffer,
        slots: &GpuBuffer,
        cache: &GpuBuffer,
        tokens: usize,
        row: usize,
    ) -> Result<()> {
        need("kv_write", "src", src, tokens * row)?;
        need("kv_write", "slots", slots, tokens)?;
        let p = [as_u32("kv_write", tokens)?, as_u32("kv_write", row)?];
        self.dispatch(
            Kernel::KvWrite,
            &[src, slots, cache],
            &p,
            (tokens * row).div_ceil(WG),
        )
    }

    /// out [tokens, heads, head_dim] = attention of q [tokens, heads, head_dim] over the paged
    /// keys and values [slots, kv_heads, head_dim] read through `meta` (see
    /// [`crate::cpu::attention_meta`]); head_dim at most 512.
    pub fn paged_attn(
        &mut self,
        q: &GpuBuffer,
        keys: &GpuBuffer,
        values: &GpuBuffer,
        meta: &GpuBuffer,
        out: &GpuBuffer,
        s: PagedShape,
    ) -> Result<()> {
        let op = "paged_attn";
        need(op, "q", q, s.tokens * s.heads * s.head_dim)?;
        need(op, "meta", meta, 2 * s.tokens)?;
        need(op, "out", out, s.tokens * s.heads * s.head_dim)?;
        need(op, "keys", keys, s.block_size * s.kv_heads * s.head_dim)?;
        need(op, "values", values, keys.words())?;
        kv_heads_divide(op, s)?;
        if s.window == 0 {
            return Err(crate::error::Error::shape(
                op,
                "a sliding window of 0 positions",
            ));
        }
        if s.head_dim > MAX_HEAD_DIM {
            return Err(crate::error::Error::Unsupported(format!(
                "attention heads of {} dimensions on the GPU (at most {MAX_HEAD_DIM})",
                s.head_dim
            )));
        }
        let p = [
            as_u32(op, s.tokens)?,
            as_u32(op, s.heads)?,
            as_u32(op, s.kv_heads)?,
            as_u32(op, s.head_dim)?,
            as_u32(op, s.block_size)?,
            u32::try_from(s.window).unwrap_or(u32::MAX),
            s.scale.to_bits(),
        ];
        self.dispatch(
            Kernel::PagedAttn,
            &[q, keys, values, meta, out],
            &p,
            s.tokens * s.heads,
        )
    }
}

fn kv_heads_divide(op: &'static str, s: PagedShape) -> Result<()> {
    if s.kv_heads == 0 || !s.heads.is_multiple_of(s.kv_heads) || s.block_size == 0 {
        return Err(crate::error::Error::shape(
            op,
            format!(
                "{} heads over {} KV heads, block size {}",
                s.heads, s.kv_heads, s.block_size
            ),
        ));
    }
    Ok(())
}
