//! The WebGPU runtime: device acquisition with the adapter's real limits, buffers with async
//! readback, a pipeline cache, a dispatch helper and the WGSL kernels.
//!
//! Kernels compute in f32 and never need `shader-f16` or subgroups (DESIGN.md decisions 2 and 3);
//! f16 data arrives packed two per u32 and is unpacked with `unpack2x16float`.

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
pub use buffer::GpuBuffer;
pub use context::{GpuContext, GpuOptions};
pub use kernels::Kernel;
pub use ops::GpuQ4Matrix;
pub use ops_sample::{MAX_TOP_LOGPROBS, sample_row_words};
pub use pool::{BufferPool, PoolStats, PooledBuffer};
pub use report::{AdapterReport, LimitsReport};
pub use weight::GpuWeight;
