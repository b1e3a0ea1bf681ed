//! Model configuration: HF config.json (both the released schema with `rope_theta` /
//! `rope_scaling` / `rope_local_base_freq` and transformers 5's `rope_parameters`) and GGUF
//! metadata. Each family's defaults and layer form come from its entry in [`super::arch`].

pub use super::arch::Activation;
use super::arch::{self, ArchSpec, Architecture, DefaultLayers};
use super::gguf::{GgufFile, GgufValue};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;

/// Rotary embedding frequencies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum RopeScaling {
    /// Plain rotary embeddings.
    None,
    /// Positions divided by `factor`.
    Linear {
        /// The divisor.
        factor: f64,
    },
    /// Llama 3's frequency-dependent scaling.
    Llama3 {
        /// Scale of the low frequencies.
        factor: f64,
        /// Wavelength bound (as a fraction of the original context) below which nothing scales.
        low_freq_factor: f64,
        /// Wavelength bound above which frequencies scale fully.
        high_freq_factor: f64,
        /// The context length the model was trained with before extension.
        original_max_position_embeddings: f64,
    },
    /// Each inverse frequency divided by its own factor (llama.cpp's `rope_freqs.weight`, which
    /// its converter writes for Llama 3 scaling instead of the parameters).
    Factors(Vec<f32>),
}

/// Rotary embedding parameters of one kind of layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rope {
    /// Base of the frequencies.
    pub theta: f64,
    /// Frequency scaling.
    pub scaling: RopeScaling,
}

/// Which attention a layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LayerAttention {
    /// Attends to every earlier position.
    Full,
    /// Attends to the last `sliding_window` positions (Gemma 3 local layers).
    Sliding,
}

/// Everything the forward pass needs to know about a model's shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelConfig {
    /// The family.
    pub architecture: Architecture,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention).
    pub num_key_value_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// Longest context.
    pub max_position_embeddings: usize,
    /// Whether the LM head is the embedding matrix.
    pub tie_word_embeddings: bool,
    /// MLP activation.
    pub hidden_act: Activation,
    /// Rotary embeddings of full-attention layers.
    pub rope: Rope,
    /// Rotary embeddings of sliding-window layers (Gemma 3's local base), if different.
    pub rope_local: Option<Rope>,
    /// Window of sliding layers.
    pub sliding_window: Option<usize>,
    /// Attention kind of each layer.
    pub layer_types: Vec<LayerAttention>,
    /// Whether q/k/v projections have biases (Qwen2).
    pub attention_bias: bool,
    /// Attention scores are scaled by 1/sqrt(this) (Gemma 3); default head_dim.
    pub query_pre_attn_scalar: f64,
    /// Beginning-of-sequence token.
    pub bos_token_id: Option<u32>,
    /// End-of-sequence tokens.
    pub eos_token_ids: Vec<u32>,
    /// Labels of a token classifier (`architectures` names a `*ForTokenClassification` model,
    /// as TRL's PRMTrainer trains): `id2label`'s size, else `num_labels`, else 2. Such a model
    /// has no LM head, so its (never read) logits come from the embedding.
    pub token_classes: Option<usize>,
    /// How the family's decoder layer differs from the plain pre-norm layer.
    pub form: LayerForm,
}

/// The decoder-layer differences between families, as data the one decoder layer reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LayerForm {
    /// RMSNorm multiplies by (norm_offset + weight).
    pub norm_offset: f32,
    /// Embedding rows are multiplied by this (Gemma: sqrt(hidden_size); else 1).
    pub embedding_scale: f32,
    /// Per-head RMSNorm of queries and keys before the rotary embedding.
    pub qk_norm: bool,
    /// Norms of the attention output and of the MLP output besides the two input norms.
    pub sandwich_norms: bool,
}

fn cfg_error(detail: impl Into<String>) -> Error {
    Error::format("model config", detail)
}

fn get_usize(v: &Value, key: &str) -> Result<usize> {
    v.get(key)
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(|| cfg_error(format!("missing or non-integer field \"{key}\"")))
}

