//! GPU storage buffers of 32-bit words: creation, upload and async readback.

use super::context::GpuContext;
use crate::error::{Error, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The storage buffers a device holds now: every [`GpuBuffer`] counts itself in on creation
/// and out when dropped (a pooled buffer stays counted while its pool keeps it).
#[derive(Debug, Default)]
pub(crate) struct LiveBuffers {
    count: AtomicU64,
    bytes: AtomicU64,
}

/// How many storage buffers a device holds and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BufferStats {
    /// Buffers alive.
    pub buffers: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// A storage buffer of 32-bit words (f32 values, u32 packed weights or ids).
///
/// Dropping it releases the GPU memory.
#[derive(Debug)]
pub struct GpuBuffer {
    pub(crate) buffer: wgpu::Buffer,
    words: usize,
    live: Arc<LiveBuffers>,
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        self.live.count.fetch_sub(1, Ordering::Relaxed);
        self.live
            .bytes
            .fetch_sub(self.buffer.size(), Ordering::Relaxed);
    }
}

impl GpuBuffer {
    /// Sets how many words are in use (a pooled buffer taken for a new size).
    pub(crate) fn set_words(&mut self, words: usize) {
        self.words = words;
    }

    /// Number of 32-bit words the buffer holds.
    pub fn words(&self) -> usize {
        self.words
    }

    /// Size in bytes of the words in use.
    pub fn byte_len(&self) -> u64 {
        self.words.max(1) as u64 * 4
    }
}

impl GpuContext {
    /// Creates a zero-filled storage buffer of `words` 32-bit words.
    pub fn create_buffer(&self, words: usize, label: &str) -> Result<GpuBuffer> {
        // Bindings of size zero are invalid: keep at least one word.
        self.create_buffer_bytes((words.max(1) as u64) * 4, words, label)
    }

    /// Creates a zero-filled storage buffer of `bytes` bytes whose first `words` words are in use.
    pub(crate) fn create_buffer_bytes(
        &self,
        bytes: u64,
        words: usize,
        label: &str,
    ) -> Result<GpuBuffer> {
        self.check_healthy()?;
        let limits = self.limits();
        for (limit, what) in [
            (limits.max_buffer_size, "max_buffer_size"),
            (
                limits.max_storage_buffer_binding_size,
                "max_storage_buffer_binding_size",
            ),
        ] {
            if bytes > limit {
                return Err(Error::BufferTooLarge {
                    requested: bytes,
                    limit,
                    what,
                });
            }
        }
        let buffer = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let live = Arc::clone(&self.inner.live);
        live.count.fetch_add(1, Ordering::Relaxed);
        live.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(GpuBuffer {
            buffer,
            words,
            live,
        })
    }

    /// The storage buffers this device holds now (models' weights, caches and pools).
    pub fn buffer_stats(&self) -> BufferStats {
        BufferStats {
            buffers: self.inner.live.count.load(Ordering::Relaxed),
            bytes: self.inner.live.bytes.load(Ordering::Relaxed),
        }
    }

    /// Uploads f32 values into a new buffer.
    pub fn upload_f32(&self, data: &[f32], label: &str) -> Result<GpuBuffer> {
        let buffer = self.create_buffer(data.len(), label)?;
        self.write_words(&buffer, 0, bytemuck::cast_slice(data))?;
        Ok(buffer)
    }

    /// Uploads u32 words (packed weights, token ids) into a new buffer.
    pub fn upload_u32(&self, data: &[u32], label: &str) -> Result<GpuBuffer> {
        let buffer = self.create_buffer(data.len(), label)?;
        self.write_words(&buffer, 0, bytemuck::cast_slice(data))?;
        Ok(buffer)
    }

    /// Writes f32 values into `buffer` starting at word `offset`.
    pub fn write_f32(&self, buffer: &GpuBuffer, offset: usize, data: &[f32]) -> Result<()> {
        self.write_words(buffer, offset, bytemuck::cast_slice(data))
    }

