//! The model families ttsearch runs, each described once as data: how its config names it, its
//! defaults, and how its decoder layer differs from the others (norm form, embedding scale,
//! q/k norms, extra norms, activation, biases, local attention). The config parsers read this
//! table and the one decoder layer reads the resulting [`super::ModelConfig`]; adding a family
//! that fits the layer is one entry here.

use serde::Serialize;

/// The model families ttsearch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Architecture {
    /// Qwen2 / Qwen2.5 (q/k/v biases).
    Qwen2,
    /// Llama 3.x, SmolLM2 and other Llama-architecture models.
    Llama,
    /// Gemma 3 text (q/k norms, four norms per layer, local and global attention layers).
    Gemma3,
}

/// MLP activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Activation {
    /// SiLU (SwiGLU MLPs of Qwen2 and Llama).
    Silu,
    /// GELU with the tanh approximation (Gemma 3's GeGLU).
    GeluTanh,
}

/// Which layers attend to a sliding window when a config does not list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultLayers {
    /// Every layer attends to the whole context.
    AllFull,
    /// Every `n`-th layer (1-based) is global, the others sliding (Gemma 3: 6).
    GlobalEvery(usize),
}

/// One family's facts.
#[derive(Debug, Clone, Copy)]
pub struct ArchSpec {
    /// The family.
    pub architecture: Architecture,
    /// config.json `architectures[0]` values (PRMs on the family's backbone included).
    pub hf_classes: &'static [&'static str],
    /// config.json `model_type` when `architectures` is absent.
    pub model_type: &'static str,
    /// GGUF `general.architecture`.
    pub gguf_name: &'static str,
    /// Rotary base when the config gives none.
    pub rope_theta: f64,
    /// Rotary base of sliding-window layers when they have their own (Gemma 3: 10,000).
    pub local_rope_theta: Option<f64>,
    /// RMSNorm multiplies by (norm_offset + weight) (Gemma stores weights around zero).
    pub norm_offset: f32,
    /// Embedding rows are multiplied by sqrt(hidden_size) (Gemma).
    pub scale_embedding: bool,
    /// Per-head RMSNorm of queries and keys before the rotary embedding (Gemma 3).
    pub qk_norm: bool,
    /// Norms of the attention output and of the MLP output too (Gemma 3's four per layer).
    pub sandwich_norms: bool,
    /// MLP activation when the config gives none.
    pub activation: Activation,
    /// q/k/v projections always have biases (Qwen2), whatever the config says.
    pub qkv_bias: bool,
    /// transformers' default of `tie_word_embeddings` for the family.
    pub tie_word_embeddings: bool,
    /// Layer kinds when the config lists none.
    pub default_layers: DefaultLayers,
    /// Whether the family uses its sliding window (Qwen2's `use_sliding_window` is false in every
    /// released checkpoint; Llama has none).
    pub sliding_window: bool,
    /// llama.cpp's converter interleaves the two rotary halves of each Q/K head (Llama).
    pub gguf_permutes_qk: bool,
}

/// Every family ttsearch runs.
pub const ARCHITECTURES: [ArchSpec; 3] = [
    ArchSpec {
        architecture: Architecture::Qwen2,
        // PRMs on a Qwen2 backbone: Skywork-o1-Open-PRM, Qwen2.5-Math-PRM, TRL's PRMTrainer.
        hf_classes: &[
            "Qwen2ForCausalLM",
            "Qwen2ForPrmModel",
            "Qwen2ForProcessRewardModel",
            "Qwen2ForTokenClassification",
        ],
        model_type: "qwen2",
        gguf_name: "qwen2",
        rope_theta: 10_000.0,
        local_rope_theta: None,
        norm_offset: 0.0,
        scale_embedding: false,
        qk_norm: false,
        sandwich_norms: false,
        activation: Activation::Silu,
        qkv_bias: true,
        tie_word_embeddings: false,
        default_layers: DefaultLayers::AllFull,
        sliding_window: false,
        gguf_permutes_qk: false,
    },
    ArchSpec {
        architecture: Architecture::Llama,
        hf_classes: &["LlamaForCausalLM", "LlamaForTokenClassification"],
        model_type: "llama",
        gguf_name: "llama",
        rope_theta: 10_000.0,
        local_rope_theta: None,
        norm_offset: 0.0,
        scale_embedding: false,
        qk_norm: false,
        sandwich_norms: false,
        activation: Activation::Silu,
        qkv_bias: false,
        tie_word_embeddings: false,
        default_layers: DefaultLayers::AllFull,
        sliding_window: false,
        gguf_permutes_qk: true,
    },
    ArchSpec {
        architecture: Architecture::Gemma3,
        hf_classes: &["Gemma3ForCausalLM"],
        model_type: "gemma3_text",
        gguf_name: "gemma3",
        rope_theta: 1_000_000.0,
        local_rope_theta: Some(10_000.0),
        norm_offset: 1.0,
        scale_embedding: true,
        qk_norm: true,
        sandwich_norms: true,
        activation: Activation::GeluTanh,
        qkv_bias: false,
        tie_word_embeddings: true,
        default_layers: DefaultLayers::GlobalEvery(6),
        sliding_window: true,
        gguf_permutes_qk: false,
    },
];

impl Architecture {
    /// The family's facts.
    pub fn spec(self) -> &'static ArchSpec {
        // The table's order (checked by a test).
        match self {
            Architecture::Qwen2 => &ARCHITECTURES[0],
            Architecture::Llama => &ARCHITECTURES[1],
            Architecture::Gemma3 => &ARCHITECTURES[2],
        }
    }
}

/// The family a config.json names by `architectures[0]`.
pub fn by_hf_class(name: &str) -> Option<&'static ArchSpec> {
    ARCHITECTURES.iter().find(|a| a.hf_classes.contains(&name))
}

/// The family a config.json names by `model_type`.
pub fn by_model_type(name: &str) -> Option<&'static ArchSpec> {
    ARCHITECTURES.iter().find(|a| a.model_type == name)
}

/// The family of a GGUF `general.architecture`.
pub fn by_gguf_name(name: &str) -> Option<&'static ArchSpec> {
    ARCHITECTURES.iter().find(|a| a.gguf_name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_one_entry() {
        for arch in [
            Architecture::Qwen2,
            Architecture::Llama,
            Architecture::Gemma3,
        ] {
            let entries = ARCHITECTURES
                .iter()
                .filter(|a| a.architecture == arch)
                .count();
            assert_eq!(entries, 1, "{arch:?}");
            assert_eq!(arch.spec().architecture, arch);
        }
    }
}
