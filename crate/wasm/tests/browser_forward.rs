//! Whole tiny-model forward passes on WebGPU in headless Chromium against transformers' golden
//! outputs (tests/fixtures/models): the weights come from bytes, as a page would fetch them.

#![cfg(target_arch = "wasm32")]

use serde_json::Value;
use ttsearch::gpu::GpuContext;
use ttsearch::model::{
    CpuKvCache, CpuModel, GpuKvCache, GpuModel, MemorySource, ModelConfig, ModelWeights,
    PagedCache, Rows, SafetensorsFile, SafetensorsModel, SequenceInput,
};
use ttsearch::quant::WeightFormat;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TOLERANCE: f32 = 1e-4;

struct Fixture {
    config: &'static str,
    weights: &'static [u8],
    golden: &'static str,
}

const QWEN2: Fixture = Fixture {
    config: include_str!("../../../tests/fixtures/models/qwen2-tiny/config.json"),
    weights: include_bytes!("../../../tests/fixtures/models/qwen2-tiny/model.safetensors"),
    golden: include_str!("../../../tests/fixtures/models/qwen2-tiny/golden.json"),
};

const GEMMA3: Fixture = Fixture {
    config: include_str!("../../../tests/fixtures/models/gemma3-tiny/config.json"),
    weights: include_bytes!("../../../tests/fixtures/models/gemma3-tiny/model.safetensors"),
    golden: include_str!("../../../tests/fixtures/models/gemma3-tiny/golden.json"),
};

async fn weights(f: &Fixture) -> (ModelConfig, ModelWeights) {
    let config = ModelConfig::from_hf_json(f.config).expect("config");
    let file = SafetensorsFile::open(MemorySource::new(f.weights))
        .await
        .expect("safetensors");
    let store = SafetensorsModel::from_files(vec![file]).expect("store");
    let weights = ModelWeights::load(&config, &store, WeightFormat::F32)
        .await
        .expect("weights");
    (config, weights)
}

fn token_ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("token ids")
        .iter()
        .map(|t| t.as_u64().expect("id") as u32)
        .collect()
}

/// Largest |a - b|: panics on a length mismatch, infinite on NaN.
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    ttsearch::selfcheck::max_abs_error(a, b).unwrap_or_else(|e| panic!("{e}"))
}

async fn check(name: &str, f: &Fixture) {
    let ctx = GpuContext::new()
        .await
        .unwrap_or_else(|e| panic!("WebGPU adapter required: {e}"));
    // Straight from bytes to the GPU, a layer at a time, as a page loads a model.
    let config = ModelConfig::from_hf_json(f.config).expect("config");
    let file = SafetensorsFile::open(MemorySource::new(f.weights))
        .await
        .expect("safetensors");
    let store = SafetensorsModel::from_files(vec![file]).expect("store");
    let mut model = GpuModel::load(&ctx, config, &store, WeightFormat::F32)
        .await
        .expect("load");
    let golden: Value = serde_json::from_str(f.golden).expect("golden");
    let seq = &golden["sequences"][0];
    let tokens = token_ids(&seq["tokens"]);
    // Blocks of 4 positions: the sequence spans several, the last one partial.
    let mut cache = GpuKvCache::new(&ctx, model.config(), 16, 4).expect("cache");
    let root = cache.create();
    let out = model
        .forward(
            &mut cache,
            &[SequenceInput {
                seq: root,
                tokens: &tokens,
                logits: Rows::All,
                hidden: Rows::All,
            }],
        )
        .await
        .expect("forward")
        .remove(0);
    let mut worst = 0f32;
    let want_logits = seq["logits"].as_array().expect("logits");
    assert_eq!(out.logits.len(), want_logits.len());
    for (p, (got, want)) in out.logits.iter().zip(want_logits).enumerate() {
        let want: Vec<f32> = want
            .as_array()
            .expect("row")
            .iter()
            .map(|x| x.as_f64().expect("number") as f32)
            .collect();
        let d = max_diff(got, &want);
        worst = worst.max(d);
        assert!(d < TOLERANCE, "{name} position {p}: {d}");
    }
    // Two forks of the cached sequence decode one token each in one batch; the CPU backend
    // runs the whole sequence plus that token.
    let kids = cache.fork(root, 2).expect("fork");
    let batch: Vec<SequenceInput<'_>> = kids
        .iter()
        .map(|&seq| SequenceInput {
            seq,
            tokens: &[7],
            logits: Rows::Last,
            hidden: Rows::All,
        })
        .collect();
    let next = model
        .forward(&mut cache, &batch)
        .await
        .expect("forked decode");
    assert_eq!(cache.len(kids[1]).expect("len"), tokens.len() + 1);
    let (config, weights) = weights(f).await;
    let cpu = CpuModel::new(config, weights);
    let mut cpu_cache = CpuKvCache::with_capacity(cpu.config(), tokens.len() + 1).expect("cache");
    let seq = cpu_cache.create();
    let extended: Vec<u32> = tokens.iter().copied().chain([7]).collect();
    let want = cpu
        .forward(
            &mut cpu_cache,
            &[SequenceInput {
                seq,
                tokens: &extended,
                logits: Rows::Last,
                hidden: Rows::All,
            }],
        )
        .expect("cpu")
        .remove(0);
    for out in &next {
        let d = max_diff(&out.logits[0], &want.logits[0]);
        assert!(d < TOLERANCE, "{name} forked decode vs CPU: {d}");
    }
    console_log!(
        "{name}: max |logit diff| vs transformers {worst:e}; forked decode matches the CPU"
    );
}

