//! A model's weights as f32 host arrays, loaded by HF name from a [`TensorStore`] and checked
//! against the config's shapes.

use super::config::{Architecture, ModelConfig};
use super::store::{TensorData, TensorStore};
use crate::error::{Error, Result};
use crate::quant::{WeightFormat, WeightMatrix};

/// A Linear layer: weight [out, in] (+ bias [out]).
#[derive(Debug, Clone)]
pub struct Linear {
    /// [out_features, in_features] in the load format.
    pub weight: WeightMatrix,
    /// [out_features], if the layer has one.
    pub bias: Option<Vec<f32>>,
    /// Output width.
    pub out_features: usize,
    /// Input width.
    pub in_features: usize,
}

/// One decoder layer.
#[derive(Debug, Clone)]
pub struct LayerWeights {
    /// Norm before attention.
    pub input_layernorm: Vec<f32>,
    /// Query projection.
    pub q_proj: Linear,
    /// Key projection.
    pub k_proj: Linear,
    /// Value projection.
    pub v_proj: Linear,
    /// Output projection.
    pub o_proj: Linear,
    /// Per-head query norm (Gemma 3).
    pub q_norm: Option<Vec<f32>>,
    /// Per-head key norm (Gemma 3).
    pub k_norm: Option<Vec<f32>>,
    /// Llama/Qwen: the norm before the MLP. Gemma 3: the norm of the attention output.
    pub post_attention_layernorm: Vec<f32>,
    /// Gemma 3: the norm before the MLP.
    pub pre_feedforward_layernorm: Option<Vec<f32>>,
    /// Gemma 3: the norm of the MLP output.
    pub post_feedforward_layernorm: Option<Vec<f32>>,
    /// MLP gate.
    pub gate_proj: Linear,
    /// MLP up.
    pub up_proj: Linear,
    /// MLP down.
    pub down_proj: Linear,
}

/// All weights of a causal LM: matrices in the load format, norms and biases in f32.
#[derive(Debug, Clone)]
pub struct ModelWeights {
    /// [vocab, hidden].
    pub embed_tokens: WeightMatrix,
    /// Decoder layers.
    pub layers: Vec<LayerWeights>,
    /// Final norm [hidden].
    pub norm: Vec<f32>,
    /// LM head [vocab, hidden]; `None` when tied to the embedding.
    pub lm_head: Option<WeightMatrix>,
}

async fn tensor<T: TensorStore>(store: &T, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    let TensorData { shape: got, data } = store.tensor_f32(name).await?;
    if got != shape {
        return Err(Error::shape(
            "load",
            format!("{name} has shape {got:?}, the config implies {shape:?}"),
        ));
    }
    Ok(data)
}

async fn matrix<T: TensorStore>(
    store: &T,
    name: &str,
    rows: usize,
    cols: usize,
    format: WeightFormat,
) -> Result<WeightMatrix> {
    WeightMatrix::from_f32(
        tensor(store, name, &[rows, cols]).await?,
        rows,
        cols,
        format,
    )
}

async fn linear<T: TensorStore>(
    store: &T,
    prefix: &str,
    out: usize,
    input: usize,
    bias: bool,
    format: WeightFormat,
) -> Result<Linear> {
    let weight = matrix(store, &format!("{prefix}.weight"), out, input, format).await?;
    let bias = if bias {
        Some(tensor(store, &format!("{prefix}.bias"), &[out]).await?)
    } else {
        None
    };
    Ok(Linear {
        weight,
        bias,
        out_features: out,
        in_features: input,
    })
}

/// The format of the embedding and LM head for a model loaded in `format`: q4 keeps them in q8,
/// as llama.cpp's Q4_K_M files do; 4-bit vocabulary matrices cost small models most of their
/// accuracy (measured on Gemma 3 270M: see the note in tests/gemma_real.rs).
pub fn vocab_format(format: WeightFormat) -> WeightFormat {
    match format {
        WeightFormat::Q4 => WeightFormat::Q8,
        other => other,
    }
}

