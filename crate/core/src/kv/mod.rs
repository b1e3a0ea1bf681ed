//! The paged KV cache: block bookkeeping shared by the CPU and GPU caches, and their storage.

mod blocks;
mod cpu_cache;
mod gpu_cache;

pub use blocks::{BlockCopy, BlockManager, Placement, SeqId};
pub use cpu_cache::CpuKvCache;
pub use gpu_cache::GpuKvCache;

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
