//! Compute pipelines, compiled once per kernel and cached for the device's lifetime, each with
//! an explicit bind-group layout: the kernel's storage buffers (read-only or read-write as its
//! source declares them), then its uniform parameters at a dynamic offset, so that every
//! dispatch of a batch reads its parameters from one shared uniform buffer.

use super::kernels::Kernel;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;

/// Uniform parameters of one dispatch: up to eight 32-bit words (f32 values pass as their
/// bits); kernels declare the first four or all eight.
pub(crate) type Params = [u32; 8];

/// Bytes of one dispatch's parameters.
pub(crate) const PARAMS_BYTES: u64 = std::mem::size_of::<Params>() as u64;

/// A compiled kernel and the layout its bind groups follow.
#[derive(Clone)]
pub(crate) struct Pipeline {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

/// Compiled pipelines by kernel.
#[derive(Default)]
pub(crate) struct PipelineCache {
    pipelines: Mutex<HashMap<Kernel, Pipeline>>,
}

/// Whether each storage binding 0..n of `source` is declared `read_write`.
fn writable_bindings(source: &str, n: usize) -> Result<Vec<bool>> {
    let mut writable = vec![None; n];
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix("@group(0) @binding(") else {
            continue;
        };
        let Some((number, decl)) = rest.split_once(')') else {
            continue;
        };
        let Ok(binding) = number.parse::<usize>() else {
            continue;
        };
        if binding < n && decl.contains("var<storage") {
            writable[binding] = Some(decl.contains("read_write"));
        }
    }
    writable
        .into_iter()
        .enumerate()
        .map(|(b, w)| {
            w.ok_or_else(|| Error::Gpu(format!("kernel source declares no storage binding {b}")))
        })
        .collect()
}

fn layout_entries(kernel: Kernel, source: &str) -> Result<Vec<wgpu::BindGroupLayoutEntry>> {
    let n = kernel.storage_bindings();
    let mut entries: Vec<wgpu::BindGroupLayoutEntry> = writable_bindings(source, n)?
        .into_iter()
        .enumerate()
        .map(|(b, writable)| wgpu::BindGroupLayoutEntry {
            binding: b as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage {
                    read_only: !writable,
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    entries.push(wgpu::BindGroupLayoutEntry {
        binding: n as u32,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: true,
            min_binding_size: wgpu::BufferSize::new(PARAMS_BYTES),
        },
        count: None,
    });
    Ok(entries)
}

impl PipelineCache {
    fn get(&self, kernel: Kernel) -> Result<Option<Pipeline>> {
        let map = self
            .pipelines
            .lock()
            .map_err(|_| Error::Gpu("pipeline cache lock poisoned".to_string()))?;
        Ok(map.get(&kernel).cloned())
    }

    fn insert(&self, kernel: Kernel, pipeline: Pipeline) -> Result<()> {
        self.pipelines
            .lock()
            .map_err(|_| Error::Gpu("pipeline cache lock poisoned".to_string()))?
            .insert(kernel, pipeline);
        Ok(())
    }

    /// The compiled pipeline of `kernel` on `device`, compiling it on first use.
    ///
    /// Compilation runs inside an error scope: a shader the implementation rejects becomes an
    /// [`Error::Gpu`] naming the kernel, and nothing invalid is cached.
    pub(crate) async fn get_or_compile(
        &self,
        device: &wgpu::Device,
        kernel: Kernel,
    ) -> Result<Pipeline> {
        if let Some(pipeline) = self.get(kernel)? {
            return Ok(pipeline);
        }
        let source = kernel.source();
        let entries = layout_entries(kernel, &source)?;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(kernel.name()),
            source: wgpu::ShaderSource::Wgsl(source),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(kernel.name()),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(kernel.name()),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.name()),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(error) = scope.pop().await {
            return Err(Error::Gpu(format!(
                "kernel {} failed to compile: {error}",
                kernel.name()
            )));
        }
        let pipeline = Pipeline { pipeline, layout };
        self.insert(kernel, pipeline.clone())?;
        Ok(pipeline)
    }
}

#[cfg(test)]
mod tests {
    use super::writable_bindings;
    use crate::gpu::Kernel;

    #[test]
    fn every_kernel_declares_its_storage_bindings() {
        for kernel in Kernel::ALL.into_iter().chain([
            Kernel::BiasAdd,
            Kernel::Add,
            Kernel::GatedAct,
            Kernel::Rope,
            Kernel::KvWrite,
        ]) {
            let access = writable_bindings(&kernel.source(), kernel.storage_bindings())
                .unwrap_or_else(|e| panic!("{}: {e}", kernel.name()));
            // Exactly one output buffer per kernel.
            assert_eq!(
                access.iter().filter(|w| **w).count(),
                1,
                "{}",
                kernel.name()
            );
        }
    }
}
