//! A batched forward call's inputs and outputs, and what both backends do around the decoder:
//! checking a batch, placing its tokens in the paged cache (undone if the pass fails), the rows
//! whose logits and hidden states are wanted, and splitting the stacked outputs back into one
//! result per sequence.

use super::config::ModelConfig;
use crate::error::{Error, Result};
use crate::kv::{BlockManager, Placement, SeqId};

/// Which of a sequence's new positions an output is wanted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Every new position.
    All,
    /// Only the last new position.
    Last,
    /// None.
    None,
}

impl Rows {
    /// The rows (of `n` new tokens) wanted.
    pub fn of(self, n: usize) -> std::ops::Range<usize> {
        match self {
            Rows::All => 0..n,
            Rows::Last => n.saturating_sub(1)..n,
            Rows::None => 0..0,
        }
    }
}

/// One sequence's part of a batched forward call.
#[derive(Debug, Clone, Copy)]
pub struct SequenceInput<'a> {
    /// The sequence in the KV cache; the new tokens continue it.
    pub seq: SeqId,
    /// New tokens.
    pub tokens: &'a [u32],
    /// Positions whose logits are wanted.
    pub logits: Rows,
    /// Positions whose final hidden states are wanted (PRM heads read them).
    pub hidden: Rows,
}

/// What a forward call returns for one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardOutput {
    /// Logits [vocab] for each wanted position, in order.
    pub logits: Vec<Vec<f32>>,
    /// Final hidden states (after the final norm) [wanted positions, hidden], row-major.
    pub hidden: Vec<f32>,
}

/// Checks a batch against the model before anything is placed in a cache.
fn validate_batch(config: &ModelConfig, lens: &[usize], batch: &[SequenceInput<'_>]) -> Result<()> {
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

/// A batch placed in the cache: its placement, and what undoes it.
pub(crate) struct Placed {
    /// Where every new token goes.
    pub placement: Placement,
    new: Vec<(SeqId, usize)>,
}

/// Checks `batch` and places its new tokens in the cache (all or nothing).
pub(crate) fn place_batch(
    config: &ModelConfig,
    blocks: &mut BlockManager,
    batch: &[SequenceInput<'_>],
) -> Result<Placed> {
    let lens = batch
        .iter()
        .map(|s| blocks.len(s.seq))
        .collect::<Result<Vec<_>>>()?;
    validate_batch(config, &lens, batch)?;
    let new: Vec<(SeqId, usize)> = batch.iter().map(|s| (s.seq, s.tokens.len())).collect();
    let placement = blocks.place(&new)?;
    Ok(Placed { placement, new })
}

impl Placed {
    /// Undoes the placement after a failed pass: the sequences keep their old lengths.
    pub fn rollback(&self, blocks: &mut BlockManager) -> Result<()> {
        blocks.rollback(&self.new, &self.placement)
    }
}

/// The stacked token ids of a batch.
pub(crate) fn stacked_tokens(batch: &[SequenceInput<'_>]) -> Vec<u32> {
    batch
        .iter()
        .flat_map(|s| s.tokens.iter().copied())
        .collect()
}

/// Rows of the stacked new tokens wanted by `pick` (logits or hidden), in order.
pub(crate) fn wanted_rows(
    batch: &[SequenceInput<'_>],
    pick: impl Fn(&SequenceInput<'_>) -> Rows,
) -> Vec<usize> {
    let mut rows = Vec::new();
    let mut first = 0;
    for s in batch {
        rows.extend(pick(s).of(s.tokens.len()).map(|r| first + r));
        first += s.tokens.len();
    }
    rows
}

/// One output per sequence from the wanted hidden rows [hidden rows, h] and logit rows
/// [logit rows, vocab], both stacked in batch order.
pub(crate) fn split_outputs(
    batch: &[SequenceInput<'_>],
    hidden: &[f32],
    h: usize,
    logits: &[f32],
    vocab: usize,
) -> Vec<ForwardOutput> {
    let mut logit_rows = logits.chunks_exact(vocab).map(<[f32]>::to_vec);
    let mut hidden_rows = hidden.chunks_exact(h);
    batch
        .iter()
        .map(|s| {
            let len = s.tokens.len();
            ForwardOutput {
                logits: logit_rows.by_ref().take(s.logits.of(len).len()).collect(),
                hidden: hidden_rows
                    .by_ref()
                    .take(s.hidden.of(len).len())
                    .flatten()
                    .copied()
                    .collect(),
            }
        })
        .collect()
}
