//! Generation parameters (search-and-learn names) and their validation.

use crate::error::{Error, Result};
use crate::gpu::MAX_TOP_LOGPROBS;

/// How an [`super::Engine::extend`] call samples and when each sequence stops.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 is greedy; otherwise logits are divided by it before top-k/top-p.
    pub temperature: f32,
    /// Nucleus mass kept (1.0: off).
    pub top_p: f32,
    /// Most likely tokens kept (0: off).
    pub top_k: usize,
    /// Seed of every sequence's random stream (each sequence draws its own stream).
    pub seed: u64,
    /// New tokens at most per sequence in this call.
    pub max_tokens: usize,
    /// Token ids that end a sequence (kept in its output).
    pub stop_token_ids: Vec<u32>,
    /// Strings that end a sequence, kept in its output (needs a detokenizer).
    pub stop: Vec<String>,
    /// Top logprobs to return per generated token (0: none).
    pub logprobs: usize,
    /// Keep going past the model's EOS tokens (benchmarks); `stop_token_ids` still stop.
    pub ignore_eos: bool,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            seed: 0,
            max_tokens: 256,
            stop_token_ids: Vec::new(),
            stop: Vec::new(),
            logprobs: 0,
            ignore_eos: false,
        }
    }
}

impl SamplingParams {
    /// Rejects parameters no sampler can honour, saying what to change.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return bad(format!(
                "temperature must be a finite number >= 0 (0 is greedy), got {}",
                self.temperature
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!("top_p must be in (0, 1], got {}", self.top_p));
        }
        if self.max_tokens == 0 {
            return bad("max_tokens must be at least 1".into());
        }
        if self.stop.iter().any(String::is_empty) {
            return bad("stop strings must not be empty".into());
        }
        if self.logprobs > MAX_TOP_LOGPROBS {
            return bad(format!(
                "logprobs is at most {MAX_TOP_LOGPROBS}, got {}",
                self.logprobs
            ));
        }
        Ok(())
    }
}
