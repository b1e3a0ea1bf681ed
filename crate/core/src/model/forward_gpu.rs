//! The forward pass on the GPU: the decoder's ops recorded as kernel dispatches into one batch
//! (weights in f32, f16, q8 or q4), temporaries from the model's buffer pool, one submission, and
//! one readback of just what was asked for (the wanted hidden rows and logits, or each row's
//! sampled token when the pass ends with a sampling kernel).

use super::batch::{
    ForwardOutput, SequenceInput, place_batch, split_outputs, stacked_tokens, wanted_rows,
};
use super::config::{Activation, LayerAttention, ModelConfig};
use super::decoder::{AttentionSpec, ForwardOps, decode};
use super::rope;
use super::store::TensorStore;
use super::tensors::TensorSpec;
use super::weights::{ModelWeights, WeightSink, Weights};
use crate::error::{Error, Result};
use crate::gpu::{
    BufferPool, DispatchCache, DispatchStats, GpuBatch, GpuBuffer, GpuContext, GpuWeight,
    PoolStats, PooledBuffer, sample_row_words,
};
use crate::kv::{GpuKvCache, PagedCache, Placement};
use crate::layout::{self, PagedShape};
use crate::quant::ggml::GgmlType;
use crate::quant::{WeightFormat, WeightMatrix};

/// A model whose weights live on one GPU device.
pub struct GpuModel {
    ctx: GpuContext,
    config: ModelConfig,
    weights: Weights<GpuWeight, GpuBuffer>,
    inv_freq_global: Vec<f32>,
    inv_freq_local: Vec<f32>,
    /// Temporaries of the passes.
    pool: BufferPool,
    /// Uploads of the passes (kept apart: an upload is written before its whole batch runs, so
    /// it must never get a buffer an earlier dispatch of the batch still uses).
    uploads: BufferPool,
    dispatch: DispatchCache,
    pool_discards: u64,
}

/// Counters of a GPU model's passes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct GpuStats {
    /// Submissions, dispatches, copies and bind groups created.
    pub dispatch: DispatchStats,
    /// The pool of temporaries.
    pub temporaries: PoolStats,
    /// The pool of uploads.
    pub uploads: PoolStats,
}

/// A sampling kernel at the end of a pass: one token per logit row.
pub struct SampleRequest<'a> {
    /// Per row: temperature, top_p, top_k and the uniform draw, as f32/f32/u32/f32 bits.
    pub draws: &'a [u32],
    /// Top logprobs per row.
    pub top_n: usize,
}

/// What a pass read back.
pub struct PassOutput {
    /// Per sequence: its logits (none when the pass sampled) and wanted hidden rows.
    pub outputs: Vec<ForwardOutput>,
    /// The sampling kernel's words [rows, 2 + 2 * top_n], when the pass sampled.
    pub sampled: Option<Vec<u32>>,
}

/// Uploads each tensor as it is loaded.
struct Upload<'a> {
    ctx: &'a GpuContext,
}

impl WeightSink for Upload<'_> {
    type Matrix = GpuWeight;
    type Partial = GpuWeight;
    type Vector = GpuBuffer;
    fn start_matrix(
        &mut self,
        spec: &TensorSpec,
        format: WeightFormat,
        blocks: Option<GgmlType>,
    ) -> Result<GpuWeight> {
        let [rows, cols] = [spec.shape[0], spec.shape[1]];
        match blocks {
            Some(ty) => self.ctx.empty_blocks(rows, cols, ty, None),
            None => self.ctx.empty_weight(rows, cols, format, None),
        }
    }
    fn add_rows(&mut self, m: &mut GpuWeight, start: usize, rows: WeightMatrix) -> Result<()> {
        m.write_rows(self.ctx, start, &rows)
    }
    fn finish_matrix(&mut self, matrix: GpuWeight) -> Result<GpuWeight> {
        Ok(matrix)
    }
    fn vector(&mut self, spec: &TensorSpec, data: Vec<f32>) -> Result<GpuBuffer> {
        self.ctx.upload_f32(&data, &spec.name)
    }
    fn keeps_blocks(&self, ty: GgmlType) -> bool {
        crate::gpu::reads_blocks(ty)
    }
}

