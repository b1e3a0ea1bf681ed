//! RemotePolicy against a scripted completions server: sequences with one prompt go as one
//! request with n; a server that returns one choice gets the rest as requests of one seeded
//! seed + k, and is not asked for n again; the stop string comes back kept (stop_reason) or
//! not (EOS); prompts are the local chat template's ids continuing each partial solution;
//! release_finished frees the call's sequences; a context with no room left ends on length
//! without a request.

mod common;

use serde_json::{Value, json};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use ttsearch::block_on;
use ttsearch::engine::SamplingParams;
use ttsearch::model::Architecture;
use ttsearch::search::{GenerateRequest, Policy, PolicyPrompt, StepEnd, Until};
use ttsearch_remote::{Pool, RemotePolicy, RetryPolicy};

fn tokenizer() -> ttsearch::tokenize::Tokenizer {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/prms/policy-tiny");
    block_on(ttsearch::load::path_tokenizer(&dir)).expect("tokenizer")
}

fn request(until: Until, release_finished: bool) -> GenerateRequest {
    GenerateRequest {
        until,
        params: SamplingParams {
            temperature: 0.8,
            seed: 5,
            max_tokens: 12,
            ..SamplingParams::default()
        },
        release_finished,
    }
}

#[test]
fn one_prompt_one_request_then_requests_of_one() {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = Arc::clone(&seen);
    // One choice per request, as llama-cpp-python answers; the text names the seed.
    let (url, _) = common::serve(move |_, _, body| {
        log.lock().expect("lock").push(body.clone());
        let seed = body["seed"].as_u64().unwrap_or(0);
        let eos = seed % 2 == 0;
        let answer = json!({"choices": [{"index": 0, "text": format!("s{seed}"),
            "finish_reason": "stop", "stop_reason": if eos { Value::Null } else { json!("\n\n") }}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}});
        Some(("200 OK".into(), answer.to_string()))
    });
    let pool = Arc::new(Pool::new(&[url], "m", None, RetryPolicy::default()).expect("pool"));
    let tok = Arc::new(tokenizer());
    let mut policy = RemotePolicy::new(
        pool,
        Arc::clone(&tok),
        PolicyPrompt::default(),
        Architecture::Qwen2,
        Arc::new(AtomicBool::new(true)),
    );
    let root = block_on(policy.start("What is 1+1?")).expect("start");
    let seqs = policy.fork(root, 3).expect("fork");
    let keyed: Vec<_> = seqs.iter().map(|s| (*s, 0)).collect();
    let out =
        block_on(policy.generate(&keyed, &request(Until::Step, false), None)).expect("generated");
    let bodies = seen.lock().expect("lock").clone();
    // One request with n = 3, then two of one, seeded seed + 1 and seed + 2.
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0]["n"], 3);
    let first = bodies[0]["seed"].as_u64().expect("seed");
    let mut later: Vec<u64> = bodies[1..]
        .iter()
        .map(|b| b["seed"].as_u64().expect("seed"))
        .collect();
    later.sort_unstable();
    assert_eq!(later, vec![first + 1, first + 2]);
    assert!(
        bodies
            .iter()
            .all(|b| b["stop"] == json!(["\n\n"]) && b["max_tokens"] == 12)
    );
    // The prompt: the chat template's generation prompt, as ids.
    let want = PolicyPrompt::default()
        .render(Architecture::Qwen2, &tok, "What is 1+1?", None)
        .expect("prompt");
    assert_eq!(bodies[0]["prompt"], json!(want.ids));
    for (o, seed) in out.iter().zip([first, first + 1, first + 2]) {
        let step = seed % 2 == 1;
        assert_eq!(
            o.end,
            if step { StepEnd::Step } else { StepEnd::Eos },
            "{o:?}"
        );
        assert_eq!(
            o.text,
            if step {
                format!("s{seed}\n\n")
            } else {
                format!("s{seed}")
            }
        );
        assert_eq!(o.tokens, 3);
    }
    // The next call continues each text, one request each: n is not asked again.
    seen.lock().expect("lock").clear();
    let out2 =
        block_on(policy.generate(&keyed, &request(Until::End, true), None)).expect("generated");
    let bodies = seen.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies
            .iter()
            .all(|b| b["n"] == 1 && b.get("stop").is_none())
    );
    let continued = PolicyPrompt::default()
        .render(
            Architecture::Qwen2,
            &tok,
            "What is 1+1?",
            Some(&out[0].text),
        )
        .expect("prompt");
    assert!(bodies.iter().any(|b| b["prompt"] == json!(continued.ids)));
    assert!(out2.iter().all(|o| o.end == StepEnd::Eos));
    // release_finished freed them all.
    for s in &seqs {
        assert!(policy.release(*s).is_err());
    }
    policy.release(root).expect("the root is still held");
}

#[test]
fn a_full_context_ends_on_length_without_a_request() {
    let (url, count) =
        common::serve(|_, _, _| Some(("500 Internal Server Error".into(), "{}".into())));
    let pool = Arc::new(Pool::new(&[url], "m", None, RetryPolicy::default()).expect("pool"));
    pool.set_context(Some(8));
    let mut policy = RemotePolicy::new(
        pool,
        Arc::new(tokenizer()),
        PolicyPrompt::default(),
        Architecture::Qwen2,
        Arc::new(AtomicBool::new(true)),
    );
    let root = block_on(policy.start("What is 1+1?")).expect("start");
    let out = block_on(policy.generate(&[(root, 0)], &request(Until::Step, false), None))
        .expect("generated");
    assert_eq!(
        (out[0].end, out[0].tokens, out[0].text.as_str()),
        (StepEnd::Length, 0, "")
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 0);
}
