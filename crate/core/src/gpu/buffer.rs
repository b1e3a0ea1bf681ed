//! GPU storage buffers of 32-bit words: creation, upload and async readback.

use super::context::GpuContext;
use crate::error::{Error, Result};

/// A storage buffer of 32-bit words (f32 values, u32 packed weights or ids).
///
/// Dropping it releases the GPU memory.
#[derive(Debug)]
pub struct GpuBuffer {
    pub(crate) buffer: wgpu::Buffer,
    words: usize,
}

impl GpuBuffer {
    /// Number of 32-bit words the buffer holds.
    pub fn words(&self) -> usize {
        self.words
    }

    /// Size in bytes.
    pub fn byte_len(&self) -> u64 {
        self.buffer.size()
    }
}

impl GpuContext {
    /// Creates a zero-filled storage buffer of `words` 32-bit words.
    pub fn create_buffer(&self, words: usize, label: &str) -> Result<GpuBuffer> {
        self.check_healthy()?;
        // Bindings of size zero are invalid: keep at least one word.
        let bytes = (words.max(1) as u64) * 4;
        for (limit, what) in [
            (self.limits.max_buffer_size, "max_buffer_size"),
            (
                self.limits.max_storage_buffer_binding_size,
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
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(GpuBuffer { buffer, words })
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
            self.queue
                .write_buffer(&buffer.buffer, (offset as u64) * 4, bytes);
        }
        Ok(())
    }

    /// Reads a whole buffer back as f32 values.
    pub async fn read_f32(&self, buffer: &GpuBuffer) -> Result<Vec<f32>> {
        let bytes = self.read_bytes(buffer).await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes[..buffer.words * 4]))
    }

    /// Reads a whole buffer back as u32 words.
    pub async fn read_u32(&self, buffer: &GpuBuffer) -> Result<Vec<u32>> {
        let bytes = self.read_bytes(buffer).await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes[..buffer.words * 4]))
    }

    async fn read_bytes(&self, buffer: &GpuBuffer) -> Result<Vec<u8>> {
        self.check_healthy()?;
        let size = buffer.byte_len();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ttsearch readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ttsearch readback"),
            });
        encoder.copy_buffer_to_buffer(&buffer.buffer, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);

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
        let bytes = {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Readback(e.to_string()))?;
            view.to_vec()
        };
        staging.unmap();
        staging.destroy();
        Ok(bytes)
    }
}
