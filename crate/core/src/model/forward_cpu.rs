//! The forward pass on the CPU for Qwen2, Llama 3 and Gemma 3 over a batch of sequences of a
//! paged KV cache, new tokens of all sequences stacked; f32 arithmetic, the oracle the GPU
//! forward is checked against.

use super::batch::{ForwardOutput, logit_rows, place_batch, split_outputs};
use super::config::{Activation, Architecture, LayerAttention, ModelConfig};
use super::rope;
use super::weights::{LayerWeights, Linear, ModelWeights};
use crate::cpu;
use crate::error::Result;
use crate::kv::{CpuKvCache, PagedCache, Placement, SeqId};

/// Which positions' logits to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogitPositions {
    /// Every new position.
    All,
    /// Only the last new position.
    Last,
    /// None (hidden states only, e.g. for a PRM head).
    None,
}

/// One sequence's part of a batched forward call.
#[derive(Debug, Clone, Copy)]
pub struct SequenceInput<'a> {
    /// The sequence in the KV cache; the new tokens continue it.
    pub seq: SeqId,
    /// New tokens.
    pub tokens: &'a [u32],
    /// Logits wanted.
    pub logits: LogitPositions,
}

impl LogitPositions {
    /// The rows (of `n` new tokens) whose logits are wanted.
    pub fn rows(self, n: usize) -> std::ops::Range<usize> {
        match self {
            LogitPositions::All => 0..n,
            LogitPositions::Last => n.saturating_sub(1)..n,
            LogitPositions::None => 0..0,
        }
    }
}

/// A model on the CPU.
pub struct CpuModel {
    config: ModelConfig,
    weights: ModelWeights,
    inv_freq_global: Vec<f32>,
    inv_freq_local: Vec<f32>,
}

fn linear(x: &[f32], rows: usize, layer: &Linear) -> Result<Vec<f32>> {
    let mut y = cpu::linear(x, rows, &layer.weight)?;
    if let Some(bias) = &layer.bias {
        for row in y.chunks_exact_mut(layer.out_features) {
            row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
        }
    }
    Ok(y)
}

fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)).tanh())
}

fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

impl CpuModel {
    /// Wraps loaded weights.
    pub fn new(config: ModelConfig, weights: ModelWeights) -> Self {
        let inv_freq_global = rope::inv_freq(&config.rope, config.head_dim);
        let inv_freq_local = rope::inv_freq(
            config.rope_local.as_ref().unwrap_or(&config.rope),
            config.head_dim,
        );
        Self {
            config,
            weights,
            inv_freq_global,
            inv_freq_local,
        }
    }

