//! The generation engine on the GPU backend (forward and sampling on the device) against the CPU
//! backend: the same prompts, forks and seeds give the same tokens, logprobs and top logprobs
//! (tiny Qwen2 and Gemma 3 models, lavapipe in CI).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::fixture_model;
use ttsearch::block_on;
use ttsearch::engine::{CpuBackend, Engine, ExtendOptions, GpuBackend, SamplingParams};
use ttsearch::model::{CpuKvCache, CpuModel, GpuKvCache, GpuModel};
use ttsearch::quant::WeightFormat;

#[test]
fn gpu_engine_generates_what_the_cpu_engine_generates() {
    let Some(ctx) = common::gpu() else { return };
    for name in ["qwen2-tiny", "gemma3-tiny"] {
        let (config, weights, _) = fixture_model(name, WeightFormat::F32);
        let mut gpu = Engine::new(GpuBackend {
            model: GpuModel::upload(ctx, config.clone(), &weights).expect("upload"),
            cache: GpuKvCache::new(ctx, &config, 64, 4).expect("cache"),
        });
        let mut cpu = Engine::new(CpuBackend {
            cache: CpuKvCache::new(&config, 64, 4).expect("cache"),
            model: CpuModel::new(config, weights),
        });
        let prompt = [5, 17, 200, 3, 99, 42, 7];
        for params in [
            SamplingParams {
                max_tokens: 8,
                ..SamplingParams::default()
            },
            SamplingParams {
                temperature: 0.8,
                top_p: 0.95,
                seed: 42,
                max_tokens: 8,
                ..SamplingParams::default()
            },
            SamplingParams {
                temperature: 1.2,
                top_k: 20,
                seed: 7,
                max_tokens: 8,
                logprobs: 3,
                ..SamplingParams::default()
            },
        ] {
            let g_root = block_on(gpu.prefill(&prompt)).expect("prefill");
            let c_root = block_on(cpu.prefill(&prompt)).expect("prefill");
            let g_kids = gpu.fork(g_root, 3).expect("fork");
            let c_kids = cpu.fork(c_root, 3).expect("fork");
            assert_eq!(g_kids, c_kids);
            let g = block_on(gpu.extend(&g_kids, &params, ExtendOptions::default())).expect("gpu");
            let c = block_on(cpu.extend(&c_kids, &params, ExtendOptions::default())).expect("cpu");
            assert_eq!(g.len(), c.len());
            for (a, b) in g.iter().zip(&c) {
                assert_eq!(a.tokens, b.tokens, "{name}");
                assert_eq!(a.logprobs.len(), b.logprobs.len());
                for (x, y) in a.logprobs.iter().zip(&b.logprobs) {
                    assert!((x.expect("lp") - y.expect("lp")).abs() < 1e-4);
                }
                assert_eq!(a.top_logprobs.len(), b.top_logprobs.len());
                for (x, y) in a
                    .top_logprobs
                    .iter()
                    .flatten()
                    .zip(b.top_logprobs.iter().flatten())
                {
                    assert_eq!(x.0, y.0, "{name}: top logprob ids");
                    assert!((x.1 - y.1).abs() < 1e-4);
                }
            }
            for id in gpu.live() {
                gpu.release(id).expect("release");
            }
            for id in cpu.live() {
                cpu.release(id).expect("release");
            }
        }
        assert_eq!(gpu.counters().kv_blocks_in_use, 0);
        assert_eq!(
            gpu.counters(),
            cpu.counters(),
            "{name}: same work on both backends"
        );
    }
}