/// One GPU pass: its batch of dispatches, its uploads and the cache.
struct GpuPass<'a> {
    batch: GpuBatch<'a>,
    pool: &'a BufferPool,
    cache: &'a GpuKvCache,
    /// New tokens of the pass.
    n: usize,
    /// Position of each new token [n].
    positions: &'a [u32],
    tokens: PooledBuffer,
    slots: PooledBuffer,
    meta: PooledBuffer,
    /// (cos, sin) of every token's position [tokens, head_dim / 2, 2], global and local.
    rope_global: PooledBuffer,
    rope_local: PooledBuffer,
}

fn rows_of(op: &'static str, x: &GpuBuffer, width: usize) -> Result<usize> {
    if width == 0 || !x.words().is_multiple_of(width) {
        return Err(Error::shape(
            op,
            format!("{} values are not rows of {width}", x.words()),
        ));
    }
    Ok(x.words() / width)
}

impl ForwardOps for GpuPass<'_> {
    type Tensor = PooledBuffer;
    type Matrix = GpuWeight;
    type Vector = GpuBuffer;

    fn embed(&mut self, table: &GpuWeight, scale: f32) -> Result<PooledBuffer> {
        let x = self.pool.take(self.n * table.cols(), "x")?;
        self.batch
            .embed_rows(table, &self.tokens, &x, self.n, scale)?;
        Ok(x)
    }

    fn matmul(&mut self, x: &PooledBuffer, w: &GpuWeight) -> Result<PooledBuffer> {
        let m = rows_of("linear", x, w.cols())?;
        let y = self.pool.take(m * w.rows(), "linear")?;
        self.batch.linear(x, m, w, &y)?;
        Ok(y)
    }

    fn add_bias(&mut self, y: &mut PooledBuffer, bias: &GpuBuffer) -> Result<()> {
        let rows = rows_of("bias", y, bias.words())?;
        self.batch.bias_add(bias, y, rows, bias.words())
    }

    fn rms_norm(
        &mut self,
        x: &PooledBuffer,
        weight: &GpuBuffer,
        eps: f32,
        offset: f32,
    ) -> Result<PooledBuffer> {
        let n = weight.words();
        let rows = rows_of("rms_norm", x, n)?;
        let y = self.pool.take(rows * n, "normed")?;
        self.batch.rms_norm(x, weight, &y, rows, n, eps, offset)?;
        Ok(y)
    }

    fn rope(&mut self, x: &mut PooledBuffer, heads: usize, kind: LayerAttention) -> Result<()> {
        let table = match kind {
            LayerAttention::Full => &self.rope_global,
            LayerAttention::Sliding => &self.rope_local,
        };
        let head_dim = rows_of("rope", x, self.n * heads)?;
        self.batch.rope(table, x, self.n, heads, head_dim)
    }

    fn attention(
        &mut self,
        layer: usize,
        q: &PooledBuffer,
        k: &PooledBuffer,
        v: &PooledBuffer,
        spec: AttentionSpec,
    ) -> Result<PooledBuffer> {
        let n = self.n;
        let (keys, values) = self.cache.layer(layer);
        let row = self.cache.row();
        self.batch.kv_write(k, &self.slots, keys, n, row)?;
        self.batch.kv_write(v, &self.slots, values, n, row)?;
        let shape = PagedShape {
            tokens: n,
            heads: spec.heads,
            kv_heads: spec.kv_heads,
            head_dim: spec.head_dim,
            block_size: self.cache.blocks().block_size(),
            window: spec.window,
            scale: spec.scale,
        };
        let attn = self.pool.take(n * spec.heads * spec.head_dim, "attn")?;
        self.batch
            .paged_attn(q, keys, values, &self.meta, &attn, shape)?;
        // Each query head reads the f32 keys and values its token sees.
        let visible: u64 = self
            .positions
            .iter()
            .map(|&p| (p as u64 + 1).min(spec.window as u64))
            .sum();
        let kv_bytes = visible * (spec.heads * spec.head_dim * 4 * 2) as u64;
        self.batch.count_reads(0, kv_bytes);
        Ok(attn)
    }

    fn gated(
        &mut self,
        gate: &PooledBuffer,
        up: &PooledBuffer,
        act: Activation,
    ) -> Result<PooledBuffer> {
        let len = gate.words();
        let out = self.pool.take(len, "mlp inner")?;
        self.batch
            .gated_act(gate, up, &out, len, act == Activation::GeluTanh)?;
        Ok(out)
    }

    fn add(&mut self, x: &mut PooledBuffer, y: &PooledBuffer) -> Result<()> {
        if x.words() != y.words() {
            return Err(Error::shape(
                "add",
                format!("{} values against {}", x.words(), y.words()),
            ));
        }
        self.batch.add(y, x, x.words())
    }

    fn gather_rows(
        &mut self,
        x: &PooledBuffer,
        rows: &[usize],
        width: usize,
    ) -> Result<PooledBuffer> {
        rows_of("gather", x, width)?;
        let out = self.pool.take(rows.len() * width, "gathered rows")?;
        for (i, r) in rows.iter().enumerate() {
            self.batch.copy(x, r * width, &out, i * width, width)?;
        }
        Ok(out)
    }
}

