//! The generation engine: sequences over a backend's paged KV cache that are prefilled once,
//! forked, extended together in batched decode steps (sampling, EOS, max tokens, stop strings
//! with the text/token boundary kept consistent), scored by teacher forcing, and released.

use super::backend::Backend;
use super::codec::{TokenCodec, Utf8Stream, decode_bytes};
use super::params::SamplingParams;
use super::random::uniform;
use super::stop::find_stop;
use crate::error::{Error, Result};
use crate::kv::SeqId;
use crate::model::{LogitPositions, SequenceInput};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

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

/// Cancels an engine call from outside (another task, a JS callback between awaits).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Rc<Cell<bool>>);

impl CancelToken {
    /// Asks the running call to stop at its next step.
    pub fn cancel(&self) {
        self.0.set(true);
    }
    /// Whether cancellation was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.get()
    }
}

/// A callback receiving a sequence's new text.
pub type TextCallback<'a> = &'a mut dyn FnMut(SeqId, &str);

/// Options of an [`Engine::extend`] call besides the sampling parameters.
#[derive(Default)]
pub struct ExtendOptions<'a> {
    /// Token bytes and re-tokenization, needed for stop strings and text.
    pub codec: Option<&'a dyn TokenCodec>,
    /// Checked before every decode step.
    pub cancel: Option<&'a CancelToken>,
    /// Called with each sequence's new text as it becomes valid UTF-8.
    pub on_text: Option<TextCallback<'a>>,
    /// Release each sequence as soon as it finishes (its output is kept), so that sequences
    /// waiting for KV blocks resume; for final generations whose cache is not needed after.
    pub release_finished: bool,
    /// The random stream of each sequence, one per id (default: the sequence id). Searches
    /// key streams by a sample's place in the search, so that a run's samples do not depend
    /// on which cache ids they got (smaller runs are prefixes of larger ones).
    pub streams: Option<&'a [u64]>,
}

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

#[derive(Debug, Clone, Default)]
struct SeqState {
    /// Every token of the sequence; the cache holds a prefix of them, the rest are pending.
    tokens: Vec<u32>,
}

/// Sequences of one model, generated in batches.
pub struct Engine<B: Backend> {
    backend: B,
    seqs: BTreeMap<SeqId, SeqState>,
    counters: Counters,
}

struct Running {
    id: SeqId,
    out: SeqOutput,
    bytes: Vec<u8>,
    stream: Utf8Stream,
    done: bool,
    /// Admitted: its worst-case KV blocks are reserved until it finishes.
    started: bool,
}

