//! Storage buffers reused across steps: a forward pass takes its temporaries (activations,
//! scores, logits) and its uploads (token ids, cache slots, attention metadata, rotary tables)
//! from a pool by size class instead of creating them, and a buffer goes back to the pool when
//! the pass drops it.
//!
//! Reuse is safe because a queue runs work in order: a buffer dropped by one dispatch and taken
//! by a later dispatch of the same command buffer is written after the earlier one read it, and
//! one taken by a later step is written after the earlier step ran. Uploads are the exception
//! (`queue.write_buffer` runs before the whole next command buffer): they come from a pool of
//! their own, and an uploaded buffer stays with the batch that reads it until the batch is
//! submitted ([`super::GpuBatch::hold`]).

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

/// Idle bytes a pool keeps for reuse; buffers returned beyond that are freed.
const IDLE_BYTES: u64 = 512 << 20;

#[derive(Default)]
struct PoolState {
    /// Idle buffers by capacity in bytes (a power of two).
    free: HashMap<u64, Vec<GpuBuffer>>,
    idle_bytes: u64,
    /// Buffers created (misses).
    created: u64,
    /// Buffers freed because the pool was full: a bind group cache must forget them.
    discarded: u64,
}

/// A pool of storage buffers for one model's passes.
#[derive(Clone)]
pub struct BufferPool {
    ctx: GpuContext,
    state: Arc<Mutex<PoolState>>,
}

/// A buffer taken from a [`BufferPool`]: `words` long as far as ops and readbacks go (its
/// capacity may be larger), back in the pool when dropped.
pub struct PooledBuffer {
    /// Moved back to the pool when this is dropped (nothing else takes it out).
    buffer: ManuallyDrop<GpuBuffer>,
    capacity: u64,
    home: Arc<Mutex<PoolState>>,
}

/// Counters of a pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PoolStats {
    /// Buffers created since the pool was made (the rest of the takes were reuses).
    pub created: u64,
    /// Buffers freed because the idle limit was reached.
    pub discarded: u64,
    /// Bytes held idle now.
    pub idle_bytes: u64,
}

fn lock(state: &Mutex<PoolState>) -> Result<std::sync::MutexGuard<'_, PoolState>> {
    state
        .lock()
        .map_err(|_| Error::Gpu("buffer pool lock poisoned".to_string()))
}

impl BufferPool {
    /// An empty pool on `ctx`.
    pub fn new(ctx: &GpuContext) -> Self {
        Self {
            ctx: ctx.clone(),
            state: Arc::default(),
        }
    }

    /// A buffer of at least `words` 32-bit words; its contents are whatever it last held.
    pub fn take(&self, words: usize, label: &str) -> Result<PooledBuffer> {
        let capacity = (words.max(1) as u64 * 4).next_power_of_two().max(256);
        let reused = {
            let mut state = lock(&self.state)?;
            let buffer = state.free.get_mut(&capacity).and_then(Vec::pop);
            if buffer.is_some() {
                state.idle_bytes -= capacity;
            } else {
                state.created += 1;
            }
            buffer
        };
        let buffer = match reused {
            Some(mut buffer) => {
                buffer.set_words(words);
                buffer
            }
            None => self.ctx.create_buffer_bytes(capacity, words, label)?,
        };
        Ok(PooledBuffer {
            buffer: ManuallyDrop::new(buffer),
            capacity,
            home: Arc::clone(&self.state),
        })
    }

    /// A buffer holding `data` (written when the batch that reads it is submitted).
    pub fn upload_u32(&self, data: &[u32], label: &str) -> Result<PooledBuffer> {
        let buffer = self.take(data.len(), label)?;
        self.ctx.write_u32(&buffer, 0, data)?;
        Ok(buffer)
    }

    /// A buffer holding `data`.
    pub fn upload_f32(&self, data: &[f32], label: &str) -> Result<PooledBuffer> {
        self.upload_u32(bytemuck::cast_slice(data), label)
    }

    /// Counters so far.
    pub fn stats(&self) -> PoolStats {
        lock(&self.state)
            .map(|s| PoolStats {
                created: s.created,
                discarded: s.discarded,
                idle_bytes: s.idle_bytes,
            })
            .unwrap_or_default()
    }
}

impl Deref for PooledBuffer {
    type Target = GpuBuffer;
    fn deref(&self) -> &GpuBuffer {
        &self.buffer
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        // SAFETY: `buffer` is taken once, here, and never used after.
        let buffer = unsafe { ManuallyDrop::take(&mut self.buffer) };
        // A poisoned lock only means the buffer is freed instead of kept.
        if let Ok(mut state) = self.home.lock() {
            if state.idle_bytes + self.capacity <= IDLE_BYTES {
                state.idle_bytes += self.capacity;
                state.free.entry(self.capacity).or_default().push(buffer);
            } else {
                state.discarded += 1;
            }
        }
    }
}
