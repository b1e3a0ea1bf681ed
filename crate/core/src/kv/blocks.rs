//! Paged KV-cache bookkeeping: fixed-size blocks with reference counts, one block table per
//! sequence, copy-on-write forks, truncation, and the placement of a batch's new tokens.
//!
//! This holds no keys or values: the CPU and GPU caches own the storage and carry out the block
//! copies a placement asks for.

use crate::error::{Error, Result};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// A stable handle to a sequence in a KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeqId(pub u64);

#[derive(Debug, Clone, Default)]
struct SeqBlocks {
    blocks: Vec<u32>,
    len: usize,
}

/// Copy the first `positions` positions of block `src` into block `dst` (every layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCopy {
    /// Source block.
    pub src: u32,
    /// Destination block.
    pub dst: u32,
    /// Positions to copy.
    pub positions: usize,
}

/// Where a batch's new tokens go: block copies to do first, then per new token its cache slot
/// (block * block_size + offset) and position, and per sequence its block table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    /// Copy-on-write copies, to be done before any new key or value is written.
    pub copies: Vec<BlockCopy>,
    /// Cache slot of each new token [tokens].
    pub slots: Vec<u32>,
    /// Position of each new token [tokens].
    pub positions: Vec<u32>,
    /// Index of each new token's sequence in the batch [tokens].
    pub token_seq: Vec<u32>,
    /// Block table of each sequence of the batch, after the new tokens.
    pub tables: Vec<Vec<u32>>,
    /// Length of each sequence before the new tokens.
    pub starts: Vec<usize>,
}

/// Block allocation for a paged KV cache.
#[derive(Debug, Clone)]
pub struct BlockManager {
    block_size: usize,
    ref_counts: Vec<u32>,
    free: BinaryHeap<Reverse<u32>>,
    seqs: BTreeMap<SeqId, SeqBlocks>,
    next_id: u64,
    peak_in_use: usize,
}

impl BlockManager {
    /// `num_blocks` blocks of `block_size` positions each.
    pub fn new(num_blocks: usize, block_size: usize) -> Result<Self> {
        if block_size == 0 || num_blocks == 0 {
            return Err(Error::InvalidArgument(format!(
                "a KV cache needs at least one block of at least one position \
                 (got {num_blocks} blocks of {block_size})"
            )));
        }
        let count = u32::try_from(num_blocks)
            .map_err(|_| Error::InvalidArgument(format!("{num_blocks} KV blocks are too many")))?;
        Ok(Self {
            block_size,
            ref_counts: vec![0; num_blocks],
            free: (0..count).map(Reverse).collect(),
            seqs: BTreeMap::new(),
            next_id: 0,
            peak_in_use: 0,
        })
    }

    /// Positions per block.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// Blocks in the cache.
    pub fn num_blocks(&self) -> usize {
        self.ref_counts.len()
    }

    /// Blocks not held by any sequence.
    pub fn free_blocks(&self) -> usize {
        self.free.len()
    }

    /// Blocks held by at least one sequence.
    pub fn blocks_in_use(&self) -> usize {
        self.num_blocks() - self.free_blocks()
    }

    /// Most blocks in use at any moment so far.
    pub fn peak_blocks_in_use(&self) -> usize {
        self.peak_in_use
    }

    /// Live sequences.
    pub fn num_seqs(&self) -> usize {
        self.seqs.len()
    }

    /// A new, empty sequence.
    pub fn create(&mut self) -> SeqId {
        let id = SeqId(self.next_id);
        self.next_id += 1;
        self.seqs.insert(id, SeqBlocks::default());
        id
    }

    fn seq(&self, id: SeqId) -> Result<&SeqBlocks> {
        self.seqs
            .get(&id)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown or released sequence {}", id.0)))
    }

    /// Positions cached for `id`.
    pub fn len(&self, id: SeqId) -> Result<usize> {
        Ok(self.seq(id)?.len)
    }

    /// The block table of `id`.
    pub fn table(&self, id: SeqId) -> Result<&[u32]> {
        Ok(&self.seq(id)?.blocks)
    }

    /// `k` new sequences sharing every block of `id` (nothing is copied now; a shared partial
    /// last block is copied when a sequence first writes to it).
    pub fn fork(&mut self, id: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let parent = self.seq(id)?.clone();
        let k32 = u32::try_from(k)
            .map_err(|_| Error::InvalidArgument(format!("cannot fork {k} sequences")))?;
        for &b in &parent.blocks {
            self.ref_counts[b as usize] += k32;
        }
        Ok((0..k)
            .map(|_| {
                let child = SeqId(self.next_id);
                self.next_id += 1;
                self.seqs.insert(child, parent.clone());
                child
            })
            .collect())
    }

