//! What an [`super::Engine::extend`] call gives back for each sequence.

use crate::kv::SeqId;

/// Why a sequence stopped in an [`Engine::extend`] call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// It produced an EOS or stop token (kept in its tokens).
    Eos,
    /// It reached max_tokens or the model's context length.
    Length,
    /// Its text reached this stop string (kept in its text).
    Stop(String),
}

/// What one sequence produced in an [`Engine::extend`] call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeqOutput {
    /// The sequence.
    #[serde(skip)]
    pub seq: SeqId,
    /// New tokens (after a stop-string cut: the re-tokenized tail replaces the last tokens).
    pub tokens: Vec<u32>,
    /// Their text (when the call had a codec).
    pub text: String,
    /// The model's logprob of each new token (untempered); `None` for re-tokenized tail tokens,
    /// which were not sampled.
    pub logprobs: Vec<Option<f32>>,
    /// The top logprobs at each sampled token, when asked for.
    pub top_logprobs: Vec<Vec<(u32, f32)>>,
    /// Why it stopped.
    pub finish_reason: FinishReason,
}
