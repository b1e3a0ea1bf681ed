//! The two model roles a search talks to: a [`Policy`] that extends sequences of text and a
//! [`StepScorer`] that scores each sequence's new step; ttsearch's engine and PRMs implement
//! them, and so can a user's own (a scripted one in tests, a remote server).

use crate::engine::{CancelToken, SamplingParams};
use crate::error::{Error, Result};
use crate::kv::SeqId;

/// How far one generate call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// To the end of the next step: the text up to and including "\n\n".
    Step,
    /// To EOS or max_tokens.
    End,
}

/// Why a generated piece ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEnd {
    /// The step ended with "\n\n" (kept in its text); the solution goes on.
    Step,
    /// The model ended the solution (EOS).
    Eos,
    /// max_tokens (or the context) ran out.
    Length,
}

/// One generate call's sampling, shared by every sequence of the call.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateRequest {
    /// How far to go (the policy adds the step separator as a stop string for [`Until::Step`]).
    pub until: Until,
    /// Temperature, top_p, seed and max_tokens of every sequence of the call.
    pub params: SamplingParams,
    /// Release every sequence of the call as it finishes (final generations whose cache is
    /// not needed after): the caller must not release them again.
    pub release_finished: bool,
}

/// What one sequence produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The new text.
    pub text: String,
    /// New tokens.
    pub tokens: usize,
    /// Why it ended.
    pub end: StepEnd,
}

/// Policy-side work counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PolicyStats {
    /// Tokens fed outside decode steps (the prompt's prefill, re-tokenized stop tails).
    pub prefill_tokens: u64,
    /// Tokens fed by decode steps.
    pub decode_tokens: u64,
    /// Tokens sampled.
    pub generated_tokens: u64,
    /// Prompt tokens a server without a prefix cache would prefill: every sequence's whole
    /// prompt and text again at every generate call (search-and-learn's procedure).
    pub resubmitted_tokens: u64,
    /// Most KV blocks in use at once.
    pub kv_blocks_peak: usize,
    /// KV blocks in use now.
    pub kv_blocks_in_use: usize,
}

/// A model that writes solutions, a step or all of it at a time.
#[allow(async_fn_in_trait)]
pub trait Policy {
    /// Starts a problem: its prompt, prefilled once; returns the root sequence.
    async fn start(&mut self, problem: &str) -> Result<SeqId>;
    /// `k` sequences continuing `seq` (sharing its cache).
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>>;
    /// Extends every sequence in one batched call; each comes with the key of its random
    /// stream. The outputs are in the order of `seqs`. Stops with `cancelled` when `cancel`
    /// is set.
    async fn generate(
        &mut self,
        seqs: &[(SeqId, u64)],
        request: &GenerateRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<Generated>>;
    /// Frees `seq`.
    fn release(&mut self, seq: SeqId) -> Result<()>;
    /// Work so far.
    fn stats(&self) -> PolicyStats;
    /// The model's parameter count, when known (the compute-optimal choice reads it).
    fn parameters(&self) -> Option<u64> {
        None
    }
}

/// Scorer-side work counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScorerStats {
    /// Tokens fed to the scorer.
    pub tokens_fed: u64,
    /// Tokens a scorer re-reading each whole prefix at every scored step would be fed
    /// (search-and-learn's procedure).
    pub rescore_tokens: u64,
    /// Most KV blocks in use at once.
    pub kv_blocks_peak: usize,
}

/// A process reward model, or anything that scores steps: each scorer sequence holds a
/// problem and the steps scored so far.
#[allow(async_fn_in_trait)]
pub trait StepScorer {
    /// Whether this scorer scores at all ([`NoScorer`] does not).
    fn available(&self) -> bool {
        true
    }
    /// A sequence holding `problem`, ready for steps.
    async fn start(&mut self, problem: &str) -> Result<SeqId>;
    /// `k` sequences continuing `seq`.
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>>;
    /// Scores one new step for each `(sequence, step)` in one batched call; each step is
    /// appended to its sequence. Step texts come without their "\n\n" separator.
    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>>;
    /// Frees `seq`.
    fn release(&mut self, seq: SeqId) -> Result<()>;
    /// Work so far.
    fn stats(&self) -> ScorerStats;
    /// Tokens in `seq` (problem and steps), when the scorer knows: the search then counts what
    /// re-scoring every scored text from scratch would feed.
    fn sequence_tokens(&self, _seq: SeqId) -> Option<usize> {
        None
    }
}

/// No scorer: for strategies that need none (CoT, majority vote).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoScorer;

fn needs_scorer<T>() -> Result<T> {
    Err(Error::InvalidArgument(
        "this strategy needs a step scorer: give a PRM or use the policy as verifier".into(),
    ))
}

impl StepScorer for NoScorer {
    fn available(&self) -> bool {
        false
    }
    async fn start(&mut self, _problem: &str) -> Result<SeqId> {
        needs_scorer()
    }
    fn fork(&mut self, _seq: SeqId, _k: usize) -> Result<Vec<SeqId>> {
        needs_scorer()
    }
    async fn score_steps(&mut self, _items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        needs_scorer()
    }
    fn release(&mut self, _seq: SeqId) -> Result<()> {
        needs_scorer()
    }
    fn stats(&self) -> ScorerStats {
        ScorerStats::default()
    }
}

/// A policy and a scorer side by side: the pair a search runs on when they are two models.
pub struct Models<P, S> {
    /// The policy.
    pub policy: P,
    /// The scorer.
    pub scorer: S,
}

impl<P: Policy, S> Policy for Models<P, S> {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        self.policy.start(problem).await
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.policy.fork(seq, k)
    }
    async fn generate(
        &mut self,
        seqs: &[(SeqId, u64)],
        request: &GenerateRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<Generated>> {
        self.policy.generate(seqs, request, cancel).await
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.policy.release(seq)
    }
    fn stats(&self) -> PolicyStats {
        self.policy.stats()
    }
    fn parameters(&self) -> Option<u64> {
        self.policy.parameters()
    }
}

impl<P, S: StepScorer> StepScorer for Models<P, S> {
    fn available(&self) -> bool {
        self.scorer.available()
    }
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        self.scorer.start(problem).await
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.scorer.fork(seq, k)
    }
    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        self.scorer.score_steps(items).await
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.scorer.release(seq)
    }
    fn stats(&self) -> ScorerStats {
        self.scorer.stats()
    }
    fn sequence_tokens(&self, seq: SeqId) -> Option<usize> {
        self.scorer.sequence_tokens(seq)
    }
}