    fn unref(&mut self, block: u32) {
        let count = &mut self.ref_counts[block as usize];
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.free.push(Reverse(block));
        }
    }

    /// Shortens `id` to `len` positions, releasing blocks it no longer needs.
    pub fn truncate(&mut self, id: SeqId, len: usize) -> Result<()> {
        let seq = self.seq(id)?;
        if len > seq.len {
            return Err(Error::InvalidArgument(format!(
                "cannot truncate sequence {} of {} positions to {len}",
                id.0, seq.len
            )));
        }
        let keep = len.div_ceil(self.block_size);
        let dropped: Vec<u32> = seq.blocks[keep..].to_vec();
        for b in dropped {
            self.unref(b);
        }
        if let Some(seq) = self.seqs.get_mut(&id) {
            seq.blocks.truncate(keep);
            seq.len = len;
        }
        Ok(())
    }

    /// Releases `id` and every block only it held.
    pub fn release(&mut self, id: SeqId) -> Result<()> {
        self.truncate(id, 0)?;
        self.seqs.remove(&id);
        Ok(())
    }

    /// Blocks that appending `n` positions to `seq` would take from the free list.
    fn blocks_needed(&self, seq: &SeqBlocks, n: usize) -> usize {
        let bs = self.block_size;
        let new_total = (seq.len + n).div_ceil(bs);
        let fresh = new_total.saturating_sub(seq.blocks.len());
        let partial = !seq.len.is_multiple_of(bs);
        let cow = partial
            && n > 0
            && seq
                .blocks
                .last()
                .is_some_and(|&b| self.ref_counts[b as usize] > 1);
        fresh + usize::from(cow)
    }

    /// Free blocks that appending `n` positions to `id` would take (copy-on-write included).
    pub fn blocks_needed_for(&self, id: SeqId, n: usize) -> Result<usize> {
        Ok(self.blocks_needed(self.seq(id)?, n))
    }

    fn take_block(&mut self) -> Result<u32> {
        let Reverse(b) = self
            .free
            .pop()
            .ok_or(Error::KvCacheFull { needed: 1, free: 0 })?;
        self.ref_counts[b as usize] = 1;
        self.peak_in_use = self.peak_in_use.max(self.blocks_in_use());
        Ok(b)
    }

    /// Makes room for `new[i].1` positions after each sequence `new[i].0` and says where they go.
    /// All or nothing: when the free blocks do not suffice, nothing changes and the error is
    /// [`Error::KvCacheFull`]. A sequence may appear once per batch.
    pub fn place(&mut self, new: &[(SeqId, usize)]) -> Result<Placement> {
        let mut needed = 0;
        for (i, (id, _)) in new.iter().enumerate() {
            if new[..i].iter().any(|(other, _)| other == id) {
                return Err(Error::InvalidArgument(format!(
                    "sequence {} appears twice in one batch",
                    id.0
                )));
            }
        }
        for (id, n) in new {
            needed += self.blocks_needed(self.seq(*id)?, *n);
        }
        if needed > self.free_blocks() {
            return Err(Error::KvCacheFull {
                needed,
                free: self.free_blocks(),
            });
        }
        let bs = self.block_size;
        let mut placement = Placement::default();
        for (index, (id, n)) in new.iter().enumerate() {
            let mut seq = self.seq(*id)?.clone();
            if *n > 0 && seq.len % bs != 0 {
                if let Some(last) = seq.blocks.last_mut() {
                    if self.ref_counts[*last as usize] > 1 {
                        let copy = self.take_block()?;
                        placement.copies.push(BlockCopy {
                            src: *last,
                            dst: copy,
                            positions: seq.len % bs,
                        });
                        self.unref(*last);
                        *last = copy;
                    }
                }
            }
            while seq.blocks.len() < (seq.len + n).div_ceil(bs) {
                let b = self.take_block()?;
                seq.blocks.push(b);
            }
            placement.starts.push(seq.len);
            for p in seq.len..seq.len + n {
                let block = seq.blocks[p / bs] as usize;
                placement.slots.push(slot(block * bs + p % bs)?);
                placement.positions.push(slot(p)?);
                placement.token_seq.push(slot(index)?);
            }
            seq.len += n;
            placement.tables.push(seq.blocks.clone());
            self.seqs.insert(*id, seq);
        }
        Ok(placement)
    }

    /// Undoes a placement after a failed forward pass: each sequence back to its old length.
    pub fn rollback(&mut self, new: &[(SeqId, usize)], placement: &Placement) -> Result<()> {
        for ((id, _), start) in new.iter().zip(&placement.starts) {
            self.truncate(*id, *start)?;
        }
        Ok(())
    }
}

