//! PRM heads: Skywork's value head (Linear(hidden, 1) then sigmoid, `v_head.summary.*`).

use crate::error::{Error, Result};
use crate::model::TensorStore;

/// The read-out of a PRM at a step marker.
#[derive(Debug, Clone, PartialEq)]
pub enum PrmHead {
    /// sigmoid(w . h + b) (Skywork-o1-Open-PRM).
    Value {
        /// [hidden].
        weight: Vec<f32>,
        /// The bias.
        bias: f32,
    },
}

impl PrmHead {
    /// The head a checkpoint holds, by its tensor names.
    pub async fn load<T: TensorStore>(store: &T, hidden: usize) -> Result<Self> {
        if store.contains("v_head.summary.weight") {
            let w = store.tensor_f32("v_head.summary.weight").await?;
            if w.data.len() != hidden {
                return Err(Error::shape(
                    "PRM value head",
                    format!(
                        "v_head.summary.weight has shape {:?}, expected [1, {hidden}]",
                        w.shape
                    ),
                ));
            }
            let bias = if store.contains("v_head.summary.bias") {
                let b = store.tensor_f32("v_head.summary.bias").await?;
                *b.data.first().ok_or_else(|| {
                    Error::shape("PRM value head", "empty v_head.summary.bias".to_string())
                })?
            } else {
                0.0
            };
            return Ok(PrmHead::Value {
                weight: w.data,
                bias,
            });
        }
        Err(Error::Unsupported(
            "no PRM head found (expected v_head.summary.weight)".into(),
        ))
    }

    /// The score of one marker's final hidden state [hidden].
    pub fn score(&self, hidden: &[f32]) -> Result<f32> {
        match self {
            PrmHead::Value { weight, bias } => {
                if hidden.len() != weight.len() {
                    return Err(Error::shape(
                        "PRM value head",
                        format!(
                            "hidden state of {} for a head of {}",
                            hidden.len(),
                            weight.len()
                        ),
                    ));
                }
                let z: f32 = weight.iter().zip(hidden).map(|(w, h)| w * h).sum::<f32>() + bias;
                Ok(1.0 / (1.0 + (-z).exp()))
            }
        }
    }
}
