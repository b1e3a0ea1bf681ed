//! Every tensor of a model, spelled once: its part in the decoder, its HF name, llama.cpp's GGUF
//! name, its shape from the config, and whether the family has it. Weight loading, the GGUF name
//! map and the random-weight store all read this one list.

use super::config::ModelConfig;

/// A tensor's part in the model (the fields of [`super::Weights`] and [`super::LayerWeights`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Token embedding [vocab, hidden].
    EmbedTokens,
    /// Final norm [hidden].
    Norm,
    /// LM head [vocab, hidden] (the embedding when tied and absent).
    LmHead,
    /// Norm before attention [hidden].
    InputLayernorm,
    /// Query projection [heads * head_dim, hidden].
    QProj,
    /// Query bias [heads * head_dim].
    QBias,
    /// Key projection [kv_heads * head_dim, hidden].
    KProj,
    /// Key bias [kv_heads * head_dim].
    KBias,
    /// Value projection [kv_heads * head_dim, hidden].
    VProj,
    /// Value bias [kv_heads * head_dim].
    VBias,
    /// Output projection [hidden, heads * head_dim].
    OProj,
    /// Per-head query norm [head_dim].
    QNorm,
    /// Per-head key norm [head_dim].
    KNorm,
    /// Norm of the attention output [hidden] (sandwich-norm families).
    PostAttentionLayernorm,
    /// Norm before the MLP [hidden] (HF Llama and Qwen2 call it `post_attention_layernorm`).
    PreFeedforwardLayernorm,
    /// Norm of the MLP output [hidden] (sandwich-norm families).
    PostFeedforwardLayernorm,
    /// MLP gate [intermediate, hidden].
    GateProj,
    /// MLP up [intermediate, hidden].
    UpProj,
    /// MLP down [hidden, intermediate].
    DownProj,
}

impl Part {
    /// Every part: the model-level ones, then those of a decoder layer.
    pub const ALL: [Part; 19] = [
        Part::EmbedTokens,
        Part::Norm,
        Part::LmHead,
        Part::InputLayernorm,
        Part::QProj,
        Part::QBias,
        Part::KProj,
        Part::KBias,
        Part::VProj,
        Part::VBias,
        Part::OProj,
        Part::QNorm,
        Part::KNorm,
        Part::PostAttentionLayernorm,
        Part::PreFeedforwardLayernorm,
        Part::PostFeedforwardLayernorm,
        Part::GateProj,
        Part::UpProj,
        Part::DownProj,
    ];

    /// Whether the part is an RMSNorm weight.
    pub fn is_norm(self) -> bool {
        matches!(
            self,
            Part::Norm
                | Part::InputLayernorm
                | Part::QNorm
                | Part::KNorm
                | Part::PostAttentionLayernorm
                | Part::PreFeedforwardLayernorm
                | Part::PostFeedforwardLayernorm
        )
    }

    /// Whether the part belongs to a decoder layer.
    pub fn in_layer(self) -> bool {
        !matches!(self, Part::EmbedTokens | Part::Norm | Part::LmHead)
    }
}

/// One tensor of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Its part.
    pub part: Part,
    /// Its decoder layer, for layer parts.
    pub layer: Option<usize>,
    /// The HF name ("model.layers.0.self_attn.q_proj.weight").
    pub name: String,
    /// llama.cpp's GGUF name ("blk.0.attn_q.weight").
    pub gguf_name: String,
    /// The HF shape, outermost first (Linear weights are [out, in]).
    pub shape: Vec<usize>,
    /// Whether a checkpoint must have it (a tied LM head may be absent).
    pub required: bool,
}

impl TensorSpec {
    /// Whether it is a matrix (stored in the load format) rather than a norm or a bias (f32).
    pub fn is_matrix(&self) -> bool {
        self.shape.len() == 2
    }
}

