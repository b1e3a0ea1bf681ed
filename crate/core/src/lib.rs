//! ttsearch core: test-time search for small language models on WebGPU and CPU.
//!
//! This crate holds everything that is not JavaScript glue. Its modules depend on each other in
//! one direction, lowest first: `error`, `quant`, `layout`, `grade`; `cpu`, `gpu`; `kv`;
//! `model`; `tokenize`; `engine`; `prm`; `search`; `load` (the one place that builds engines,
//! PRMs and tokenizers together); `selfcheck` sits beside them over `cpu` and `gpu`.
//! Public functions that read back from the GPU are `async`; native callers block on them with
//! [`block_on`].

pub mod cpu;
pub mod engine;
pub mod error;
pub mod gpu;
pub mod grade;
pub mod kv;
pub mod layout;
pub mod load;
pub mod model;
pub mod prm;
pub mod quant;
pub mod search;
pub mod selfcheck;
pub mod tokenize;

pub use error::{Error, Result};

/// The safetensors dtype enum, for callers that inspect checkpoints.
pub use safetensors::Dtype as SafetensorsDtype;

/// Runs a future to completion on the current thread (native targets only).
///
/// The core API is async because WebGPU readbacks are; the CLI and native tests use this to wait.
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}

/// The crate version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
