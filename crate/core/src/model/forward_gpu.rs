//! The forward pass on the GPU (f32, f16, q8 or q4 weights), op for op the same as `forward_cpu`: one batch of
//! dispatches per call, then a readback of the requested logits and the hidden states.

use super::config::{Activation, Architecture, LayerAttention, ModelConfig};
use super::forward_cpu::{ForwardOutput, LogitPositions};
use super::rope;
use super::store::TensorStore;
use super::weights::{LayerWeights, Linear, ModelWeights};
use crate::error::{Error, Result};
use crate::gpu::{AttentionShape, GpuBatch, GpuBuffer, GpuContext, GpuWeight};
use crate::quant::WeightFormat;

/// Positions a new cache holds before it grows (doubling).
const FIRST_CAPACITY: usize = 64;

struct GpuLinear {
    weight: GpuWeight,
    bias: Option<GpuBuffer>,
    out_features: usize,
}

struct GpuLayer {
    input_layernorm: GpuBuffer,
    q_proj: GpuLinear,
    k_proj: GpuLinear,
    v_proj: GpuLinear,
    o_proj: GpuLinear,
    q_norm: Option<GpuBuffer>,
    k_norm: Option<GpuBuffer>,
    post_attention_layernorm: GpuBuffer,
    pre_feedforward_layernorm: Option<GpuBuffer>,
    post_feedforward_layernorm: Option<GpuBuffer>,
    gate_proj: GpuLinear,
    up_proj: GpuLinear,
    down_proj: GpuLinear,
}

/// A sequence's KV cache on the GPU: per layer, keys and values [capacity, kv_heads, head_dim].
#[derive(Default)]
pub struct GpuKvCache {
    keys: Vec<GpuBuffer>,
    values: Vec<GpuBuffer>,
    capacity: usize,
    len: usize,
}

impl GpuKvCache {
    /// Positions cached so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A model whose weights live on one GPU device.
pub struct GpuModel {
    config: ModelConfig,
    embed_tokens: GpuWeight,
    layers: Vec<GpuLayer>,
    norm: GpuBuffer,
    lm_head: Option<GpuWeight>,
    inv_freq_global: Vec<f32>,
    inv_freq_local: Vec<f32>,
}

fn upload_linear(ctx: &GpuContext, l: &Linear, name: &str) -> Result<GpuLinear> {
    Ok(GpuLinear {
        weight: ctx.upload_weight(&l.weight, None)?,
        bias: l
            .bias
            .as_ref()
            .map(|b| ctx.upload_f32(b, name))
            .transpose()?,
        out_features: l.out_features,
    })
}

fn upload_opt(ctx: &GpuContext, v: &Option<Vec<f32>>, name: &str) -> Result<Option<GpuBuffer>> {
    v.as_ref().map(|v| ctx.upload_f32(v, name)).transpose()
}

fn upload_layer(ctx: &GpuContext, l: &LayerWeights) -> Result<GpuLayer> {
    Ok(GpuLayer {
        input_layernorm: ctx.upload_f32(&l.input_layernorm, "input_layernorm")?,
        q_proj: upload_linear(ctx, &l.q_proj, "q_proj")?,
        k_proj: upload_linear(ctx, &l.k_proj, "k_proj")?,
        v_proj: upload_linear(ctx, &l.v_proj, "v_proj")?,
        o_proj: upload_linear(ctx, &l.o_proj, "o_proj")?,
        q_norm: upload_opt(ctx, &l.q_norm, "q_norm")?,
        k_norm: upload_opt(ctx, &l.k_norm, "k_norm")?,
        post_attention_layernorm: ctx
            .upload_f32(&l.post_attention_layernorm, "post_attention_layernorm")?,
        pre_feedforward_layernorm: upload_opt(
            ctx,
            &l.pre_feedforward_layernorm,
            "pre_feedforward_layernorm",
        )?,
        post_feedforward_layernorm: upload_opt(
            ctx,
            &l.post_feedforward_layernorm,
            "post_feedforward_layernorm",
        )?,
        gate_proj: upload_linear(ctx, &l.gate_proj, "gate_proj")?,
        up_proj: upload_linear(ctx, &l.up_proj, "up_proj")?,
        down_proj: upload_linear(ctx, &l.down_proj, "down_proj")?,
    })
}

impl GpuModel {
    /// Uploads the weights (in whatever format they were loaded), tensor by tensor, large
    /// matrices split by rows to fit the binding limit. Fails with `buffer_too_large` where one tensor
    /// exceeds the device's binding limit.
    pub fn upload(ctx: &GpuContext, config: ModelConfig, w: &ModelWeights) -> Result<Self> {
        let layers = w
            .layers
            .iter()
            .map(|l| upload_layer(ctx, l))
            .collect::<Result<Vec<_>>>()?;
        let embed_tokens = ctx.upload_weight(&w.embed_tokens, None)?;
        let lm_head = w
            .lm_head
            .as_ref()
            .map(|h| ctx.upload_weight(h, None))
            .transpose()?;
        Self::assemble(ctx, config, embed_tokens, layers, &w.norm, lm_head)
    }

