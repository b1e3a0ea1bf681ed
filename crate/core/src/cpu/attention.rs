//! Paged attention on the CPU: each new token attends to its sequence's cached keys and values
//! through the sequence's block table; the oracle of the GPU's paged attention kernels.

use super::expect_len;
use super::linear::dot;
use super::parallel::try_for_chunks;
use super::softmax::softmax;
use crate::error::{Error, Result};
use crate::layout::PagedShape;

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
    // Tokens run in parallel: out [tokens, heads * head_dim], one token's heads per piece.
    let context: usize = (0..s.tokens)
        .map(|t| (meta[t] as usize + 1).min(s.window))
        .sum();
    try_for_chunks(&mut out, nh * hd, 2 * context * nh * hd, |t, out_t| {
        let pos = meta[t] as usize;
        let first = (pos + 1).saturating_sub(s.window);
        let slots = (first..=pos)
            .map(|j| slot_of(t, j))
            .collect::<Result<Vec<usize>>>()?;
        let mut scores = Vec::with_capacity(slots.len());
        for (head, o) in out_t.chunks_exact_mut(hd).enumerate() {
            let kvh = head / group;
            let qv = &q[(t * nh + head) * hd..(t * nh + head + 1) * hd];
            scores.clear();
            for &slot in &slots {
                let k = &keys[slot * row + kvh * hd..slot * row + (kvh + 1) * hd];
                scores.push(dot(qv, k) * s.scale);
            }
            let probs = softmax(&scores, 1, scores.len())?;
            for (p, &slot) in probs.iter().zip(&slots) {
                let v = &values[slot * row + kvh * hd..slot * row + (kvh + 1) * hd];
                o.iter_mut().zip(v).for_each(|(o, v)| *o += p * v);
            }
        }
        Ok(())
    })?;
    Ok(out)
}
