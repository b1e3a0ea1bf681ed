//! The WebGPU runtime: device acquisition with the adapter's real limits, buffers with async
//! readback and a per-model pool, a pipeline cache, batched dispatches and the WGSL kernels.
//!
//! Kernels compute in f32 and need neither `shader-f16` nor subgroups: Dawn hides shader-f16
//! on NVIDIA/Vulkan by default, the software adapters tests run on (SwiftShader) have none, and
//! wgpu on the web cannot request subgroups. f16 data arrives packed two per u32 and is
//! unpacked with `unpack2x16float`. The device is created with the adapter's own limits: the
//! WebGPU defaults (128 MiB per binding, 256 MiB per buffer) are too small for a
//! vocabulary-sized LM head, and larger tensors are split by rows.

mod batch;
mod buffer;
mod context;
mod kernels;
mod ops;
mod ops_model;
mod ops_sample;
mod pipeline;
mod pool;
mod report;
mod weight;

pub use batch::{DispatchCache, DispatchStats, GpuBatch};
pub use buffer::{BufferStats, GpuBuffer};
pub use context::{GpuContext, GpuOptions};
pub use kernels::Kernel;
pub(crate) use kernels::reads_blocks;
pub use ops::GpuQ4Matrix;
pub use ops_sample::{MAX_TOP_LOGPROBS, sample_row_words};
pub use pool::{BufferPool, PoolStats, PooledBuffer};
pub use report::{AdapterReport, LimitsReport};
pub use weight::{GpuWeight, LinearKernel};
