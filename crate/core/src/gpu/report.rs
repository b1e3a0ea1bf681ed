//! Serializable descriptions of the adapter and the limits a device was created with.

use serde::Serialize;

/// What the adapter is, as reported by the WebGPU implementation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdapterReport {
    /// Adapter name (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)", "SwiftShader Device (Subzero)").
    pub name: String,
    /// Backend: "vulkan", "metal", "dx12", "browser-webgpu", ...
    pub backend: String,
    /// "discrete-gpu", "integrated-gpu", "cpu", "virtual-gpu" or "other".
    pub device_type: String,
    /// Driver name, where the implementation reports one.
    pub driver: String,
    /// Driver version or extra driver information.
    pub driver_info: String,
    /// Whether the adapter offers `shader-f16` (ttsearch does not need it).
    pub shader_f16: bool,
    /// The limits the device was created with (the adapter's own, requested explicitly).
    pub limits: LimitsReport,
}

/// The device limits that shape how ttsearch lays out weights and dispatches kernels.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct LimitsReport {
    /// Largest buffer, bytes.
    pub max_buffer_size: u64,
    /// Largest storage-buffer binding, bytes; larger tensors are split by rows.
    pub max_storage_buffer_binding_size: u64,
    /// Storage buffers one shader stage may bind.
    pub max_storage_buffers_per_shader_stage: u32,
    /// Workgroup shared memory, bytes.
    pub max_compute_workgroup_storage_size: u32,
    /// Invocations per workgroup.
    pub max_compute_invocations_per_workgroup: u32,
    /// Workgroups per dispatch dimension.
    pub max_compute_workgroups_per_dimension: u32,
}

impl From<&wgpu::Limits> for LimitsReport {
    fn from(l: &wgpu::Limits) -> Self {
        Self {
            max_buffer_size: l.max_buffer_size,
            max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
            max_storage_buffers_per_shader_stage: l.max_storage_buffers_per_shader_stage,
            max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
            max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
        }
    }
}

pub(crate) fn device_type_name(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete-gpu",
        wgpu::DeviceType::IntegratedGpu => "integrated-gpu",
        wgpu::DeviceType::VirtualGpu => "virtual-gpu",
        wgpu::DeviceType::Cpu => "cpu",
        wgpu::DeviceType::Other => "other",
    }
}
