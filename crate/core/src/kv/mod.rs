//! The paged KV cache: block bookkeeping shared by the CPU and GPU caches, and their storage.

mod blocks;
mod cpu_cache;
mod gpu_cache;

pub use blocks::{BlockCopy, BlockManager, Placement, SeqId};
pub use cpu_cache::CpuKvCache;
pub use gpu_cache::GpuKvCache;
