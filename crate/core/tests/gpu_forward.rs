//! The GPU forward pass against transformers' golden outputs on the tiny Qwen2, Llama 3 and
//! Gemma 3 models, natively (lavapipe in CI): whole sequences and token by token; and in every
//! weight format against the CPU backend on the same weights.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{fixture_model, ids, max_diff, rows};
use ttsearch::block_on;
use ttsearch::model::{CpuModel, GpuKvCache, GpuModel, KvCache, LogitPositions, SequenceInput};
use ttsearch::quant::WeightFormat;

const TOLERANCE: f32 = 1e-4;

fn check(name: &str) {
    let Some(ctx) = common::gpu() else { return };
    let (config, weights, golden) = fixture_model(name, WeightFormat::F32);
    let model = GpuModel::upload(ctx, config, &weights).expect("uploads");
    let mut worst = 0f32;
    for seq in golden["sequences"].as_array().expect("sequences") {
        let tokens = ids(&seq["tokens"]);
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
        // Token by token from an empty cache: every step reads the cache (which grows).
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
    let (config, weights, _) = fixture_model("qwen2-tiny", WeightFormat::F32);
    let model = GpuModel::upload(ctx, config, &weights).expect("uploads");
    let mut cache = GpuKvCache::default();
    block_on(model.forward(ctx, &mut cache, &[1, 2, 3], LogitPositions::None)).expect("prefill");
    let err =
        block_on(model.forward(ctx, &mut cache, &[4, 999], LogitPositions::Last)).unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
    assert_eq!(cache.len(), 3);
    let err = block_on(model.forward(ctx, &mut cache, &[], LogitPositions::Last)).unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
}

#[test]
fn quantized_formats_match_the_cpu_backend() {
    let Some(ctx) = common::gpu() else { return };
    for name in ["qwen2-tiny", "llama-tiny", "gemma3-tiny"] {
        for format in [WeightFormat::F16, WeightFormat::Q8, WeightFormat::Q4] {
            let (config, weights, golden) = fixture_model(name, format);
            let tokens = ids(&golden["sequences"][0]["tokens"]);
            let gpu = GpuModel::upload(ctx, config.clone(), &weights).expect("uploads");
            let cpu = CpuModel::new(config, weights);
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

#[test]
fn loading_straight_to_the_gpu_equals_uploading_loaded_weights() {
    let Some(ctx) = common::gpu() else { return };
    let (config, weights, golden) = fixture_model("gemma3-tiny", WeightFormat::Q8);
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/models/gemma3-tiny");
    let store = block_on(ttsearch::model::safetensors::open_dir(&dir)).expect("opens");
    let streamed = block_on(GpuModel::load(
        ctx,
        config.clone(),
        &store,
        WeightFormat::Q8,
    ))
    .expect("load");
    let uploaded = GpuModel::upload(ctx, config, &weights).expect("upload");
    let tokens = ids(&golden["sequences"][0]["tokens"]);
    let a = block_on(streamed.forward(
        ctx,
        &mut GpuKvCache::default(),
        &tokens,
        LogitPositions::All,
    ))
    .expect("a");
    let b = block_on(uploaded.forward(
        ctx,
        &mut GpuKvCache::default(),
        &tokens,
        LogitPositions::All,
    ))
    .expect("b");
    assert_eq!(
        a, b,
        "the two loading paths must give bit-identical results"
    );
}

/// GGUF files from llama.cpp's converter and quantizer (Llama Q/K permutation, rotary factors,
/// Gemma norm shift, Q4_0 and k-quant blocks) streamed onto the GPU, against the CPU backend.
#[test]
fn gguf_files_on_gpu_match_the_cpu_backend() {
    let Some(ctx) = common::gpu() else { return };
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/models/gguf");
    let tokens = [5, 17, 200, 3, 99, 42, 7, 250, 128, 64, 1];
    for (file, format) in [
        ("llama-tiny-f32.gguf", WeightFormat::F32),
        ("gemma3-tiny-q4_0.gguf", WeightFormat::F16),
        ("qwen2-tiny-q8_0.gguf", WeightFormat::Q8),
        ("llama-wide-q4_k_m.gguf", WeightFormat::Q4),
    ] {
        let open = || {
            let source = ttsearch::model::FileSource::open(&dir.join(file)).expect("opens");
            block_on(ttsearch::model::GgufStore::open(source)).expect("header")
        };
        let (config, store) = open();
        let weights = block_on(ttsearch::model::ModelWeights::load(&config, &store, format))
            .expect("weights");
        let cpu = CpuModel::new(config.clone(), weights);
        let gpu = block_on(GpuModel::load(ctx, config, &open().1, format)).expect("GPU load");
        let want = cpu
            .forward(&mut [SequenceInput {
                cache: &mut KvCache::default(),
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
        let d = max_diff(&got.logits.concat(), &want.logits.concat());
        assert!(d < 1e-3, "{file} as {format:?}: GPU vs CPU {d}");
    }
}