    /// Loads a model straight onto the GPU, one tensor group at a time: host memory holds one
    /// decoder layer (or the embedding, the largest single tensor) at any moment, never the model.
    pub async fn load<T: TensorStore>(
        ctx: &GpuContext,
        config: ModelConfig,
        store: &T,
        format: WeightFormat,
    ) -> Result<Self> {
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let host = LayerWeights::load(&config, store, l, format).await?;
            layers.push(upload_layer(ctx, &host)?);
        }
        let embed = ModelWeights::load_embed_tokens(&config, store, format).await?;
        let embed_tokens = ctx.upload_weight(&embed, None)?;
        drop(embed);
        let lm_head = match ModelWeights::load_lm_head(&config, store, format).await? {
            Some(head) => Some(ctx.upload_weight(&head, None)?),
            None => None,
        };
        let norm = ModelWeights::load_norm(&config, store).await?;
        Self::assemble(ctx, config, embed_tokens, layers, &norm, lm_head)
    }

    fn assemble(
        ctx: &GpuContext,
        config: ModelConfig,
        embed_tokens: GpuWeight,
        layers: Vec<GpuLayer>,
        norm: &[f32],
        lm_head: Option<GpuWeight>,
    ) -> Result<Self> {
        let global = rope::inv_freq(&config.rope, config.head_dim);
        let local = rope::inv_freq(
            config.rope_local.as_ref().unwrap_or(&config.rope),
            config.head_dim,
        );
        Ok(Self {
            embed_tokens,
            layers,
            norm: ctx.upload_f32(norm, "norm")?,
            lm_head,
            inv_freq_global: global,
            inv_freq_local: local,
            config,
        })
    }