impl GpuModel {
    /// Uploads loaded host weights (in whatever format they were loaded), tensor by tensor, large
    /// matrices split by rows to fit the binding limit. Fails with `buffer_too_large` where one
    /// tensor exceeds the device's binding limit.
    pub fn upload(ctx: &GpuContext, config: ModelConfig, w: &ModelWeights) -> Result<Self> {
        let weights = w.try_map(
            |m| ctx.upload_weight(m, None),
            |v| ctx.upload_f32(v, "weights"),
        )?;
        Ok(Self::assemble(ctx, config, weights))
    }

    /// Loads a model straight onto the GPU, tensor by tensor: host memory holds one tensor (the
    /// embedding is the largest) at any moment, never the model.
    pub async fn load<T: TensorStore>(
        ctx: &GpuContext,
        config: ModelConfig,
        store: &T,
        format: WeightFormat,
    ) -> Result<Self> {
        let weights = Weights::load_into(&config, store, format, &mut Upload { ctx }).await?;
        Ok(Self::assemble(ctx, config, weights))
    }

    fn assemble(
        ctx: &GpuContext,
        config: ModelConfig,
        weights: Weights<GpuWeight, GpuBuffer>,
    ) -> Self {
        let (inv_freq_global, inv_freq_local) = rope::inv_freqs(&config);
        Self {
            ctx: ctx.clone(),
            config,
            weights,
            inv_freq_global,
            inv_freq_local,
            pool: BufferPool::new(ctx),
            uploads: BufferPool::new(ctx),
            dispatch: DispatchCache::default(),
            pool_discards: 0,
        }
    }

    /// The config.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the model lives on.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// The pool the model's passes take their temporaries from.
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// Times later passes on the GPU with timestamp queries where the device has them (each
    /// pass then waits for its times; see [`DispatchCache::set_timing`]). Returns whether timing
    /// is on.
    pub fn set_timing(&mut self, on: bool) -> bool {
        self.dispatch.set_timing(&self.ctx, on)
    }

    /// Counters of the passes so far.
    pub fn stats(&self) -> GpuStats {
        GpuStats {
            dispatch: self.dispatch.stats(),
            temporaries: self.pool.stats(),
            uploads: self.uploads.stats(),
        }
    }

    /// Bytes of the weights on the device.
    pub fn weight_bytes(&self) -> u64 {
        let w = &self.weights;
        self.layer_matrix_bytes()
            + w.embed_tokens.byte_len()
            + w.lm_head.as_ref().map_or(0, GpuWeight::byte_len)
    }

    /// Bytes of the matrices one decode step multiplies: every layer's and the LM head (the
    /// embedding when tied).
    pub fn step_matrix_bytes(&self) -> u64 {
        let w = &self.weights;
        self.layer_matrix_bytes()
            + w.lm_head
                .as_ref()
                .map_or(w.embed_tokens.byte_len(), GpuWeight::byte_len)
    }

    fn layer_matrix_bytes(&self) -> u64 {
        self.weights
            .layers
            .iter()
            .map(|l| {
                [
                    &l.q_proj,
                    &l.k_proj,
                    &l.v_proj,
                    &l.o_proj,
                    &l.gate_proj,
                    &l.up_proj,
                    &l.down_proj,
                ]
                .iter()
                .map(|p| p.weight.byte_len() + p.bias.as_ref().map_or(0, GpuBuffer::byte_len))
                .sum::<u64>()
            })
            .sum()
    }

