//! A decode step on the GPU: the batched forward pass ends with the sampling kernel in the same
//! submission, and only each sequence's token id and logprobs are read back.

use super::params::SamplingParams;
use super::sampler::Sampled;
use crate::error::{Error, Result};
use crate::gpu::sample_row_words;
use crate::kv::GpuKvCache;
use crate::model::{GpuModel, Rows, SampleRequest, SequenceInput};

/// Runs `batch` (one logit row per sequence: `Rows::Last`) and samples each sequence's next
/// token with `params` (validated by the caller) and its uniform draw. On an error the
/// sequences keep their old lengths.
pub async fn decode_on_gpu(
    model: &mut GpuModel,
    cache: &mut GpuKvCache,
    batch: &[SequenceInput<'_>],
    params: &SamplingParams,
    uniforms: &[f32],
) -> Result<Vec<Sampled>> {
    if batch.iter().any(|s| s.logits != Rows::Last) || uniforms.len() != batch.len() {
        return Err(Error::InvalidArgument(
            "GPU sampling needs one last-position row and one draw per sequence".into(),
        ));
    }
    let top_n = params.logprobs.min(model.config().vocab_size);
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
    let request = SampleRequest {
        draws: &draws,
        top_n,
    };
    let out = model.pass(cache, batch, Some(request)).await?;
    let words = out
        .sampled
        .ok_or_else(|| Error::shape("decode", "the pass sampled nothing".to_string()))?;
    Ok(words
        .chunks_exact(sample_row_words(top_n))
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