fn opt_f64(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn token_ids(v: Option<&Value>) -> Vec<u32> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|n| vec![n as u32]).unwrap_or_default(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_u64)
            .map(|n| n as u32)
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads one rope description: `{"rope_type"|"type", "rope_theta"?, "factor", ...}`.
fn rope_from(params: Option<&Value>, theta: f64) -> Result<Rope> {
    let Some(p) = params.filter(|p| p.is_object()) else {
        return Ok(Rope {
            theta,
            scaling: RopeScaling::None,
        });
    };
    let theta = opt_f64(p, "rope_theta").unwrap_or(theta);
    let kind = p
        .get("rope_type")
        .or_else(|| p.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    let factor = || {
        opt_f64(p, "factor")
            .ok_or_else(|| cfg_error(format!("rope type {kind} without \"factor\"")))
    };
    let scaling = match kind {
        "default" => RopeScaling::None,
        "linear" => RopeScaling::Linear { factor: factor()? },
        "llama3" => RopeScaling::Llama3 {
            factor: factor()?,
            low_freq_factor: opt_f64(p, "low_freq_factor").unwrap_or(1.0),
            high_freq_factor: opt_f64(p, "high_freq_factor").unwrap_or(4.0),
            original_max_position_embeddings: opt_f64(p, "original_max_position_embeddings")
                .unwrap_or(8192.0),
        },
        other => return Err(Error::Unsupported(format!("rope scaling type \"{other}\""))),
    };
    Ok(Rope { theta, scaling })
}

/// The labels of a token classifier (see [`ModelConfig::token_classes`]); None for other
/// architectures.
fn token_classes(v: &Value) -> Option<usize> {
    let class = v
        .get("architectures")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)?;
    if !class.ends_with("ForTokenClassification") {
        return None;
    }
    let labels = v
        .get("id2label")
        .and_then(Value::as_object)
        .map(|m| m.len())
        .or_else(|| {
            v.get("num_labels")
                .and_then(Value::as_u64)
                .map(|n| n as usize)
        });
    Some(labels.unwrap_or(2))
}

fn architecture_of(v: &Value) -> Result<&'static ArchSpec> {
    let named = v
        .get("architectures")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str);
    let model_type = v.get("model_type").and_then(Value::as_str);
    match (named, model_type) {
        (Some(name), _) => arch::by_hf_class(name)
            .ok_or_else(|| Error::Unsupported(format!("architecture {name}"))),
        (None, Some(name)) => arch::by_model_type(name)
            .ok_or_else(|| Error::Unsupported(format!("model_type {name}"))),
        (None, None) => Err(cfg_error(
            "neither \"architectures\" nor \"model_type\" is given",
        )),
    }
}

/// Layer kinds from a family's default pattern.
fn default_layers(spec: &ArchSpec, layers: usize, period: Option<usize>) -> Vec<LayerAttention> {
    match spec.default_layers {
        DefaultLayers::AllFull => vec![LayerAttention::Full; layers],
        DefaultLayers::GlobalEvery(n) => {
            let n = period.unwrap_or(n).max(1);
            (0..layers)
                .map(|i| {
                    if (i + 1) % n == 0 {
                        LayerAttention::Full
                    } else {
                        LayerAttention::Sliding
                    }
                })
                .collect()
        }
    }
}

impl From<&ModelConfig> for crate::kv::KvShape {
    fn from(c: &ModelConfig) -> Self {
        Self {
            layers: c.num_hidden_layers,
            kv_heads: c.num_key_value_heads,
            head_dim: c.head_dim,
        }
    }
}

impl LayerForm {
    /// The layer form of `spec`'s family at width `hidden_size`.
    fn of(spec: &ArchSpec, hidden_size: usize) -> Self {
        Self {
            norm_offset: spec.norm_offset,
            embedding_scale: if spec.scale_embedding {
                (hidden_size as f32).sqrt()
            } else {
                1.0
            },
            qk_norm: spec.qk_norm,
            sandwich_norms: spec.sandwich_norms,
        }
    }
}

impl ModelConfig {
    /// Parameters of the weight matrices (embedding, attention, MLP, LM head when untied);
    /// norms and biases are left out.
    pub fn parameter_count(&self) -> u64 {
        let h = self.hidden_size as u64;
        let q = (self.num_attention_heads * self.head_dim) as u64;
        let kv = (self.num_key_value_heads * self.head_dim) as u64;
        let layer = h * q * 2 + h * kv * 2 + 3 * h * self.intermediate_size as u64;
        let embed = self.vocab_size as u64 * h;
        let head = if self.tie_word_embeddings { 0 } else { embed };
        embed + head + layer * self.num_hidden_layers as u64
    }

