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

    fn paged_params(op: &'static str, s: PagedShape, ctx: usize, last: u32) -> Result<[u32; 8]> {
        Ok([
            as_u32(op, s.tokens)?,
            as_u32(op, s.heads)?,
            as_u32(op, s.kv_heads)?,
            as_u32(op, s.head_dim)?,
            as_u32(op, ctx)?,
            as_u32(op, s.block_size)?,
            u32::try_from(s.window).unwrap_or(u32::MAX),
            last,
        ])
    }

    /// scores [tokens, heads, ctx] from q [tokens, heads, head_dim] and the paged keys
    /// [slots, kv_heads, head_dim] read through `meta` (see [`crate::cpu::attention_meta`]);
    /// `ctx` is at least the longest sequence.
    pub fn paged_attn_scores(
        &mut self,
        q: &GpuBuffer,
        keys: &GpuBuffer,
        meta: &GpuBuffer,
        scores: &GpuBuffer,
        s: PagedShape,
        ctx: usize,
    ) -> Result<()> {
        need("paged_attn_scores", "q", q, s.tokens * s.heads * s.head_dim)?;
        need("paged_attn_scores", "meta", meta, 2 * s.tokens)?;
        need(
            "paged_attn_scores",
            "scores",
            scores,
            s.tokens * s.heads * ctx,
        )?;
        kv_heads_divide("paged_attn_scores", s)?;
        let p = Self::paged_params("paged_attn_scores", s, ctx, s.scale.to_bits())?;
        self.dispatch(
            Kernel::PagedAttnScores,
            &[q, keys, meta, scores],
            &p,
            (s.tokens * s.heads * ctx).div_ceil(WG),
        )
    }

    /// out [tokens, heads, head_dim] = probs [tokens, heads, ctx] times the paged values.
    pub fn paged_attn_values(
        &mut self,
        probs: &GpuBuffer,
        values: &GpuBuffer,
        meta: &GpuBuffer,
        out: &GpuBuffer,
        s: PagedShape,
        ctx: usize,
    ) -> Result<()> {
        need(
            "paged_attn_values",
            "probs",
            probs,
            s.tokens * s.heads * ctx,
        )?;
        need("paged_attn_values", "meta", meta, 2 * s.tokens)?;
        need(
            "paged_attn_values",
            "out",
            out,
            s.tokens * s.heads * s.head_dim,
        )?;
        kv_heads_divide("paged_attn_values", s)?;
        let p = Self::paged_params("paged_attn_values", s, ctx, 0)?;
        self.dispatch(
            Kernel::PagedAttnValues,
            &[probs, values, meta, out],
            &p,
            (s.tokens * s.heads * s.head_dim).div_ceil(WG),
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
