//! The forward pass on the CPU: the decoder's ops in plain Rust over host weights and a
//! [`CpuKvCache`]; f32 arithmetic, the oracle the GPU pass is checked against.

use super::batch::{
    ForwardOutput, SequenceInput, place_batch, split_outputs, stacked_tokens, wanted_rows,
};
use super::config::{Activation, LayerAttention, ModelConfig};
use super::decoder::{AttentionSpec, ForwardOps, decode};
use super::rope;
use super::weights::ModelWeights;
use crate::cpu;
use crate::error::{Error, Result};
use crate::kv::{CpuKvCache, PagedCache, Placement};
use crate::layout::{self, PagedShape};
use crate::quant::WeightMatrix;

/// A model on the CPU.
pub struct CpuModel {
    config: ModelConfig,
    weights: ModelWeights,
    inv_freq_global: Vec<f32>,
    inv_freq_local: Vec<f32>,
}

/// One CPU pass: the batch's tokens, their placement and rotary tables, and the cache.
struct CpuPass<'a> {
    cache: &'a mut CpuKvCache,
    placement: &'a Placement,
    tokens: Vec<u32>,
    meta: Vec<u32>,
    /// (cos, sin) of every token's position [tokens, head_dim / 2, 2], global and local.
    rope_global: Vec<f32>,
    rope_local: Vec<f32>,
}

fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)).tanh())
}

fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

fn same_len(op: &'static str, a: &[f32], b: &[f32]) -> Result<()> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!("{} values against {}", a.len(), b.len()),
        ))
    }
}

/// Rows of x [rows, width] for a width that must divide its length.
fn rows_of(op: &'static str, x: &[f32], width: usize) -> Result<usize> {
    if width == 0 || !x.len().is_multiple_of(width) {
        return Err(Error::shape(
            op,
            format!("{} values are not rows of {width}", x.len()),
        ));
    }
    Ok(x.len() / width)
}

impl ForwardOps for CpuPass<'_> {
    type Tensor = Vec<f32>;
    type Matrix = WeightMatrix;
    type Vector = Vec<f32>;

    fn embed(&mut self, table: &WeightMatrix, scale: f32) -> Result<Vec<f32>> {
        let h = table.cols();
        let mut x = vec![0f32; self.tokens.len() * h];
        for (&t, row) in self.tokens.iter().zip(x.chunks_exact_mut(h)) {
            table.dequantize_row(t as usize, row);
        }
        if scale != 1.0 {
            x.iter_mut().for_each(|v| *v *= scale);
        }
        Ok(x)
    }

    fn matmul(&mut self, x: &Vec<f32>, w: &WeightMatrix) -> Result<Vec<f32>> {
        cpu::linear(x, rows_of("linear", x, w.cols())?, w)
    }

    fn add_bias(&mut self, y: &mut Vec<f32>, bias: &Vec<f32>) -> Result<()> {
        rows_of("bias", y, bias.len())?;
        for row in y.chunks_exact_mut(bias.len()) {
            row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
        }
        Ok(())
    }

    fn rms_norm(&mut self, x: &Vec<f32>, w: &Vec<f32>, eps: f32, offset: f32) -> Result<Vec<f32>> {
        cpu::rms_norm(x, w, rows_of("rms_norm", x, w.len())?, w.len(), eps, offset)
    }

    fn rope(&mut self, x: &mut Vec<f32>, heads: usize, kind: LayerAttention) -> Result<()> {
        let table = match kind {
            LayerAttention::Full => &self.rope_global,
            LayerAttention::Sliding => &self.rope_local,
        };
        let n = self.tokens.len();
        let half = table.len() / (2 * n.max(1));
        if x.len() != n * heads * 2 * half {
            return Err(Error::shape("rope", format!("{} values", x.len())));
        }
        for (t, token) in x.chunks_exact_mut(heads * 2 * half).enumerate() {
            let cos_sin = &table[t * 2 * half..(t + 1) * 2 * half];
            for head in token.chunks_exact_mut(2 * half) {
                rope::rotate(head, cos_sin);
            }
        }
        Ok(())
    }

    fn attention(
        &mut self,
        layer: usize,
        q: &Vec<f32>,
        k: &Vec<f32>,
        v: &Vec<f32>,
        spec: AttentionSpec,
    ) -> Result<Vec<f32>> {
        self.cache.write(layer, &self.placement.slots, k, v)?;
        let (keys, values) = self.cache.layer(layer);
        let shape = PagedShape {
            tokens: self.tokens.len(),
            heads: spec.heads,
            kv_heads: spec.kv_heads,
            head_dim: spec.head_dim,
            block_size: self.cache.blocks().block_size(),
            window: spec.window,
            scale: spec.scale,
        };
        cpu::paged_attention(q, keys, values, &self.meta, shape)
    }

    fn gated(&mut self, gate: &Vec<f32>, up: &Vec<f32>, act: Activation) -> Result<Vec<f32>> {
        same_len("gated", gate, up)?;
        let act: fn(f32) -> f32 = match act {
            Activation::Silu => silu,
            Activation::GeluTanh => gelu_tanh,
        };
        Ok(gate.iter().zip(up).map(|(g, u)| act(*g) * u).collect())
    }

    fn add(&mut self, x: &mut Vec<f32>, y: &Vec<f32>) -> Result<()> {
        same_len("add", x, y)?;
        x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
        Ok(())
    }

    fn gather_rows(&mut self, x: &Vec<f32>, rows: &[usize], width: usize) -> Result<Vec<f32>> {
        let available = rows_of("gather", x, width)?;
        let mut out = Vec::with_capacity(rows.len() * width);
        for &r in rows {
            if r >= available {
                return Err(Error::shape("gather", format!("row {r} of {available}")));
            }
            out.extend_from_slice(&x[r * width..(r + 1) * width]);
        }
        Ok(out)
    }
}