    /// Runs each sequence's new tokens through the model in one batched pass (every weight
    /// matrix is read once for all of them), extending the sequences in `cache`; reads back the
    /// wanted logits and hidden rows. On an error the sequences keep their old lengths.
    pub async fn forward(
        &mut self,
        cache: &mut GpuKvCache,
        batch: &[SequenceInput<'_>],
    ) -> Result<Vec<ForwardOutput>> {
        Ok(self.pass(cache, batch, None).await?.outputs)
    }

    /// [`GpuModel::forward`], ending with the sampling kernel on the logit rows when `sample`
    /// is given (its words are read back instead of the logits).
    pub async fn pass(
        &mut self,
        cache: &mut GpuKvCache,
        batch: &[SequenceInput<'_>],
        sample: Option<SampleRequest<'_>>,
    ) -> Result<PassOutput> {
        let placed = place_batch(&self.config, cache.blocks_mut(), batch)?;
        let result = self.run(cache, batch, &placed.placement, sample).await;
        if result.is_err() {
            placed.rollback(cache.blocks_mut())?;
        }
        result
    }

    async fn run(
        &mut self,
        cache: &GpuKvCache,
        batch: &[SequenceInput<'_>],
        placement: &Placement,
        sample: Option<SampleRequest<'_>>,
    ) -> Result<PassOutput> {
        // Buffers the pools freed may still be named by cached bind groups.
        let discards = self.pool.stats().discarded + self.uploads.stats().discarded;
        if discards != self.pool_discards {
            self.dispatch.clear();
            self.pool_discards = discards;
        }
        let c = &self.config;
        let (h, vocab) = (c.hidden_size, c.vocab_size);
        let (pool, uploads) = (&self.pool, &self.uploads);
        let tokens = stacked_tokens(batch);
        let meta = layout::attention_meta(
            &placement.positions,
            &placement.token_seq,
            &placement.tables,
        )?;
        let mut pass = GpuPass {
            batch: self.ctx.batch_with(&mut self.dispatch),
            pool,
            cache,
            n: tokens.len(),
            positions: &placement.positions,
            tokens: uploads.upload_u32(&tokens, "tokens")?,
            slots: uploads.upload_u32(&placement.slots, "kv slots")?,
            meta: uploads.upload_u32(&meta, "attention meta")?,
            rope_global: uploads.upload_f32(
                &rope::table(&self.inv_freq_global, &placement.positions),
                "rope",
            )?,
            rope_local: uploads.upload_f32(
                &rope::table(&self.inv_freq_local, &placement.positions),
                "rope local",
            )?,
        };
        cache.copy_blocks(&mut pass.batch, pool, &placement.copies)?;
        let logit_rows = wanted_rows(batch, |s| s.logits);
        let out = decode(&mut pass, c, &self.weights, &logit_rows)?;
        let hidden_rows = wanted_rows(batch, |s| s.hidden);
        let hidden = pass.gather_rows(&out.hidden, &hidden_rows, h)?;
        drop(out.hidden);
        let sampled = match (&sample, &out.logits) {
            (Some(request), Some(logits)) => {
                let rows = logit_rows.len();
                if request.draws.len() != rows * 4 {
                    return Err(Error::InvalidArgument(
                        "sampling needs four draw words per logit row".into(),
                    ));
                }
                let draws = uploads.upload_u32(request.draws, "draws")?;
                let words = pool.take(rows * sample_row_words(request.top_n), "sampled")?;
                pass.batch
                    .sample(logits, &draws, &words, rows, vocab, request.top_n)?;
                pass.batch.hold(draws);
                Some(words)
            }
            (Some(_), None) => {
                return Err(Error::InvalidArgument("sampling needs logit rows".into()));
            }
            (None, _) => None,
        };
        let GpuPass {
            batch: dispatches,
            tokens,
            slots,
            meta,
            rope_global,
            rope_local,
            ..
        } = pass;
        dispatches.submit().await?;
        // The uploads go back to the pool only now that the batch that reads them is queued.
        drop((tokens, slots, meta, rope_global, rope_local));
        let mut ranges: Vec<(&GpuBuffer, usize, usize)> = vec![(&hidden, 0, hidden.words())];
        match (&sampled, &out.logits) {
            (Some(words), _) => ranges.push((words, 0, words.words())),
            (None, Some(logits)) => ranges.push((logits, 0, logits.words())),
            (None, None) => {}
        }
        let words = self.ctx.read_ranges(&ranges).await?;
        let (hidden_words, rest) = words.split_at(hidden.words().min(words.len()));
        let hidden_values: &[f32] = bytemuck::cast_slice(hidden_words);
        let (logits, sampled) = match sampled {
            Some(_) => (&[][..], Some(rest.to_vec())),
            None => (bytemuck::cast_slice::<u32, f32>(rest), None),
        };
        let outputs = if sampled.is_some() {
            split_outputs(batch, hidden_values, h, &[], vocab)
        } else {
            split_outputs(batch, hidden_values, h, logits, vocab)
        };
        Ok(PassOutput { outputs, sampled })
    }
}