    /// The config.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    fn norm_offset(&self) -> f32 {
        if self.config.architecture == Architecture::Gemma3 {
            1.0
        } else {
            0.0
        }
    }

    /// y = norm(x) row by row into a new buffer. x: [rows, weight.len()].
    fn norm(
        &self,
        b: &mut GpuBatch<'_>,
        x: &GpuBuffer,
        rows: usize,
        w: &GpuBuffer,
    ) -> Result<GpuBuffer> {
        let n = w.words();
        let y = b.ctx.create_buffer(rows * n, "normed")?;
        b.rms_norm(
            x,
            w,
            &y,
            rows,
            n,
            self.config.rms_norm_eps as f32,
            self.norm_offset(),
        )?;
        Ok(y)
    }

    /// y = x W^T (+ b) into a new buffer. x: [rows, in].
    fn linear(
        &self,
        b: &mut GpuBatch<'_>,
        x: &GpuBuffer,
        rows: usize,
        l: &GpuLinear,
    ) -> Result<GpuBuffer> {
        let y = b.ctx.create_buffer(rows * l.out_features, "linear")?;
        b.linear(x, rows, &l.weight, &y)?;
        if let Some(bias) = &l.bias {
            b.bias_add(bias, &y, rows, l.out_features)?;
        }
        Ok(y)
    }

    /// New, larger cache buffers holding what `cache` holds, when `needed` positions do not fit.
    /// The cache itself is untouched until the call succeeds.
    fn grow(
        &self,
        b: &mut GpuBatch<'_>,
        cache: &GpuKvCache,
        needed: usize,
    ) -> Result<Option<GpuKvCache>> {
        if needed <= cache.capacity && !cache.keys.is_empty() {
            return Ok(None);
        }
        let limit = self.config.max_position_embeddings.max(needed);
        let capacity = needed.max(FIRST_CAPACITY).next_power_of_two().min(limit);
        let row = self.config.num_key_value_heads * self.config.head_dim;
        let mut grown = GpuKvCache {
            keys: Vec::new(),
            values: Vec::new(),
            capacity,
            len: cache.len,
        };
        for l in 0..self.layers.len() {
            let k = b.ctx.create_buffer(capacity * row, "kv keys")?;
            let v = b.ctx.create_buffer(capacity * row, "kv values")?;
            if let (Some(old_k), Some(old_v)) = (cache.keys.get(l), cache.values.get(l)) {
                b.copy(old_k, 0, &k, 0, cache.len * row)?;
                b.copy(old_v, 0, &v, 0, cache.len * row)?;
            }
            grown.keys.push(k);
            grown.values.push(v);
        }
        Ok(Some(grown))
    }

    /// Runs new tokens through the model, extending the sequence's cache.
    pub async fn forward(
        &self,
        ctx: &GpuContext,
        cache: &mut GpuKvCache,
        tokens: &[u32],
        want: LogitPositions,
    ) -> Result<ForwardOutput> {
        let c = &self.config;
        let (n, h) = (tokens.len(), c.hidden_size);
        let (nh, nkv, hd) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        if n == 0 {
            return Err(Error::InvalidArgument(
                "forward needs at least one token".into(),
            ));
        }
        if let Some(t) = tokens.iter().find(|t| **t as usize >= c.vocab_size) {
            return Err(Error::InvalidArgument(format!(
                "token {t} outside the vocabulary of {}",
                c.vocab_size
            )));
        }
        let start = cache.len;
        if start + n > c.max_position_embeddings {
            return Err(Error::InvalidArgument(format!(
                "{} positions exceed the model's {}",
                start + n,
                c.max_position_embeddings
            )));
        }
        let mut b = ctx.batch();
        let grown = self.grow(&mut b, cache, start + n)?;
        let target = grown.as_ref().unwrap_or(cache);
        let token_buffer = ctx.upload_u32(tokens, "tokens")?;
        let x = ctx.create_buffer(n * h, "x")?;
        let scale = if c.architecture == Architecture::Gemma3 {
            (h as f32).sqrt()
        } else {
            1.0
        };
        b.embed_rows(&self.embed_tokens, &token_buffer, &x, n, scale)?;
        let gemma = c.architecture == Architecture::Gemma3;
        let row = nkv * hd;
        // Rotary cos/sin for the new positions, global and local, computed here in f32.
        let rope_global = ctx.upload_f32(
            &rope::cos_sin_table(&self.inv_freq_global, start, n),
            "rope",
        )?;
        let rope_local = ctx.upload_f32(
            &rope::cos_sin_table(&self.inv_freq_local, start, n),
            "rope local",
        )?;
        for (l, w) in self.layers.iter().enumerate() {
            let normed = self.norm(&mut b, &x, n, &w.input_layernorm)?;
            let mut q = self.linear(&mut b, &normed, n, &w.q_proj)?; // [n, nh * hd]
            let mut k = self.linear(&mut b, &normed, n, &w.k_proj)?; // [n, nkv * hd]
            let v = self.linear(&mut b, &normed, n, &w.v_proj)?; // [n, nkv * hd]
            if let (Some(qn), Some(kn)) = (&w.q_norm, &w.k_norm) {
                q = self.norm(&mut b, &q, n * nh, qn)?;
                k = self.norm(&mut b, &k, n * nkv, kn)?;
            }
            let sliding = c.layer_types[l] == LayerAttention::Sliding;
            let cos_sin = if sliding { &rope_local } else { &rope_global };
            b.rope(cos_sin, &q, n, nh, hd)?;
            b.rope(cos_sin, &k, n, nkv, hd)?;
            b.copy(&k, 0, &target.keys[l], start * row, n * row)?;
            b.copy(&v, 0, &target.values[l], start * row, n * row)?;
            let shape = AttentionShape {
                n,
                heads: nh,
                kv_heads: nkv,
                head_dim: hd,
                ctx: start + n,
                start,
                window: if sliding {
                    c.sliding_window.unwrap_or(usize::MAX)
                } else {
                    usize::MAX
                },
                scale: 1.0 / (c.query_pre_attn_scalar as f32).sqrt(),
            };
            let scores = ctx.create_buffer(n * nh * shape.ctx, "scores")?; // [n, nh, ctx]
            b.attn_scores(&q, &target.keys[l], &scores, shape)?;
            let probs = ctx.create_buffer(n * nh * shape.ctx, "probs")?;
            b.softmax(&scores, &probs, n * nh, shape.ctx)?;
            let attn = ctx.create_buffer(n * nh * hd, "attn")?; // [n, nh * hd]
            b.attn_values(&probs, &target.values[l], &attn, shape)?;
            let mut o = self.linear(&mut b, &attn, n, &w.o_proj)?;
            if gemma {
                o = self.norm(&mut b, &o, n, &w.post_attention_layernorm)?;
            }
            b.add(&o, &x, n * h)?;
            let mlp_norm = match (&w.pre_feedforward_layernorm, gemma) {
                (Some(pre), true) => pre,
                _ => &w.post_attention_layernorm,
            };
            let m_in = self.norm(&mut b, &x, n, mlp_norm)?;
            let gate = self.linear(&mut b, &m_in, n, &w.gate_proj)?;
            let up = self.linear(&mut b, &m_in, n, &w.up_proj)?;
            let inner = ctx.create_buffer(n * c.intermediate_size, "mlp inner")?;
            b.gated_act(
                &gate,
                &up,
                &inner,
                n * c.intermediate_size,
                c.hidden_act == Activation::GeluTanh,
            )?;
            let mut m = self.linear(&mut b, &inner, n, &w.down_proj)?;
            if let (true, Some(post)) = (gemma, &w.post_feedforward_layernorm) {
                m = self.norm(&mut b, &m, n, post)?;
            }
            b.add(&m, &x, n * h)?;
        }
        let hidden = self.norm(&mut b, &x, n, &self.norm)?;
        let head = self.lm_head.as_ref().unwrap_or(&self.embed_tokens);
        let (first, rows) = match want {
            LogitPositions::All => (0, n),
            LogitPositions::Last => (n - 1, 1),
            LogitPositions::None => (0, 0),
        };
        let logits = if rows > 0 {
            let selected = ctx.create_buffer(rows * h, "selected hidden")?;
            b.copy(&hidden, first * h, &selected, 0, rows * h)?;
            let logits = ctx.create_buffer(rows * c.vocab_size, "logits")?;
            b.linear(&selected, rows, head, &logits)?;
            Some(logits)
        } else {
            None
        };
        b.submit().await?;
        let hidden = ctx.read_f32(&hidden).await?;
        let logits = match logits {
            Some(buffer) => ctx
                .read_f32(&buffer)
                .await?
                .chunks_exact(c.vocab_size)
                .map(<[f32]>::to_vec)
                .collect(),
            None => Vec::new(),
        };
        if let Some(grown) = grown {
            *cache = grown;
        }
        cache.len = start + n;
        Ok(ForwardOutput { logits, hidden })
    }
}
