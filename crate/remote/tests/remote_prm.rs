//! Remote PRMs against scripted servers answering in vLLM's documented shapes: a reward-head
//! PRM (Qwen2.5-Math-PRM's format) over the pooling API and an LM-token PRM (Math-Shepherd's
//! format) over the completions API's top logprobs. The ids each request sends must be the
//! reference input ids of tests/fixtures/prms/golden.json (transformers' formatting), and the
//! scores read back must be the ones the answers carry.

mod common;

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use ttsearch::block_on;
use ttsearch::prm::PrmFormat;
use ttsearch::search::StepScorer;
use ttsearch_remote::{Pool, RemotePrm, RetryPolicy};

fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path)
}

fn golden() -> Value {
    let text = std::fs::read_to_string(fixture("prms/golden.json")).expect("golden.json");
    serde_json::from_str(&text).expect("JSON")
}

fn ids_of(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_u64().expect("an id"))
        .collect()
}

/// `sent` is the reference `want` but for at most three closing tokens.
fn assert_prefix(sent: &[u64], want: &[u64]) {
    assert!(
        want.starts_with(sent) && want.len() - sent.len() <= 3,
        "sent {sent:?}\nreference {want:?}"
    );
}

/// The last id of `text` in the fixtures' tokenizer.
fn last_id(text: &str) -> u64 {
    let tokenizer = block_on(ttsearch::load::path_tokenizer(&fixture(
        "prms/qwen-prm-tiny",
    )))
    .expect("tokenizer");
    u64::from(
        *tokenizer
            .encode(text, false)
            .expect("encodes")
            .last()
            .expect("a token"),
    )
}

/// Scores the golden case's steps one at a time on `url` in `format`; returns the scores and
/// the prompts the server saw.
fn score_case(url: &str, format: PrmFormat, case: &Value) -> Vec<f32> {
    let tokenizer = block_on(ttsearch::load::path_tokenizer(&fixture(
        "prms/qwen-prm-tiny",
    )))
    .expect("tokenizer");
    let pool = Pool::new(&[url.to_string()], "prm", None, RetryPolicy::default()).expect("pool");
    let mut prm = RemotePrm::new(Arc::new(pool), Arc::new(tokenizer), format).expect("a PRM");
    let question = case["question"].as_str().expect("question");
    let seq = block_on(prm.start(question)).expect("start");
    let mut scores = Vec::new();
    for step in case["steps"].as_array().expect("steps") {
        let step = step.as_str().expect("a step");
        scores.extend(block_on(prm.score_steps(&[(seq, step)])).expect("scored"));
    }
    prm.release(seq).expect("released");
    scores
}

#[test]
fn reward_head_prm_over_the_pooling_api() {
    let case = golden()["cases"][0].clone();
    let want_ids = ids_of(&case["ids"]["qwen-prm"]);
    let want: Vec<f64> = case["scores"]["qwen-prm"]
        .as_array()
        .expect("scores")
        .iter()
        .map(|s| s.as_f64().expect("a score"))
        .collect();
    let tag = last_id("<extra_0>");
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let scores = want.clone();
    let (url, _) = common::serve(move |_, line, body| {
        log.lock()
            .expect("lock")
            .push((line.to_string(), body.clone()));
        let ids = ids_of(&body["input"]);
        // STEP pooling: one row per step tag, the two classes' probabilities.
        let rows: Vec<Value> = ids
            .iter()
            .filter(|&&id| id == tag)
            .zip(&scores)
            .map(|(_, s)| json!([1.0 - s, s]))
            .collect();
        let answer = json!({"id": "pool-1", "object": "list", "created": 1, "model": "prm",
            "data": [{"index": 0, "object": "pooling", "data": rows}],
            "usage": {"prompt_tokens": ids.len(), "total_tokens": ids.len(),
                      "completion_tokens": 0, "prompt_tokens_details": null}});
        Some(("200 OK".into(), answer.to_string()))
    });
    let got = score_case(&url, PrmFormat::QwenPrm, &case);
    for (g, w) in got.iter().zip(&want) {
        assert!((f64::from(*g) - w).abs() < 1e-6, "{got:?} against {want:?}");
    }
    assert_eq!(got.len(), want.len());
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), want.len());
    for (line, body) in seen.iter() {
        assert!(line.starts_with("POST /pooling "), "{line}");
        assert_eq!(body["model"], "prm");
        assert_eq!(body["encoding_format"], "float");
        assert!(body.get("task").is_none());
    }
    // The last request holds the whole case as transformers formats it, up to the closing
    // end of turn the scores are read before.
    assert_prefix(&ids_of(&seen[seen.len() - 1].1["input"]), &want_ids);
}

