//! Self-check of the sampling kernel: greedy, temperature, top-k and top-p rows of random logits
//! against the CPU sampler, as [token, logprob, top ids and logprobs] per row.

use crate::engine::{SamplingParams, sample_with};
use crate::error::Result;
use crate::gpu::{GpuContext, sample_row_words};
use rand::Rng;
use rand::rngs::SmallRng;

/// GPU and CPU outputs for shape [rows, vocab, top_k, top_n], flattened as f32 (ids as values).
pub(super) async fn run(
    ctx: &GpuContext,
    [rows, vocab, top_k, top_n]: [usize; 4],
    rng: &mut SmallRng,
) -> Result<(Vec<f32>, Vec<f32>)> {
    // Logit-like rows with a few ties, so the threshold and tie rules matter.
    let logits: Vec<f32> = (0..rows * vocab)
        .map(|_| (rng.random_range(-8.0f32..8.0) * 4.0).round() / 4.0)
        .collect();
    let mut draws = Vec::with_capacity(rows * 4);
    let mut params = Vec::with_capacity(rows);
    for r in 0..rows {
        let p = SamplingParams {
            // Row 0 greedy; the others cycle through temperature, top-p and top-k.
            temperature: if r == 0 { 0.0 } else { [0.7, 1.0, 1.3][r % 3] },
            top_p: if r % 2 == 0 { 0.9 } else { 1.0 },
            top_k: if r % 4 == 3 { top_k } else { 0 },
            logprobs: top_n,
            ..SamplingParams::default()
        };
        let u: f32 = rng.random_range(0.0..1.0);
        draws.extend([
            p.temperature.to_bits(),
            p.top_p.to_bits(),
            p.top_k as u32,
            u.to_bits(),
        ]);
        params.push((p, u));
    }
    let lb = ctx.upload_f32(&logits, "logits")?;
    let db = ctx.upload_u32(&draws, "draws")?;
    let width = sample_row_words(top_n);
    let out = ctx.create_buffer(rows * width, "sampled")?;
    let mut b = ctx.batch();
    b.sample(&lb, &db, &out, rows, vocab, top_n)?;
    b.submit().await?;
    let words = ctx.read_u32(&out).await?;
    let mut gpu = Vec::new();
    let mut cpu = Vec::new();
    for (r, (p, u)) in params.iter().enumerate() {
        let row = &words[r * width..(r + 1) * width];
        gpu.push(row[0] as f32);
        gpu.push(f32::from_bits(row[1]));
        for pair in row[2..].chunks_exact(2) {
            gpu.push(pair[0] as f32);
            gpu.push(f32::from_bits(pair[1]));
        }
        let want = sample_with(&logits[r * vocab..(r + 1) * vocab], p, *u);
        cpu.push(want.token as f32);
        cpu.push(want.logprob);
        for (id, lp) in want.top_logprobs {
            cpu.push(id as f32);
            cpu.push(lp);
        }
    }
    Ok((gpu, cpu))
}