impl<B: Backend> Engine<B> {
    /// An engine over `backend`.
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            seqs: BTreeMap::new(),
            counters: Counters::default(),
        }
    }

    /// The backend (model and cache).
    pub fn backend(&self) -> &B {
        &self.backend
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

    fn state(&self, id: SeqId) -> Result<&SeqState> {
        self.seqs
            .get(&id)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown or released sequence {}", id.0)))
    }

    /// Every token of `id` (prompt and generated).
    pub fn tokens(&self, id: SeqId) -> Result<&[u32]> {
        Ok(&self.state(id)?.tokens)
    }

    /// Tokens of `id` not yet in the cache, after making sure at least one is (the last token
    /// is re-fed when everything was cached, so that its logits exist).
    fn pending(&mut self, id: SeqId) -> Result<usize> {
        let total = self.state(id)?.tokens.len();
        let cached = self.backend.blocks().len(id)?;
        if cached == total {
            if total == 0 {
                return Err(Error::InvalidArgument(format!(
                    "sequence {} is empty",
                    id.0
                )));
            }
            self.backend.truncate(id, total - 1)?;
            return Ok(1);
        }
        Ok(total - cached)
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
                logits: LogitPositions::None,
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
        if let Some(s) = self.seqs.get_mut(&id) {
            s.tokens.truncate(len);
        }
        Ok(())
    }

    /// Releases `id` and its cache blocks.
    pub fn release(&mut self, id: SeqId) -> Result<()> {
        self.state(id)?;
        self.backend.release(id)?;
        self.seqs.remove(&id);
        Ok(())
    }

    /// Live sequences.
    pub fn live(&self) -> Vec<SeqId> {
        self.seqs.keys().copied().collect()
    }

    /// Logprobs of `continuation` after `id` (teacher forcing, one batched pass); the tokens are
    /// appended to the sequence.
    pub async fn score(&mut self, id: SeqId, continuation: &[u32]) -> Result<Vec<f32>> {
        if continuation.is_empty() {
            return Ok(Vec::new());
        }
        let pending = self.pending(id)?;
        let state = self.state(id)?;
        let start = state.tokens.len() - pending;
        let mut feed = state.tokens[start..].to_vec();
        feed.extend_from_slice(&continuation[..continuation.len() - 1]);
        let out = self
            .backend
            .forward(&[SequenceInput {
                seq: id,
                tokens: &feed,
                logits: LogitPositions::All,
            }])
            .await?
            .remove(0);
        self.counters.prefill_tokens += feed.len() as u64;
        self.counters.forward_passes += 1;
        // Row pending - 1 + i predicts continuation[i].
        let logprobs = continuation
            .iter()
            .enumerate()
            .map(|(i, &t)| log_softmax_at(&out.logits[pending - 1 + i], t))
            .collect();
        if let Some(s) = self.seqs.get_mut(&id) {
            s.tokens.extend_from_slice(continuation);
        }
        Ok(logprobs)
    }

    /// Appends tokens to sequences in one batched pass, feeding everything (pending tokens
    /// too), and returns each sequence's final hidden states [new tokens, hidden] for its
    /// `tokens` (PRM heads read them).
    pub async fn append(&mut self, items: &[(SeqId, &[u32])]) -> Result<Vec<Vec<f32>>> {
        Ok(self.append_with(items, false).await?.0)
    }

    /// [`Engine::append`], also returning each sequence's logits [vocab] at its last new token
    /// when `last_logits` is set (LM-token PRMs and verifiers read them).
    pub async fn append_with(
        &mut self,
        items: &[(SeqId, &[u32])],
        last_logits: bool,
    ) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>)> {
        let mut feeds = Vec::with_capacity(items.len());
        for (id, tokens) in items {
            let state = self.state(*id)?;
            let cached = self.backend.blocks().len(*id)?;
            let mut feed = state.tokens[cached..].to_vec();
            feed.extend_from_slice(tokens);
            if feed.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "nothing to append to sequence {}",
                    id.0
                )));
            }
            feeds.push((feed.len() - tokens.len(), feed));
        }
        let batch: Vec<SequenceInput<'_>> = items
            .iter()
            .zip(&feeds)
            .map(|((id, _), (_, feed))| SequenceInput {
                seq: *id,
                tokens: feed,
                logits: if last_logits {
                    LogitPositions::Last
                } else {
                    LogitPositions::None
                },
            })
            .collect();
        let outs = self.backend.forward(&batch).await?;
        self.counters.forward_passes += 1;
        let h = self.backend.config().hidden_size;
        let mut hidden = Vec::with_capacity(items.len());
        let mut logits = Vec::new();
        for (((id, tokens), (skip, feed)), mut out) in items.iter().zip(&feeds).zip(outs) {
            self.counters.prefill_tokens += feed.len() as u64;
            if let Some(s) = self.seqs.get_mut(id) {
                s.tokens.extend_from_slice(tokens);
            }
            hidden.push(out.hidden[skip * h..].to_vec());
            if let Some(row) = out.logits.pop() {
                logits.push(row);
            }
        }
        Ok((hidden, logits))
    }

    /// Generates for every sequence of `ids` until each stops, in batched decode steps: every
    /// step feeds each running sequence's pending tokens in one forward pass and samples its
    /// next token. When the cache cannot hold every sequence's next step, the ones that fit
    /// go first and the others wait for blocks (freed by `release_finished`, or by the caller
    /// between calls); when no running sequence fits, the call fails with `kv_cache_full`.
    pub async fn extend(
        &mut self,
        ids: &[SeqId],
        params: &SamplingParams,
        mut options: ExtendOptions<'_>,
    ) -> Result<Vec<SeqOutput>> {
        params.validate()?;
        if !params.stop.is_empty() && options.codec.is_none() {
            return Err(Error::InvalidArgument(
                "stop strings need a tokenizer (codec)".into(),
            ));
        }
        if options.streams.is_some_and(|s| s.len() != ids.len()) {
            return Err(Error::InvalidArgument(
                "streams must give one key per sequence".into(),
            ));
        }
        for (i, id) in ids.iter().enumerate() {
            self.state(*id)?;
            if ids[..i].contains(id) {
                return Err(Error::InvalidArgument(format!(
                    "sequence {} listed twice",
                    id.0
                )));
            }
        }
        let config = self.backend.config();
        let max_positions = config.max_position_embeddings;
        let mut eos: Vec<u32> = if params.ignore_eos {
            Vec::new()
        } else {
            config.eos_token_ids.clone()
        };
        eos.extend(&params.stop_token_ids);
        let mut running: Vec<Running> = ids
            .iter()
            .map(|&id| Running {
                id,
                out: SeqOutput {
                    seq: id,
                    tokens: Vec::new(),
                    text: String::new(),
                    logprobs: Vec::new(),
                    top_logprobs: Vec::new(),
                    finish_reason: FinishReason::Length,
                },
                bytes: Vec::new(),
                stream: Utf8Stream::default(),
                done: false,
                started: false,
            })
            .collect();
        for r in &mut running {
            if self.state(r.id)?.tokens.len() >= max_positions {
                r.done = true;
            }
        }
        while running.iter().any(|r| !r.done) {
            if options.cancel.is_some_and(CancelToken::is_cancelled) {
                return Err(Error::Cancelled);
            }
            let admitted = self.admit(&mut running, params.max_tokens, max_positions)?;
            let feeds: Vec<Vec<u32>> = admitted
                .iter()
                .map(|&i| {
                    let id = running[i].id;
                    let cached = self.backend.blocks().len(id).unwrap_or(0);
                    self.seqs
                        .get(&id)
                        .map(|s| s.tokens[cached..].to_vec())
                        .unwrap_or_default()
                })
                .collect();
            let batch: Vec<SequenceInput<'_>> = admitted
                .iter()
                .zip(&feeds)
                .map(|(&i, feed)| SequenceInput {
                    seq: running[i].id,
                    tokens: feed,
                    logits: LogitPositions::Last,
                })
                .collect();
            // Each sequence's draw for its next position: the same whatever the batch.
            let uniforms: Vec<f32> = admitted
                .iter()
                .map(|&i| {
                    let id = running[i].id;
                    let step = self.seqs.get(&id).map_or(0, |s| s.tokens.len()) as u64;
                    let stream = options.streams.map_or(id.0, |s| s[i]);
                    uniform(params.seed, stream, step)
                })
                .collect();
            let sampled = self.backend.decode(&batch, params, &uniforms).await?;
            self.counters.forward_passes += 1;
            for ((&i, feed), s) in admitted.iter().zip(&feeds).zip(sampled) {
                self.counters.decode_tokens += feed.len() as u64;
                let r = &mut running[i];
                let state = self
                    .seqs
                    .get_mut(&r.id)
                    .ok_or_else(|| Error::InvalidArgument("sequence vanished".into()))?;
                self.counters.generated_tokens += 1;
                state.tokens.push(s.token);
                r.out.tokens.push(s.token);
                r.out.logprobs.push(Some(s.logprob));
                if params.logprobs > 0 {
                    r.out.top_logprobs.push(s.top_logprobs);
                }
                let mut new_text = Vec::new();
                if let Some(codec) = options.codec {
                    let before = r.bytes.len();
                    r.bytes.extend(codec.token_bytes(s.token)?);
                    new_text = r.bytes[before..].to_vec();
                    if let Some((stop, end)) = find_stop(&r.bytes, before, &params.stop) {
                        new_text.truncate(end - before);
                        cut_at_stop(state, r, codec, end, &mut self.backend)?;
                        r.out.finish_reason = FinishReason::Stop(stop);
                        r.done = true;
                    }
                }
                if !r.done && eos.contains(&s.token) {
                    r.out.finish_reason = FinishReason::Eos;
                    r.done = true;
                }
                if !r.done
                    && (r.out.tokens.len() >= params.max_tokens
                        || state.tokens.len() >= max_positions)
                {
                    r.out.finish_reason = FinishReason::Length;
                    r.done = true;
                }
                let piece = r.stream.push(&new_text);
                let piece = if r.done {
                    piece + &r.stream.finish()
                } else {
                    piece
                };
                if !piece.is_empty() {
                    r.out.text.push_str(&piece);
                    if let Some(f) = options.on_text.as_mut() {
                        f(r.id, &piece);
                    }
                }
                if r.done && options.release_finished {
                    let id = r.id;
                    self.release(id)?;
                }
            }
        }
        Ok(running.into_iter().map(|r| r.out).collect())
    }

    /// The sequences to decode this step. A sequence starts only when the KV blocks it could
    /// need to reach max_tokens fit beside what the started ones could still need, first come
    /// first served, so that started sequences always finish and waiting ones start as blocks
    /// free up; a step never fails half-way for lack of blocks.
    fn admit(
        &mut self,
        running: &mut [Running],
        max_tokens: usize,
        max_positions: usize,
    ) -> Result<Vec<usize>> {
        let mut free = self.backend.blocks().free_blocks();
        let worst_case = |engine: &mut Self, r: &Running| -> Result<usize> {
            let pending = engine.pending(r.id)?;
            let len = engine.state(r.id)?.tokens.len();
            let left = max_tokens
                .saturating_sub(r.out.tokens.len())
                .min(max_positions.saturating_sub(len));
            engine
                .backend
                .blocks()
                .blocks_needed_for(r.id, pending + left)
        };
        for r in running.iter().filter(|r| r.started && !r.done) {
            free = free.saturating_sub(worst_case(self, r)?);
        }
        let mut blocked = None;
        for r in running.iter_mut().filter(|r| !r.started && !r.done) {
            let need = worst_case(self, r)?;
            if need > free {
                blocked = Some(need);
                break;
            }
            free -= need;
            r.started = true;
        }
        let admitted: Vec<usize> = (0..running.len())
            .filter(|&i| running[i].started && !running[i].done)
            .collect();
        if admitted.is_empty() {
            return Err(Error::KvCacheFull {
                needed: blocked.unwrap_or(1),
                free: self.backend.blocks().free_blocks(),
            });
        }
        Ok(admitted)
    }
}

