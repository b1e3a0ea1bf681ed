//! A batch of kernel dispatches recorded on the CPU and submitted as one command buffer.
//!
//! Dispatches are recorded as plain data; `submit` compiles any missing pipeline, writes every
//! dispatch's parameters into one uniform buffer (each at its own dynamic offset), binds, and
//! encodes every dispatch inside one error scope, so a validation or out-of-memory error
//! surfaces as a typed [`Error`] from `submit` instead of a log line. A batch made with a
//! [`DispatchCache`] reuses the cache's uniform buffer and the bind groups of earlier steps.

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::Kernel;
use super::pipeline::{PARAMS_BYTES, Params};
use super::pool::PooledBuffer;
use crate::error::{Error, Result};
use std::collections::HashMap;

/// Bind groups kept by a cache before it starts over.
const MAX_BIND_GROUPS: usize = 4096;

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

type BindKey = (Kernel, Vec<wgpu::Buffer>);

/// What a model's steps reuse from one submission to the next: the uniform buffer of the
/// dispatch parameters and the bind groups (its buffers come from a pool and its weights stay,
/// so a step binds the same buffers as the last one of its shape).
#[derive(Default)]
pub struct DispatchCache {
    uniform: Option<wgpu::Buffer>,
    bind_groups: HashMap<BindKey, wgpu::BindGroup>,
    stats: DispatchStats,
    /// Whether submissions time their passes with timestamp queries.
    timing: bool,
}

/// Counters of the submissions made with a [`DispatchCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DispatchStats {
    /// Submissions.
    pub submits: u64,
    /// Dispatches recorded.
    pub dispatches: u64,
    /// Buffer copies recorded.
    pub copies: u64,
    /// Bind groups created (the other dispatches reused one).
    pub bind_groups_created: u64,
    /// Bytes of weights the dispatches read, counted from the kernels' shapes and tiles (a
    /// matrix read once per tile of input rows counts once per tile).
    pub weight_bytes_read: u64,
    /// Bytes of cached keys and values the attention dispatches read (each query head reads
    /// the keys and values its token may see).
    pub kv_bytes_read: u64,
    /// Submissions timed with timestamp queries (see [`DispatchCache::set_timing`]).
    pub timed_submits: u64,
    /// GPU time of their compute passes, in nanoseconds.
    pub gpu_time_ns: u64,
}

impl DispatchCache {
    /// Forgets every bind group (their buffers may be freed now).
    pub fn clear(&mut self) {
        self.bind_groups.clear();
    }

    /// Counters so far.
    pub fn stats(&self) -> DispatchStats {
        self.stats
    }

    /// Times the compute passes of later submissions with timestamp queries where the device
    /// has them (each timed submission then waits for its timestamps: for benchmarks, not for
    /// serving). Returns whether timing is on.
    pub fn set_timing(&mut self, ctx: &GpuContext, on: bool) -> bool {
        self.timing = on && ctx.inner.timestamps;
        self.timing
    }
}

/// Kernel dispatches waiting to be submitted together. Create with [`GpuContext::batch`].
pub struct GpuBatch<'a> {
    pub(crate) ctx: &'a GpuContext,
    commands: Vec<Command>,
    held: Vec<PooledBuffer>,
    cache: Option<&'a mut DispatchCache>,
    /// (weight bytes, KV bytes) the recorded dispatches read.
    reads: (u64, u64),
}

