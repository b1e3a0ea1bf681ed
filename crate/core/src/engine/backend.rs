//! What the generation engine needs from a model: a paged KV cache's sequence operations and a
//! batched forward pass; implemented by the CPU backend and the GPU backend.

use super::gpu_decode::forward_sample;
use super::params::SamplingParams;
use super::sampler::{Sampled, sample_with};
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::kv::{BlockManager, CpuKvCache, GpuKvCache, PagedCache, SeqId};
use crate::model::{CpuModel, ForwardOutput, GpuModel, ModelConfig, SequenceInput};

/// A model with its paged KV cache.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// The cache's storage.
    type Cache: PagedCache;
    /// The model's config.
    fn config(&self) -> &ModelConfig;
    /// The cache.
    fn cache(&self) -> &Self::Cache;
    /// The cache, to change its sequences.
    fn cache_mut(&mut self) -> &mut Self::Cache;
    /// One batched forward pass (see [`CpuModel::forward`]).
    async fn forward(&mut self, batch: &[SequenceInput<'_>]) -> Result<Vec<ForwardOutput>>;
    /// One decode step: the forward pass of `batch` (last-position logits) and one sampled token
    /// per sequence, drawn with `params` and the sequence's uniform draw.
    async fn decode(
        &mut self,
        batch: &[SequenceInput<'_>],
        params: &SamplingParams,
        uniforms: &[f32],
    ) -> Result<Vec<Sampled>>;

    /// The cache's block bookkeeping.
    fn blocks(&self) -> &BlockManager {
        self.cache().blocks()
    }
    /// A new, empty sequence.
    fn create(&mut self) -> SeqId {
        self.cache_mut().create()
    }
    /// `k` sequences sharing `seq`'s cached positions.
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.cache_mut().fork(seq, k)
    }
    /// Shortens `seq` to `len` cached positions.
    fn truncate(&mut self, seq: SeqId, len: usize) -> Result<()> {
        self.cache_mut().truncate(seq, len)
    }
    /// Releases `seq`.
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.cache_mut().release(seq)
    }
}

/// The CPU backend: a [`CpuModel`] and a [`CpuKvCache`].
pub struct CpuBackend {
    /// The model.
    pub model: CpuModel,
    /// Its cache.
    pub cache: CpuKvCache,
}

impl Backend for CpuBackend {
    type Cache = CpuKvCache;
    fn config(&self) -> &ModelConfig {
        self.model.config()
    }
    fn cache(&self) -> &CpuKvCache {
        &self.cache
    }
    fn cache_mut(&mut self) -> &mut CpuKvCache {
        &mut self.cache
    }
    async fn forward(&mut self, batch: &[SequenceInput<'_>]) -> Result<Vec<ForwardOutput>> {
        self.model.forward(&mut self.cache, batch)
    }
    async fn decode(
        &mut self,
        batch: &[SequenceInput<'_>],
        params: &SamplingParams,
        uniforms: &[f32],
    ) -> Result<Vec<Sampled>> {
        let outs = self.model.forward(&mut self.cache, batch)?;
        outs.iter()
            .zip(uniforms)
            .map(|(out, u)| {
                let logits = out
                    .logits
                    .last()
                    .ok_or_else(|| Error::InvalidArgument("decode needs logits".into()))?;
                Ok(sample_with(logits, params, *u))
            })
            .collect()
    }
}

/// The GPU backend: a [`GpuModel`] and a [`GpuKvCache`] on one device.
pub struct GpuBackend<'a> {
    /// The device.
    pub ctx: &'a GpuContext,
    /// The model.
    pub model: GpuModel,
    /// Its cache.
    pub cache: GpuKvCache,
}

impl Backend for GpuBackend<'_> {
    type Cache = GpuKvCache;
    fn config(&self) -> &ModelConfig {
        self.model.config()
    }
    fn cache(&self) -> &GpuKvCache {
        &self.cache
    }
    fn cache_mut(&mut self) -> &mut GpuKvCache {
        &mut self.cache
    }
    async fn forward(&mut self, batch: &[SequenceInput<'_>]) -> Result<Vec<ForwardOutput>> {
        self.model.forward(self.ctx, &mut self.cache, batch).await
    }
    async fn decode(
        &mut self,
        batch: &[SequenceInput<'_>],
        params: &SamplingParams,
        uniforms: &[f32],
    ) -> Result<Vec<Sampled>> {
        forward_sample(
            &self.model,
            self.ctx,
            &mut self.cache,
            batch,
            params,
            uniforms,
        )
        .await
    }
}
