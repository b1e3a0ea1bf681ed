//! The WGSL kernels: their sources and binding counts.
//!
//! Each kernel binds its storage buffers at bindings 0..n (inputs first, output last) and a
//! uniform of up to eight 32-bit parameters at binding n; its entry point is `main`.

mod blocks_at;
mod weight_at;

pub(crate) use blocks_at::reads as reads_blocks;

use crate::quant::WeightFormat;
use crate::quant::ggml::GgmlType;
use serde::Serialize;
use std::borrow::Cow;

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
    /// Y = X W^T for one row part of a weight matrix in the given format, a tile of up to 8
    /// input rows per weight read (decode).
    Linear(WeightFormat),
    /// Y = X W^T, tiles of 64 weight rows x 32 input rows through workgroup memory (prefill;
    /// widths that are multiples of 32).
    LinearTiled(WeightFormat),
    /// Embedding rows gathered by token id from one row part, scaled.
    EmbedRows(WeightFormat),
    /// [`Kernel::Linear`] on a GGUF file's own blocks of one type.
    LinearBlocks(GgmlType),
    /// [`Kernel::LinearTiled`] on a GGUF file's own blocks of one type.
    LinearTiledBlocks(GgmlType),
    /// [`Kernel::EmbedRows`] from a GGUF file's own blocks of one type.
    EmbedRowsBlocks(GgmlType),
    /// Bias added to every row, in place.
    BiasAdd,
    /// Element-wise x += y.
    Add,
    /// SiLU or GELU-tanh of the gate times up.
    GatedAct,
    /// Rotary embedding in place.
    Rope,
    /// New keys or values scattered to their paged-cache slots.
    KvWrite,
    /// Attention over keys and values read through block tables, with the causal /
    /// sliding-window mask, in one pass per (token, head) with an online softmax.
    PagedAttn,
    /// One sampled token per row of logits, with logprobs.
    Sample,
}

impl Kernel {
    /// The kernels the self-check compares with the CPU backend one by one (paged attention is
    /// checked after kv_write has written the new keys and values; the element-wise kernels
    /// through whole forward passes).
    pub const ALL: [Kernel; 37] = [
        Kernel::Matvec,
        Kernel::Matmul,
        Kernel::RmsNorm,
        Kernel::Softmax,
        Kernel::Q4Matvec,
        Kernel::Linear(WeightFormat::F32),
        Kernel::Linear(WeightFormat::F16),
        Kernel::Linear(WeightFormat::Q8),
        Kernel::Linear(WeightFormat::Q4),
        Kernel::LinearTiled(WeightFormat::F32),
        Kernel::LinearTiled(WeightFormat::F16),
        Kernel::LinearTiled(WeightFormat::Q8),
        Kernel::LinearTiled(WeightFormat::Q4),
        Kernel::EmbedRows(WeightFormat::F32),
        Kernel::EmbedRows(WeightFormat::F16),
        Kernel::EmbedRows(WeightFormat::Q8),
        Kernel::EmbedRows(WeightFormat::Q4),
        Kernel::LinearBlocks(GgmlType::Q8_0),
        Kernel::LinearBlocks(GgmlType::Q4_0),
        Kernel::LinearBlocks(GgmlType::Q5_0),
        Kernel::LinearBlocks(GgmlType::Q4K),
        Kernel::LinearBlocks(GgmlType::Q5K),
        Kernel::LinearBlocks(GgmlType::Q6K),
        Kernel::LinearTiledBlocks(GgmlType::Q8_0),
        Kernel::LinearTiledBlocks(GgmlType::Q4_0),
        Kernel::LinearTiledBlocks(GgmlType::Q5_0),
        Kernel::LinearTiledBlocks(GgmlType::Q4K),
        Kernel::LinearTiledBlocks(GgmlType::Q5K),
        Kernel::LinearTiledBlocks(GgmlType::Q6K),
        Kernel::EmbedRowsBlocks(GgmlType::Q8_0),
        Kernel::EmbedRowsBlocks(GgmlType::Q4_0),
        Kernel::EmbedRowsBlocks(GgmlType::Q5_0),
        Kernel::EmbedRowsBlocks(GgmlType::Q4K),
        Kernel::EmbedRowsBlocks(GgmlType::Q5K),
        Kernel::EmbedRowsBlocks(GgmlType::Q6K),
        Kernel::PagedAttn,
        Kernel::Sample,
    ];

