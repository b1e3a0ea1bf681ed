//! The element-wise and attention ops of the GPU forward pass: shape-checked dispatches into a
//! [`GpuBatch`], each mirroring a step of `model::forward_cpu`.

use super::batch::GpuBatch;
use super::buffer::GpuBuffer;
use super::kernels::Kernel;
use super::ops::{as_u32, need};
use crate::error::Result;

/// Invocations per workgroup of the element-wise kernels.
const WG: usize = 256;

/// Attention shapes of one layer call.
#[derive(Debug, Clone, Copy)]
pub struct AttentionShape {
    /// New tokens.
    pub n: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Head width.
    pub head_dim: usize,
    /// Cached positions including the new ones.
    pub ctx: usize,
    /// Position of the first new token.
    pub start: usize,
    /// Visible window (usize::MAX: full attention).
    pub window: usize,
    /// Score scale.
    pub scale: f32,
}

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

    /// scores [n, heads, ctx] from q [n, heads, head_dim] and keys [ctx, kv_heads, head_dim].
    pub fn attn_scores(
        &mut self,
        q: &GpuBuffer,
        keys: &GpuBuffer,
        scores: &GpuBuffer,
        s: AttentionShape,
    ) -> Result<()> {
        need("attn_scores", "q", q, s.n * s.heads * s.head_dim)?;
        need("attn_scores", "keys", keys, s.ctx * s.kv_heads * s.head_dim)?;
        need("attn_scores", "scores", scores, s.n * s.heads * s.ctx)?;
        let p = [
            as_u32("attn_scores", s.n)?,
            as_u32("attn_scores", s.heads)?,
            as_u32("attn_scores", s.kv_heads)?,
            as_u32("attn_scores", s.head_dim)?,
            as_u32("attn_scores", s.ctx)?,
            as_u32("attn_scores", s.start)?,
            u32::try_from(s.window).unwrap_or(u32::MAX),
            s.scale.to_bits(),
        ];
        self.dispatch(
            Kernel::AttnScores,
            &[q, keys, scores],
            &p,
            (s.n * s.heads * s.ctx).div_ceil(WG),
        )
    }

    /// out [n, heads, head_dim] = probs [n, heads, ctx] times values [ctx, kv_heads, head_dim].
    pub fn attn_values(
        &mut self,
        probs: &GpuBuffer,
        values: &GpuBuffer,
        out: &GpuBuffer,
        s: AttentionShape,
    ) -> Result<()> {
        need("attn_values", "probs", probs, s.n * s.heads * s.ctx)?;
        need(
            "attn_values",
            "values",
            values,
            s.ctx * s.kv_heads * s.head_dim,
        )?;
        need("attn_values", "out", out, s.n * s.heads * s.head_dim)?;
        let p = [
            as_u32("attn_values", s.n)?,
            as_u32("attn_values", s.heads)?,
            as_u32("attn_values", s.kv_heads)?,
            as_u32("attn_values", s.head_dim)?,
            as_u32("attn_values", s.ctx)?,
        ];
        self.dispatch(
            Kernel::AttnValues,
            &[probs, values, out],
            &p,
            (s.n * s.heads * s.head_dim).div_ceil(WG),
        )
    }
}
