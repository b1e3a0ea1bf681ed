//! Step scores from the next-token distribution over the completions API: the whole sequence
//! is sent for one greedy token with the top logprobs, and the score is the positive answer's
//! probability against the negative's ("Yes"/"No" for the generative verifier, "+"/"-" for
//! RLHFlow and Math-Shepherd), as the local scorer reads its logits at the same position
//! (every format ends a step's chunk where the answer comes next). An answer missing from the
//! top logprobs counts as probability 0 (both missing: 0.5). vLLM is asked to key the logprobs
//! by token id (`return_tokens_as_token_ids`), which are matched against the ids the local head
//! compares (each answer's last token); other servers key them by text. Servers that take only
//! text get the ids decoded, special tokens kept, without the BOS their tokenizer adds.

use crate::completions::{CompletionRequest, choices};
use crate::counters::Usage;
use crate::pool::Pool;
use crate::server_kind::PromptInput;
use ttsearch::prm::PrmFormat;
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result};

/// Top logprobs asked for per scored step.
const TOP_LOGPROBS: usize = 20;

/// P(yes) against P(no) from one position's top logprobs (token text to logprob).
pub fn yes_no_score(top: &serde_json::Value, yes: &str, no: &str) -> f32 {
    let prob = |answer: &str| -> f64 {
        top.get(answer)
            .and_then(serde_json::Value::as_f64)
            .filter(|lp| lp.is_finite())
            .map_or(0.0, f64::exp)
    };
    let (p_yes, p_no) = (prob(yes), prob(no));
    if p_yes + p_no <= 0.0 {
        return 0.5;
    }
    (p_yes / (p_yes + p_no)) as f32
}

/// The first generated token's top logprobs as a map from token text to logprob, from the
/// legacy completions shape (`top_logprobs: [{text: logprob}]`, vLLM and llama-cpp-python) or
/// the chat-style one (`content: [{top_logprobs: [{token, logprob}]}]`, llama-server).
pub fn first_top_logprobs(logprobs: &serde_json::Value) -> Option<serde_json::Value> {
    let legacy = &logprobs["top_logprobs"][0];
    if legacy.is_object() {
        return Some(legacy.clone());
    }
    let list = logprobs["content"][0]["top_logprobs"].as_array()?;
    let mut map = serde_json::Map::new();
    for entry in list {
        if let (Some(token), Some(lp)) = (entry["token"].as_str(), entry["logprob"].as_f64()) {
            // Several tokens can spell one text; the likeliest comes first and is kept.
            map.entry(token.to_string())
                .or_insert(serde_json::json!(lp));
        }
    }
    Some(serde_json::Value::Object(map))
}

/// The prompt `ids` as the pool's servers take it.
fn input(pool: &Pool, tokenizer: &Tokenizer, ids: &[u32]) -> Result<PromptInput> {
    if !pool.kind().text_prompts() {
        return Ok(PromptInput::Ids(ids.to_vec()));
    }
    let skip_bos = tokenizer.add_bos && ids.first() == tokenizer.bos_token_id.as_ref();
    let ids = if skip_bos { &ids[1..] } else { ids };
    Ok(PromptInput::Text(tokenizer.decode(ids, false)?))
}

/// The score of the step that ends `ids`, and the prompt tokens the server computed.
pub fn step_score(
    pool: &Pool,
    tokenizer: &Tokenizer,
    format: PrmFormat,
    ids: &[u32],
) -> Result<(f32, u64)> {
    let prompt = input(pool, tokenizer, ids)?;
    let body = CompletionRequest {
        model: pool.model(),
        prompt: &prompt,
        n: 1,
        max_tokens: 1,
        temperature: 0.0,
        top_p: 1.0,
        seed: 0,
        stop: &[],
        logprobs: Some(TOP_LOGPROBS),
        top_k_off: pool.kind().top_k_off(),
    }
    .body();
    let mut body = body;
    if pool.kind() == crate::server_kind::ServerKind::Vllm {
        body["return_tokens_as_token_ids"] = serde_json::json!(true);
    }
    let answer = pool.post("/completions", &body)?;
    let usage = Usage::of(&answer, ids.len() as u64);
    pool.counters().add_usage(&usage);
    let choice = choices(&answer)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Network("a completions answer has no choices".into()))?;
    let top = first_top_logprobs(&choice.logprobs).ok_or_else(|| {
        Error::Network("the server returned no top logprobs for the scorer's answer".into())
    })?;
    let (yes, no) = format.answer_pair(tokenizer);
    // vLLM keys by token id when asked (`return_tokens_as_token_ids`): the ids the local head
    // compares, the last token of each answer's spelling.
    let by_id = top
        .as_object()
        .is_some_and(|m| m.keys().any(|k| k.starts_with("token_id:")));
    let key = |text: &str| -> Result<String> {
        if !by_id {
            return Ok(text.to_string());
        }
        let id = tokenizer
            .encode(text, false)?
            .last()
            .copied()
            .ok_or_else(|| Error::Unsupported(format!("the tokenizer cannot spell {text:?}")))?;
        Ok(format!("token_id:{id}"))
    };
    Ok((yes_no_score(&top, &key(yes)?, &key(no)?), usage.computed()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yes_against_no() {
        let top = json!({"Yes": (0.6f64).ln(), "No": (0.2f64).ln(), "Maybe": -3.0});
        assert!((yes_no_score(&top, "Yes", "No") - 0.75).abs() < 1e-6);
        assert_eq!(yes_no_score(&json!({"Yes": -0.1}), "Yes", "No"), 1.0);
        assert_eq!(yes_no_score(&json!({}), "Yes", "No"), 0.5);
    }

    #[test]
    fn both_logprob_shapes() {
        let legacy = json!({"tokens": ["Yes"], "top_logprobs": [{"Yes": -0.1, "No": -2.5}]});
        assert_eq!(
            first_top_logprobs(&legacy),
            Some(json!({"Yes": -0.1, "No": -2.5}))
        );
        let chat = json!({"content": [{"id": 7, "token": "Yes", "logprob": -0.1,
            "top_logprobs": [{"id": 7, "token": "Yes", "logprob": -0.1},
                             {"id": 9, "token": "No", "logprob": -2.5}]}]});
        assert_eq!(
            first_top_logprobs(&chat),
            Some(json!({"Yes": -0.1, "No": -2.5}))
        );
        assert_eq!(first_top_logprobs(&json!(null)), None);
    }
}
