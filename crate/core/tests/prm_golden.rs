//! PRMs against the reference formatting and transformers (tests/fixtures/prms, written by
//! scripts/gen_tiny_prms.py): a tiny Skywork-style value-head PRM scored step by step on the
//! CPU, and incremental scoring across forks equal to scoring each path from scratch.

#![cfg(not(target_arch = "wasm32"))]

use serde_json::Value;
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::model::loader::load_cpu_prm;
use ttsearch::prm::PrmFormat;
use ttsearch::quant::WeightFormat;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/prms")
}

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("golden.json")).expect("golden"))
        .expect("json")
}

#[test]
fn skywork_scores_match_the_reference() {
    let mut prm = block_on(load_cpu_prm(
        &dir().join("skywork-tiny"),
        WeightFormat::F32,
        PrmFormat::Skywork,
        64,
    ))
    .expect("PRM loads");
    for case in golden()["cases"].as_array().expect("cases") {
        let question = case["question"].as_str().expect("question");
        let steps: Vec<&str> = case["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s.as_str().expect("step"))
            .collect();
        let want: Vec<f64> = case["scores"]["skywork-tiny"]
            .as_array()
            .expect("scores")
            .iter()
            .map(|x| x.as_f64().expect("score"))
            .collect();
        let before = prm.tokens_fed();
        let got = block_on(prm.score(question, &steps)).expect("scores");
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (*g as f64 - w).abs() < 1e-4,
                "{question}: {got:?} vs {want:?}"
            );
        }
        // Every token of the reference input was fed exactly once.
        let ids = case["ids"]["skywork-tiny"].as_array().expect("ids").len() as u64;
        assert_eq!(prm.tokens_fed() - before, ids);
    }
    assert_eq!(prm.engine().counters().kv_blocks_in_use, 0);
}

/// A prefix scored once, then forked: each fork scores its own next step, equal to scoring
/// that path from scratch, and only the new steps' tokens are fed.
#[test]
fn forked_prm_sequences_score_like_fresh_ones() {
    let load = || {
        block_on(load_cpu_prm(
            &dir().join("skywork-tiny"),
            WeightFormat::F32,
            PrmFormat::Skywork,
            64,
        ))
        .expect("PRM loads")
    };
    let mut prm = load();
    let question = "Find $x$ if $x + 2 = 7$.";
    let seq = block_on(prm.start(question)).expect("start");
    let first = block_on(prm.score_steps(&[(seq, "Subtract 2 from both sides.")])).expect("step 1");
    let kids = prm.fork(seq, 2).expect("fork");
    let fed = prm.tokens_fed();
    let next =
        block_on(prm.score_steps(&[(kids[0], "So $x = 5$."), (kids[1], "So $x = 9$.\nWrong.")]))
            .expect("batched step 2");
    let step_tokens = prm.tokens_fed() - fed;
    assert!(
        step_tokens < 30,
        "only the new steps are fed ({step_tokens} tokens)"
    );
    let mut fresh = load();
    for (i, second) in ["So $x = 5$.", "So $x = 9$.\nWrong."].iter().enumerate() {
        let want = block_on(fresh.score(question, &["Subtract 2 from both sides.", second]))
            .expect("fresh");
        assert!((want[0] - first[0]).abs() < 1e-5);
        assert!(
            (want[1] - next[i]).abs() < 1e-5,
            "fork {i}: {} vs {}",
            next[i],
            want[1]
        );
    }
}
