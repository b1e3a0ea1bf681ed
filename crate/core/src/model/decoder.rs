//! The decoder, written once: embedding, the decoder layers and the final norm and LM head of
//! every family, over a small interface of ops ([`ForwardOps`]) that the CPU and GPU passes
//! implement. A family's differences come from its config ([`super::LayerForm`], activation,
//! rotary bases, sliding window), never from its name.

use super::config::{Activation, LayerAttention, ModelConfig};
use super::weights::{LayerWeights, Linear, Weights};
use crate::error::Result;

/// What a decoder layer's attention needs to know besides its operands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionSpec {
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Positions a token sees (usize::MAX: all earlier ones).
    pub window: usize,
    /// Score scale.
    pub scale: f32,
}

/// The ops of one forward pass over a batch placed in a paged KV cache. A pass knows its tokens,
/// their positions and cache slots, so the ops take only their operands. Tensors are row-major:
/// shapes are given as [rows, width].
pub trait ForwardOps {
    /// Activations.
    type Tensor;
    /// A weight matrix [out, in].
    type Matrix;
    /// A norm weight or bias.
    type Vector;

    /// The pass's tokens' rows of `table` [vocab, hidden] times `scale`: [tokens, hidden].
    fn embed(&mut self, table: &Self::Matrix, scale: f32) -> Result<Self::Tensor>;
    /// x [rows, in] times `w`^T: [rows, out].
    fn matmul(&mut self, x: &Self::Tensor, w: &Self::Matrix) -> Result<Self::Tensor>;
    /// y [rows, out] += bias [out] on every row.
    fn add_bias(&mut self, y: &mut Self::Tensor, bias: &Self::Vector) -> Result<()>;
    /// RMSNorm of each row of x [rows, n], n = the weight's length, times (offset + weight).
    fn rms_norm(
        &mut self,
        x: &Self::Tensor,
        weight: &Self::Vector,
        eps: f32,
        offset: f32,
    ) -> Result<Self::Tensor>;
    /// Rotary embedding in place of x [tokens, heads, head_dim] at the pass's positions, with the
    /// frequencies of `kind` layers.
    fn rope(&mut self, x: &mut Self::Tensor, heads: usize, kind: LayerAttention) -> Result<()>;
    /// Writes k and v [tokens, kv_heads, head_dim] to `layer`'s cache at the pass's slots, then
    /// attends: q [tokens, heads, head_dim] -> [tokens, heads, head_dim].
    fn attention(
        &mut self,
        layer: usize,
        q: &Self::Tensor,
        k: &Self::Tensor,
        v: &Self::Tensor,
        spec: AttentionSpec,
    ) -> Result<Self::Tensor>;
    /// act(gate) * up, element-wise.
    fn gated(
        &mut self,
        gate: &Self::Tensor,
        up: &Self::Tensor,
        act: Activation,
    ) -> Result<Self::Tensor>;
    /// x += y, element-wise.
    fn add(&mut self, x: &mut Self::Tensor, y: &Self::Tensor) -> Result<()>;
    /// Rows `rows` of x [rows, width], stacked: [rows.len(), width].
    fn gather_rows(
        &mut self,
        x: &Self::Tensor,
        rows: &[usize],
        width: usize,
    ) -> Result<Self::Tensor>;
}

/// The decoder's outputs, still where the pass computed them.
pub struct Decoded<T> {
    /// Final hidden states (after the final norm) [tokens, hidden].
    pub hidden: T,
    /// Logits [logit rows, vocab], when any row was asked for.
    pub logits: Option<T>,
}

fn linear<O: ForwardOps>(
    ops: &mut O,
    x: &O::Tensor,
    l: &Linear<O::Matrix, O::Vector>,
) -> Result<O::Tensor> {
    let mut y = ops.matmul(x, &l.weight)?;
    if let Some(bias) = &l.bias {
        ops.add_bias(&mut y, bias)?;
    }
    Ok(y)
}

