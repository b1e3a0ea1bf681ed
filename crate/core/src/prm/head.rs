//! PRM heads: Skywork's value head (Linear(hidden, 1), sigmoid; `v_head.summary.*`),
//! Qwen2.5-Math-PRM's classifier (score.0 Linear(h, h), ReLU, score.2 Linear(h, 2), softmax,
//! class 1), the token classifier of TRL's PRMTrainer (`*ForTokenClassification`: score
//! Linear(h, 2), softmax, label 1; with the step separator it was trained on), and the LM-token
//! read-out (softmax over the logits of a positive and a negative token; RLHFlow,
//! Math-Shepherd, generative verifiers).

use super::format::PrmFormat;
use crate::error::{Error, Result};
use crate::model::{ModelConfig, TensorStore};
use crate::tokenize::Tokenizer;

/// The step separator of a TRL PRM whose files do not record one: search-and-learn's recipe
/// trains with "\n\n" (TRL's own default is "\n").
pub const TRL_DEFAULT_SEPARATOR: &str = "\n\n";

/// The read-out of a PRM at a step marker.
#[derive(Debug, Clone, PartialEq)]
pub enum PrmHead {
    /// sigmoid(w . h + b) on the final hidden state.
    Value {
        /// [hidden].
        weight: Vec<f32>,
        /// The bias.
        bias: f32,
    },
    /// softmax(W2 relu(W0 h + b0) + b2)[1] on the final hidden state.
    Classifier {
        /// [hidden, hidden].
        w0: Vec<f32>,
        /// [hidden].
        b0: Vec<f32>,
        /// [2, hidden].
        w2: Vec<f32>,
        /// [2].
        b2: Vec<f32>,
    },
    /// softmax(W h + b)[1] on the final hidden state at the last token of a step and its
    /// separator (TRL's PRMTrainer: a `*ForTokenClassification` model, two labels).
    TokenClassifier {
        /// [2, hidden]: `score.weight`.
        weight: Vec<f32>,
        /// [2]: `score.bias` (zeros when the checkpoint has none).
        bias: Vec<f32>,
        /// The text appended to every step (the `step_separator` it was trained with).
        separator: String,
    },
    /// P(positive) of the softmax over the two tokens' logits at the marker.
    LmTokens {
        /// The token meaning "correct" ("+").
        positive: u32,
        /// The token meaning "wrong" ("-").
        negative: u32,
    },
}

