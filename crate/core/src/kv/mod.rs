//! The paged KV cache: block bookkeeping shared by the CPU and GPU caches, and their storage.

mod blocks;
mod cpu_cache;
mod gpu_cache;

pub use blocks::{BlockCopy, BlockManager, Placement, SeqId};
pub use cpu_cache::CpuKvCache;
pub use gpu_cache::GpuKvCache;

/// Positions per block unless a caller picks another size (vLLM's default too).
pub const DEFAULT_BLOCK_SIZE: usize = 16;

/// The dimensions of a model's KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvShape {
    /// Decoder layers (one key and one value store each).
    pub layers: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
}

impl KvShape {
    /// Values of one position in one layer's keys (or values): kv_heads * head_dim.
    pub fn row(&self) -> usize {
        self.kv_heads * self.head_dim
    }
}

/// A paged KV cache: its storage, and its sequences kept in a [`BlockManager`]. The sequence
/// operations are the same for every storage.
pub trait PagedCache {
    /// The block bookkeeping (sequences, lengths, tables, counters).
    fn blocks(&self) -> &BlockManager;

    /// The block bookkeeping, to place new tokens (the storage must then be written).
    fn blocks_mut(&mut self) -> &mut BlockManager;

    /// A new, empty sequence.
    fn create(&mut self) -> SeqId {
        self.blocks_mut().create()
    }

    /// `k` sequences sharing `seq`'s cached positions.
    fn fork(&mut self, seq: SeqId, k: usize) -> crate::Result<Vec<SeqId>> {
        self.blocks_mut().fork(seq, k)
    }

    /// Shortens `seq` to `len` positions.
    fn truncate(&mut self, seq: SeqId, len: usize) -> crate::Result<()> {
        self.blocks_mut().truncate(seq, len)
    }

    /// Releases `seq` and the blocks only it held.
    fn release(&mut self, seq: SeqId) -> crate::Result<()> {
        self.blocks_mut().release(seq)
    }

    /// Positions cached for `seq`.
    fn len(&self, seq: SeqId) -> crate::Result<usize> {
        self.blocks().len(seq)
    }
}