/// Ends a sequence's text at byte `end` (just after a stop string): the tokens whose bytes
/// reach past `end` are dropped (from the cache too) and the kept part of their text is
/// re-tokenized and appended, so that tokens and text agree.
fn cut_at_stop<B: Backend>(
    state: &mut SeqState,
    r: &mut Running,
    codec: &dyn TokenCodec,
    end: usize,
    backend: &mut B,
) -> Result<()> {
    if end == r.bytes.len() {
        return Ok(());
    }
    // Drop tokens from the end until the dropped tokens cover every byte past `end` and the
    // kept text of the dropped ones starts on a character boundary.
    let mut dropped = 0;
    let mut start = r.bytes.len();
    loop {
        let Some(&last) = r
            .out
            .tokens
            .get(r.out.tokens.len() - dropped - 1..)
            .and_then(|t| t.first())
        else {
            return Err(Error::InvalidArgument(
                "stop string outside the new text".into(),
            ));
        };
        start -= codec.token_bytes(last)?.len();
        dropped += 1;
        if start <= end && std::str::from_utf8(&r.bytes[start..end]).is_ok() {
            break;
        }
        if dropped == r.out.tokens.len() {
            return Err(Error::InvalidArgument(
                "cannot re-tokenize the stop tail".into(),
            ));
        }
    }
    let tail = std::str::from_utf8(&r.bytes[start..end])
        .map_err(|e| Error::InvalidArgument(format!("stop tail: {e}")))?;
    let retokenized = codec.encode(tail)?;
    let keep = r.out.tokens.len() - dropped;
    r.out.tokens.truncate(keep);
    r.out.logprobs.truncate(keep);
    r.out
        .top_logprobs
        .truncate(keep.min(r.out.top_logprobs.len()));
    let total = state.tokens.len() - dropped;
    state.tokens.truncate(total);
    let cached = backend.blocks().len(r.out.seq)?;
    backend.truncate(r.out.seq, cached.min(total))?;
    state.tokens.extend_from_slice(&retokenized);
    r.out.tokens.extend_from_slice(&retokenized);
    r.out.logprobs.extend(retokenized.iter().map(|_| None));
    r.bytes.truncate(start);
    r.bytes.extend(decode_bytes(codec, &retokenized)?);
    Ok(())
}

/// log-softmax of `logits` at `token`.
fn log_softmax_at(logits: &[f32], token: u32) -> f32 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let sum: f64 = logits.iter().map(|v| ((v - max) as f64).exp()).sum();
    logits
        .get(token as usize)
        .copied()
        .unwrap_or(f32::NEG_INFINITY)
        - max
        - sum.ln() as f32
}
