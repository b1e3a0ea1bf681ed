//! Paged attention on the CPU: each new token attends to its sequence's cached keys and values
//! through the sequence's block table; the oracle of the GPU's paged attention kernels.

use super::expect_len;
use super::softmax::softmax;
use crate::error::{Error, Result};

/// Dimensions of one paged attention call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PagedShape {
    /// New tokens (query rows).
    pub tokens: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Head width.
    pub head_dim: usize,
    /// Positions per cache block.
    pub block_size: usize,
    /// Visible window (usize::MAX: full attention).
    pub window: usize,
    /// Score scale.
    pub scale: f32,
}

/// The packed per-token metadata of a paged attention call, as the GPU kernels read it:
/// `[positions (tokens) | table start of each token (tokens) | block tables]`; a token at
/// position p reads key j <= p from block `meta[meta[tokens + t] + j / block_size]`.
pub fn attention_meta(
    positions: &[u32],
    token_seq: &[u32],
    tables: &[Vec<u32>],
) -> Result<Vec<u32>> {
    let tokens = positions.len();
    expect_len("attention_meta", "token_seq", token_seq.len(), tokens)?;
    let mut starts = Vec::with_capacity(tables.len());
    let mut offset = 2 * tokens;
    for table in tables {
        starts.push(
            u32::try_from(offset).map_err(|_| {
                Error::InvalidArgument("attention metadata over 2^32 entries".into())
            })?,
        );
        offset += table.len();
    }
    let mut meta = Vec::with_capacity(offset);
    meta.extend_from_slice(positions);
    for &s in token_seq {
        meta.push(*starts.get(s as usize).ok_or_else(|| {
            Error::shape(
                "attention_meta",
                format!("token of sequence {s} without a table"),
            )
        })?);
    }
    tables.iter().for_each(|t| meta.extend_from_slice(t));
    Ok(meta)
}

/// out [tokens, heads, head_dim] = softmax(q k^T * scale, causal and windowed) v, with keys and
/// values [slots, kv_heads, head_dim] read through `meta` (see [`attention_meta`]).
pub fn paged_attention(
    q: &[f32],
    keys: &[f32],
    values: &[f32],
    meta: &[u32],
    s: PagedShape,
) -> Result<Vec<f32>> {
    let (hd, nh, nkv, bs) = (s.head_dim, s.heads, s.kv_heads, s.block_size);
    expect_len("paged_attention", "q", q.len(), s.tokens * nh * hd)?;
    if nkv == 0 || !nh.is_multiple_of(nkv) || bs == 0 || meta.len() < 2 * s.tokens {
        return Err(Error::shape(
            "paged_attention",
            format!(
                "{nh} heads, {nkv} KV heads, block {bs}, {} meta",
                meta.len()
            ),
        ));
    }
    let row = nkv * hd;
    let group = nh / nkv;
    let slot_of = |t: usize, j: usize| -> Result<usize> {
        let entry = meta[s.tokens + t] as usize + j / bs;
        let block = *meta.get(entry).ok_or_else(|| {
            Error::shape(
                "paged_attention",
                format!("block table entry {entry} missing"),
            )
        })? as usize;
        let slot = block * bs + j % bs;
        if (slot + 1) * row > keys.len().min(values.len()) {
            return Err(Error::shape(
                "paged_attention",
                format!("slot {slot} outside a cache of {} slots", keys.len() / row),
            ));
        }
        Ok(slot)
    };
    let mut out = vec![0f32; s.tokens * nh * hd];
    let mut scores = Vec::new();
    let mut slots = Vec::new();
    for t in 0..s.tokens {
        let pos = meta[t] as usize;
        let first = (pos + 1).saturating_sub(s.window);
        slots.clear();
        for j in first..=pos {
            slots.push(slot_of(t, j)?);
        }
        for head in 0..nh {
            let kvh = head / group;
            let qv = &q[(t * nh + head) * hd..(t * nh + head + 1) * hd];
            scores.clear();
            for &slot in &slots {
                let k = &keys[slot * row + kvh * hd..slot * row + (kvh + 1) * hd];
                scores.push(qv.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * s.scale);
            }
            let probs = softmax(&scores, 1, scores.len())?;
            let o = &mut out[(t * nh + head) * hd..(t * nh + head + 1) * hd];
            for (p, &slot) in probs.iter().zip(&slots) {
                let v = &values[slot * row + kvh * hd..slot * row + (kvh + 1) * hd];
                o.iter_mut().zip(v).for_each(|(o, v)| *o += p * v);
            }
        }
    }
    Ok(out)
}
