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
    /// Embedding rows gathered by token id, scaled.
    Embed,
    /// Bias added to every row, in place.
    BiasAdd,
    /// Element-wise x += y.
    Add,
    /// SiLU or GELU-tanh of the gate times up.
    GatedAct,
    /// Rotary embedding in place.
    Rope,
    /// Scaled q.k scores with the causal / sliding-window mask.
    AttnScores,
    /// Attention probabilities times values.
    AttnValues,
}

impl Kernel {
    /// The kernels the self-check compares with the CPU backend one by one (the model kernels
    /// are checked through whole forward passes).
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
            Kernel::Embed => "embed",
            Kernel::BiasAdd => "bias_add",
            Kernel::Add => "add",
            Kernel::GatedAct => "gated_act",
            Kernel::Rope => "rope",
            Kernel::AttnScores => "attn_scores",
            Kernel::AttnValues => "attn_values",
        }
    }

    pub(crate) fn source(self) -> &'static str {
        match self {
            Kernel::Matvec => include_str!("matvec.wgsl"),
            Kernel::Matmul => include_str!("matmul.wgsl"),
            Kernel::RmsNorm => include_str!("rms_norm.wgsl"),
            Kernel::Softmax => include_str!("softmax.wgsl"),
            Kernel::Q4Matvec => include_str!("q4_matvec.wgsl"),
            Kernel::Embed => include_str!("embed.wgsl"),
            Kernel::BiasAdd => include_str!("bias_add.wgsl"),
            Kernel::Add => include_str!("add.wgsl"),
            Kernel::GatedAct => include_str!("gated_act.wgsl"),
            Kernel::Rope => include_str!("rope.wgsl"),
            Kernel::AttnScores => include_str!("attn_scores.wgsl"),
            Kernel::AttnValues => include_str!("attn_values.wgsl"),
        }
    }

    /// Storage buffers the kernel binds (the uniform comes after them).
    pub(crate) fn storage_bindings(self) -> usize {
        match self {
            Kernel::Matvec
            | Kernel::Matmul
            | Kernel::RmsNorm
            | Kernel::Embed
            | Kernel::GatedAct
            | Kernel::AttnScores
            | Kernel::AttnValues => 3,
            Kernel::Softmax | Kernel::BiasAdd | Kernel::Add | Kernel::Rope => 2,
            Kernel::Q4Matvec => 4,
        }
    }
}
