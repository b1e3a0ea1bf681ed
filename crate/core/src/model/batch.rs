//! What the CPU and GPU forward passes share around the model itself: checking a batch,
//! placing its tokens in the paged cache, the rows whose logits are wanted, and splitting the
//! stacked outputs back into one result per sequence.

use super::config::ModelConfig;
use super::forward_cpu::SequenceInput;
use crate::error::{Error, Result};
use crate::kv::{BlockManager, Placement, SeqId};

/// Checks a batch against the model before anything is placed in a cache.
pub(crate) fn validate_batch(
    config: &ModelConfig,
    lens: &[usize],
    batch: &[SequenceInput<'_>],
) -> Result<()> {
    if batch.is_empty() {
        return Err(Error::InvalidArgument(
            "forward needs at least one sequence".into(),
        ));
    }
    for (s, len) in batch.iter().zip(lens) {
        if s.tokens.is_empty() {
            return Err(Error::InvalidArgument(
                "forward needs at least one token per sequence".into(),
            ));
        }
        if let Some(t) = s.tokens.iter().find(|t| **t as usize >= config.vocab_size) {
            return Err(Error::InvalidArgument(format!(
                "token {t} outside the vocabulary of {}",
                config.vocab_size
            )));
        }
        if len + s.tokens.len() > config.max_position_embeddings {
            return Err(Error::InvalidArgument(format!(
                "{} positions exceed the model's {}",
                len + s.tokens.len(),
                config.max_position_embeddings
            )));
        }
    }
    Ok(())
}

/// What a forward call returns for one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardOutput {
    /// Logits [vocab] for each requested position, in order.
    pub logits: Vec<Vec<f32>>,
    /// Final hidden states (after the final norm) [new tokens, hidden], row-major.
    pub hidden: Vec<f32>,
}

/// Checks `batch` and places its new tokens in the cache (all or nothing). Returns what
/// [`BlockManager::rollback`] needs if the forward pass then fails.
pub(crate) fn place_batch(
    config: &ModelConfig,
    blocks: &mut BlockManager,
    batch: &[SequenceInput<'_>],
) -> Result<(Vec<(SeqId, usize)>, Placement)> {
    let lens = batch
        .iter()
        .map(|s| blocks.len(s.seq))
        .collect::<Result<Vec<_>>>()?;
    validate_batch(config, &lens, batch)?;
    let new: Vec<(SeqId, usize)> = batch.iter().map(|s| (s.seq, s.tokens.len())).collect();
    let placement = blocks.place(&new)?;
    Ok((new, placement))
}

/// Rows of the stacked new tokens whose logits the batch asks for, in order.
pub(crate) fn logit_rows(batch: &[SequenceInput<'_>]) -> Vec<usize> {
    let mut rows = Vec::new();
    let mut first = 0;
    for s in batch {
        rows.extend(s.logits.rows(s.tokens.len()).map(|r| first + r));
        first += s.tokens.len();
    }
    rows
}

/// One output per sequence from the stacked hidden states [tokens, h] and the logits
/// [logit_rows, vocab].
pub(crate) fn split_outputs(
    batch: &[SequenceInput<'_>],
    hidden: &[f32],
    h: usize,
    logits: &[f32],
    vocab: usize,
) -> Vec<ForwardOutput> {
    let mut rows = logits.chunks_exact(vocab).map(<[f32]>::to_vec);
    let mut first = 0;
    batch
        .iter()
        .map(|s| {
            let len = s.tokens.len();
            let out = ForwardOutput {
                logits: rows.by_ref().take(s.logits.rows(len).len()).collect(),
                hidden: hidden[first * h..(first + len) * h].to_vec(),
            };
            first += len;
            out
        })
        .collect()
}