    /// The config.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Runs each sequence's new tokens through the model in one batched pass (every weight
    /// matrix is read once for all of them), extending the sequences in `cache`. On an error the
    /// sequences keep their old lengths.
    pub fn forward(
        &self,
        cache: &mut CpuKvCache,
        batch: &[SequenceInput<'_>],
    ) -> Result<Vec<ForwardOutput>> {
        let (new, placement) = place_batch(&self.config, cache.blocks_mut(), batch)?;
        match self.forward_placed(cache, batch, &placement) {
            Ok(out) => Ok(out),
            Err(e) => {
                cache.blocks_mut().rollback(&new, &placement)?;
                Err(e)
            }
        }
    }

    fn norm(&self, x: &[f32], rows: usize, weight: &[f32]) -> Result<Vec<f32>> {
        let offset = if self.config.architecture == Architecture::Gemma3 {
            1.0
        } else {
            0.0
        };
        let n = weight.len();
        cpu::rms_norm(x, weight, rows, n, self.config.rms_norm_eps as f32, offset)
    }

    fn forward_placed(
        &self,
        cache: &mut CpuKvCache,
        batch: &[SequenceInput<'_>],
        placement: &Placement,
    ) -> Result<Vec<ForwardOutput>> {
        let c = &self.config;
        let h = c.hidden_size;
        cache.copy_blocks(&placement.copies);
        let tokens: Vec<u32> = batch
            .iter()
            .flat_map(|s| s.tokens.iter().copied())
            .collect();
        let n = tokens.len();
        // x: [n, h], every sequence's new tokens stacked.
        let mut x = vec![0f32; n * h];
        for (&t, row) in tokens.iter().zip(x.chunks_exact_mut(h)) {
            self.weights.embed_tokens.dequantize_row(t as usize, row);
        }
        if c.architecture == Architecture::Gemma3 {
            let scale = (h as f32).sqrt();
            x.iter_mut().for_each(|v| *v *= scale);
        }
        let meta = cpu::attention_meta(
            &placement.positions,
            &placement.token_seq,
            &placement.tables,
        )?;
        for (l, layer) in self.weights.layers.iter().enumerate() {
            x = self.layer(l, layer, cache, x, placement, &meta)?;
        }
        let hidden = self.norm(&x, n, &self.weights.norm)?;
        let head = self
            .weights
            .lm_head
            .as_ref()
            .unwrap_or(&self.weights.embed_tokens);
        // The requested rows of every sequence go through the LM head together (one read).
        let rows = logit_rows(batch);
        let mut selected = Vec::with_capacity(rows.len() * h);
        for r in &rows {
            selected.extend_from_slice(&hidden[r * h..(r + 1) * h]);
        }
        let logits = cpu::linear(&selected, rows.len(), head)?;
        Ok(split_outputs(batch, &hidden, h, &logits, c.vocab_size))
    }

    /// One decoder layer over x [n, h]; appends this layer's keys and values to the cache.
    fn layer(
        &self,
        l: usize,
        w: &LayerWeights,
        cache: &mut CpuKvCache,
        x: Vec<f32>,
        placement: &Placement,
        meta: &[u32],
    ) -> Result<Vec<f32>> {
        let c = &self.config;
        let (hd, nh, nkv) = (c.head_dim, c.num_attention_heads, c.num_key_value_heads);
        let n = placement.positions.len();
        let normed = self.norm(&x, n, &w.input_layernorm)?;
        let mut q = linear(&normed, n, &w.q_proj)?; // [n, nh * hd]
        let mut k = linear(&normed, n, &w.k_proj)?; // [n, nkv * hd]
        let v = linear(&normed, n, &w.v_proj)?; // [n, nkv * hd]
        if let (Some(qn), Some(kn)) = (&w.q_norm, &w.k_norm) {
            q = self.norm(&q, n * nh, qn)?;
            k = self.norm(&k, n * nkv, kn)?;
        }
        let sliding = c.layer_types[l] == LayerAttention::Sliding;
        let inv_freq = if sliding {
            &self.inv_freq_local
        } else {
            &self.inv_freq_global
        };
        for (t, &pos) in placement.positions.iter().enumerate() {
            for head in q[t * nh * hd..(t + 1) * nh * hd].chunks_exact_mut(hd) {
                rope::apply(head, pos as usize, inv_freq);
            }
            for head in k[t * nkv * hd..(t + 1) * nkv * hd].chunks_exact_mut(hd) {
                rope::apply(head, pos as usize, inv_freq);
            }
        }
        cache.write(l, &placement.slots, &k, &v)?;
        let (keys, values) = cache.layer(l);
        let shape = cpu::PagedShape {
            tokens: n,
            heads: nh,
            kv_heads: nkv,
            head_dim: hd,
            block_size: cache.blocks().block_size(),
            window: if sliding {
                c.sliding_window.unwrap_or(usize::MAX)
            } else {
                usize::MAX
            },
            scale: 1.0 / (c.query_pre_attn_scalar as f32).sqrt(),
        };
        // attn: [n, nh * hd]
        let attn = cpu::paged_attention(&q, keys, values, meta, shape)?;
        let o = linear(&attn, n, &w.o_proj)?;
        let gemma = c.architecture == Architecture::Gemma3;
        let o = if gemma {
            self.norm(&o, n, &w.post_attention_layernorm)?
        } else {
            o
        };
        let residual: Vec<f32> = x.iter().zip(&o).map(|(a, b)| a + b).collect();
        let mlp_norm = match (&w.pre_feedforward_layernorm, gemma) {
            (Some(pre), true) => pre,
            _ => &w.post_attention_layernorm,
        };
        let m_in = self.norm(&residual, n, mlp_norm)?;
        let gate = linear(&m_in, n, &w.gate_proj)?;
        let up = linear(&m_in, n, &w.up_proj)?;
        let act: fn(f32) -> f32 = match c.hidden_act {
            Activation::Silu => silu,
            Activation::GeluTanh => gelu_tanh,
        };
        let inner: Vec<f32> = gate.iter().zip(&up).map(|(g, u)| act(*g) * u).collect();
        let mut m = linear(&inner, n, &w.down_proj)?;
        if let (true, Some(post)) = (gemma, &w.post_feedforward_layernorm) {
            m = self.norm(&m, n, post)?;
        }
        Ok(residual.iter().zip(&m).map(|(a, b)| a + b).collect())
    }
}
