//! What the generation engine needs from a model: the block bookkeeping of its paged KV cache
//! and a batched forward pass with or without sampling; implemented by the CPU backend, the GPU
//! backend, and [`AnyBackend`] (either, chosen at run time).

use super::gpu_decode::decode_on_gpu;
use super::params::SamplingParams;
use super::sampler::{Sampled, sample_with};
use crate::error::{Error, Result};
use crate::kv::{BlockManager, CpuKvCache, GpuKvCache, PagedCache, SeqId};
use crate::model::{CpuModel, ForwardOutput, GpuModel, ModelConfig, SequenceInput};

/// A model with its paged KV cache.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// The model's config.
    fn config(&self) -> &ModelConfig;
    /// The cache's block bookkeeping.
    fn blocks(&self) -> &BlockManager;
    /// The cache's block bookkeeping, to change its sequences.
    fn blocks_mut(&mut self) -> &mut BlockManager;
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
    /// Bytes of weights and KV cache on the device (0 for host memory).
    fn device_bytes(&self) -> u64 {
        0
    }
    /// Completes when the device has run everything submitted (a pass that reads nothing back,
    /// such as a prefill, returns before the device ran it).
    async fn synchronize(&self) -> Result<()> {
        Ok(())
    }

    /// A new, empty sequence.
    fn create(&mut self) -> SeqId {
        self.blocks_mut().create()
    }
    /// `k` sequences sharing `seq`'s cached positions.
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.blocks_mut().fork(seq, k)
    }
    /// Shortens `seq` to `len` cached positions.
    fn truncate(&mut self, seq: SeqId, len: usize) -> Result<()> {
        self.blocks_mut().truncate(seq, len)
    }
    /// Releases `seq`.
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.blocks_mut().release(seq)
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
    fn config(&self) -> &ModelConfig {
        self.model.config()
    }
    fn blocks(&self) -> &BlockManager {
        self.cache.blocks()
    }
    fn blocks_mut(&mut self) -> &mut BlockManager {
        self.cache.blocks_mut()
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

/// The GPU backend: a [`GpuModel`] and a [`GpuKvCache`] on its device.
pub struct GpuBackend {
    /// The model (it holds its device).
    pub model: GpuModel,
    /// Its cache.
    pub cache: GpuKvCache,
}

impl Backend for GpuBackend {
    fn config(&self) -> &ModelConfig {
        self.model.config()
    }
    fn blocks(&self) -> &BlockManager {
        self.cache.blocks()
    }
    fn blocks_mut(&mut self) -> &mut BlockManager {
        self.cache.blocks_mut()
    }
    async fn forward(&mut self, batch: &[SequenceInput<'_>]) -> Result<Vec<ForwardOutput>> {
        self.model.forward(&mut self.cache, batch).await
    }
    async fn decode(
        &mut self,
        batch: &[SequenceInput<'_>],
        params: &SamplingParams,
        uniforms: &[f32],
    ) -> Result<Vec<Sampled>> {
        decode_on_gpu(&mut self.model, &mut self.cache, batch, params, uniforms).await
    }
    fn device_bytes(&self) -> u64 {
        self.model.weight_bytes() + self.cache.byte_len()
    }
    async fn synchronize(&self) -> Result<()> {
        self.model.context().wait_idle().await
    }
}

/// The CPU or the GPU backend, chosen at run time (a loader's, the CLI's and the JS API's one
/// engine type).
pub enum AnyBackend {
    /// On the CPU.
    Cpu(CpuBackend),
    /// On a GPU.
    Gpu(GpuBackend),
}

impl AnyBackend {
    /// "cpu" or "gpu".
    pub fn kind(&self) -> &'static str {
        match self {
            AnyBackend::Cpu(_) => "cpu",
            AnyBackend::Gpu(_) => "gpu",
        }
    }
}

impl Backend for AnyBackend {
    fn config(&self) -> &ModelConfig {
        match self {
            AnyBackend::Cpu(b) => b.config(),
            AnyBackend::Gpu(b) => b.config(),
        }
    }
    fn blocks(&self) -> &BlockManager {
        match self {
            AnyBackend::Cpu(b) => b.blocks(),
            AnyBackend::Gpu(b) => b.blocks(),
        }
    }
    fn blocks_mut(&mut self) -> &mut BlockManager {
        match self {
            AnyBackend::Cpu(b) => b.blocks_mut(),
            AnyBackend::Gpu(b) => b.blocks_mut(),
        }
    }
    async fn forward(&mut self, batch: &[SequenceInput<'_>]) -> Result<Vec<ForwardOutput>> {
        match self {
            AnyBackend::Cpu(b) => b.forward(batch).await,
            AnyBackend::Gpu(b) => b.forward(batch).await,
        }
    }
    async fn decode(
        &mut self,
        batch: &[SequenceInput<'_>],
        params: &SamplingParams,
        uniforms: &[f32],
    ) -> Result<Vec<Sampled>> {
        match self {
            AnyBackend::Cpu(b) => b.decode(batch, params, uniforms).await,
            AnyBackend::Gpu(b) => b.decode(batch, params, uniforms).await,
        }
    }
    fn device_bytes(&self) -> u64 {
        match self {
            AnyBackend::Cpu(b) => b.device_bytes(),
            AnyBackend::Gpu(b) => b.device_bytes(),
        }
    }
    async fn synchronize(&self) -> Result<()> {
        match self {
            AnyBackend::Cpu(b) => b.synchronize().await,
            AnyBackend::Gpu(b) => b.synchronize().await,
        }
    }
}
