//! The paged KV cache on the GPU: per layer, one key and one value buffer [slots, kv_heads,
//! head_dim] allocated up front, addressed through a [`BlockManager`].

use super::blocks::{BlockCopy, BlockManager};
use super::{DEFAULT_BLOCK_SIZE, KvShape, PagedCache};
use crate::error::{Error, Result};
use crate::gpu::{BufferPool, GpuBatch, GpuBuffer, GpuContext};

/// A paged KV cache in GPU memory for one model.
pub struct GpuKvCache {
    blocks: BlockManager,
    row: usize,
    keys: Vec<GpuBuffer>,
    values: Vec<GpuBuffer>,
}

impl GpuKvCache {
    /// A cache of `num_blocks` blocks of `block_size` positions for a model of `shape` (a
    /// `&ModelConfig` gives its own).
    pub fn new(
        ctx: &GpuContext,
        shape: impl Into<KvShape>,
        num_blocks: usize,
        block_size: usize,
    ) -> Result<Self> {
        let shape = shape.into();
        let blocks = BlockManager::new(num_blocks, block_size)?;
        let row = shape.row();
        let words = num_blocks
            .checked_mul(block_size)
            .and_then(|s| s.checked_mul(row))
            .ok_or_else(|| Error::InvalidArgument("KV cache size overflows".into()))?;
        let mut keys = Vec::with_capacity(shape.layers);
        let mut values = Vec::with_capacity(shape.layers);
        for _ in 0..shape.layers {
            keys.push(ctx.create_buffer(words, "kv keys")?);
            values.push(ctx.create_buffer(words, "kv values")?);
        }
        Ok(Self {
            blocks,
            row,
            keys,
            values,
        })
    }

    /// The most blocks of `block_size` positions that fit both `budget_bytes` (all layers, keys
    /// and values) and the device's per-buffer binding limit.
    pub fn max_blocks(
        ctx: &GpuContext,
        shape: impl Into<KvShape>,
        block_size: usize,
        budget_bytes: u64,
    ) -> usize {
        let shape = shape.into();
        let limits = ctx.limits();
        let per_buffer = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let block_bytes = (block_size * shape.row() * 4) as u64;
        let by_binding = per_buffer / block_bytes.max(1);
        let by_budget = budget_bytes / (block_bytes * 2 * shape.layers as u64).max(1);
        by_binding.min(by_budget) as usize
    }

    /// A cache with room for `positions` positions in blocks of [`DEFAULT_BLOCK_SIZE`].
    pub fn with_capacity(
        ctx: &GpuContext,
        shape: impl Into<KvShape>,
        positions: usize,
    ) -> Result<Self> {
        Self::new(
            ctx,
            shape,
            positions.div_ceil(DEFAULT_BLOCK_SIZE).max(1),
            DEFAULT_BLOCK_SIZE,
        )
    }

    /// Records copy-on-write block copies in every layer (through a staging buffer: WebGPU
    /// copies never read and write one buffer).
    pub(crate) fn copy_blocks(
        &self,
        b: &mut GpuBatch<'_>,
        pool: &BufferPool,
        copies: &[BlockCopy],
    ) -> Result<()> {
        if copies.is_empty() {
            return Ok(());
        }
        let block = self.blocks.block_size() * self.row;
        let staging = pool.take(block, "kv block copy")?;
        for c in copies {
            let (src, dst) = (c.src as usize * block, c.dst as usize * block);
            let words = c.positions * self.row;
            for buffer in self.keys.iter().chain(&self.values) {
                b.copy(buffer, src, &staging, 0, words)?;
                b.copy(&staging, 0, buffer, dst, words)?;
            }
        }
        Ok(())
    }

    /// Bytes of the key and value buffers.
    pub fn byte_len(&self) -> u64 {
        self.keys
            .iter()
            .chain(&self.values)
            .map(GpuBuffer::byte_len)
            .sum()
    }

    /// Key and value buffers of `layer`.
    pub(crate) fn layer(&self, layer: usize) -> (&GpuBuffer, &GpuBuffer) {
        (&self.keys[layer], &self.values[layer])
    }

    /// Key/value width of one position [kv_heads * head_dim].
    pub(crate) fn row(&self) -> usize {
        self.row
    }
}

impl PagedCache for GpuKvCache {
    fn blocks(&self) -> &BlockManager {
        &self.blocks
    }

    fn blocks_mut(&mut self) -> &mut BlockManager {
        &mut self.blocks
    }
}