impl GpuContext {
    /// Starts an empty batch of dispatches on this device.
    pub fn batch(&self) -> GpuBatch<'_> {
        GpuBatch {
            ctx: self,
            commands: Vec::new(),
            held: Vec::new(),
            cache: None,
            reads: (0, 0),
        }
    }

    /// Starts an empty batch that reuses `cache`'s uniform buffer and bind groups.
    pub fn batch_with<'a>(&'a self, cache: &'a mut DispatchCache) -> GpuBatch<'a> {
        GpuBatch {
            ctx: self,
            commands: Vec::new(),
            held: Vec::new(),
            cache: Some(cache),
            reads: (0, 0),
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
        let max = self.ctx.limits().max_compute_workgroups_per_dimension as usize;
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

    /// Keeps an uploaded buffer out of its pool until this batch is submitted, so that no
    /// later upload overwrites it before the batch has read it.
    pub fn hold(&mut self, buffer: PooledBuffer) -> &GpuBuffer {
        self.held.push(buffer);
        let last = self.held.len() - 1;
        &self.held[last]
    }

    /// Counts bytes of weights and of cached keys and values the recorded dispatches read.
    pub(crate) fn count_reads(&mut self, weight_bytes: u64, kv_bytes: u64) {
        self.reads.0 += weight_bytes;
        self.reads.1 += kv_bytes;
    }

    /// (weight bytes, KV bytes) the dispatches recorded so far read.
    pub fn bytes_read(&self) -> (u64, u64) {
        self.reads
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
    pub async fn submit(mut self) -> Result<()> {
        let ctx = self.ctx;
        ctx.check_healthy()?;
        let mut pipelines = Vec::with_capacity(self.commands.len());
        for c in &self.commands {
            pipelines.push(match c {
                Command::Dispatch { kernel, .. } => Some(ctx.pipeline(*kernel).await?),
                Command::Copy { .. } => None,
            });
        }
        let device = &ctx.inner.device;
        // Every dispatch's parameters in one uniform buffer, each at an aligned offset.
        let stride = u64::from(ctx.limits().min_uniform_buffer_offset_alignment).max(PARAMS_BYTES);
        let dispatches = self
            .commands
            .iter()
            .filter(|c| matches!(c, Command::Dispatch { .. }))
            .count() as u64;
        let mut uniform_bytes = vec![0u8; (stride * dispatches.max(1)) as usize];
        let mut slot = 0usize;
        for c in &self.commands {
            if let Command::Dispatch { params, .. } = c {
                let at = slot * stride as usize;
                uniform_bytes[at..at + PARAMS_BYTES as usize]
                    .copy_from_slice(bytemuck::cast_slice(params));
                slot += 1;
            }
        }
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let needed = uniform_bytes.len() as u64;
        let mut cache = self.cache.take();
        let uniform = match cache.as_deref_mut() {
            Some(cache) => {
                if cache.uniform.as_ref().is_none_or(|u| u.size() < needed) {
                    // A new uniform buffer: every cached bind group names the old one.
                    cache.bind_groups.clear();
                    cache.uniform = Some(create_uniform(device, needed.next_power_of_two()));
                }
                cache
                    .uniform
                    .clone()
                    .ok_or_else(|| Error::Gpu("no uniform buffer".to_string()))?
            }
            None => create_uniform(device, needed),
        };
        ctx.inner.queue.write_buffer(&uniform, 0, &uniform_bytes);
        if let Some(cache) = cache.as_deref_mut()
            && cache.bind_groups.len() > MAX_BIND_GROUPS
        {
            cache.bind_groups.clear();
        }
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("ttsearch batch"),
        });
        let mut created = 0u64;
        let mut copies = 0u64;
        // Two timestamps per compute pass (a run of dispatches between copies) when timed.
        let passes = self
            .commands
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                matches!(c, Command::Dispatch { .. })
                    && (*i == 0 || matches!(self.commands[i - 1], Command::Copy { .. }))
            })
            .count();
        let timed = cache.as_deref().is_some_and(|c| c.timing) && passes > 0;
        let queries = timed.then(|| {
            device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("ttsearch pass times"),
                ty: wgpu::QueryType::Timestamp,
                count: 2 * passes as u32,
            })
        });
        let resolve = match timed {
            true => Some(ctx.create_query_buffer(2 * passes)?),
            false => None,
        };
        let mut pass_index = 0u32;
        // Consecutive dispatches share a compute pass; a copy ends the pass.
        let mut i = 0;
        let mut slot = 0u32;
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
                copies += 1;
                i += 1;
                continue;
            }
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("ttsearch batch"),
                timestamp_writes: queries.as_ref().map(|q| wgpu::ComputePassTimestampWrites {
                    query_set: q,
                    beginning_of_pass_write_index: Some(2 * pass_index),
                    end_of_pass_write_index: Some(2 * pass_index + 1),
                }),
            });
            pass_index += 1;
            while let (
                Some(Command::Dispatch {
                    kernel,
                    buffers,
                    workgroups,
                    ..
                }),
                Some(Some(pipeline)),
            ) = (self.commands.get(i), pipelines.get(i))
            {
                let make = || {
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
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: &uniform,
                            offset: 0,
                            size: wgpu::BufferSize::new(PARAMS_BYTES),
                        }),
                    });
                    device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some(kernel.name()),
                        layout: &pipeline.layout,
                        entries: &entries,
                    })
                };
                let bind_group = match cache.as_deref_mut() {
                    Some(cache) => {
                        let key = (*kernel, buffers.clone());
                        match cache.bind_groups.get(&key) {
                            Some(group) => group.clone(),
                            None => {
                                let group = make();
                                created += 1;
                                cache.bind_groups.insert(key, group.clone());
                                group
                            }
                        }
                    }
                    None => make(),
                };
                pass.set_pipeline(&pipeline.pipeline);
                pass.set_bind_group(0, &bind_group, &[slot * stride as u32]);
                pass.dispatch_workgroups(workgroups.0, workgroups.1, 1);
                slot += 1;
                i += 1;
            }
        }
        if let (Some(q), Some(r)) = (&queries, &resolve) {
            encoder.resolve_query_set(q, 0..2 * pass_index, &r.buffer, 0);
        }
        ctx.inner.queue.submit([encoder.finish()]);
        if let Some(cache) = cache.as_deref_mut() {
            cache.stats.submits += 1;
            cache.stats.dispatches += dispatches;
            cache.stats.copies += copies;
            cache.stats.bind_groups_created += created;
            cache.stats.weight_bytes_read += self.reads.0;
            cache.stats.kv_bytes_read += self.reads.1;
        }
        self.held.clear();
        let validation = validation.pop();
        let oom = oom.pop();
        if let Some(error) = validation.await {
            return Err(Error::Gpu(error.to_string()));
        }
        if let Some(error) = oom.await {
            return Err(Error::Gpu(format!("out of memory: {error}")));
        }
        if let (Some(resolve), Some(cache)) = (resolve, cache) {
            let words = ctx.read_u32(&resolve).await?;
            let stamps: Vec<u64> = words
                .chunks_exact(2)
                .map(|w| u64::from(w[0]) | (u64::from(w[1]) << 32))
                .collect();
            let ticks: u64 = stamps
                .chunks_exact(2)
                .map(|p| p[1].saturating_sub(p[0]))
                .sum();
            let period = f64::from(ctx.inner.queue.get_timestamp_period());
            cache.stats.timed_submits += 1;
            cache.stats.gpu_time_ns += (ticks as f64 * period) as u64;
        }
        Ok(())
    }
}

fn create_uniform(device: &wgpu::Device, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("ttsearch params"),
        size: bytes.max(PARAMS_BYTES),
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}
