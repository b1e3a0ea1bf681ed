//! A decode step on the GPU: the batched forward pass and the sampling kernel in one submission,
//! reading back only each sequence's token id and logprobs.

use super::params::SamplingParams;
use super::sampler::Sampled;
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, MAX_TOP_LOGPROBS, sample_row_words};
use crate::kv::{GpuKvCache, PagedCache};
use crate::model::batch::place_batch;
use crate::model::{GpuModel, LogitPositions, SequenceInput};

/// Runs `batch` (one logit row per sequence: `LogitPositions::Last`) and samples each
/// sequence's next token with `params` and its uniform draw. On an error the sequences keep
/// their old lengths.
pub async fn forward_sample(
    model: &GpuModel,
    ctx: &GpuContext,
    cache: &mut GpuKvCache,
    batch: &[SequenceInput<'_>],
    params: &SamplingParams,
    uniforms: &[f32],
) -> Result<Vec<Sampled>> {
    if batch.iter().any(|s| s.logits != LogitPositions::Last) || uniforms.len() != batch.len() {
        return Err(Error::InvalidArgument(
            "GPU sampling needs one last-position row and one draw per sequence".into(),
        ));
    }
    if params.logprobs > MAX_TOP_LOGPROBS {
        return Err(Error::InvalidArgument(format!(
            "logprobs is at most {MAX_TOP_LOGPROBS}"
        )));
    }
    let (new, placement) = place_batch(model.config(), cache.blocks_mut(), batch)?;
    let result = async {
        let encoded = model.encode(ctx, cache, batch, &placement)?;
        let logits = encoded
            .logits
            .ok_or_else(|| Error::shape("forward_sample", "no logits recorded".to_string()))?;
        let rows = batch.len();
        let vocab = model.config().vocab_size;
        let top_n = params.logprobs.min(vocab);
        let draws: Vec<u32> = uniforms
            .iter()
            .flat_map(|u| {
                [
                    params.temperature.to_bits(),
                    params.top_p.to_bits(),
                    u32::try_from(params.top_k).unwrap_or(u32::MAX),
                    u.to_bits(),
                ]
            })
            .collect();
        let draws = ctx.upload_u32(&draws, "draws")?;
        let width = sample_row_words(top_n);
        let out = ctx.create_buffer(rows * width, "sampled")?;
        let mut b = encoded.batch;
        b.sample(&logits, &draws, &out, rows, vocab, top_n)?;
        b.submit().await?;
        let words = ctx.read_u32(&out).await?;
        Ok(words
            .chunks_exact(width)
            .map(|row| Sampled {
                token: row[0],
                logprob: f32::from_bits(row[1]),
                top_logprobs: row[2..]
                    .chunks_exact(2)
                    .map(|p| (p[0], f32::from_bits(p[1])))
                    .collect(),
            })
            .collect())
    }
    .await;
    if result.is_err() {
        cache.blocks_mut().rollback(&new, &placement)?;
    }
    result
}
