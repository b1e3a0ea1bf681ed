//! Step scores from vLLM's pooling API (`POST /pooling`, beside `/v1`) for reward-head PRMs
//! served as token classifiers: Qwen2.5-Math-PRM (`vllm serve Qwen/Qwen2.5-Math-PRM-7B`, the
//! `--task reward` of vLLM 0.7 to 0.10.0, `--runner pooling` from 0.10.1, task
//! `token_classify` from 0.11). The request sends the sequence as token ids
//! (`{"model", "input": [ids], "encoding_format": "float"}`, no `task`: the model's default);
//! the answer's `data[0].data` holds one row per step tag (`<extra_0>`, STEP pooling) of the two
//! classes' probabilities (the pooler's softmax is on by default), and the new step's score is
//! the last row's class 1, as Qwen's `make_step_rewards` reads it. These shapes are those of
//! vLLM's pooling protocol from 0.7 to 0.18 (`PoolingResponse`: `data[i].data` a nested list);
//! no vLLM server runs in the tests, which check the client against answers of that shape.

use crate::counters::Usage;
use crate::pool::Pool;
use serde_json::json;
use ttsearch::{Error, Result};

/// The new step's score from a pooling answer: the last row's class 1.
pub fn last_step_reward(answer: &serde_json::Value) -> Result<f32> {
    let bad = |detail: &str| Error::Network(format!("a pooling answer {detail}"));
    let rows = answer["data"][0]["data"]
        .as_array()
        .ok_or_else(|| bad("has no data[0].data list"))?;
    let last = rows.last().ok_or_else(|| bad("has no step row"))?;
    let p = last
        .as_array()
        .and_then(|r| r.get(1))
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| bad("has a step row without two classes"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(bad(&format!(
            "gives {p} for a probability (is the pooler's softmax off?)"
        )));
    }
    Ok(p as f32)
}

/// The score of the step that ends `ids` (its last token the step tag), and the prompt tokens
/// the server computed.
pub fn step_score(pool: &Pool, ids: &[u32]) -> Result<(f32, u64)> {
    let body = json!({
        "model": pool.model(),
        "input": ids,
        "encoding_format": "float",
    });
    let answer = pool.post_beside("/pooling", &body)?;
    let usage = Usage::of(&answer, ids.len() as u64);
    pool.counters().add_usage(&usage);
    Ok((last_step_reward(&answer)?, usage.computed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_rows_positive_class() {
        let answer = json!({"data": [{"index": 0, "object": "pooling",
            "data": [[0.0123, 0.9877], [0.75, 0.25]]}]});
        assert_eq!(last_step_reward(&answer).ok(), Some(0.25));
        assert!(last_step_reward(&json!({"data": []})).is_err());
        assert!(last_step_reward(&json!({"data": [{"data": [[-3.0, 2.5]]}]})).is_err());
    }
}
