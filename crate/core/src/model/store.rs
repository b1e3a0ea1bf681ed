//! Where a model's tensors come from, by their HF names: safetensors checkpoints, or GGUF files
//! through llama.cpp's names.

use crate::error::Result;

/// A tensor as f32 values with its shape (HF layout: Linear weights are [out, in]).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorData {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// A source of tensors by HF name ("model.layers.0.self_attn.q_proj.weight").
#[allow(async_fn_in_trait)]
pub trait TensorStore {
    /// Whether the tensor exists.
    fn contains(&self, name: &str) -> bool;

    /// Reads one tensor as f32.
    async fn tensor_f32(&self, name: &str) -> Result<TensorData>;
}
