//! Incremental step scoring: each PRM sequence keeps its KV cache, so scoring a new step feeds
//! only that step's tokens; the steps of many sequences go through one batched forward pass, and
//! a sequence forks with the beam it scores.

use super::format::PrmFormat;
use super::head::PrmHead;
use crate::engine::{Backend, Engine};
use crate::error::{Error, Result};
use crate::kv::SeqId;
use crate::model::Rows;
use crate::tokenize::Tokenizer;
use std::collections::HashMap;

/// A process reward model over a generation engine.
pub struct Prm<B: Backend> {
    engine: Engine<B>,
    tokenizer: Option<Tokenizer>,
    head: PrmHead,
    format: PrmFormat,
    tokens_fed: u64,
    rescore_tokens: u64,
    /// Per sequence: its question and the steps scored so far.
    state: HashMap<SeqId, (String, usize)>,
}

impl<B: Backend> Prm<B> {
    /// A PRM from its engine (backbone), tokenizer, head and format.
    pub fn new(engine: Engine<B>, tokenizer: Tokenizer, head: PrmHead, format: PrmFormat) -> Self {
        Self {
            engine,
            tokenizer: Some(tokenizer),
            head,
            format,
            tokens_fed: 0,
            rescore_tokens: 0,
            state: HashMap::new(),
        }
    }

    /// A PRM fed token ids only ([`Prm::start_tokens`], [`Prm::score_chunks`]): benchmarks and
    /// callers that tokenize themselves.
    pub fn from_tokens(engine: Engine<B>, head: PrmHead, format: PrmFormat) -> Self {
        Self {
            engine,
            tokenizer: None,
            head,
            format,
            tokens_fed: 0,
            rescore_tokens: 0,
            state: HashMap::new(),
        }
    }

    /// The head (a TRL PRM's separator: [`PrmHead::separator`]).
    pub fn head(&self) -> &PrmHead {
        &self.head
    }

    /// Sets the step separator of a TRL PRM (its `step_separator`, when its files record none
    /// or another is wanted); an error for other heads. Sequences started before keep the
    /// separator of the steps they already hold.
    pub fn set_separator(&mut self, separator: &str) -> Result<()> {
        self.head.set_separator(separator)
    }

    /// The engine, the tokenizer and the head back (sequences the PRM held stay in the engine).
    pub fn into_parts(self) -> (Engine<B>, Option<Tokenizer>, PrmHead) {
        (self.engine, self.tokenizer, self.head)
    }

    fn tokenizer(&self) -> Result<&Tokenizer> {
        self.tokenizer
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("this PRM was built without a tokenizer".into()))
    }

    /// Tokens the PRM has been fed so far.
    pub fn tokens_fed(&self) -> u64 {
        self.tokens_fed
    }

    /// Tokens a PRM without a cache would have been fed for the same calls: every scored step
    /// costs its whole sequence again (search-and-learn re-scores the full prefix each
    /// iteration).
    pub fn rescore_tokens(&self) -> u64 {
        self.rescore_tokens
    }

    /// The engine (counters, cache).
    pub fn engine(&self) -> &Engine<B> {
        &self.engine
    }

    /// The engine, to generate with: a generative verifier built on the policy's own engine
    /// serves both roles with one copy of the weights (sequences of both live in one cache).
    pub fn engine_mut(&mut self) -> &mut Engine<B> {
        &mut self.engine
    }

    /// The engine and the tokenizer at once: a policy generating on the verifier's engine
    /// needs both.
    pub fn engine_and_tokenizer(&mut self) -> (&mut Engine<B>, Option<&Tokenizer>) {
        (&mut self.engine, self.tokenizer.as_ref())
    }

    /// A sequence holding the question's prefix, ready for steps.
    pub async fn start(&mut self, question: &str) -> Result<SeqId> {
        let prefix = self.format.prefix(self.tokenizer()?, question)?;
        let seq = self.engine.prefill(&prefix).await?;
        self.tokens_fed += prefix.len().saturating_sub(1) as u64;
        self.state.insert(seq, (question.to_string(), 0));
        Ok(seq)
    }

    /// Scores one new step for each `(sequence, step text)` in one batched pass; each step is
    /// appended to its sequence.
    pub async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        let chunks = items
            .iter()
            .map(|(seq, step)| {
                let (question, index) = self.state.get(seq).ok_or_else(|| {
                    Error::InvalidArgument(format!("unknown PRM sequence {}", seq.0))
                })?;
                let separator = self.head.separator().unwrap_or_default();
                self.format
                    .step(self.tokenizer()?, question, step, *index, separator)
            })
            .collect::<Result<Vec<_>>>()?;
        let batch: Vec<(SeqId, Vec<u32>)> = items
            .iter()
            .zip(chunks)
            .map(|((seq, _), chunk)| (*seq, chunk))
            .collect();
        self.score_chunks(&batch).await
    }

    /// A sequence starting with already tokenized `prefix` (benchmarks, callers that tokenize).
    pub async fn start_tokens(&mut self, question: &str, prefix: &[u32]) -> Result<SeqId> {
        let seq = self.engine.prefill(prefix).await?;
        self.tokens_fed += prefix.len().saturating_sub(1) as u64;
        self.state.insert(seq, (question.to_string(), 0));
        Ok(seq)
    }

    /// Scores already tokenized step chunks (each ending with its marker), one per sequence,
    /// in one batched pass.
    pub async fn score_chunks(&mut self, items: &[(SeqId, Vec<u32>)]) -> Result<Vec<f32>> {
        let mut pending = 0;
        for (seq, _) in items {
            pending += self.engine.pending(*seq)?.len();
        }
        let batch: Vec<(SeqId, &[u32])> =
            items.iter().map(|(seq, t)| (*seq, t.as_slice())).collect();
        let reads_logits = self.head.reads_logits();
        // Only the marker's (last) hidden state is read, and only by hidden-state heads.
        let rows = if reads_logits { Rows::None } else { Rows::Last };
        let (hidden, logits) = self.engine.append_with(&batch, rows, reads_logits).await?;
        self.tokens_fed += (pending + items.iter().map(|(_, t)| t.len()).sum::<usize>()) as u64;
        for (seq, _) in items {
            if let Some(entry) = self.state.get_mut(seq) {
                entry.1 += 1;
            }
            self.rescore_tokens += self.engine.tokens(*seq)?.len() as u64;
        }
        if reads_logits {
            return logits.iter().map(|row| self.head.score(row)).collect();
        }
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
        let state = self
            .state
            .get(&seq)
            .cloned()
            .ok_or_else(|| Error::InvalidArgument(format!("unknown PRM sequence {}", seq.0)))?;
        let kids = self.engine.fork(seq, k)?;
        for &kid in &kids {
            self.state.insert(kid, state.clone());
        }
        Ok(kids)
    }

    /// Releases `seq`.
    pub fn release(&mut self, seq: SeqId) -> Result<()> {
        self.state.remove(&seq);
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
