//! Compute pipelines, compiled once per kernel and cached for the device's lifetime.

use super::context::GpuContext;
use super::kernels::Kernel;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;

/// Compiled pipelines by kernel.
#[derive(Default)]
pub(crate) struct PipelineCache {
    pipelines: Mutex<HashMap<Kernel, wgpu::ComputePipeline>>,
}

impl PipelineCache {
    fn get(&self, kernel: Kernel) -> Result<Option<wgpu::ComputePipeline>> {
        let map = self
            .pipelines
            .lock()
            .map_err(|_| Error::Gpu("pipeline cache lock poisoned".to_string()))?;
        Ok(map.get(&kernel).cloned())
    }

    fn insert(&self, kernel: Kernel, pipeline: wgpu::ComputePipeline) -> Result<()> {
        self.pipelines
            .lock()
            .map_err(|_| Error::Gpu("pipeline cache lock poisoned".to_string()))?
            .insert(kernel, pipeline);
        Ok(())
    }
}

impl GpuContext {
    /// The compiled pipeline of `kernel`, compiling it on first use.
    ///
    /// Compilation runs inside an error scope: a shader the implementation rejects becomes an
    /// [`Error::Gpu`] naming the kernel, and nothing invalid is cached.
    pub(crate) async fn pipeline(&self, kernel: Kernel) -> Result<wgpu::ComputePipeline> {
        if let Some(pipeline) = self.pipelines.get(kernel)? {
            return Ok(pipeline);
        }
        self.check_healthy()?;
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(kernel.name()),
                source: wgpu::ShaderSource::Wgsl(kernel.source()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(kernel.name()),
                layout: None,
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
        self.pipelines.insert(kernel, pipeline.clone())?;
        Ok(pipeline)
    }
}
