//! Model files: byte sources, the GGUF container and its block-quantized tensor types.
//!
//! Configs, safetensors and the forward passes arrive with the inference-engine issue; this
//! module so far reads GGUF files and dequantizes every common GGML tensor type.

pub mod ggml;
pub mod gguf;
pub mod source;

pub use ggml::GgmlType;
pub use gguf::{GgufFile, GgufTensorInfo, GgufValue};
#[cfg(not(target_arch = "wasm32"))]
pub use source::FileSource;
pub use source::{ByteSource, MemorySource};
