//! PRMs in headless Chromium: tiny PRMs of every family (value head, classifier head, TRL's
//! token classifier, LM-token read-outs in RLHFlow's, Math-Shepherd's and the generative
//! verifier's formats), loaded from bytes onto WebGPU, against the reference scores.

#![cfg(target_arch = "wasm32")]

use serde_json::Value;
use ttsearch::engine::{Engine, GpuBackend};
use ttsearch::gpu::GpuContext;
use ttsearch::model::{
    GpuKvCache, GpuModel, MemorySource, ModelConfig, SafetensorsFile, SafetensorsModel,
};
use ttsearch::prm::{Prm, PrmFormat, PrmHead};
use ttsearch::quant::WeightFormat;
use ttsearch::tokenize::Tokenizer;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const GOLDEN: &str = include_str!("../../../tests/fixtures/prms/golden.json");
const TRL_GOLDEN: &str = include_str!("../../../tests/fixtures/prms/trl-golden.json");
const TRL_ARGS: &[u8] = include_bytes!("../../../tests/fixtures/prms/trl-tiny/training_args.bin");

struct Files {
    config: &'static str,
    weights: &'static [u8],
    tokenizer: &'static [u8],
    tokenizer_config: &'static [u8],
    chat_template: &'static str,
}

macro_rules! files {
    ($dir:literal) => {
        Files {
            config: include_str!(concat!(
                "../../../tests/fixtures/prms/",
                $dir,
                "/config.json"
            )),
            weights: include_bytes!(concat!(
                "../../../tests/fixtures/prms/",
                $dir,
                "/model.safetensors"
            )),
            tokenizer: include_bytes!(concat!(
                "../../../tests/fixtures/prms/",
                $dir,
                "/tokenizer.json"
            )),
            tokenizer_config: include_bytes!(concat!(
                "../../../tests/fixtures/prms/",
                $dir,
                "/tokenizer_config.json"
            )),
            chat_template: include_str!(concat!(
                "../../../tests/fixtures/prms/",
                $dir,
                "/chat_template.jinja"
            )),
        }
    };
}

async fn check(ctx: &GpuContext, files: Files, format: PrmFormat, key: &str) {
    check_against(ctx, files, format, key, GOLDEN, None).await;
}

/// Scores every case of `golden` under `key`; `separator` sets a TRL PRM's separator.
async fn check_against(
    ctx: &GpuContext,
    files: Files,
    format: PrmFormat,
    key: &str,
    golden: &str,
    separator: Option<&str>,
) {
    let config = ModelConfig::from_hf_json(files.config).expect("config");
    let file = SafetensorsFile::open(MemorySource::new(files.weights.to_vec()))
        .await
        .expect("safetensors");
    let store = SafetensorsModel::from_files(vec![file]).expect("store");
    let mut tokenizer =
        Tokenizer::from_hf(files.tokenizer, Some(files.tokenizer_config), None).expect("tokenizer");
    tokenizer.chat_template = Some(files.chat_template.to_string());
    let mut head = PrmHead::for_format(
        PrmHead::load(&store, &config).await.expect("head"),
        format,
        &tokenizer,
    )
    .expect("head");
    if let Some(separator) = separator {
        head.set_separator(separator).expect("separator");
    }
    let cache = GpuKvCache::new(ctx, &config, 64, 16).expect("cache");
    let model = GpuModel::load(ctx, config, &store, WeightFormat::F32)
        .await
        .expect("model");
    let mut prm = Prm::new(
        Engine::new(GpuBackend { model, cache }),
        tokenizer,
        head,
        format,
    );
    let golden: Value = serde_json::from_str(golden).expect("golden");
    for case in golden["cases"].as_array().expect("cases") {
        let steps: Vec<&str> = case["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s.as_str().expect("step"))
            .collect();
        let got = prm
            .score(case["question"].as_str().expect("q"), &steps)
            .await
            .expect("scores");
        let want = case["scores"][key].as_array().expect("scores");
        assert_eq!(got.len(), want.len(), "{key}: {got:?}");
        for (g, w) in got.iter().zip(want) {
            let w = w.as_f64().expect("score");
            assert!((*g as f64 - w).abs() < 1e-4, "{key}: {got:?}");
        }
    }
    console_log!("{key}: PRM scores match the reference in the browser");
}

#[wasm_bindgen_test]
async fn prms_score_like_the_reference_in_the_browser() {
    let ctx = GpuContext::new()
        .await
        .unwrap_or_else(|e| panic!("WebGPU adapter required: {e}"));
    check(&ctx, files!("skywork-tiny"), PrmFormat::Skywork, "skywork").await;
    check(
        &ctx,
        files!("qwen-prm-tiny"),
        PrmFormat::QwenPrm,
        "qwen-prm",
    )
    .await;
    for (format, key) in [
        (PrmFormat::Rlhflow, "rlhflow"),
        (PrmFormat::MathShepherd, "math-shepherd"),
        (PrmFormat::Generative, "generative"),
    ] {
        check(&ctx, files!("lm-prm-tiny"), format, key).await;
    }
    // TRL: the separator training_args.bin records (read here as the loader reads it), then
    // search-and-learn's, given as an option.
    let recorded = ttsearch::prm::recorded_separator(TRL_ARGS)
        .await
        .expect("training args")
        .expect("a separator");
    let golden: Value = serde_json::from_str(TRL_GOLDEN).expect("golden");
    for key in ["trl", "trl-blank-line"] {
        let separator = golden["separators"][key].as_str().expect("separator");
        if key == "trl" {
            assert_eq!(recorded, separator);
        }
        check_against(
            &ctx,
            files!("trl-tiny"),
            PrmFormat::Trl,
            key,
            TRL_GOLDEN,
            Some(separator),
        )
        .await;
    }
}
