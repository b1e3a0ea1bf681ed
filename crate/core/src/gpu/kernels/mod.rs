//! The WGSL kernels: their sources and binding counts.
//!
//! Each kernel binds its storage buffers at bindings 0..n (inputs first, output last) and a
//! 16-byte uniform of parameters at binding n; its entry point is `main`.

use serde::Serialize;

/// A compute kernel ttsearch can dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Kernel {
    /// y = W x, f32 weights.
    Matvec,
    /// Y = X W^T, f32, tiled.
    Matmul,
    /// Row-wise RMSNorm with weight (+ offset for Gemma).
    RmsNorm,
    /// Row-wise softmax.
    Softmax,
    /// y = W x with int4 group-32 weights and packed f16 scales.
    Q4Matvec,
}

impl Kernel {
    /// Every kernel, for warm-up and self-checks.
    pub const ALL: [Kernel; 5] = [
        Kernel::Matvec,
        Kernel::Matmul,
        Kernel::RmsNorm,
        Kernel::Softmax,
        Kernel::Q4Matvec,
    ];

    /// The kernel's name (also its WGSL file name).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Matvec => "matvec",
            Kernel::Matmul => "matmul",
            Kernel::RmsNorm => "rms_norm",
            Kernel::Softmax => "softmax",
            Kernel::Q4Matvec => "q4_matvec",
        }
    }

    pub(crate) fn source(self) -> &'static str {
        match self {
            Kernel::Matvec => include_str!("matvec.wgsl"),
            Kernel::Matmul => include_str!("matmul.wgsl"),
            Kernel::RmsNorm => include_str!("rms_norm.wgsl"),
            Kernel::Softmax => include_str!("softmax.wgsl"),
            Kernel::Q4Matvec => include_str!("q4_matvec.wgsl"),
        }
    }

    /// Storage buffers the kernel binds (the uniform comes after them).
    pub(crate) fn storage_bindings(self) -> usize {
        match self {
            Kernel::Matvec | Kernel::Matmul | Kernel::RmsNorm => 3,
            Kernel::Softmax => 2,
            Kernel::Q4Matvec => 4,
        }
    }
}
