//! The GPU forward pass (f32 weights) against transformers' golden outputs on the tiny Qwen2,
//! Llama 3 and Gemma 3 models, natively (lavapipe in CI): whole sequences and token by token.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use serde_json::Value;
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::model::safetensors::open_dir;
use ttsearch::model::{GpuKvCache, GpuModel, LogitPositions, ModelConfig, ModelWeights};
use ttsearch::quant::WeightFormat;

const TOLERANCE: f32 = 1e-4;

fn rows(v: &Value) -> Vec<Vec<f32>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect()
        })
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn check(name: &str) {
    let Some(ctx) = common::gpu() else { return };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/models")
        .join(name);
    let config = ModelConfig::from_hf_json(
        &std::fs::read_to_string(dir.join("config.json")).expect("config"),
    )
    .expect("parses");
    let weights = block_on(ModelWeights::load(
        &config,
        &block_on(open_dir(&dir)).expect("opens"),
        WeightFormat::F32,
    ))
    .expect("loads");
    let model = GpuModel::upload(ctx, config, &weights).expect("uploads");
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("golden.json")).expect("golden"))
            .expect("json");
    let mut worst = 0f32;
    for seq in golden["sequences"].as_array().expect("sequences") {
        let tokens: Vec<u32> = seq["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| t.as_u64().expect("id") as u32)
            .collect();
        let want = rows(&seq["logits"]);
        let mut cache = GpuKvCache::default();
        let out = block_on(model.forward(ctx, &mut cache, &tokens, LogitPositions::All))
            .expect("forward");
        assert_eq!(out.logits.len(), tokens.len());
        for (p, (got, w)) in out.logits.iter().zip(&want).enumerate() {
            let d = max_diff(got, w);
            worst = worst.max(d);
            assert!(d < TOLERANCE, "{name} position {p}: {d}");
        }
        assert!(
            max_diff(&out.hidden, &rows(&seq["hidden"]).concat()) < TOLERANCE,
            "{name} hidden"
        );
        // Token by token from an empty cache: every step reads the cache.
        let mut cache = GpuKvCache::default();
        for (p, t) in tokens.iter().enumerate() {
            let out = block_on(model.forward(ctx, &mut cache, &[*t], LogitPositions::Last))
                .expect("decode");
            let d = max_diff(&out.logits[0], &want[p]);
            assert!(d < TOLERANCE, "{name} decode position {p}: {d}");
        }
        assert_eq!(cache.len(), tokens.len());
    }
    eprintln!(
        "{name} on {}: max |logit diff| vs transformers {worst:e}",
        ctx.report().name
    );
}

#[test]
fn qwen2_on_gpu_matches_transformers() {
    check("qwen2-tiny");
}

#[test]
fn llama3_on_gpu_matches_transformers() {
    check("llama-tiny");
}

#[test]
fn gemma3_on_gpu_matches_transformers() {
    check("gemma3-tiny");
}

#[test]
fn gpu_forward_errors_leave_the_cache_alone() {
    let Some(ctx) = common::gpu() else { return };
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models/qwen2-tiny");
    let config = ModelConfig::from_hf_json(
        &std::fs::read_to_string(dir.join("config.json")).expect("config"),
    )
    .expect("parses");
    let weights = block_on(ModelWeights::load(
        &config,
        &block_on(open_dir(&dir)).expect("opens"),
        WeightFormat::F32,
    ))
    .expect("loads");
    let model = GpuModel::upload(ctx, config, &weights).expect("uploads");
    let mut cache = GpuKvCache::default();
    block_on(model.forward(ctx, &mut cache, &[1, 2, 3], LogitPositions::None)).expect("prefill");
    let err =
        block_on(model.forward(ctx, &mut cache, &[4, 999], LogitPositions::Last)).unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
    assert_eq!(cache.len(), 3);
    assert_eq!(
        block_on(model.forward(ctx, &mut cache, &[], LogitPositions::Last))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
}

#[test]
fn quantized_formats_match_the_cpu_backend() {
    use ttsearch::model::{CpuModel, KvCache, SequenceInput};
    let Some(ctx) = common::gpu() else { return };
    for name in ["qwen2-tiny", "llama-tiny", "gemma3-tiny"] {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/models")
            .join(name);
        let config = ModelConfig::from_hf_json(
            &std::fs::read_to_string(dir.join("config.json")).expect("config"),
        )
        .expect("parses");
        let store = block_on(open_dir(&dir)).expect("opens");
        let golden: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("golden.json")).expect("golden"),
        )
        .expect("json");
        let tokens: Vec<u32> = golden["sequences"][0]["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| t.as_u64().expect("id") as u32)
            .collect();
        for format in [WeightFormat::F16, WeightFormat::Q8, WeightFormat::Q4] {
            let weights = block_on(ModelWeights::load(&config, &store, format)).expect("loads");
            let gpu = GpuModel::upload(ctx, config.clone(), &weights).expect("uploads");
            let cpu = CpuModel::new(config.clone(), weights);
            let mut cache = KvCache::default();
            let want = cpu
                .forward(&mut [SequenceInput {
                    cache: &mut cache,
                    tokens: &tokens,
                    logits: LogitPositions::All,
                }])
                .expect("cpu")
                .remove(0);
            let got = block_on(gpu.forward(
                ctx,
                &mut GpuKvCache::default(),
                &tokens,
                LogitPositions::All,
            ))
            .expect("gpu");
            for (p, (g, w)) in got.logits.iter().zip(&want.logits).enumerate() {
                let d = max_diff(g, w);
                assert!(
                    d < TOLERANCE,
                    "{name} {format:?} position {p}: GPU vs CPU {d}"
                );
            }
        }
    }
}
