//! The forward pass on the GPU (f32, f16, q8 or q4 weights), op for op the same as `forward_cpu`: one batch of
//! dispatches per call, then a readback of the requested logits and the hidden states.

use super::batch::{ForwardOutput, logit_rows, place_batch, split_outputs};
use super::config::{Activation, Architecture, LayerAttention, ModelConfig};
use super::forward_cpu::SequenceInput;
use super::rope;
use super::store::TensorStore;
use super::weights::{LayerWeights, Linear, ModelWeights};
use crate::cpu::{self, PagedShape};
use crate::error::Result;
use crate::gpu::{GpuBatch, GpuBuffer, GpuContext, GpuWeight};
use crate::kv::{GpuKvCache, PagedCache, Placement};
use crate::quant::WeightFormat;

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

    /// Runs each sequence's new tokens through the model in one batched pass (every weight
    /// matrix is read once for all of them), extending the sequences in `cache`; reads back the
    /// requested logits and the final hidden states. On an error the sequences keep their old
    /// lengths.
    pub async fn forward(
        &self,
        ctx: &GpuContext,
        cache: &mut GpuKvCache,
        batch: &[SequenceInput<'_>],
    ) -> Result<Vec<ForwardOutput>> {
        let (new, placement) = place_batch(&self.config, cache.blocks_mut(), batch)?;
        match self.forward_placed(ctx, cache, batch, &placement).await {
            Ok(out) => Ok(out),
            Err(e) => {
                cache.blocks_mut().rollback(&new, &placement)?;
                Err(e)
            }
        }
    }

    async fn forward_placed(
        &self,
        ctx: &GpuContext,
        cache: &GpuKvCache,
        batch: &[SequenceInput<'_>],
        placement: &Placement,
    ) -> Result<Vec<ForwardOutput>> {
        let Encoded {
            batch: b,
            hidden,
            logits,
        } = self.encode(ctx, cache, batch, placement)?;
        let (c, h) = (&self.config, self.config.hidden_size);
        b.submit().await?;
        let hidden = ctx.read_f32(&hidden).await?;
        let logits = match logits {
            Some(buffer) => ctx.read_f32(&buffer).await?,
            None => Vec::new(),
        };
        Ok(split_outputs(batch, &hidden, h, &logits, c.vocab_size))
    }

    /// Records the whole forward pass of a placed batch (nothing is submitted): the final hidden
    /// states [new tokens, hidden] and the logits [requested rows, vocab] stay on the device.
    pub(crate) fn encode<'c>(
        &self,
        ctx: &'c GpuContext,
        cache: &GpuKvCache,
        batch: &[SequenceInput<'_>],
        placement: &Placement,
    ) -> Result<Encoded<'c>> {
        let c = &self.config;
        let h = c.hidden_size;
        let (nh, nkv, hd) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        let tokens: Vec<u32> = batch
            .iter()
            .flat_map(|s| s.tokens.iter().copied())
            .collect();
        let n = tokens.len();
        // The longest sequence after this call: the width of the score rows.
        let longest = placement
            .positions
            .iter()
            .max()
            .map_or(1, |p| *p as usize + 1);
        let mut b = ctx.batch();
        cache.copy_blocks(&mut b, &placement.copies)?;
        let token_buffer = ctx.upload_u32(&tokens, "tokens")?;
        let slots = ctx.upload_u32(&placement.slots, "kv slots")?;
        let meta = ctx.upload_u32(
            &cpu::attention_meta(
                &placement.positions,
                &placement.token_seq,
                &placement.tables,
            )?,
            "attention meta",
        )?;
        let x = ctx.create_buffer(n * h, "x")?;
        let scale = if c.architecture == Architecture::Gemma3 {
            (h as f32).sqrt()
        } else {
            1.0
        };
        b.embed_rows(&self.embed_tokens, &token_buffer, &x, n, scale)?;
        let gemma = c.architecture == Architecture::Gemma3;
        // Rotary cos/sin of every new token's position, global and local, computed here in f32.
        let table = |inv_freq: &[f32]| -> Vec<f32> {
            placement
                .positions
                .iter()
                .flat_map(|&p| rope::cos_sin_table(inv_freq, p as usize, 1))
                .collect()
        };
        let rope_global = ctx.upload_f32(&table(&self.inv_freq_global), "rope")?;
        let rope_local = ctx.upload_f32(&table(&self.inv_freq_local), "rope local")?;
        let row = cache.row();
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
            let (keys, values) = cache.layer(l);
            b.kv_write(&k, &slots, keys, n, row)?;
            b.kv_write(&v, &slots, values, n, row)?;
            let shape = PagedShape {
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
            let scores = ctx.create_buffer(n * nh * longest, "scores")?; // [n, nh, longest]
            b.paged_attn_scores(&q, keys, &meta, &scores, shape, longest)?;
            let probs = ctx.create_buffer(n * nh * longest, "probs")?;
            b.softmax(&scores, &probs, n * nh, longest)?;
            let attn = ctx.create_buffer(n * nh * hd, "attn")?; // [n, nh * hd]
            b.paged_attn_values(&probs, values, &meta, &attn, shape, longest)?;
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
        // The requested rows of every sequence, gathered into one matrix for the LM head.
        let wanted = logit_rows(batch);
        let logits = if wanted.is_empty() {
            None
        } else {
            let selected = ctx.create_buffer(wanted.len() * h, "selected hidden")?;
            for (i, r) in wanted.iter().enumerate() {
                b.copy(&hidden, r * h, &selected, i * h, h)?;
            }
            let logits = ctx.create_buffer(wanted.len() * c.vocab_size, "logits")?;
            b.linear(&selected, wanted.len(), head, &logits)?;
            Some(logits)
        };
        Ok(Encoded {
            batch: b,
            hidden,
            logits,
        })
    }
}

/// A recorded forward pass whose outputs are still on the device.
pub(crate) struct Encoded<'c> {
    /// The recorded dispatches.
    pub batch: GpuBatch<'c>,
    /// Final hidden states [new tokens, hidden].
    pub hidden: GpuBuffer,
    /// Logits [requested rows, vocab], when any row was requested.
    pub logits: Option<GpuBuffer>,
}