#[test]
fn lm_token_prm_over_the_completions_api() {
    let want_first = || {
        golden()["cases"][0]["scores"]["math-shepherd"][0]
            .as_f64()
            .expect("a score")
    };
    let case = golden()["cases"][0].clone();
    let want_ids = ids_of(&case["ids"]["math-shepherd"]);
    let want: Vec<f64> = case["scores"]["math-shepherd"]
        .as_array()
        .expect("scores")
        .iter()
        .map(|s| s.as_f64().expect("a score"))
        .collect();
    let tag = last_id(" \u{43a}\u{438}");
    let (plus, minus) = (last_id("+"), last_id("-"));
    // Keyed by text on the first step, by token id (vLLM's return_tokens_as_token_ids) after.
    let top = move |s: f64| {
        if s == want_first() {
            json!({"+": s.ln(), "-": (1.0 - s).ln(), "x": -9.0})
        } else {
            let mut m = serde_json::Map::new();
            m.insert(format!("token_id:{plus}"), json!(s.ln()));
            m.insert(format!("token_id:{minus}"), json!((1.0 - s).ln()));
            m.insert("token_id:7".into(), json!(-9.0));
            Value::Object(m)
        }
    };
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let scores = want.clone();
    let (url, _) = common::serve(move |_, line, body| {
        log.lock()
            .expect("lock")
            .push((line.to_string(), body.clone()));
        let ids = ids_of(&body["prompt"]);
        let step = ids.iter().filter(|&&id| id == tag).count();
        let s = scores[step - 1];
        // Legacy logprobs: top_logprobs keyed by token text; "+" and "-" among others.
        let answer = json!({"id": "cmpl-1", "object": "text_completion", "created": 1,
            "model": "prm",
            "choices": [{"index": 0, "text": "+", "finish_reason": "length", "stop_reason": null,
                "logprobs": {"tokens": ["+"], "token_logprobs": [s.ln()], "text_offset": [0],
                    "top_logprobs": [top(s)]}}],
            "usage": {"prompt_tokens": ids.len(), "completion_tokens": 1,
                      "total_tokens": ids.len() + 1}});
        Some(("200 OK".into(), answer.to_string()))
    });
    let got = score_case(&url, PrmFormat::MathShepherd, &case);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((f64::from(*g) - w).abs() < 1e-5, "{got:?} against {want:?}");
    }
    let seen = seen.lock().expect("lock");
    for (line, body) in seen.iter() {
        assert!(line.starts_with("POST /v1/completions "), "{line}");
        assert_eq!(
            (body["max_tokens"].as_u64(), body["temperature"].as_f64()),
            (Some(1), Some(0.0))
        );
        assert_eq!(body["logprobs"], 20);
    }
    assert_prefix(&ids_of(&seen[seen.len() - 1].1["prompt"]), &want_ids);
}

#[test]
fn heads_no_server_serves_are_refused() {
    let tokenizer = block_on(ttsearch::load::path_tokenizer(&fixture(
        "prms/qwen-prm-tiny",
    )))
    .expect("tokenizer");
    let pool = Pool::new(
        &["http://127.0.0.1:9".to_string()],
        "prm",
        None,
        RetryPolicy::default(),
    )
    .expect("pool");
    let err = RemotePrm::new(Arc::new(pool), Arc::new(tokenizer), PrmFormat::Skywork)
        .err()
        .expect("refused");
    assert_eq!(err.code(), "unsupported");
}
