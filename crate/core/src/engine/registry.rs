//! The engine and its sequences: every sequence's tokens (the cache holds a prefix of them, the
//! rest are pending), prefill once, fork, truncate, release, the end-of-sequence set, counters,
//! and the hook that lets the event loop run between steps.

use super::backend::Backend;
use crate::error::{Error, Result};
use crate::kv::SeqId;
use crate::model::{Rows, SequenceInput};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// Work counters of an engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Tokens fed by prefill, scoring and appends.
    pub prefill_tokens: u64,
    /// Tokens fed by decode steps.
    pub decode_tokens: u64,
    /// Tokens sampled.
    pub generated_tokens: u64,
    /// Batched forward passes.
    pub forward_passes: u64,
    /// KV blocks in use now.
    pub kv_blocks_in_use: usize,
    /// Most KV blocks in use at once.
    pub kv_blocks_peak: usize,
}

/// Called after every decode step with the engine's counters; the engine waits for its future
/// (the JS glue reports progress and yields to the event loop there, so that aborts and
/// messages get through while the CPU backend computes).
pub type StepHook = Box<dyn Fn(Counters) -> Pin<Box<dyn Future<Output = ()>>>>;

#[derive(Debug, Clone, Default)]
pub(super) struct SeqState {
    /// Every token of the sequence; the cache holds a prefix of them, the rest are pending.
    pub tokens: Vec<u32>,
}

/// Sequences of one model, generated in batches.
pub struct Engine<B: Backend> {
    pub(super) backend: B,
    pub(super) seqs: BTreeMap<SeqId, SeqState>,
    pub(super) counters: Counters,
    /// Tokens that end a sequence (kept in its tokens).
    pub(super) eos: Vec<u32>,
    pub(super) step_hook: Option<StepHook>,
}

impl<B: Backend> Engine<B> {
    /// An engine over `backend`; sequences end on the model config's EOS tokens (see
    /// [`Engine::add_eos_tokens`] for a tokenizer's fuller set).
    pub fn new(backend: B) -> Self {
        let eos = backend.config().eos_token_ids.clone();
        Self {
            backend,
            seqs: BTreeMap::new(),
            counters: Counters::default(),
            eos,
            step_hook: None,
        }
    }

    /// Also ends sequences on `ids` (a tokenizer's EOS set: generation_config.json's ids, a
    /// chat model's end-of-turn token).
    pub fn add_eos_tokens(&mut self, ids: &[u32]) {
        for id in ids {
            if !self.eos.contains(id) {
                self.eos.push(*id);
            }
        }
    }

    /// The tokens that end a sequence.
    pub fn eos_tokens(&self) -> &[u32] {
        &self.eos
    }

    /// Calls `hook` after every decode step (see [`StepHook`]); `None` removes it.
    pub fn set_step_hook(&mut self, hook: Option<StepHook>) {
        self.step_hook = hook;
    }

    /// The backend (model and cache).
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The backend, to change what the engine runs on.
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Work counters so far.
    pub fn counters(&self) -> Counters {
        let blocks = self.backend.blocks();
        Counters {
            kv_blocks_in_use: blocks.blocks_in_use(),
            kv_blocks_peak: blocks.peak_blocks_in_use(),
            ..self.counters
        }
    }

    pub(super) fn state(&self, id: SeqId) -> Result<&SeqState> {
        self.seqs
            .get(&id)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown or released sequence {}", id.0)))
    }

    pub(super) fn state_mut(&mut self, id: SeqId) -> Result<&mut SeqState> {
        self.seqs
            .get_mut(&id)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown or released sequence {}", id.0)))
    }

    /// Every token of `id` (prompt and generated).
    pub fn tokens(&self, id: SeqId) -> Result<&[u32]> {
        Ok(&self.state(id)?.tokens)
    }

    /// The tokens of `id` not yet in the cache: the next forward pass of `id` feeds them.
    pub fn pending(&self, id: SeqId) -> Result<&[u32]> {
        let tokens = &self.state(id)?.tokens;
        let cached = self.backend.blocks().len(id)?;
        tokens.get(cached..).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "sequence {} caches {cached} of its {} tokens",
                id.0,
                tokens.len()
            ))
        })
    }

    /// Makes sure `id` has a pending token, so that a pass over it yields logits: when the
    /// cache holds every token, the last one is dropped from the cache to be fed again.
    /// Returns the number of pending tokens.
    pub(super) fn ensure_pending(&mut self, id: SeqId) -> Result<usize> {
        let pending = self.pending(id)?.len();
        if pending > 0 {
            return Ok(pending);
        }
        let total = self.state(id)?.tokens.len();
        if total == 0 {
            return Err(Error::InvalidArgument(format!(
                "sequence {} is empty",
                id.0
            )));
        }
        self.backend.truncate(id, total - 1)?;
        Ok(1)
    }

    /// Runs the step hook, if any.
    pub(super) async fn after_step(&self) {
        if let Some(hook) = &self.step_hook {
            hook(self.counters()).await;
        }
    }

    /// A new sequence holding `tokens`: all but the last are fed now, the last with the first
    /// decode step.
    pub async fn prefill(&mut self, tokens: &[u32]) -> Result<SeqId> {
        if tokens.is_empty() {
            return Err(Error::InvalidArgument(
                "prefill needs at least one token".into(),
            ));
        }
        let id = self.backend.create();
        if tokens.len() > 1 {
            let fed = &tokens[..tokens.len() - 1];
            let input = SequenceInput {
                seq: id,
                tokens: fed,
                logits: Rows::None,
                hidden: Rows::None,
            };
            if let Err(e) = self.backend.forward(&[input]).await {
                self.backend.release(id)?;
                return Err(e);
            }
            self.counters.prefill_tokens += fed.len() as u64;
            self.counters.forward_passes += 1;
        }
        self.seqs.insert(
            id,
            SeqState {
                tokens: tokens.to_vec(),
            },
        );
        Ok(id)
    }

    /// `k` new sequences continuing from `id` (sharing its cached blocks).
    pub fn fork(&mut self, id: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let state = self.state(id)?.clone();
        let kids = self.backend.fork(id, k)?;
        for &kid in &kids {
            self.seqs.insert(kid, state.clone());
        }
        Ok(kids)
    }

    /// Shortens `id` to its first `len` tokens.
    pub fn truncate(&mut self, id: SeqId, len: usize) -> Result<()> {
        let total = self.state(id)?.tokens.len();
        if len > total {
            return Err(Error::InvalidArgument(format!(
                "cannot truncate sequence {} of {total} tokens to {len}",
                id.0
            )));
        }
        let cached = self.backend.blocks().len(id)?;
        self.backend.truncate(id, cached.min(len))?;
        self.state_mut(id)?.tokens.truncate(len);
        Ok(())
    }

    /// Releases `id` and its cache blocks.
    pub fn release(&mut self, id: SeqId) -> Result<()> {
        self.state(id)?;
        self.backend.release(id)?;
        self.seqs.remove(&id);
        Ok(())
    }

    /// Releases every sequence (after an error or an abort: nothing stays allocated).
    pub fn release_all(&mut self) -> Result<()> {
        for id in self.live() {
            self.release(id)?;
        }
        Ok(())
    }

    /// Live sequences.
    pub fn live(&self) -> Vec<SeqId> {
        self.seqs.keys().copied().collect()
    }
}
