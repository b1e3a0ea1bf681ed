//! Random weights with a real architecture's shapes, served as a [`TensorStore`]: benchmarks
//! load them through the same paths as checkpoints, so they need no download.

use super::config::{Architecture, ModelConfig};
use super::store::{TensorData, TensorStore};
use crate::error::{Error, Result};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Every tensor `config` implies, filled from a seeded generator (norms near 1, matrices with
/// std about 1/sqrt(in)).
pub struct RandomStore {
    config: ModelConfig,
    seed: u64,
}

impl RandomStore {
    /// Random tensors for `config`.
    pub fn new(config: ModelConfig, seed: u64) -> Self {
        Self { config, seed }
    }

    /// The HF shape of tensor `name`, if the architecture has it.
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        let c = &self.config;
        let (h, i, v) = (c.hidden_size, c.intermediate_size, c.vocab_size);
        let (q, kv) = (
            c.num_attention_heads * c.head_dim,
            c.num_key_value_heads * c.head_dim,
        );
        let gemma = c.architecture == Architecture::Gemma3;
        match name {
            "model.embed_tokens.weight" => return Some(vec![v, h]),
            "model.norm.weight" => return Some(vec![h]),
            "lm_head.weight" if !c.tie_word_embeddings => return Some(vec![v, h]),
            _ => {}
        }
        let rest = name.strip_prefix("model.layers.")?;
        let (layer, part) = rest.split_once('.')?;
        if layer.parse::<usize>().ok()? >= c.num_hidden_layers {
            return None;
        }
        Some(match part {
            "input_layernorm.weight" | "post_attention_layernorm.weight" => vec![h],
            "pre_feedforward_layernorm.weight" | "post_feedforward_layernorm.weight" if gemma => {
                vec![h]
            }
            "self_attn.q_norm.weight" | "self_attn.k_norm.weight" if gemma => vec![c.head_dim],
            "self_attn.q_proj.weight" => vec![q, h],
            "self_attn.k_proj.weight" | "self_attn.v_proj.weight" => vec![kv, h],
            "self_attn.q_proj.bias" if c.attention_bias => vec![q],
            "self_attn.k_proj.bias" | "self_attn.v_proj.bias" if c.attention_bias => vec![kv],
            "self_attn.o_proj.weight" => vec![h, q],
            "mlp.gate_proj.weight" | "mlp.up_proj.weight" => vec![i, h],
            "mlp.down_proj.weight" => vec![h, i],
            _ => return None,
        })
    }
}

impl TensorStore for RandomStore {
    fn contains(&self, name: &str) -> bool {
        self.shape(name).is_some()
    }

    async fn tensor_f32(&self, name: &str) -> Result<TensorData> {
        let shape = self
            .shape(name)
            .ok_or_else(|| Error::Unsupported(format!("no tensor {name} in this architecture")))?;
        let len: usize = shape.iter().product();
        // A per-tensor stream, so that tensors do not depend on the order they are read in.
        let salt = name.bytes().fold(self.seed, |h, b| {
            h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b)
        });
        let mut rng = SmallRng::seed_from_u64(salt);
        let norm = name.ends_with("norm.weight");
        let gemma = self.config.architecture == Architecture::Gemma3;
        let scale = 1.0 / (*shape.last().unwrap_or(&1) as f32).sqrt();
        let data = (0..len)
            .map(|_| {
                let x = rng.random_range(-1.0f32..1.0);
                match (norm, gemma) {
                    (true, true) => 0.1 * x,
                    (true, false) => 1.0 + 0.1 * x,
                    _ => x * scale * 1.7,
                }
            })
            .collect();
        Ok(TensorData { shape, data })
    }
}
