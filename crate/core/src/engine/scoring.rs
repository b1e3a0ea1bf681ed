//! Teacher forcing: the logprobs of given tokens after a sequence ([`Engine::score`]), and
//! appending tokens to many sequences in one pass with their final hidden states and last-token
//! logits ([`Engine::append_with`]), which PRM heads read.

use super::backend::Backend;
use super::registry::Engine;
use crate::error::{Error, Result};
use crate::kv::SeqId;
use crate::model::{Rows, SequenceInput};

impl<B: Backend> Engine<B> {
    /// Logprobs of `continuation` after `id` (teacher forcing, one batched pass); the tokens are
    /// appended to the sequence.
    pub async fn score(&mut self, id: SeqId, continuation: &[u32]) -> Result<Vec<f32>> {
        if continuation.is_empty() {
            return Ok(Vec::new());
        }
        let pending = self.ensure_pending(id)?;
        let mut feed = self.pending(id)?.to_vec();
        feed.extend_from_slice(&continuation[..continuation.len() - 1]);
        let out = self
            .backend
            .forward(&[SequenceInput {
                seq: id,
                tokens: &feed,
                logits: Rows::All,
                hidden: Rows::None,
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
        self.state_mut(id)?.tokens.extend_from_slice(continuation);
        Ok(logprobs)
    }

    /// Appends tokens to sequences in one batched pass, feeding everything (pending tokens
    /// too), and returns each sequence's final hidden states [new tokens, hidden] for its
    /// `tokens` (PRM heads read them).
    pub async fn append(&mut self, items: &[(SeqId, &[u32])]) -> Result<Vec<Vec<f32>>> {
        Ok(self.append_with(items, Rows::All, false).await?.0)
    }

    /// [`Engine::append`], returning the `hidden` rows of each sequence's appended tokens
    /// ([`Rows::Last`]: the last one's, which a PRM head reads) and, when `last_logits` is set,
    /// each sequence's logits [vocab] at its last new token (LM-token PRMs and verifiers).
    pub async fn append_with(
        &mut self,
        items: &[(SeqId, &[u32])],
        hidden: Rows,
        last_logits: bool,
    ) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>)> {
        let mut feeds = Vec::with_capacity(items.len());
        for (id, tokens) in items {
            let mut feed = self.pending(*id)?.to_vec();
            feed.extend_from_slice(tokens);
            if feed.is_empty() || tokens.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "nothing to append to sequence {}",
                    id.0
                )));
            }
            feeds.push((feed.len() - tokens.len(), feed));
        }
        // Hidden rows of the appended tokens only: all of them, or the last.
        let batch: Vec<SequenceInput<'_>> = items
            .iter()
            .zip(&feeds)
            .map(|((id, _), (_, feed))| SequenceInput {
                seq: *id,
                tokens: feed,
                logits: if last_logits { Rows::Last } else { Rows::None },
                hidden: if hidden == Rows::None {
                    Rows::None
                } else {
                    Rows::All
                },
            })
            .collect();
        let outs = self.backend.forward(&batch).await?;
        self.counters.forward_passes += 1;
        let h = self.backend.config().hidden_size;
        let mut hidden_rows = Vec::with_capacity(items.len());
        let mut logits = Vec::new();
        for (((id, tokens), (skip, feed)), mut out) in items.iter().zip(&feeds).zip(outs) {
            self.counters.prefill_tokens += feed.len() as u64;
            self.state_mut(*id)?.tokens.extend_from_slice(tokens);
            let rows = match hidden {
                Rows::All => out.hidden[skip * h..].to_vec(),
                Rows::Last => out.hidden[out.hidden.len().saturating_sub(h)..].to_vec(),
                Rows::None => Vec::new(),
            };
            hidden_rows.push(rows);
            if let Some(row) = out.logits.pop() {
                logits.push(row);
            }
        }
        Ok((hidden_rows, logits))
    }
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
