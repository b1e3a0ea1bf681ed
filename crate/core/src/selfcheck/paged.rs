//! Self-check of paged attention: kv_write then paged_attn on random block tables (forked
//! sequences sharing a prefix of blocks, sliding windows, contexts across the kernel's tiles of 64
//! keys) against the CPU.

use crate::cpu;
use crate::error::Result;
use crate::gpu::GpuContext;
use crate::kv::BlockManager;
use crate::layout::{self, PagedShape};
use rand::Rng;
use rand::rngs::SmallRng;

/// GPU and CPU attention outputs for shape [seqs, heads, kv_heads, head_dim, block_size,
/// prefix]: a shared prefix of `prefix` tokens forked into every sequence.
pub(super) async fn run(
    ctx: &GpuContext,
    [seqs, heads, kv_heads, head_dim, block_size, prefix]: [usize; 6],
    rng: &mut SmallRng,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let num_blocks = prefix.div_ceil(block_size) + seqs * 32usize.div_ceil(block_size) + 8;
    let mut blocks = BlockManager::new(num_blocks, block_size)?;
    // A shared prefix forked into every sequence, then each sequence's own cached tokens.
    let root = blocks.create();
    blocks.place(&[(root, prefix.max(1))])?;
    let ids = blocks.fork(root, seqs)?;
    blocks.release(root)?;
    for &id in &ids {
        blocks.place(&[(id, rng.random_range(0..20))])?;
    }
    let new: Vec<_> = ids.iter().map(|&id| (id, rng.random_range(1..6))).collect();
    let placement = blocks.place(&new)?;
    let row = kv_heads * head_dim;
    let slots = num_blocks * block_size;
    let tokens = placement.slots.len();
    let random = |rng: &mut SmallRng, n: usize| -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    };
    let (mut keys, mut values) = (random(rng, slots * row), random(rng, slots * row));
    let q = random(rng, tokens * heads * head_dim);
    let (new_k, new_v) = (random(rng, tokens * row), random(rng, tokens * row));
    // Full attention, a window inside one tile of keys, or one across tiles.
    let window = match rng.random_range(0..3) {
        0 => usize::MAX,
        1 => rng.random_range(1..10),
        _ => rng.random_range(30..100),
    };
    let shape = PagedShape {
        tokens,
        heads,
        kv_heads,
        head_dim,
        block_size,
        window,
        scale: 1.0 / (head_dim as f32).sqrt(),
    };
    let meta = layout::attention_meta(
        &placement.positions,
        &placement.token_seq,
        &placement.tables,
    )?;
    let (kb, vb) = (
        ctx.upload_f32(&keys, "keys")?,
        ctx.upload_f32(&values, "values")?,
    );
    let (nkb, nvb) = (
        ctx.upload_f32(&new_k, "new k")?,
        ctx.upload_f32(&new_v, "new v")?,
    );
    let qb = ctx.upload_f32(&q, "q")?;
    let mb = ctx.upload_u32(&meta, "meta")?;
    let sb = ctx.upload_u32(&placement.slots, "slots")?;
    let out = ctx.create_buffer(tokens * heads * head_dim, "out")?;
    let mut b = ctx.batch();
    b.kv_write(&nkb, &sb, &kb, tokens, row)?;
    b.kv_write(&nvb, &sb, &vb, tokens, row)?;
    b.paged_attn(&qb, &kb, &vb, &mb, &out, shape)?;
    b.submit().await?;
    for (t, &slot) in placement.slots.iter().enumerate() {
        let s = slot as usize * row;
        keys[s..s + row].copy_from_slice(&new_k[t * row..(t + 1) * row]);
        values[s..s + row].copy_from_slice(&new_v[t * row..(t + 1) * row]);
    }
    let want = cpu::paged_attention(&q, &keys, &values, &meta, shape)?;
    Ok((ctx.read_f32(&out).await?, want))
}
