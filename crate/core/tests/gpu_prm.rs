//! PRMs of every family on the GPU backend (lavapipe in CI) against the reference scores of
//! tests/fixtures/prms: the same step scores as transformers, steps fed incrementally; TRL's
//! token classifier with the separator its training_args.bin records and with another.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::load_gpu_prm;
use serde_json::Value;
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::prm::PrmFormat;
use ttsearch::quant::WeightFormat;

#[test]
fn every_family_scores_like_the_reference_on_the_gpu() {
    let Some(ctx) = common::gpu() else { return };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/prms");
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("golden.json")).expect("golden"))
            .expect("json");
    for (folder, format, key) in [
        ("skywork-tiny", PrmFormat::Skywork, "skywork"),
        ("qwen-prm-tiny", PrmFormat::QwenPrm, "qwen-prm"),
        ("lm-prm-tiny", PrmFormat::Rlhflow, "rlhflow"),
        ("lm-prm-tiny", PrmFormat::MathShepherd, "math-shepherd"),
        ("lm-prm-tiny", PrmFormat::Generative, "generative"),
    ] {
        let mut prm = block_on(load_gpu_prm(
            ctx,
            &dir.join(folder),
            WeightFormat::F32,
            format,
            64,
        ))
        .expect("PRM loads");
        for case in golden["cases"].as_array().expect("cases") {
            let (question, steps, want) = common::prm_case(case, key);
            let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
            let got = block_on(prm.score(&question, &steps)).expect("scores");
            common::assert_close(&got, &want, 1e-4, key);
        }
    }
}

#[test]
fn trl_prms_score_like_transformers_on_the_gpu() {
    let Some(ctx) = common::gpu() else { return };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/prms");
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("trl-golden.json")).expect("golden"),
    )
    .expect("json");
    let mut prm = block_on(load_gpu_prm(
        ctx,
        &dir.join("trl-tiny"),
        WeightFormat::F32,
        PrmFormat::Trl,
        64,
    ))
    .expect("PRM loads");
    for key in ["trl", "trl-blank-line"] {
        let separator = golden["separators"][key].as_str().expect("separator");
        prm.set_separator(separator).expect("separator");
        for case in golden["cases"].as_array().expect("cases") {
            let (question, steps, want) = common::prm_case(case, key);
            let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
            let got = block_on(prm.score(&question, &steps)).expect("scores");
            common::assert_close(&got, &want, 1e-4, key);
        }
    }
}