    /// Parses an HF config.json.
    pub fn from_hf_json(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| cfg_error(format!("config.json is not JSON: {e}")))?;
        let spec = architecture_of(&v)?;
        let hidden_size = get_usize(&v, "hidden_size")?;
        let num_attention_heads = get_usize(&v, "num_attention_heads")?;
        let num_hidden_layers = get_usize(&v, "num_hidden_layers")?;
        let head_dim = match v.get("head_dim").and_then(Value::as_u64) {
            Some(d) => d as usize,
            None if num_attention_heads > 0 => hidden_size / num_attention_heads,
            None => return Err(cfg_error("num_attention_heads is zero")),
        };
        let default_theta = spec.rope_theta;
        let local_theta = spec.local_rope_theta.unwrap_or(10_000.0);
        let params = v.get("rope_parameters");
        let (rope, rope_local) =
            if let Some(p) = params.filter(|p| p.get("full_attention").is_some()) {
                // transformers 5 Gemma 3: one rope per layer type.
                let full = rope_from(p.get("full_attention"), default_theta)?;
                let local = rope_from(p.get("sliding_attention"), local_theta)?;
                (full, Some(local))
            } else {
                let theta = opt_f64(&v, "rope_theta").unwrap_or(default_theta);
                let rope = rope_from(params.or_else(|| v.get("rope_scaling")), theta)?;
                let local = spec.local_rope_theta.map(|theta| Rope {
                    theta: opt_f64(&v, "rope_local_base_freq").unwrap_or(theta),
                    scaling: RopeScaling::None,
                });
                (rope, local)
            };
        let sliding_window = v
            .get("sliding_window")
            .and_then(Value::as_u64)
            .map(|w| w as usize);
        let layer_types = match v.get("layer_types").and_then(Value::as_array) {
            Some(types) => types
                .iter()
                .map(|t| match t.as_str() {
                    Some("full_attention") => Ok(LayerAttention::Full),
                    Some("sliding_attention") => Ok(LayerAttention::Sliding),
                    other => Err(Error::Unsupported(format!("layer type {other:?}"))),
                })
                .collect::<Result<Vec<_>>>()?,
            None => {
                let pattern = v
                    .get("sliding_window_pattern")
                    .or_else(|| v.get("_sliding_window_pattern"))
                    .and_then(Value::as_u64);
                default_layers(spec, num_hidden_layers, pattern.map(|p| p as usize))
            }
        };
        if layer_types.len() != num_hidden_layers {
            return Err(cfg_error(format!(
                "{} layer types for {num_hidden_layers} layers",
                layer_types.len()
            )));
        }
        let act = v
            .get("hidden_activation")
            .or_else(|| v.get("hidden_act"))
            .and_then(Value::as_str);
        let hidden_act = match act {
            None => spec.activation,
            Some("silu" | "swish") => Activation::Silu,
            Some("gelu_pytorch_tanh" | "gelu_tanh") => Activation::GeluTanh,
            Some(other) => return Err(Error::Unsupported(format!("activation {other}"))),
        };
        let token_classes = token_classes(&v);
        let config = Self {
            architecture: spec.architecture,
            vocab_size: get_usize(&v, "vocab_size")?,
            hidden_size,
            intermediate_size: get_usize(&v, "intermediate_size")?,
            num_hidden_layers,
            num_attention_heads,
            num_key_value_heads: v
                .get("num_key_value_heads")
                .and_then(Value::as_u64)
                .map_or(num_attention_heads, |n| n as usize),
            head_dim,
            rms_norm_eps: opt_f64(&v, "rms_norm_eps").unwrap_or(1e-6),
            max_position_embeddings: get_usize(&v, "max_position_embeddings")?,
            tie_word_embeddings: token_classes.is_some()
                || v.get("tie_word_embeddings")
                    .and_then(Value::as_bool)
                    .unwrap_or(spec.tie_word_embeddings),
            hidden_act,
            rope,
            rope_local,
            sliding_window: sliding_window.filter(|_| spec.sliding_window),
            layer_types,
            attention_bias: spec.qkv_bias
                || v.get("attention_bias")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            query_pre_attn_scalar: opt_f64(&v, "query_pre_attn_scalar").unwrap_or(head_dim as f64),
            bos_token_id: token_ids(v.get("bos_token_id")).first().copied(),
            eos_token_ids: token_ids(v.get("eos_token_id")),
            token_classes,
            form: LayerForm::of(spec, hidden_size),
        };
        config.validate()
    }

    /// Reads the same fields from GGUF metadata (llama.cpp's key names).
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let arch = file
            .get("general.architecture")
            .and_then(GgufValue::as_str)
            .ok_or_else(|| cfg_error("GGUF without general.architecture"))?;
        let spec = arch::by_gguf_name(arch)
            .ok_or_else(|| Error::Unsupported(format!("GGUF architecture {arch}")))?;
        let num = |key: &str| -> Result<usize> {
            file.get(&format!("{arch}.{key}"))
                .and_then(GgufValue::as_u64)
                .map(|n| n as usize)
                .ok_or_else(|| cfg_error(format!("GGUF without {arch}.{key}")))
        };
        let float = |key: &str| {
            file.get(&format!("{arch}.{key}"))
                .and_then(GgufValue::as_f64)
        };
        let hidden_size = num("embedding_length")?;
        let num_attention_heads = num("attention.head_count")?;
        let num_hidden_layers = num("block_count")?;
        let head_dim =
            num("attention.key_length").unwrap_or(hidden_size / num_attention_heads.max(1));
        let vocab_size = match file
            .get("tokenizer.ggml.tokens")
            .and_then(GgufValue::as_array)
        {
            Some(tokens) => tokens.len(),
            None => num("vocab_size")?,
        };
        let scaling = match file
            .get(&format!("{arch}.rope.scaling.type"))
            .and_then(GgufValue::as_str)
        {
            Some("linear") => RopeScaling::Linear {
                factor: float("rope.scaling.factor").unwrap_or(1.0),
            },
            // llama.cpp bakes llama3 scaling into a rope_freqs tensor; it is applied from there.
            _ => RopeScaling::None,
        };
        let rope = Rope {
            theta: float("rope.freq_base").unwrap_or(spec.rope_theta),
            scaling,
        };
        // llama.cpp's Gemma 3: a per-layer sliding_window_pattern array when the converter wrote
        // one, else a period (every n-th layer global; the family's default when absent).
        let pattern = file.get(&format!("{arch}.attention.sliding_window_pattern"));
        let layer_types = match pattern.and_then(GgufValue::as_array) {
            Some(flags) if flags.len() == num_hidden_layers && spec.sliding_window => flags
                .iter()
                .map(|f| match f {
                    GgufValue::Bool(b) => Some(*b),
                    other => other.as_u64().map(|v| v != 0),
                })
                .map(|s| {
                    s.map(|sliding| {
                        if sliding {
                            LayerAttention::Sliding
                        } else {
                            LayerAttention::Full
                        }
                    })
                })
                .collect::<Option<_>>()
                .ok_or_else(|| cfg_error("GGUF sliding_window_pattern is not booleans"))?,
            Some(flags) if flags.len() != num_hidden_layers => {
                return Err(cfg_error(format!(
                    "GGUF sliding_window_pattern has {} entries for {num_hidden_layers} layers",
                    flags.len()
                )));
            }
            _ => default_layers(
                spec,
                num_hidden_layers,
                pattern.and_then(GgufValue::as_u64).map(|p| p as usize),
            ),
        };
        let token = |key: &str| file.get(key).and_then(GgufValue::as_u64).map(|n| n as u32);
        let config = Self {
            architecture: spec.architecture,
            vocab_size,
            hidden_size,
            intermediate_size: num("feed_forward_length")?,
            num_hidden_layers,
            num_attention_heads,
            num_key_value_heads: num("attention.head_count_kv").unwrap_or(num_attention_heads),
            head_dim,
            rms_norm_eps: float("attention.layer_norm_rms_epsilon").unwrap_or(1e-6),
            max_position_embeddings: num("context_length")?,
            tie_word_embeddings: file.tensor("output.weight").is_none(),
            hidden_act: spec.activation,
            rope,
            rope_local: spec.local_rope_theta.map(|theta| Rope {
                theta: float("rope.freq_base_swa").unwrap_or(theta),
                scaling: RopeScaling::None,
            }),
            sliding_window: num("attention.sliding_window")
                .ok()
                .filter(|_| spec.sliding_window),
            layer_types,
            attention_bias: spec.qkv_bias,
            query_pre_attn_scalar: head_dim as f64,
            bos_token_id: token("tokenizer.ggml.bos_token_id"),
            eos_token_ids: token("tokenizer.ggml.eos_token_id").into_iter().collect(),
            token_classes: None,
            form: LayerForm::of(spec, hidden_size),
        };
        config.validate()
    }

    fn validate(self) -> Result<Self> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("head_dim", self.head_dim),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(cfg_error(format!("{name} is zero")));
        }
        if !self
            .num_attention_heads
            .is_multiple_of(self.num_key_value_heads)
        {
            return Err(cfg_error(format!(
                "{} attention heads are not a multiple of {} key/value heads",
                self.num_attention_heads, self.num_key_value_heads
            )));
        }
        if !self.head_dim.is_multiple_of(2) {
            return Err(cfg_error(format!(
                "head_dim {} is odd: rotary embeddings need pairs",
                self.head_dim
            )));
        }
        Ok(self)
    }
}
