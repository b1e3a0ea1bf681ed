//! Models: configs (HF config.json and GGUF metadata) and the family table, checkpoints
//! (safetensors, PyTorch zip archives, GGUF with every common GGML tensor type) read through one tensor list, weights
//! by part, and the decoder written once over the ops the CPU and GPU passes implement.

pub mod arch;
pub(crate) mod batch;
pub mod config;
pub mod decoder;
pub mod forward_cpu;
pub mod forward_gpu;
pub use crate::quant::ggml;
pub mod gguf;
pub mod gguf_store;
pub(crate) mod le_reader;
pub mod pickle;
pub mod pytorch;
pub mod random_store;
pub mod rope;
pub mod safetensors;
pub mod shards;
pub mod source;
pub mod store;
pub mod tensors;
pub mod weights;
pub mod zip_dir;

pub use crate::kv::{CpuKvCache, GpuKvCache, PagedCache, SeqId};
pub use arch::{ArchSpec, Architecture};
pub use batch::{ForwardOutput, Rows, SequenceInput};
pub use config::{Activation, LayerAttention, LayerForm, ModelConfig, Rope, RopeScaling};
pub use forward_cpu::CpuModel;
pub use forward_gpu::{GpuModel, GpuStats, PassOutput, SampleRequest};
pub use ggml::GgmlType;
pub use gguf::{GgufFile, GgufTensorInfo, GgufValue};
pub use gguf_store::GgufStore;
pub use pytorch::{PytorchFile, PytorchModel};
pub use random_store::RandomStore;
pub use safetensors::{SafetensorsFile, SafetensorsModel};
pub use shards::{Shards, TensorFile};
#[cfg(not(target_arch = "wasm32"))]
pub use source::FileSource;
pub use source::{ByteSource, MemorySource};
pub use store::{TensorData, TensorStore};
pub use tensors::{Part, TensorSpec};
pub use weights::{
    HostSink, LayerWeights, Linear, ModelWeights, WeightSink, Weights, vocab_format,
};
