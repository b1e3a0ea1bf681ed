//! Data layouts the CPU and GPU kernels share: the shape of a paged attention call and the packed
//! per-token metadata both backends' paged attention reads.

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
    if token_seq.len() != tokens {
        return Err(Error::shape(
            "attention_meta",
            format!("{} token_seq entries for {tokens} tokens", token_seq.len()),
        ));
    }
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
