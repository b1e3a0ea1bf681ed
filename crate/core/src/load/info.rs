//! What a loaded model is, for a caller to show or check: family, size, weight format, bytes on
//! the device, context length and special tokens.

use super::LoadedModel;
use crate::engine::Backend;
use crate::quant::WeightFormat;

/// A description of a loaded model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelInfo {
    /// "Qwen2", "Llama" or "Gemma3".
    pub architecture: String,
    /// Decoder layers.
    pub layers: usize,
    /// Parameters of the weight matrices.
    pub parameters: u64,
    /// Weight format in the engine.
    pub dtype: String,
    /// "cpu" or "gpu".
    pub backend: String,
    /// Bytes of weights and KV cache on the GPU (0 on the CPU backend).
    pub device_bytes: u64,
    /// KV-cache blocks and positions per block.
    pub kv_blocks: usize,
    /// Positions per KV-cache block.
    pub block_size: usize,
    /// Longest context.
    pub context_length: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Beginning-of-sequence token, text and id.
    pub bos_token: Option<(String, u32)>,
    /// Tokens that end generation.
    pub eos_token_ids: Vec<u32>,
    /// Whether the tokenizer has a chat template.
    pub chat_template: bool,
}

impl ModelInfo {
    pub(super) fn of(model: &LoadedModel, dtype: WeightFormat) -> Self {
        let backend = model.engine.backend();
        let c = backend.config();
        let blocks = backend.blocks();
        let tokenizer = model.tokenizer.as_ref().ok();
        Self {
            architecture: format!("{:?}", c.architecture),
            layers: c.num_hidden_layers,
            parameters: c.parameter_count(),
            dtype: dtype.name().to_string(),
            backend: backend.kind().to_string(),
            device_bytes: backend.device_bytes(),
            kv_blocks: blocks.num_blocks(),
            block_size: blocks.block_size(),
            context_length: c.max_position_embeddings,
            vocab_size: c.vocab_size,
            bos_token: tokenizer.and_then(|t| t.bos_token.clone().zip(t.bos_token_id)),
            eos_token_ids: model.engine.eos_tokens().to_vec(),
            chat_template: tokenizer.is_some_and(|t| t.chat_template.is_some()),
        }
    }
}
