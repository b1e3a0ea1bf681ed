//! The crate's error type: one typed variant per failure a caller can act on.

use thiserror::Error;

/// Everything that can go wrong in ttsearch, with a stable machine-readable [`Error::code`].
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The environment exposes no WebGPU implementation at all (e.g. `navigator.gpu` is missing).
    #[error("WebGPU is not available in this environment: {0}")]
    NoWebGpu(String),
    /// WebGPU exists but no adapter matched the request (no driver, blocklisted GPU, ...).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The adapter refused to create a device with the requested limits or features.
    #[error("could not create a GPU device: {0}")]
    RequestDevice(String),
    /// The device was lost (driver reset, tab backgrounded, `destroy()` called).
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    /// A validation or out-of-memory error reported by the GPU runtime.
    #[error("GPU error: {0}")]
    Gpu(String),
    /// Mapping a buffer for readback failed.
    #[error("GPU buffer readback failed: {0}")]
    Readback(String),
    /// A buffer larger than the device allows was requested.
    #[error("buffer of {requested} bytes exceeds the device limit of {limit} bytes ({what})")]
    BufferTooLarge {
        /// Bytes requested.
        requested: u64,
        /// The limit that was hit.
        limit: u64,
        /// Which limit (buffer size or storage binding size).
        what: &'static str,
    },
    /// Operand shapes do not fit the operation.
    #[error("shape mismatch in {op}: {detail}")]
    Shape {
        /// The operation that rejected its operands.
        op: &'static str,
        /// What did not fit.
        detail: String,
    },
    /// An argument is outside what the operation supports.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A model, config or tokenizer file is malformed (truncated, corrupt, inconsistent).
    #[error("malformed {what}: {detail}")]
    Format {
        /// Which file or structure.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A well-formed input uses something ttsearch does not support (architecture, dtype, quant).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Reading a file or a byte source failed.
    #[error("read failed: {0}")]
    Io(String),
    /// The paged KV cache has too few free blocks for the request (nothing was changed).
    #[error("KV cache full: {needed} blocks needed, {free} free")]
    KvCacheFull {
        /// Blocks the request needs.
        needed: usize,
        /// Blocks free.
        free: usize,
    },
    /// A chat template failed to render (it raised, or used something unsupported).
    #[error("chat template: {0}")]
    Template(String),
    /// The operation was cancelled by its caller.
    #[error("cancelled")]
    Cancelled,
    /// A file the model needs is missing (a folder without it, a 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The server refused the request (401/403: a gated or private repository).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The network failed (connection, an unexpected HTTP status, a short download).
    #[error("network: {0}")]
    Network(String),
    /// The model, in the chosen weight format, with its KV cache, does not fit the device.
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    /// A bug: ttsearch panicked (the message says where).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A stable identifier for the error kind, used across the JS boundary (`error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::NoWebGpu(_) => "no_webgpu",
            Error::NoAdapter(_) => "no_adapter",
            Error::RequestDevice(_) => "request_device",
            Error::DeviceLost(_) => "device_lost",
            Error::Gpu(_) => "gpu",
            Error::Readback(_) => "readback",
            Error::BufferTooLarge { .. } => "buffer_too_large",
            Error::Shape { .. } => "shape",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::Format { .. } => "format",
            Error::Unsupported(_) => "unsupported",
            Error::Io(_) => "io",
            Error::KvCacheFull { .. } => "kv_cache_full",
            Error::Template(_) => "template",
            Error::Cancelled => "cancelled",
            Error::NotFound(_) => "not_found",
            Error::Unauthorized(_) => "unauthorized",
            Error::Network(_) => "network",
            Error::OutOfMemory(_) => "out_of_memory",
            Error::Internal(_) => "internal",
        }
    }

    pub(crate) fn format(what: &'static str, detail: impl Into<String>) -> Self {
        Error::Format {
            what,
            detail: detail.into(),
        }
    }

    pub(crate) fn shape(op: &'static str, detail: impl Into<String>) -> Self {
        Error::Shape {
            op,
            detail: detail.into(),
        }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
