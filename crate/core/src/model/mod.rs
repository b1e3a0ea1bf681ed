//! Model files: byte sources, the GGUF container and its block-quantized tensor types.
//!
//! Configs (HF config.json and GGUF metadata), checkpoints (safetensors, GGUF with every common
//! GGML tensor type), weights by HF name, and the CPU forward pass of Qwen2, Llama 3 and Gemma 3.

pub(crate) mod batch;
pub mod config;
pub mod forward_cpu;
pub mod forward_gpu;
pub mod ggml;
pub mod gguf;
pub mod gguf_store;
#[cfg(not(target_arch = "wasm32"))]
pub mod loader;
pub mod random_store;
pub mod rope;
pub mod safetensors;
pub mod source;
pub mod store;
pub mod weights;

pub use crate::kv::{CpuKvCache, GpuKvCache, PagedCache, SeqId};
pub use batch::ForwardOutput;
pub use config::{Activation, Architecture, LayerAttention, ModelConfig, Rope, RopeScaling};
pub use forward_cpu::{CpuModel, LogitPositions, SequenceInput};
pub use forward_gpu::GpuModel;
pub use ggml::GgmlType;
pub use gguf::{GgufFile, GgufTensorInfo, GgufValue};
pub use gguf_store::GgufStore;
pub use random_store::RandomStore;
pub use safetensors::{SafetensorsFile, SafetensorsModel};
#[cfg(not(target_arch = "wasm32"))]
pub use source::FileSource;
pub use source::{ByteSource, MemorySource};
pub use store::{TensorData, TensorStore};
pub use weights::{LayerWeights, Linear, ModelWeights, vocab_format};
