//! Batched generation: every sequence of an [`Engine::extend`] call runs until it stops, one
//! forward pass and one sampled token per running sequence per decode step, with UTF-8-safe
//! streaming, cancellation, and KV blocks freed as sequences finish when asked.

use super::backend::Backend;
use super::output::{FinishReason, SeqOutput};
use super::params::SamplingParams;
use super::random::uniform;
use super::registry::Engine;
use super::stopping::check_stop;
use crate::error::{Error, Result};
use crate::kv::SeqId;
use crate::model::{Rows, SequenceInput};
use crate::tokenize::{TokenCodec, Utf8Stream};
use std::cell::Cell;
use std::rc::Rc;

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

/// A sequence of an extend call.
pub(super) struct Running {
    pub id: SeqId,
    pub out: SeqOutput,
    /// Bytes of its new text so far.
    pub bytes: Vec<u8>,
    stream: Utf8Stream,
    pub done: bool,
    /// Admitted: its worst-case KV blocks are reserved until it finishes.
    pub started: bool,
    /// Its random stream.
    key: u64,
}

impl<B: Backend> Engine<B> {
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
        let max_positions = self.backend.config().max_position_embeddings;
        let mut eos: Vec<u32> = if params.ignore_eos {
            Vec::new()
        } else {
            self.eos.clone()
        };
        eos.extend(&params.stop_token_ids);
        let mut running = Vec::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            running.push(Running {
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
                done: self.state(id)?.tokens.len() >= max_positions,
                started: false,
                key: options.streams.map_or(id.0, |s| s[i]),
            });
        }
        while running.iter().any(|r| !r.done) {
            if options.cancel.is_some_and(CancelToken::is_cancelled) {
                return Err(Error::Cancelled);
            }
            let admitted = self.admit(&mut running, params.max_tokens, max_positions)?;
            let mut feeds = Vec::with_capacity(admitted.len());
            let mut uniforms = Vec::with_capacity(admitted.len());
            for &i in &admitted {
                let r = &running[i];
                feeds.push(self.pending(r.id)?.to_vec());
                // Each sequence's draw for its next position: the same whatever the batch.
                let step = self.state(r.id)?.tokens.len() as u64;
                uniforms.push(uniform(params.seed, r.key, step));
            }
            let batch: Vec<SequenceInput<'_>> = admitted
                .iter()
                .zip(&feeds)
                .map(|(&i, feed)| SequenceInput {
                    seq: running[i].id,
                    tokens: feed,
                    logits: Rows::Last,
                    hidden: Rows::None,
                })
                .collect();
            let sampled = self.backend.decode(&batch, params, &uniforms).await?;
            self.counters.forward_passes += 1;
            for ((&i, feed), s) in admitted.iter().zip(&feeds).zip(sampled) {
                self.counters.decode_tokens += feed.len() as u64;
                self.counters.generated_tokens += 1;
                let r = &mut running[i];
                let state = self
                    .seqs
                    .get_mut(&r.id)
                    .ok_or_else(|| Error::InvalidArgument("sequence vanished".into()))?;
                state.tokens.push(s.token);
                r.out.tokens.push(s.token);
                r.out.logprobs.push(Some(s.logprob));
                if params.logprobs > 0 {
                    r.out.top_logprobs.push(s.top_logprobs);
                }
                let before = r.bytes.len();
                if let Some(codec) = options.codec {
                    r.bytes.extend(codec.token_bytes(s.token)?);
                }
                let mut new_text = r.bytes[before..].to_vec();
                let finish = check_stop(
                    state,
                    &mut r.out,
                    &mut r.bytes,
                    s.token,
                    before,
                    &params.stop,
                    &eos,
                    params.max_tokens,
                    max_positions,
                    options.codec,
                    &mut self.backend,
                )?;
                if let Some((reason, text_end)) = finish {
                    if let Some(end) = text_end {
                        new_text.truncate(end - before);
                    }
                    r.out.finish_reason = reason;
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
            self.after_step().await;
        }
        Ok(running.into_iter().map(|r| r.out).collect())
    }
}
