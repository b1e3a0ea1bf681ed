//! Random weights with a real architecture's shapes, served as a [`TensorStore`]: benchmarks
//! load them through the same paths as checkpoints, so they need no download.

use super::config::ModelConfig;
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

    /// The HF shape of tensor `name`, if the model has it (a tied LM head it has not).
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.config
            .tensors()
            .into_iter()
            .find(|t| t.name == name && t.required)
            .map(|t| t.shape)
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
        // Norm scales near 1: (offset + weight) with the family's offset.
        let norm_center = 1.0 - self.config.form.norm_offset;
        let scale = 1.0 / (*shape.last().unwrap_or(&1) as f32).sqrt();
        let data = (0..len)
            .map(|_| {
                let x = rng.random_range(-1.0f32..1.0);
                if norm {
                    norm_center + 0.1 * x
                } else {
                    x * scale * 1.7
                }
            })
            .collect();
        Ok(TensorData { shape, data })
    }
}