async fn tensor<T: TensorStore>(store: &T, name: &str, len: usize) -> Result<Vec<f32>> {
    let t = store.tensor_f32(name).await?;
    if t.data.len() != len {
        return Err(Error::shape(
            "PRM head",
            format!("{name} has shape {:?}, {len} values expected", t.shape),
        ));
    }
    Ok(t.data)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl PrmHead {
    /// The hidden-state head a checkpoint of `config` holds, by its tensor names and, for a
    /// token classifier, its config (`None`: no head tensors, so the model is read out through
    /// its LM logits). A token classifier's separator is [`TRL_DEFAULT_SEPARATOR`] until the
    /// caller sets the one its files record ([`PrmHead::set_separator`]).
    pub async fn load<T: TensorStore>(store: &T, config: &ModelConfig) -> Result<Option<Self>> {
        let hidden = config.hidden_size;
        if let Some(labels) = config.token_classes {
            if labels != 2 {
                return Err(Error::Unsupported(format!(
                    "a token classifier with {labels} labels: a PRM has two (wrong, right)"
                )));
            }
            let weight = tensor(store, "score.weight", 2 * hidden).await?;
            let bias = if store.contains("score.bias") {
                tensor(store, "score.bias", 2).await?
            } else {
                vec![0.0; 2]
            };
            return Ok(Some(PrmHead::TokenClassifier {
                weight,
                bias,
                separator: TRL_DEFAULT_SEPARATOR.to_string(),
            }));
        }
        if store.contains("v_head.summary.weight") {
            let weight = tensor(store, "v_head.summary.weight", hidden).await?;
            let bias = if store.contains("v_head.summary.bias") {
                tensor(store, "v_head.summary.bias", 1).await?[0]
            } else {
                0.0
            };
            return Ok(Some(PrmHead::Value { weight, bias }));
        }
        if store.contains("score.0.weight") && store.contains("score.2.weight") {
            return Ok(Some(PrmHead::Classifier {
                w0: tensor(store, "score.0.weight", hidden * hidden).await?,
                b0: tensor(store, "score.0.bias", hidden).await?,
                w2: tensor(store, "score.2.weight", 2 * hidden).await?,
                b2: tensor(store, "score.2.bias", 2).await?,
            }));
        }
        Ok(None)
    }

    /// The head a PRM of `format` reads: the checkpoint's `head`, or for LM-token formats P("+")
    /// over the tokenizer's "+" and "-" tokens (or the format's own pair).
    pub fn for_format(
        head: Option<PrmHead>,
        format: PrmFormat,
        tokenizer: &Tokenizer,
    ) -> Result<PrmHead> {
        let token_classifier = matches!(head, Some(PrmHead::TokenClassifier { .. }));
        if head.is_some() && token_classifier != (format == PrmFormat::Trl) {
            return Err(Error::InvalidArgument(format!(
                "{format:?} does not read this checkpoint's head: a *ForTokenClassification \
                 PRM is read as trl, and trl reads only such a PRM"
            )));
        }
        match (head, format.lm_token()) {
            (Some(head), false) => Ok(head),
            (None, true) => {
                let last = |text: &str| -> Result<u32> {
                    tokenizer
                        .encode(text, false)?
                        .last()
                        .copied()
                        .ok_or_else(|| {
                            Error::Unsupported(format!("the tokenizer cannot spell {text:?}"))
                        })
                };
                let (positive, negative) = format.answer_pair(tokenizer);
                Ok(PrmHead::LmTokens {
                    positive: last(positive)?,
                    negative: last(negative)?,
                })
            }
            (Some(_), true) => Err(Error::InvalidArgument(format!(
                "{format:?} reads LM logits, but the checkpoint has a PRM head"
            ))),
            (None, false) => Err(Error::Unsupported(format!(
                "{format:?} needs a PRM head (v_head.summary.*, score.0/score.2, or score of a \
                 *ForTokenClassification config)"
            ))),
        }
    }

    /// The step separator of a token classifier (TRL), None for other heads.
    pub fn separator(&self) -> Option<&str> {
        match self {
            PrmHead::TokenClassifier { separator, .. } => Some(separator),
            _ => None,
        }
    }

    /// Sets a token classifier's step separator (a TRL PRM's `step_separator`).
    pub fn set_separator(&mut self, text: &str) -> Result<()> {
        match self {
            PrmHead::TokenClassifier { separator, .. } => {
                *separator = text.to_string();
                Ok(())
            }
            _ => Err(Error::InvalidArgument(
                "a step separator is for TRL token-classification PRMs only".into(),
            )),
        }
    }

    /// Whether the head reads LM logits (else the final hidden state).
    pub fn reads_logits(&self) -> bool {
        matches!(self, PrmHead::LmTokens { .. })
    }

    /// The score from one marker's final hidden state [hidden] or logits [vocab].
    pub fn score(&self, row: &[f32]) -> Result<f32> {
        let mismatch = |want: usize| {
            Error::shape(
                "PRM head",
                format!("a row of {} for a head of {want}", row.len()),
            )
        };
        match self {
            PrmHead::Value { weight, bias } => {
                if row.len() != weight.len() {
                    return Err(mismatch(weight.len()));
                }
                Ok(1.0 / (1.0 + (-(dot(weight, row) + bias)).exp()))
            }
            PrmHead::Classifier { w0, b0, w2, b2 } => {
                let h = b0.len();
                if row.len() != h {
                    return Err(mismatch(h));
                }
                let inner: Vec<f32> = w0
                    .chunks_exact(h)
                    .zip(b0)
                    .map(|(w, b)| (dot(w, row) + b).max(0.0))
                    .collect();
                let l0 = dot(&w2[..h], &inner) + b2[0];
                let l1 = dot(&w2[h..], &inner) + b2[1];
                Ok(1.0 / (1.0 + (l0 - l1).exp()))
            }
            PrmHead::TokenClassifier { weight, bias, .. } => {
                let h = row.len();
                if weight.len() != 2 * h || bias.len() != 2 {
                    return Err(mismatch(weight.len() / 2));
                }
                let l0 = dot(&weight[..h], row) + bias[0];
                let l1 = dot(&weight[h..], row) + bias[1];
                Ok(1.0 / (1.0 + (l0 - l1).exp()))
            }
            PrmHead::LmTokens { positive, negative } => {
                let (p, n) = (*positive as usize, *negative as usize);
                if p >= row.len() || n >= row.len() {
                    return Err(mismatch(p.max(n) + 1));
                }
                Ok(1.0 / (1.0 + (row[n] - row[p]).exp()))
            }
        }
    }
}