impl CpuModel {
    /// Wraps loaded weights.
    pub fn new(config: ModelConfig, weights: ModelWeights) -> Self {
        let (inv_freq_global, inv_freq_local) = rope::inv_freqs(&config);
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

    /// The weights.
    pub fn weights(&self) -> &ModelWeights {
        &self.weights
    }

    /// Runs each sequence's new tokens through the model in one batched pass (every weight
    /// matrix is read once for all of them), extending the sequences in `cache`. On an error the
    /// sequences keep their old lengths.
    pub fn forward(
        &self,
        cache: &mut CpuKvCache,
        batch: &[SequenceInput<'_>],
    ) -> Result<Vec<ForwardOutput>> {
        let placed = place_batch(&self.config, cache.blocks_mut(), batch)?;
        let result = self.forward_placed(cache, batch, &placed.placement);
        if result.is_err() {
            placed.rollback(cache.blocks_mut())?;
        }
        result
    }

    fn forward_placed(
        &self,
        cache: &mut CpuKvCache,
        batch: &[SequenceInput<'_>],
        placement: &Placement,
    ) -> Result<Vec<ForwardOutput>> {
        let c = &self.config;
        cache.copy_blocks(&placement.copies);
        let meta = layout::attention_meta(
            &placement.positions,
            &placement.token_seq,
            &placement.tables,
        )?;
        let mut pass = CpuPass {
            rope_global: rope::table(&self.inv_freq_global, &placement.positions),
            rope_local: rope::table(&self.inv_freq_local, &placement.positions),
            cache,
            placement,
            tokens: stacked_tokens(batch),
            meta,
        };
        let logit_rows = wanted_rows(batch, |s| s.logits);
        let out = decode(&mut pass, c, &self.weights, &logit_rows)?;
        let hidden_rows = wanted_rows(batch, |s| s.hidden);
        let hidden = pass.gather_rows(&out.hidden, &hidden_rows, c.hidden_size)?;
        let logits = out.logits.unwrap_or_default();
        Ok(split_outputs(
            batch,
            &hidden,
            c.hidden_size,
            &logits,
            c.vocab_size,
        ))
    }
}
