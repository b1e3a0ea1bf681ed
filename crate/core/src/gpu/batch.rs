//! A batch of kernel dispatches recorded on the CPU and submitted as one command buffer.
//!
//! Dispatches are recorded as plain data; `submit` compiles any missing pipeline, then creates
//! bind groups and encodes every dispatch inside one error scope, so a validation or
//! out-of-memory error surfaces as a typed [`Error`] from `submit` instead of a log line.

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::Kernel;
use crate::error::{Error, Result};

/// Uniform parameters of one dispatch: four 32-bit words (f32 values pass as their bits).
pub(crate) type Params = [u32; 4];

struct Dispatch {
    kernel: Kernel,
    buffers: Vec<wgpu::Buffer>,
    params: Params,
    workgroups: (u32, u32),
}

/// Kernel dispatches waiting to be submitted together. Create with [`GpuContext::batch`].
pub struct GpuBatch<'a> {
    pub(crate) ctx: &'a GpuContext,
    dispatches: Vec<Dispatch>,
}

impl GpuContext {
    /// Starts an empty batch of dispatches on this device.
    pub fn batch(&self) -> GpuBatch<'_> {
        GpuBatch {
            ctx: self,
            dispatches: Vec::new(),
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
        params: Params,
        workgroups: usize,
    ) -> Result<()> {
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
        self.dispatches.push(Dispatch {
            kernel,
            buffers: buffers.iter().map(|b| b.buffer.clone()).collect(),
            params,
            workgroups: (x as u32, y as u32),
        });
        Ok(())
    }

    /// Number of dispatches recorded so far.
    pub fn len(&self) -> usize {
        self.dispatches.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.dispatches.is_empty()
    }

    /// Encodes and submits every recorded dispatch, in order, as one command buffer.
    ///
    /// Completes when the work is queued (not when it has run); a later readback waits for it.
    pub async fn submit(self) -> Result<()> {
        let ctx = self.ctx;
        ctx.check_healthy()?;
        let mut pipelines = Vec::with_capacity(self.dispatches.len());
        for d in &self.dispatches {
            pipelines.push(ctx.pipeline(d.kernel).await?);
        }
        let oom = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ttsearch batch"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("ttsearch batch"),
                timestamp_writes: None,
            });
            for (d, pipeline) in self.dispatches.iter().zip(&pipelines) {
                let params = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("ttsearch params"),
                    size: std::mem::size_of::<Params>() as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                ctx.queue
                    .write_buffer(&params, 0, bytemuck::cast_slice(&d.params));
                let mut entries: Vec<wgpu::BindGroupEntry> = d
                    .buffers
                    .iter()
                    .enumerate()
                    .map(|(i, b)| wgpu::BindGroupEntry {
                        binding: i as u32,
                        resource: b.as_entire_binding(),
                    })
                    .collect();
                entries.push(wgpu::BindGroupEntry {
                    binding: d.buffers.len() as u32,
                    resource: params.as_entire_binding(),
                });
                let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(d.kernel.name()),
                    layout: &pipeline.get_bind_group_layout(0),
                    entries: &entries,
                });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(d.workgroups.0, d.workgroups.1, 1);
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
