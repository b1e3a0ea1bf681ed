//! The paged KV cache of the CPU backend: per layer, keys and values [slots, kv_heads, head_dim]
//! in host memory (grown as blocks are first used), addressed through a [`BlockManager`].

use super::blocks::{BlockCopy, BlockManager};
use super::{DEFAULT_BLOCK_SIZE, KvShape, PagedCache};
use crate::error::{Error, Result};

/// A paged KV cache in host memory for one model.
#[derive(Debug, Clone)]
pub struct CpuKvCache {
    blocks: BlockManager,
    row: usize,
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
}

impl CpuKvCache {
    /// A cache of `num_blocks` blocks of `block_size` positions for a model of `shape` (a
    /// `&ModelConfig` gives its own).
    pub fn new(shape: impl Into<KvShape>, num_blocks: usize, block_size: usize) -> Result<Self> {
        let shape = shape.into();
        Ok(Self {
            blocks: BlockManager::new(num_blocks, block_size)?,
            row: shape.row(),
            keys: vec![Vec::new(); shape.layers],
            values: vec![Vec::new(); shape.layers],
        })
    }

    /// A cache with room for `positions` positions in blocks of [`DEFAULT_BLOCK_SIZE`].
    pub fn with_capacity(shape: impl Into<KvShape>, positions: usize) -> Result<Self> {
        Self::new(
            shape,
            positions.div_ceil(DEFAULT_BLOCK_SIZE).max(1),
            DEFAULT_BLOCK_SIZE,
        )
    }

    fn ensure(&mut self, slots: usize) {
        let want = slots * self.row;
        for buffer in self.keys.iter_mut().chain(self.values.iter_mut()) {
            if buffer.len() < want {
                buffer.resize(want, 0.0);
            }
        }
    }

    /// Carries out copy-on-write block copies in every layer.
    pub(crate) fn copy_blocks(&mut self, copies: &[BlockCopy]) {
        let bs = self.blocks.block_size();
        for c in copies {
            self.ensure((c.src.max(c.dst) as usize + 1) * bs);
            let len = c.positions * self.row;
            let (src, dst) = (
                c.src as usize * bs * self.row,
                c.dst as usize * bs * self.row,
            );
            for buffer in self.keys.iter_mut().chain(self.values.iter_mut()) {
                buffer.copy_within(src..src + len, dst);
            }
        }
    }

    /// Writes k and v [tokens, kv_heads, head_dim] of `layer` to their slots.
    pub(crate) fn write(
        &mut self,
        layer: usize,
        slots: &[u32],
        k: &[f32],
        v: &[f32],
    ) -> Result<()> {
        let row = self.row;
        if k.len() != slots.len() * row || v.len() != k.len() || layer >= self.keys.len() {
            return Err(Error::shape(
                "kv write",
                format!("{} slots, {} keys, layer {layer}", slots.len(), k.len()),
            ));
        }
        if let Some(max) = slots.iter().max() {
            self.ensure(*max as usize + 1);
        }
        for (i, &slot) in slots.iter().enumerate() {
            let dst = slot as usize * row;
            self.keys[layer][dst..dst + row].copy_from_slice(&k[i * row..(i + 1) * row]);
            self.values[layer][dst..dst + row].copy_from_slice(&v[i * row..(i + 1) * row]);
        }
        Ok(())
    }

    /// Keys and values of `layer`, [slots, kv_heads, head_dim] each.
    pub(crate) fn layer(&self, layer: usize) -> (&[f32], &[f32]) {
        (&self.keys[layer], &self.values[layer])
    }
}

impl PagedCache for CpuKvCache {
    fn blocks(&self) -> &BlockManager {
        &self.blocks
    }

    fn blocks_mut(&mut self) -> &mut BlockManager {
        &mut self.blocks
    }
}