/// The HF name, GGUF name and shape of `part` in `config`'s family; `None` where the family has no
/// such tensor. HF layer names are relative to "model.layers.{l}.", GGUF ones to "blk.{l}.".
fn describe(c: &ModelConfig, part: Part) -> Option<(&'static str, &'static str, Vec<usize>)> {
    let (h, i, v, d) = (c.hidden_size, c.intermediate_size, c.vocab_size, c.head_dim);
    let (q, kv) = (c.num_attention_heads * d, c.num_key_value_heads * d);
    let sandwich = c.form.sandwich_norms;
    Some(match part {
        Part::EmbedTokens => ("model.embed_tokens.weight", "token_embd.weight", vec![v, h]),
        Part::Norm => ("model.norm.weight", "output_norm.weight", vec![h]),
        Part::LmHead => ("lm_head.weight", "output.weight", vec![v, h]),
        Part::InputLayernorm => ("input_layernorm.weight", "attn_norm.weight", vec![h]),
        Part::QProj => ("self_attn.q_proj.weight", "attn_q.weight", vec![q, h]),
        Part::KProj => ("self_attn.k_proj.weight", "attn_k.weight", vec![kv, h]),
        Part::VProj => ("self_attn.v_proj.weight", "attn_v.weight", vec![kv, h]),
        Part::QBias if c.attention_bias => ("self_attn.q_proj.bias", "attn_q.bias", vec![q]),
        Part::KBias if c.attention_bias => ("self_attn.k_proj.bias", "attn_k.bias", vec![kv]),
        Part::VBias if c.attention_bias => ("self_attn.v_proj.bias", "attn_v.bias", vec![kv]),
        Part::OProj => ("self_attn.o_proj.weight", "attn_output.weight", vec![h, q]),
        Part::QNorm if c.form.qk_norm => ("self_attn.q_norm.weight", "attn_q_norm.weight", vec![d]),
        Part::KNorm if c.form.qk_norm => ("self_attn.k_norm.weight", "attn_k_norm.weight", vec![d]),
        Part::PostAttentionLayernorm if sandwich => (
            "post_attention_layernorm.weight",
            "post_attention_norm.weight",
            vec![h],
        ),
        Part::PreFeedforwardLayernorm if sandwich => (
            "pre_feedforward_layernorm.weight",
            "ffn_norm.weight",
            vec![h],
        ),
        Part::PreFeedforwardLayernorm => (
            "post_attention_layernorm.weight",
            "ffn_norm.weight",
            vec![h],
        ),
        Part::PostFeedforwardLayernorm if sandwich => (
            "post_feedforward_layernorm.weight",
            "post_ffw_norm.weight",
            vec![h],
        ),
        Part::GateProj => ("mlp.gate_proj.weight", "ffn_gate.weight", vec![i, h]),
        Part::UpProj => ("mlp.up_proj.weight", "ffn_up.weight", vec![i, h]),
        Part::DownProj => ("mlp.down_proj.weight", "ffn_down.weight", vec![h, i]),
        _ => return None,
    })
}

impl ModelConfig {
    /// Tensor `part` (of decoder layer `layer` for layer parts), or `None` where the family has
    /// no such tensor or `layer` is out of range.
    pub fn tensor(&self, part: Part, layer: Option<usize>) -> Option<TensorSpec> {
        let (name, gguf, shape) = describe(self, part)?;
        let (name, gguf_name) = match (part.in_layer(), layer) {
            (true, Some(l)) if l < self.num_hidden_layers => (
                format!("model.layers.{l}.{name}"),
                format!("blk.{l}.{gguf}"),
            ),
            (false, None) => (name.to_string(), gguf.to_string()),
            _ => return None,
        };
        Some(TensorSpec {
            part,
            layer,
            name,
            gguf_name,
            shape,
            required: part != Part::LmHead || !self.tie_word_embeddings,
        })
    }

    /// Every tensor the model has: the model-level ones, then each layer's.
    pub fn tensors(&self) -> Vec<TensorSpec> {
        let globals = Part::ALL
            .iter()
            .filter(|p| !p.in_layer())
            .filter_map(|&p| self.tensor(p, None));
        let layers = (0..self.num_hidden_layers).flat_map(move |l| {
            Part::ALL
                .iter()
                .filter(|p| p.in_layer())
                .filter_map(move |&p| self.tensor(p, Some(l)))
        });
        globals.chain(layers).collect()
    }
}