fn slot(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::InvalidArgument(format!("KV position {v} too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_shares_blocks_and_copies_the_partial_last_block_on_write() {
        let mut m = BlockManager::new(8, 4).expect("manager");
        let a = m.create();
        let p = m.place(&[(a, 6)]).expect("prefill");
        assert_eq!(p.slots, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(m.blocks_in_use(), 2);
        let kids = m.fork(a, 2).expect("fork");
        assert_eq!(m.blocks_in_use(), 2, "a fork copies nothing");
        let p = m.place(&[(kids[0], 1), (kids[1], 3)]).expect("extend");
        // Each child copies the 2-position partial block once; the full block stays shared.
        assert_eq!(p.copies.len(), 2);
        assert!(p.copies.iter().all(|c| c.src == 1 && c.positions == 2));
        assert_eq!(p.tables[0][0], 0);
        assert_eq!(p.tables[1][0], 0);
        assert_ne!(p.tables[0][1], p.tables[1][1]);
        // Parent: 2; first child: its copy; second child: its copy and one new block.
        assert_eq!(m.blocks_in_use(), 5);
        m.release(a).expect("release parent");
        assert_eq!(m.blocks_in_use(), 4, "the parent's partial block is freed");
        m.release(kids[0]).expect("release");
        m.release(kids[1]).expect("release");
        assert_eq!(m.blocks_in_use(), 0);
        assert_eq!(m.peak_blocks_in_use(), 5);
    }

    #[test]
    fn placement_is_all_or_nothing() {
        let mut m = BlockManager::new(3, 2).expect("manager");
        let a = m.create();
        let b = m.create();
        m.place(&[(a, 3)]).expect("fits");
        let err = m.place(&[(a, 1), (b, 4)]).expect_err("too many");
        assert_eq!(err.code(), "kv_cache_full");
        assert_eq!(m.len(a).expect("len"), 3);
        assert_eq!(m.len(b).expect("len"), 0);
        assert_eq!(m.blocks_in_use(), 2);
    }

    #[test]
    fn truncate_frees_blocks_and_rollback_restores_lengths() {
        let mut m = BlockManager::new(4, 2).expect("manager");
        let a = m.create();
        m.place(&[(a, 7)]).expect("fits");
        m.truncate(a, 3).expect("truncate");
        assert_eq!(m.blocks_in_use(), 2);
        let p = m.place(&[(a, 2)]).expect("fits");
        assert_eq!(p.positions, vec![3, 4]);
        m.rollback(&[(a, 2)], &p).expect("rollback");
        assert_eq!(m.len(a).expect("len"), 3);
        assert!(m.truncate(a, 9).is_err());
        assert!(m.release(SeqId(99)).is_err());
    }

    #[test]
    fn random_operations_keep_reference_counts_consistent() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut m = BlockManager::new(32, 3).expect("manager");
        let mut live = vec![m.create()];
        for _ in 0..2000 {
            let i = rng.random_range(0..live.len());
            match rng.random_range(0..4) {
                0 => {
                    let _ = m.place(&[(live[i], rng.random_range(0..5))]);
                }
                1 if live.len() < 12 => live.extend(m.fork(live[i], 2).expect("fork")),
                2 => {
                    let len = m.len(live[i]).expect("len");
                    m.truncate(live[i], rng.random_range(0..=len))
                        .expect("truncate");
                }
                3 if live.len() > 1 => m.release(live.swap_remove(i)).expect("release"),
                _ => {}
            }
            // Every block's count equals the tables that hold it.
            let mut counts = vec![0u32; m.num_blocks()];
            for id in &live {
                let table = m.table(*id).expect("table");
                assert_eq!(table.len(), m.len(*id).expect("len").div_ceil(3));
                for &b in table {
                    counts[b as usize] += 1;
                }
            }
            assert_eq!(counts, m.ref_counts);
            assert_eq!(m.free_blocks(), counts.iter().filter(|c| **c == 0).count());
        }
    }
}
