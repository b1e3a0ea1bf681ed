//! The forward pass on the CPU for Qwen2, Llama 3 and Gemma 3, over a batch of sequences that
//! each continue their own KV cache; f32 throughout, the oracle the GPU forward is checked against.

use super::config::{Activation, Architecture, LayerAttention, ModelConfig};
use super::rope;
use super::weights::{LayerWeights, Linear, ModelWeights};
use crate::cpu;
use crate::error::{Error, Result};

/// A contiguous KV cache of one sequence: per layer, keys and values [position, kv_head, head_dim].
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    /// Positions cached so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

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
pub struct SequenceInput<'a> {
    /// The sequence's cache; the new tokens continue it.
    pub cache: &'a mut KvCache,
    /// New tokens.
    pub tokens: &'a [u32],
    /// Logits wanted.
    pub logits: LogitPositions,
}

/// What a forward call returns for one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardOutput {
    /// Logits [vocab] for each requested position, in order.
    pub logits: Vec<Vec<f32>>,
    /// Final hidden states (after the final norm) [new tokens, hidden], row-major.
    pub hidden: Vec<f32>,
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

    /// Runs each sequence's new tokens through the model, extending its cache.
    pub fn forward(&self, batch: &mut [SequenceInput<'_>]) -> Result<Vec<ForwardOutput>> {
        batch
            .iter_mut()
            .map(|s| self.forward_one(s.cache, s.tokens, s.logits))
            .collect()
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

    fn forward_one(
        &self,
        cache: &mut KvCache,
        tokens: &[u32],
        want: LogitPositions,
    ) -> Result<ForwardOutput> {
        let c = &self.config;
        let (n, h) = (tokens.len(), c.hidden_size);
        if n == 0 {
            return Err(Error::InvalidArgument(
                "forward needs at least one token".into(),
            ));
        }
        if cache.len + n > c.max_position_embeddings {
            return Err(Error::InvalidArgument(format!(
                "{} positions exceed the model's {}",
                cache.len + n,
                c.max_position_embeddings
            )));
        }
        if cache.keys.is_empty() {
            cache.keys = vec![Vec::new(); c.num_hidden_layers];
            cache.values = vec![Vec::new(); c.num_hidden_layers];
        }
        // x: [n, h]
        let mut x = vec![0f32; n * h];
        for (&t, row) in tokens.iter().zip(x.chunks_exact_mut(h)) {
            let t = t as usize;
            if t >= c.vocab_size {
                return Err(Error::InvalidArgument(format!(
                    "token {t} outside the vocabulary of {}",
                    c.vocab_size
                )));
            }
            self.weights.embed_tokens.dequantize_row(t, row);
        }
        if c.architecture == Architecture::Gemma3 {
            let scale = (h as f32).sqrt();
            x.iter_mut().for_each(|v| *v *= scale);
        }
        for (l, layer) in self.weights.layers.iter().enumerate() {
            x = self.layer(l, layer, cache, x, n)?;
        }
        cache.len += n;
        let hidden = self.norm(&x, n, &self.weights.norm)?;
        let head = self
            .weights
            .lm_head
            .as_ref()
            .unwrap_or(&self.weights.embed_tokens);
        let rows: Vec<usize> = match want {
            LogitPositions::All => (0..n).collect(),
            LogitPositions::Last => vec![n - 1],
            LogitPositions::None => vec![],
        };
        let logits = rows
            .into_iter()
            .map(|r| cpu::linear(&hidden[r * h..(r + 1) * h], 1, head))
            .collect::<Result<Vec<_>>>()?;
        Ok(ForwardOutput { logits, hidden })
    }

    /// One decoder layer over x [n, h]; appends this layer's keys and values to the cache.
    fn layer(
        &self,
        l: usize,
        w: &LayerWeights,
        cache: &mut KvCache,
        x: Vec<f32>,
        n: usize,
    ) -> Result<Vec<f32>> {
        let c = &self.config;
        let (hd, nh, nkv) = (c.head_dim, c.num_attention_heads, c.num_key_value_heads);
        let start = cache.len;
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
        for t in 0..n {
            for head in q[t * nh * hd..(t + 1) * nh * hd].chunks_exact_mut(hd) {
                rope::apply(head, start + t, inv_freq);
            }
            for head in k[t * nkv * hd..(t + 1) * nkv * hd].chunks_exact_mut(hd) {
                rope::apply(head, start + t, inv_freq);
            }
        }
        cache.keys[l].extend_from_slice(&k);
        cache.values[l].extend_from_slice(&v);
        let (keys, values) = (&cache.keys[l], &cache.values[l]);
        let scale = 1.0 / (c.query_pre_attn_scalar as f32).sqrt();
        let window = if sliding {
            c.sliding_window.unwrap_or(usize::MAX)
        } else {
            usize::MAX
        };
        let group = nh / nkv;
        // attn: [n, nh * hd]
        let mut attn = vec![0f32; n * nh * hd];
        let mut scores = Vec::new();
        for t in 0..n {
            let pos = start + t;
            let first = (pos + 1).saturating_sub(window);
            for head in 0..nh {
                let kvh = head / group;
                let qv = &q[(t * nh + head) * hd..(t * nh + head + 1) * hd];
                scores.clear();
                for j in first..=pos {
                    let kv = &keys[(j * nkv + kvh) * hd..(j * nkv + kvh + 1) * hd];
                    scores.push(qv.iter().zip(kv).map(|(a, b)| a * b).sum::<f32>() * scale);
                }
                let probs = cpu::softmax(&scores, 1, scores.len())?;
                let out = &mut attn[(t * nh + head) * hd..(t * nh + head + 1) * hd];
                for (p, j) in probs.iter().zip(first..=pos) {
                    let vv = &values[(j * nkv + kvh) * hd..(j * nkv + kvh + 1) * hd];
                    out.iter_mut().zip(vv).for_each(|(o, v)| *o += p * v);
                }
            }
        }
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