#[wasm_bindgen_test]
async fn qwen2_forward_in_the_browser() {
    check("qwen2-tiny", &QWEN2).await;
}

#[wasm_bindgen_test]
async fn gemma3_forward_in_the_browser() {
    check("gemma3-tiny", &GEMMA3).await;
}

#[wasm_bindgen_test]
async fn cpu_forward_in_wasm_matches_too() {
    let (config, weights) = weights(&QWEN2).await;
    let model = CpuModel::new(config, weights);
    let golden: Value = serde_json::from_str(QWEN2.golden).expect("golden");
    let seq = &golden["sequences"][1];
    let tokens = token_ids(&seq["tokens"]);
    let mut cache = CpuKvCache::with_capacity(model.config(), tokens.len()).expect("cache");
    let id = cache.create();
    let out = model
        .forward(
            &mut cache,
            &[SequenceInput {
                seq: id,
                tokens: &tokens,
                logits: Rows::Last,
                hidden: Rows::All,
            }],
        )
        .expect("forward")
        .remove(0);
    let want: Vec<f32> = seq["logits"]
        .as_array()
        .expect("logits")
        .last()
        .expect("last")
        .as_array()
        .expect("row")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect();
    assert!(max_diff(&out.logits[0], &want) < TOLERANCE);
}

/// The generation engine in the browser: forks decoded together with sampling on the GPU give
/// the tokens the CPU engine gives in wasm.
#[wasm_bindgen_test]
async fn engine_samples_on_the_gpu_like_the_cpu() {
    use ttsearch::engine::{CpuBackend, Engine, ExtendOptions, GpuBackend, SamplingParams};
    let ctx = GpuContext::new()
        .await
        .unwrap_or_else(|e| panic!("WebGPU adapter required: {e}"));
    let (config, weights) = weights(&QWEN2).await;
    let mut gpu = Engine::new(GpuBackend {
        model: GpuModel::upload(&ctx, config.clone(), &weights).expect("upload"),
        cache: GpuKvCache::new(&ctx, &config, 32, 4).expect("cache"),
    });
    let mut cpu = Engine::new(CpuBackend {
        cache: CpuKvCache::new(&config, 32, 4).expect("cache"),
        model: CpuModel::new(config, weights),
    });
    let params = SamplingParams {
        temperature: 0.9,
        top_p: 0.95,
        seed: 11,
        max_tokens: 6,
        logprobs: 2,
        ..SamplingParams::default()
    };
    let prompt = [5, 17, 200, 3, 99];
    let g_root = gpu.prefill(&prompt).await.expect("prefill");
    let c_root = cpu.prefill(&prompt).await.expect("prefill");
    let g_kids = gpu.fork(g_root, 3).expect("fork");
    let c_kids = cpu.fork(c_root, 3).expect("fork");
    let g = gpu
        .extend(&g_kids, &params, ExtendOptions::default())
        .await
        .expect("gpu extend");
    let c = cpu
        .extend(&c_kids, &params, ExtendOptions::default())
        .await
        .expect("cpu extend");
    assert_eq!(g.len(), c.len());
    for (a, b) in g.iter().zip(&c) {
        assert_eq!(a.tokens, b.tokens);
        assert_eq!(a.top_logprobs.len(), 6);
    }
    console_log!(
        "engine in the browser: {:?}",
        g.iter().map(|o| &o.tokens).collect::<Vec<_>>()
    );
}
