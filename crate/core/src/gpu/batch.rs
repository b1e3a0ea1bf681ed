//! A batch of kernel dispatches recorded on the CPU and submitted as one command buffer.
//!
//! Dispatches are recorded as plain data; `submit` compiles any missing pipeline, then creates
//! bind groups and encodes every dispatch inside one error scope, so a validation or
//! out-of-memory error surfaces as a typed [`Error`] from `submit` instead of a log line.

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::Kernel;
use crate::error::{Error, Result};

/// Uniform parameters of one dispatch: up to eight 32-bit words (f32 values pass as their
/// bits); kernels declare the first four or all eight.
pub(crate) type Params = [u32; 8];

/// One recorded command.
enum Command {
    Dispatch {
        kernel: Kernel,
        buffers: Vec<wgpu::Buffer>,
        params: Params,
        workgroups: (u32, u32),
    },
    Copy {
        src: wgpu::Buffer,
        src_offset: u64,
        dst: wgpu::Buffer,
        dst_offset: u64,
        bytes: u64,
    },
}

/// Kernel dispatches waiting to be submitted together. Create with [`GpuContext::batch`].
pub struct GpuBatch<'a> {
    pub(crate) ctx: &'a GpuContext,
    commands: Vec<Command>,
}

impl GpuContext {
    /// Starts an empty batch of dispatches on this device.
    pub fn batch(&self) -> GpuBatch<'_> {
        GpuBatch {
            ctx: self,
            commands: Vec::new(),
        }
    }
}

impl GpuBatch<'_> {
    /// Records one dispatch of `kernel` over `workgroups` workgroups (1-D; spread over a 2-D grid
    /// when it exceeds the per-dimension limit; kernels rebuild the flat index).
    pub(crate) fn dispatch(
        &mut self,
        kernel: Kernel,
        buffers: &[&GpuBuffer],
        params: &[u32],
        workgroups: usize,
    ) -> Result<()> {
        if params.len() > 8 {
            return Err(Error::InvalidArgument(format!(
                "kernel {} given {} params",
                kernel.name(),
                params.len()
            )));
        }
        let mut words = [0u32; 8];
        words[..params.len()].copy_from_slice(params);
        if buffers.len() != kernel.storage_bindings() {
            return Err(Error::InvalidArgument(format!(
                "kernel {} takes {} buffers, got {}",
                kernel.name(),
                kernel.storage_bindings(),
                buffers.len()
            )));
        }
        let max = self.ctx.limits.max_compute_workgroups_per_dimension as usize;
        let x = workgroups.clamp(1, max);
        let y = workgroups.div_ceil(x).max(1);
        if y > max {
            return Err(Error::InvalidArgument(format!(
                "kernel {} needs {workgroups} workgroups, more than {max}x{max}",
                kernel.name()
            )));
        }
        self.commands.push(Command::Dispatch {
            kernel,
            buffers: buffers.iter().map(|b| b.buffer.clone()).collect(),
            params: words,
            workgroups: (x as u32, y as u32),
        });
        Ok(())
    }

    /// Records a copy of `words` 32-bit words from `src[src_word..]` to `dst[dst_word..]`.
    pub fn copy(
        &mut self,
        src: &GpuBuffer,
        src_word: usize,
        dst: &GpuBuffer,
        dst_word: usize,
        words: usize,
    ) -> Result<()> {
        if src_word + words > src.words() || dst_word + words > dst.words() {
            return Err(Error::shape(
                "copy",
                format!(
                    "{words} words from {src_word} of {} into {dst_word} of {}",
                    src.words(),
                    dst.words()
                ),
            ));
        }
        if words > 0 {
            self.commands.push(Command::Copy {
                src: src.buffer.clone(),
                src_offset: src_word as u64 * 4,
                dst: dst.buffer.clone(),
                dst_offset: dst_word as u64 * 4,
                bytes: words as u64 * 4,
            });
        }
        Ok(())
    }

    /// Number of commands recorded so far.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Encodes and submits every recorded command, in order, as one command buffer.
    ///
    /// Completes when the work is queued (not when it has run); a later readback waits for it.
    pub async fn submit(self) -> Result<()> {
        let ctx = self.ctx;
        ctx.check_healthy()?;
        let mut pipelines = Vec::with_capacity(self.commands.len());
        for c in &self.commands {
            pipelines.push(match c {
                Command::Dispatch { kernel, .. } => Some(ctx.pipeline(*kernel).await?),
                Command::Copy { .. } => None,
            });
        }
        let oom = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ttsearch batch"),
            });
        // Consecutive dispatches share a compute pass; a copy ends the pass.
        let mut i = 0;
        while i < self.commands.len() {
            if let Command::Copy {
                src,
                src_offset,
                dst,
                dst_offset,
                bytes,
            } = &self.commands[i]
            {
                encoder.copy_buffer_to_buffer(src, *src_offset, dst, *dst_offset, *bytes);
                i += 1;
                continue;
            }
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("ttsearch batch"),
                timestamp_writes: None,
            });
            while let (
                Some(Command::Dispatch {
                    kernel,
                    buffers,
                    params,
                    workgroups,
                }),
                Some(Some(pipeline)),
            ) = (self.commands.get(i), pipelines.get(i))
            {
                let params_buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("ttsearch params"),
                    size: std::mem::size_of::<Params>() as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                ctx.queue
                    .write_buffer(&params_buffer, 0, bytemuck::cast_slice(params));
                let mut entries: Vec<wgpu::BindGroupEntry> = buffers
                    .iter()
                    .enumerate()
                    .map(|(b, buffer)| wgpu::BindGroupEntry {
                        binding: b as u32,
                        resource: buffer.as_entire_binding(),
                    })
                    .collect();
                entries.push(wgpu::BindGroupEntry {
                    binding: buffers.len() as u32,
                    resource: params_buffer.as_entire_binding(),
                });
                let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(kernel.name()),
                    layout: &pipeline.get_bind_group_layout(0),
                    entries: &entries,
                });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(workgroups.0, workgroups.1, 1);
                i += 1;
            }
        }
        ctx.queue.submit([encoder.finish()]);
        let validation = validation.pop();
        let oom = oom.pop();
        if let Some(error) = validation.await {
            return Err(Error::Gpu(error.to_string()));
        }
        if let Some(error) = oom.await {
            return Err(Error::Gpu(format!("out of memory: {error}")));
        }
        Ok(())
    }
}