fn norm<O: ForwardOps>(
    ops: &mut O,
    c: &ModelConfig,
    x: &O::Tensor,
    weight: &O::Vector,
) -> Result<O::Tensor> {
    ops.rms_norm(x, weight, c.rms_norm_eps as f32, c.form.norm_offset)
}

/// One decoder layer over x [tokens, hidden]; appends the layer's keys and values to the cache.
fn layer<O: ForwardOps>(
    ops: &mut O,
    c: &ModelConfig,
    l: usize,
    w: &LayerWeights<O::Matrix, O::Vector>,
    mut x: O::Tensor,
) -> Result<O::Tensor> {
    let (heads, kv_heads) = (c.num_attention_heads, c.num_key_value_heads);
    let kind = c.layer_types[l];
    let normed = norm(ops, c, &x, &w.input_layernorm)?;
    let mut q = linear(ops, &normed, &w.q_proj)?; // [tokens, heads * head_dim]
    let mut k = linear(ops, &normed, &w.k_proj)?; // [tokens, kv_heads * head_dim]
    let v = linear(ops, &normed, &w.v_proj)?; // [tokens, kv_heads * head_dim]
    drop(normed);
    if let (Some(qn), Some(kn)) = (&w.q_norm, &w.k_norm) {
        q = norm(ops, c, &q, qn)?;
        k = norm(ops, c, &k, kn)?;
    }
    ops.rope(&mut q, heads, kind)?;
    ops.rope(&mut k, kv_heads, kind)?;
    let spec = AttentionSpec {
        heads,
        kv_heads,
        head_dim: c.head_dim,
        window: match kind {
            LayerAttention::Sliding => c.sliding_window.unwrap_or(usize::MAX),
            LayerAttention::Full => usize::MAX,
        },
        scale: 1.0 / (c.query_pre_attn_scalar as f32).sqrt(),
    };
    let attn = ops.attention(l, &q, &k, &v, spec)?; // [tokens, heads * head_dim]
    drop((q, k, v));
    let mut o = linear(ops, &attn, &w.o_proj)?; // [tokens, hidden]
    drop(attn);
    if let Some(post) = &w.post_attention_layernorm {
        o = norm(ops, c, &o, post)?;
    }
    ops.add(&mut x, &o)?;
    drop(o);
    let mlp_in = norm(ops, c, &x, &w.pre_feedforward_layernorm)?;
    let gate = linear(ops, &mlp_in, &w.gate_proj)?; // [tokens, intermediate]
    let up = linear(ops, &mlp_in, &w.up_proj)?; // [tokens, intermediate]
    drop(mlp_in);
    let inner = ops.gated(&gate, &up, c.hidden_act)?;
    drop((gate, up));
    let mut m = linear(ops, &inner, &w.down_proj)?; // [tokens, hidden]
    drop(inner);
    if let Some(post) = &w.post_feedforward_layernorm {
        m = norm(ops, c, &m, post)?;
    }
    ops.add(&mut x, &m)?;
    Ok(x)
}

/// The whole model over the pass's tokens: final hidden states [tokens, hidden] and the logits
/// of the stacked rows `logit_rows`.
pub fn decode<O: ForwardOps>(
    ops: &mut O,
    c: &ModelConfig,
    w: &Weights<O::Matrix, O::Vector>,
    logit_rows: &[usize],
) -> Result<Decoded<O::Tensor>> {
    let mut x = ops.embed(&w.embed_tokens, c.form.embedding_scale)?; // [tokens, hidden]
    for (l, lw) in w.layers.iter().enumerate() {
        x = layer(ops, c, l, lw, x)?;
    }
    let hidden = norm(ops, c, &x, &w.norm)?;
    drop(x);
    let logits = if logit_rows.is_empty() {
        None
    } else {
        // The wanted rows of every sequence through the LM head together (one read of it).
        let selected = ops.gather_rows(&hidden, logit_rows, c.hidden_size)?;
        Some(ops.matmul(&selected, w.lm_head())?) // [logit rows, vocab]
    };
    Ok(Decoded { hidden, logits })
}
