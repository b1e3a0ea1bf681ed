//! Random weights with a real architecture's shapes, served as a [`TensorStore`]: benchmarks
//! load them through the same paths as checkpoints, so they need no download.

use super::config::ModelConfig;
use super::store::{TensorData, TensorStore, check_rows, row_shape};
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

impl RandomStore {
    /// Rows `start..end` of tensor `name` (a vector is one row): each row from its own stream,
    /// so that values do not depend on the order or the chunks they are read in.
    fn rows(&self, name: &str, shape: &[usize], start: usize, end: usize) -> Vec<f32> {
        let cols = if shape.len() == 2 {
            shape[1]
        } else {
            shape.iter().product()
        };
        let salt = name.bytes().fold(self.seed, |h, b| {
            h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b)
        });
        let norm = name.ends_with("norm.weight");
        // Norm scales near 1: (offset + weight) with the family's offset.
        let norm_center = 1.0 - self.config.form.norm_offset;
        let scale = 1.0 / (cols.max(1) as f32).sqrt();
        let mut data = Vec::with_capacity((end - start) * cols);
        for row in start..end {
            let mut rng = SmallRng::seed_from_u64(salt ^ (row as u64).wrapping_mul(0x9e37_79b9));
            data.extend((0..cols).map(|_| {
                let x = rng.random_range(-1.0f32..1.0);
                if norm {
                    norm_center + 0.1 * x
                } else {
                    x * scale * 1.7
                }
            }));
        }
        data
    }

    fn known(&self, name: &str) -> Result<Vec<usize>> {
        self.shape(name)
            .ok_or_else(|| Error::Unsupported(format!("no tensor {name} in this architecture")))
    }
}

impl TensorStore for RandomStore {
    fn contains(&self, name: &str) -> bool {
        RandomStore::shape(self, name).is_some()
    }

    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        RandomStore::shape(self, name)
    }

    async fn tensor_f32(&self, name: &str) -> Result<TensorData> {
        let shape = self.known(name)?;
        let rows = if shape.len() == 2 { shape[0] } else { 1 };
        let data = self.rows(name, &shape, 0, rows);
        Ok(TensorData { shape, data })
    }

    async fn rows_f32(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>> {
        let shape = self.known(name)?;
        let [rows, _] = row_shape(name, &shape)?;
        check_rows(name, rows, start, end)?;
        Ok(self.rows(name, &shape, start, end))
    }
}
