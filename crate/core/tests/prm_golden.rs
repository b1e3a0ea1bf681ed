//! PRMs against the reference formatting and transformers (tests/fixtures/prms, written by
//! scripts/gen_tiny_prms.py): tiny PRMs of every family (Skywork value head, Qwen2.5-Math-PRM
//! classifier, RLHFlow and Math-Shepherd LM-token read-outs; Skywork's also from a PyTorch
//! checkpoint) scored step by step on the CPU, and
//! incremental scoring across forks equal to scoring each path from scratch.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::load_cpu_prm;
use serde_json::Value;
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::prm::PrmFormat;
use ttsearch::quant::WeightFormat;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/prms")
}

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("golden.json")).expect("golden"))
        .expect("json")
}

/// (fixture folder, format, golden key) for every PRM family.
const FAMILIES: [(&str, PrmFormat, &str); 6] = [
    ("skywork-tiny", PrmFormat::Skywork, "skywork"),
    // The same weights in a sharded PyTorch checkpoint (torch.save).
    ("skywork-tiny-bin", PrmFormat::Skywork, "skywork"),
    ("qwen-prm-tiny", PrmFormat::QwenPrm, "qwen-prm"),
    ("lm-prm-tiny", PrmFormat::Rlhflow, "rlhflow"),
    ("lm-prm-tiny", PrmFormat::MathShepherd, "math-shepherd"),
    ("lm-prm-tiny", PrmFormat::Generative, "generative"),
];

#[test]
fn every_family_scores_like_the_reference() {
    for (folder, format, key) in FAMILIES {
        let mut prm = block_on(load_cpu_prm(
            &dir().join(folder),
            WeightFormat::F32,
            format,
            64,
        ))
        .expect("PRM loads");
        for case in golden()["cases"].as_array().expect("cases") {
            let (question, steps, want) = common::prm_case(case, key);
            let question = question.as_str();
            let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
            let before = prm.tokens_fed();
            let got = block_on(prm.score(question, &steps)).expect("scores");
            assert_eq!(got.len(), want.len(), "{key}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (*g as f64 - w).abs() < 1e-4,
                    "{key} {question}: {got:?} vs {want:?}"
                );
            }
            // The reference input's tokens were each fed once (the trailing end-of-turn of the
            // chat formats is never needed: scores are read before it).
            let ids = case["ids"][key].as_array().expect("ids").len() as u64;
            let fed = prm.tokens_fed() - before;
            assert!(
                fed <= ids && fed + 4 >= ids,
                "{key}: fed {fed} of {ids} reference tokens"
            );
        }
        assert_eq!(prm.engine().counters().kv_blocks_in_use, 0);
    }
}

/// A prefix scored once, then forked: each fork scores its own next step, equal to scoring
/// that path from scratch, and only the new steps' tokens are fed.
#[test]
fn forked_prm_sequences_score_like_fresh_ones() {
    for (folder, format, key) in FAMILIES {
        forks_match(folder, format, key);
    }
}

fn forks_match(folder: &str, format: PrmFormat, key: &str) {
    let load = || {
        block_on(load_cpu_prm(
            &dir().join(folder),
            WeightFormat::F32,
            format,
            64,
        ))
        .expect("PRM loads")
    };
    let mut prm = load();
    let question = "Find $x$ if $x + 2 = 7$.";
    let seq = block_on(prm.start(question)).expect("start");
    let first = block_on(prm.score_steps(&[(seq, "Subtract 2 from both sides.")])).expect("step 1");
    let kids = prm.fork(seq, 2).expect("fork");
    let (fed, rescored) = (prm.tokens_fed(), prm.rescore_tokens());
    let next =
        block_on(prm.score_steps(&[(kids[0], "So $x = 5$."), (kids[1], "So $x = 9$.\nWrong.")]))
            .expect("batched step 2");
    let step_tokens = prm.tokens_fed() - fed;
    let whole = prm.rescore_tokens() - rescored;
    // Only the two new steps are fed; a PRM without a cache would feed both whole sequences.
    assert!(
        2 * step_tokens < whole,
        "{key}: fed {step_tokens} tokens, re-scoring feeds {whole}"
    );
    let mut fresh = load();
    for (i, second) in ["So $x = 5$.", "So $x = 9$.\nWrong."].iter().enumerate() {
        let want = block_on(fresh.score(question, &["Subtract 2 from both sides.", second]))
            .expect("fresh");
        assert!((want[0] - first[0]).abs() < 1e-5, "{key}");
        assert!(
            (want[1] - next[i]).abs() < 1e-5,
            "{key} fork {i}: {} vs {}",
            next[i],
            want[1]
        );
    }
}

/// The policy as its own verifier: one engine (one copy of the weights) generates a step and
/// scores it, the policy's and the verifier's sequences side by side in one KV cache.
#[test]
fn the_policy_verifies_its_own_steps_on_one_engine() {
    use ttsearch::engine::{ExtendOptions, SamplingParams};
    let mut prm = block_on(load_cpu_prm(
        &dir().join("lm-prm-tiny"),
        WeightFormat::F32,
        PrmFormat::Generative,
        64,
    ))
    .expect("loads");
    let policy = block_on(prm.engine_mut().prefill(&[5, 17, 200, 3])).expect("prefill");
    let params = SamplingParams {
        temperature: 0.0,
        max_tokens: 4,
        ..SamplingParams::default()
    };
    let out = block_on(
        prm.engine_mut()
            .extend(&[policy], &params, ExtendOptions::default()),
    )
    .expect("generate");
    assert_eq!(out[0].tokens.len(), 4);
    let question = "What is $3 \\cdot 4 + 5$?";
    let alone = {
        let mut fresh = block_on(load_cpu_prm(
            &dir().join("lm-prm-tiny"),
            WeightFormat::F32,
            PrmFormat::Generative,
            64,
        ))
        .expect("loads");
        block_on(fresh.score(question, &["First, $3 \\cdot 4 = 12$."])).expect("score")
    };
    let shared = block_on(prm.score(question, &["First, $3 \\cdot 4 = 12$."])).expect("score");
    assert!(
        (alone[0] - shared[0]).abs() < 1e-6,
        "{alone:?} vs {shared:?}"
    );
    assert_eq!(
        prm.engine().live(),
        vec![policy],
        "the verifier's sequence was released"
    );
}