    /// Writes u32 words into `buffer` starting at word `offset`.
    pub fn write_u32(&self, buffer: &GpuBuffer, offset: usize, data: &[u32]) -> Result<()> {
        self.write_words(buffer, offset, bytemuck::cast_slice(data))
    }

    fn write_words(&self, buffer: &GpuBuffer, offset: usize, bytes: &[u8]) -> Result<()> {
        self.check_healthy()?;
        let words = bytes.len() / 4;
        if offset + words > buffer.words {
            return Err(Error::shape(
                "write",
                format!(
                    "{words} words at offset {offset} overflow a buffer of {} words",
                    buffer.words
                ),
            ));
        }
        if !bytes.is_empty() {
            self.inner
                .queue
                .write_buffer(&buffer.buffer, (offset as u64) * 4, bytes);
        }
        Ok(())
    }

    /// A buffer that timestamp queries resolve into: `queries` 64-bit values, read back like
    /// any buffer.
    pub(crate) fn create_query_buffer(&self, queries: usize) -> Result<GpuBuffer> {
        self.check_healthy()?;
        let bytes = (queries.max(1) * 8) as u64;
        let buffer = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ttsearch timestamps"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        self.inner.live.count.fetch_add(1, Ordering::Relaxed);
        self.inner.live.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(GpuBuffer {
            buffer,
            words: queries * 2,
            live: Arc::clone(&self.inner.live),
        })
    }

    /// Reads a whole buffer back as f32 values.
    pub async fn read_f32(&self, buffer: &GpuBuffer) -> Result<Vec<f32>> {
        let words = self.read_ranges(&[(buffer, 0, buffer.words)]).await?;
        Ok(bytemuck::cast_slice(&words).to_vec())
    }

    /// Reads a whole buffer back as u32 words.
    pub async fn read_u32(&self, buffer: &GpuBuffer) -> Result<Vec<u32>> {
        self.read_ranges(&[(buffer, 0, buffer.words)]).await
    }

    /// Reads word ranges `(buffer, first word, words)` of several buffers back with one copy
    /// submission and one mapping; the ranges' words are concatenated in order.
    pub async fn read_ranges(&self, ranges: &[(&GpuBuffer, usize, usize)]) -> Result<Vec<u32>> {
        self.check_healthy()?;
        let total: usize = ranges.iter().map(|r| r.2).sum();
        for (buffer, first, words) in ranges {
            if first + words > buffer.words {
                return Err(Error::shape(
                    "read",
                    format!(
                        "{words} words at {first} of a buffer of {} words",
                        buffer.words
                    ),
                ));
            }
        }
        if total == 0 {
            return Ok(Vec::new());
        }
        let device = &self.inner.device;
        let size = total as u64 * 4;
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ttsearch readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("ttsearch readback"),
        });
        let mut at = 0u64;
        for (buffer, first, words) in ranges {
            let bytes = *words as u64 * 4;
            if bytes > 0 {
                encoder.copy_buffer_to_buffer(
                    &buffer.buffer,
                    *first as u64 * 4,
                    &staging,
                    at,
                    bytes,
                );
            }
            at += bytes;
        }
        self.inner.queue.submit([encoder.finish()]);

        let (sender, receiver) = futures_channel::oneshot::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| {
                // The receiver only disappears if the caller dropped the future: nothing to do.
                let _ = sender.send(result);
            });
        self.poll_wait()?;
        let mapped = receiver
            .await
            .map_err(|_| Error::Readback("the map callback was dropped".to_string()))
            .and_then(|r| r.map_err(|e| Error::Readback(e.to_string())));
        if let Err(error) = mapped {
            staging.destroy();
            // A failed map on a lost device is reported as the loss itself.
            self.check_healthy()?;
            return Err(error);
        }
        let words = {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Readback(e.to_string()))?;
            bytemuck::pod_collect_to_vec(&view[..])
        };
        staging.unmap();
        staging.destroy();
        Ok(words)
    }
}
