//! TRL's PRMs (a `*ForTokenClassification` model trained by PRMTrainer) against TRL's own
//! tokenization and transformers (tests/fixtures/prms/trl-tiny and trl-golden.json, written by
//! scripts/gen_trl_prm.py): the same input ids and labelled positions, the same step scores on
//! the CPU for the separator training_args.bin records and for one given as an option, the
//! format detected from the config and head, and forks equal to fresh scoring.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::load_cpu_prm;
use serde_json::Value;
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::load::{self, LoadOptions};
use ttsearch::prm::{PrmFormat, PrmHead, TRL_DEFAULT_SEPARATOR, recorded_separator};
use ttsearch::quant::WeightFormat;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/prms")
}

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("trl-golden.json")).expect("golden"))
        .expect("json")
}

fn separator(key: &str) -> String {
    golden()["separators"][key]
        .as_str()
        .expect("separator")
        .to_string()
}

fn load_trl() -> ttsearch::prm::Prm<ttsearch::engine::AnyBackend> {
    block_on(load_cpu_prm(
        &dir().join("trl-tiny"),
        WeightFormat::F32,
        PrmFormat::Trl,
        64,
    ))
    .expect("PRM loads")
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

#[test]
fn the_format_gives_trls_ids_and_labelled_positions() {
    let tokenizer =
        block_on(common::load_tokenizer(&dir().join("trl-tiny"))).expect("tokenizer loads");
    for key in ["trl", "trl-blank-line"] {
        let sep = separator(key);
        for case in golden()["cases"].as_array().expect("cases") {
            let (question, steps, _) = common::prm_case(case, key);
            let mut got = PrmFormat::Trl
                .prefix(&tokenizer, &question)
                .expect("prefix");
            let mut markers = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                let chunk = PrmFormat::Trl
                    .step(&tokenizer, &question, step, i, &sep)
                    .expect("step");
                got.extend(chunk);
                markers.push(got.len() as u64 - 1);
            }
            assert_eq!(got, ids(&case["ids"][key]), "{key} {question}");
            let want: Vec<u64> = case["markers"][key]
                .as_array()
                .expect("markers")
                .iter()
                .map(|m| m.as_u64().expect("marker"))
                .collect();
            assert_eq!(markers, want, "{key} {question}");
        }
    }
}

#[test]
fn trl_prms_score_like_transformers() {
    let mut prm = load_trl();
    // The separator training_args.bin records, not the fallback.
    assert_eq!(prm.head().separator(), Some(separator("trl").as_str()));
    for key in ["trl", "trl-blank-line"] {
        prm.set_separator(&separator(key)).expect("separator");
        for case in golden()["cases"].as_array().expect("cases") {
            let (question, steps, want) = common::prm_case(case, key);
            let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
            let before = prm.tokens_fed();
            let got = block_on(prm.score(&question, &steps)).expect("scores");
            common::assert_close(&got, &want, 1e-4, key);
            // Every token of TRL's row is fed once, and nothing else.
            let fed = prm.tokens_fed() - before;
            assert_eq!(fed, ids(&case["ids"][key]).len() as u64, "{key}");
        }
    }
    assert_eq!(prm.engine().counters().kv_blocks_in_use, 0);
}

#[test]
fn the_kind_is_detected_from_the_config_and_head() {
    let source = load::path_source(&dir().join("trl-tiny")).expect("source");
    let loaded = block_on(load::load(&source, None, &LoadOptions::default())).expect("loads");
    assert_eq!(loaded.config().token_classes, Some(2));
    assert_eq!(loaded.prm_format(None).expect("kind"), PrmFormat::Trl);
    // A causal LM's format does not read a token classifier, nor trl another head.
    assert!(
        PrmHead::for_format(
            loaded.head.clone(),
            PrmFormat::QwenPrm,
            loaded.tokenizer.as_ref().expect("tokenizer")
        )
        .is_err()
    );
    let skywork = block_on(load::load(
        &load::path_source(&dir().join("skywork-tiny")).expect("source"),
        None,
        &LoadOptions::default(),
    ))
    .expect("loads");
    assert!(skywork.into_prm(Some(PrmFormat::Trl)).is_err());
}

#[test]
fn the_separator_comes_from_training_args_else_the_recipes() {
    let bytes = std::fs::read(dir().join("trl-tiny/training_args.bin")).expect("training args");
    assert_eq!(
        block_on(recorded_separator(&bytes)).expect("reads"),
        Some("\n".to_string())
    );
    // The same folder without training_args.bin: search-and-learn's "\n\n".
    let mut files = load::MemoryFiles::new("trl-tiny without training_args.bin");
    for name in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ] {
        files.insert(
            name,
            std::fs::read(dir().join("trl-tiny").join(name)).expect("file"),
        );
    }
    let source = load::ModelSource {
        files,
        weights: load::WeightFiles::Safetensors,
    };
    let checkpoint = block_on(load::open(&source, None)).expect("opens");
    let head = checkpoint.head.expect("head");
    assert_eq!(head.separator(), Some(TRL_DEFAULT_SEPARATOR));
}

/// A prefix scored once, then forked: each fork scores its own next step, equal to scoring
/// that path from scratch, feeding only the new steps.
#[test]
fn forked_trl_sequences_score_like_fresh_ones() {
    let mut prm = load_trl();
    let question = "Find $x$ if $x + 2 = 7$.";
    let first_step = "Subtract 2 from both sides.";
    let seconds = ["So $x = 5$.", "So $x = 9$.\nWrong."];
    let seq = block_on(prm.start(question)).expect("start");
    let first = block_on(prm.score_steps(&[(seq, first_step)])).expect("step 1");
    let kids = prm.fork(seq, 2).expect("fork");
    let (fed, rescored) = (prm.tokens_fed(), prm.rescore_tokens());
    let next = block_on(prm.score_steps(&[(kids[0], seconds[0]), (kids[1], seconds[1])]))
        .expect("batched step 2");
    assert!(2 * (prm.tokens_fed() - fed) < prm.rescore_tokens() - rescored);
    let mut fresh = load_trl();
    for (i, second) in seconds.iter().enumerate() {
        let want = block_on(fresh.score(question, &[first_step, second])).expect("fresh");
        common::assert_close(&[first[0], next[i]], &want, 1e-5, "fork");
    }
}
