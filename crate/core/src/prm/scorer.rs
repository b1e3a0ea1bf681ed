//! Incremental step scoring: each PRM sequence keeps its KV cache, so scoring a new step feeds
//! only that step's tokens; the steps of many sequences go through one batched forward pass, and
//! a sequence forks with the beam it scores.

use super::format::PrmFormat;
use super::head::PrmHead;
use crate::engine::{Backend, Engine};
use crate::error::{Error, Result};
use crate::kv::SeqId;
use crate::tokenize::Tokenizer;

/// A process reward model over a generation engine.
pub struct Prm<B: Backend> {
    engine: Engine<B>,
    tokenizer: Tokenizer,
    head: PrmHead,
    format: PrmFormat,
    tokens_fed: u64,
}

impl<B: Backend> Prm<B> {
    /// A PRM from its engine (backbone), tokenizer, head and format.
    pub fn new(engine: Engine<B>, tokenizer: Tokenizer, head: PrmHead, format: PrmFormat) -> Self {
        Self {
            engine,
            tokenizer,
            head,
            format,
            tokens_fed: 0,
        }
    }

    /// Tokens the PRM has been fed so far.
    pub fn tokens_fed(&self) -> u64 {
        self.tokens_fed
    }

    /// The engine (counters, cache).
    pub fn engine(&self) -> &Engine<B> {
        &self.engine
    }

    /// A sequence holding the question's prefix, ready for steps.
    pub async fn start(&mut self, question: &str) -> Result<SeqId> {
        let prefix = self.format.prefix(&self.tokenizer, question)?;
        let seq = self.engine.prefill(&prefix).await?;
        self.tokens_fed += prefix.len().saturating_sub(1) as u64;
        Ok(seq)
    }

    /// Scores one new step for each `(sequence, step text)` in one batched pass; each step is
    /// appended to its sequence.
    pub async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        let tokens = items
            .iter()
            .map(|(_, step)| self.format.step(&self.tokenizer, step))
            .collect::<Result<Vec<_>>>()?;
        let pending: usize = items
            .iter()
            .map(|(seq, _)| {
                let all = self.engine.tokens(*seq).map(<[u32]>::len).unwrap_or(0);
                let cached = self.engine.backend().blocks().len(*seq).unwrap_or(0);
                all.saturating_sub(cached)
            })
            .sum();
        let batch: Vec<(SeqId, &[u32])> = items
            .iter()
            .zip(&tokens)
            .map(|((seq, _), t)| (*seq, t.as_slice()))
            .collect();
        let hidden = self.engine.append(&batch).await?;
        self.tokens_fed += (pending + tokens.iter().map(Vec::len).sum::<usize>()) as u64;
        let h = self.engine.backend().config().hidden_size;
        hidden
            .iter()
            .map(|rows| {
                let last = rows.len().checked_sub(h).ok_or_else(|| {
                    Error::shape("PRM", "no hidden state for the marker".to_string())
                })?;
                self.head.score(&rows[last..])
            })
            .collect()
    }

    /// `k` sequences continuing `seq` (for the beams forked from the one it scored).
    pub fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.engine.fork(seq, k)
    }

    /// Releases `seq`.
    pub fn release(&mut self, seq: SeqId) -> Result<()> {
        self.engine.release(seq)
    }

    /// Scores every step of one solution, step by step (each step feeds only its tokens).
    pub async fn score(&mut self, question: &str, steps: &[&str]) -> Result<Vec<f32>> {
        let seq = self.start(question).await?;
        let mut scores = Vec::with_capacity(steps.len());
        for step in steps {
            match self.score_steps(&[(seq, step)]).await {
                Ok(s) => scores.extend(s),
                Err(e) => {
                    self.release(seq)?;
                    return Err(e);
                }
            }
        }
        self.release(seq)?;
        Ok(scores)
    }
}