    /// The kernel's name (also its WGSL file name).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Matvec => "matvec",
            Kernel::Matmul => "matmul",
            Kernel::RmsNorm => "rms_norm",
            Kernel::Softmax => "softmax",
            Kernel::Q4Matvec => "q4_matvec",
            Kernel::Linear(WeightFormat::F32) => "linear_f32",
            Kernel::Linear(WeightFormat::F16) => "linear_f16",
            // A Gguf matrix without kept blocks is q8 (`effective_format`); kept blocks have kernels of
            // their own.
            Kernel::Linear(WeightFormat::Q8 | WeightFormat::Gguf) => "linear_q8",
            Kernel::Linear(WeightFormat::Q4) => "linear_q4",
            Kernel::LinearTiled(WeightFormat::F32) => "linear_tiled_f32",
            Kernel::LinearTiled(WeightFormat::F16) => "linear_tiled_f16",
            Kernel::LinearTiled(WeightFormat::Q8 | WeightFormat::Gguf) => "linear_tiled_q8",
            Kernel::LinearTiled(WeightFormat::Q4) => "linear_tiled_q4",
            Kernel::EmbedRows(WeightFormat::F32) => "embed_rows_f32",
            Kernel::EmbedRows(WeightFormat::F16) => "embed_rows_f16",
            Kernel::EmbedRows(WeightFormat::Q8 | WeightFormat::Gguf) => "embed_rows_q8",
            Kernel::EmbedRows(WeightFormat::Q4) => "embed_rows_q4",
            Kernel::LinearBlocks(ty) => match ty {
                GgmlType::Q8_0 => "linear_gguf_q8_0",
                GgmlType::Q4_0 => "linear_gguf_q4_0",
                GgmlType::Q5_0 => "linear_gguf_q5_0",
                GgmlType::Q4K => "linear_gguf_q4_k",
                GgmlType::Q5K => "linear_gguf_q5_k",
                GgmlType::Q6K => "linear_gguf_q6_k",
                _ => "linear_gguf_unsupported",
            },
            Kernel::LinearTiledBlocks(ty) => match ty {
                GgmlType::Q8_0 => "linear_tiled_gguf_q8_0",
                GgmlType::Q4_0 => "linear_tiled_gguf_q4_0",
                GgmlType::Q5_0 => "linear_tiled_gguf_q5_0",
                GgmlType::Q4K => "linear_tiled_gguf_q4_k",
                GgmlType::Q5K => "linear_tiled_gguf_q5_k",
                GgmlType::Q6K => "linear_tiled_gguf_q6_k",
                _ => "linear_tiled_gguf_unsupported",
            },
            Kernel::EmbedRowsBlocks(ty) => match ty {
                GgmlType::Q8_0 => "embed_rows_gguf_q8_0",
                GgmlType::Q4_0 => "embed_rows_gguf_q4_0",
                GgmlType::Q5_0 => "embed_rows_gguf_q5_0",
                GgmlType::Q4K => "embed_rows_gguf_q4_k",
                GgmlType::Q5K => "embed_rows_gguf_q5_k",
                GgmlType::Q6K => "embed_rows_gguf_q6_k",
                _ => "embed_rows_gguf_unsupported",
            },
            Kernel::BiasAdd => "bias_add",
            Kernel::Add => "add",
            Kernel::GatedAct => "gated_act",
            Kernel::Rope => "rope",
            Kernel::KvWrite => "kv_write",
            Kernel::PagedAttn => "paged_attn",
            Kernel::Sample => "sample",
        }
    }

    pub(crate) fn source(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Kernel::Linear(format) => {
                return Cow::Owned(weight_at::specialize(include_str!("linear.wgsl"), format));
            }
            Kernel::LinearTiled(format) => {
                return Cow::Owned(weight_at::specialize(
                    include_str!("linear_tiled.wgsl"),
                    format,
                ));
            }
            Kernel::EmbedRows(format) => {
                return Cow::Owned(weight_at::specialize(
                    include_str!("embed_rows.wgsl"),
                    format,
                ));
            }
            Kernel::LinearBlocks(ty) => {
                return Cow::Owned(blocks_at::specialize(include_str!("linear.wgsl"), ty));
            }
            Kernel::LinearTiledBlocks(ty) => {
                return Cow::Owned(blocks_at::specialize(include_str!("linear_tiled.wgsl"), ty));
            }
            Kernel::EmbedRowsBlocks(ty) => {
                return Cow::Owned(blocks_at::specialize(include_str!("embed_rows.wgsl"), ty));
            }
            Kernel::Matvec => include_str!("matvec.wgsl"),
            Kernel::Matmul => include_str!("matmul.wgsl"),
            Kernel::RmsNorm => include_str!("rms_norm.wgsl"),
            Kernel::Softmax => include_str!("softmax.wgsl"),
            Kernel::Q4Matvec => include_str!("q4_matvec.wgsl"),
            Kernel::BiasAdd => include_str!("bias_add.wgsl"),
            Kernel::Add => include_str!("add.wgsl"),
            Kernel::GatedAct => include_str!("gated_act.wgsl"),
            Kernel::Rope => include_str!("rope.wgsl"),
            Kernel::KvWrite => include_str!("kv_write.wgsl"),
            Kernel::PagedAttn => include_str!("paged_attn.wgsl"),
            Kernel::Sample => include_str!("sample.wgsl"),
        })
    }

    /// Storage buffers the kernel binds (the uniform comes after them).
    pub(crate) fn storage_bindings(self) -> usize {
        match self {
            Kernel::Matvec
            | Kernel::Matmul
            | Kernel::RmsNorm
            | Kernel::GatedAct
            | Kernel::KvWrite
            | Kernel::Sample
            | Kernel::LinearBlocks(_)
            | Kernel::LinearTiledBlocks(_)
            | Kernel::EmbedRowsBlocks(_) => 3,
            Kernel::PagedAttn => 5,
            Kernel::Softmax | Kernel::BiasAdd | Kernel::Add | Kernel::Rope => 2,
            Kernel::Q4Matvec => 4,
            Kernel::Linear(f) | Kernel::LinearTiled(f) | Kernel::EmbedRows(f) => {
                3 + usize::from(weight_at::has_scales(f))
            }
        }
    }
}