impl LayerWeights {
    /// Loads decoder layer `l`, matrices converted to `format` as they arrive.
    pub async fn load<T: TensorStore>(
        config: &ModelConfig,
        store: &T,
        l: usize,
        format: WeightFormat,
    ) -> Result<Self> {
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let (q_out, kv_out) = (
            config.num_attention_heads * config.head_dim,
            config.num_key_value_heads * config.head_dim,
        );
        let gemma = config.architecture == Architecture::Gemma3;
        let bias = config.attention_bias;
        let p = format!("model.layers.{l}");
        let optional = |name: &'static str, len: usize| {
            let full = format!("{p}.{name}");
            async move {
                if gemma {
                    Ok::<_, Error>(Some(tensor(store, &full, &[len]).await?))
                } else {
                    Ok(None)
                }
            }
        };
        Ok(LayerWeights {
            input_layernorm: tensor(store, &format!("{p}.input_layernorm.weight"), &[h]).await?,
            q_proj: linear(
                store,
                &format!("{p}.self_attn.q_proj"),
                q_out,
                h,
                bias,
                format,
            )
            .await?,
            k_proj: linear(
                store,
                &format!("{p}.self_attn.k_proj"),
                kv_out,
                h,
                bias,
                format,
            )
            .await?,
            v_proj: linear(
                store,
                &format!("{p}.self_attn.v_proj"),
                kv_out,
                h,
                bias,
                format,
            )
            .await?,
            o_proj: linear(
                store,
                &format!("{p}.self_attn.o_proj"),
                h,
                q_out,
                false,
                format,
            )
            .await?,
            q_norm: optional("self_attn.q_norm.weight", config.head_dim).await?,
            k_norm: optional("self_attn.k_norm.weight", config.head_dim).await?,
            post_attention_layernorm: tensor(
                store,
                &format!("{p}.post_attention_layernorm.weight"),
                &[h],
            )
            .await?,
            pre_feedforward_layernorm: optional("pre_feedforward_layernorm.weight", h).await?,
            post_feedforward_layernorm: optional("post_feedforward_layernorm.weight", h).await?,
            gate_proj: linear(store, &format!("{p}.mlp.gate_proj"), i, h, false, format).await?,
            up_proj: linear(store, &format!("{p}.mlp.up_proj"), i, h, false, format).await?,
            down_proj: linear(store, &format!("{p}.mlp.down_proj"), h, i, false, format).await?,
        })
    }
}

impl ModelWeights {
    /// Loads every weight the architecture needs, tensor by tensor, converting matrices to
    /// `format` as they arrive (norms and biases stay f32).
    pub async fn load<T: TensorStore>(
        config: &ModelConfig,
        store: &T,
        format: WeightFormat,
    ) -> Result<Self> {
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            layers.push(LayerWeights::load(config, store, l, format).await?);
        }
        Ok(Self {
            embed_tokens: Self::load_embed_tokens(config, store, format).await?,
            layers,
            norm: Self::load_norm(config, store).await?,
            lm_head: Self::load_lm_head(config, store, format).await?,
        })
    }

    /// The embedding [vocab, hidden] in the vocabulary format of `format`.
    pub async fn load_embed_tokens<T: TensorStore>(
        config: &ModelConfig,
        store: &T,
        format: WeightFormat,
    ) -> Result<WeightMatrix> {
        let (vocab, h) = (config.vocab_size, config.hidden_size);
        matrix(
            store,
            "model.embed_tokens.weight",
            vocab,
            h,
            vocab_format(format),
        )
        .await
    }

    /// The LM head [vocab, hidden], or `None` when it is the embedding.
    pub async fn load_lm_head<T: TensorStore>(
        config: &ModelConfig,
        store: &T,
        format: WeightFormat,
    ) -> Result<Option<WeightMatrix>> {
        if config.tie_word_embeddings && !store.contains("lm_head.weight") {
            return Ok(None);
        }
        let (vocab, h) = (config.vocab_size, config.hidden_size);
        Ok(Some(
            matrix(store, "lm_head.weight", vocab, h, vocab_format(format)).await?,
        ))
    }

    /// The final norm [hidden].
    pub async fn load_norm<T: TensorStore>(config: &ModelConfig, store: &T) -> Result<Vec<f32>> {
        tensor(store, "model.norm.weight", &[config.hidden_size]).await
    }
}
