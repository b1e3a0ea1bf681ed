//! GPU memory is accounted and given back: repeated decode steps reuse pooled buffers (the
//! device's buffer count stops growing), and dropping an engine frees every buffer it made.
//! Alone in its test binary, so that no other test's buffers move the counts.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::fixture_model;
use ttsearch::block_on;
use ttsearch::engine::{Engine, ExtendOptions, GpuBackend, SamplingParams};
use ttsearch::model::{GpuKvCache, GpuModel};
use ttsearch::quant::WeightFormat;

#[test]
fn buffers_are_reused_across_calls_and_freed_with_the_engine() {
    let Some(ctx) = common::gpu() else { return };
    let baseline = ctx.buffer_stats();
    let (config, weights, _) = fixture_model("gemma3-tiny", WeightFormat::Q8);
    let mut engine = Engine::new(GpuBackend {
        model: GpuModel::upload(ctx, config.clone(), &weights).expect("upload"),
        cache: GpuKvCache::new(ctx, &config, 64, 4).expect("cache"),
    });
    let params = SamplingParams {
        temperature: 0.7,
        max_tokens: 12,
        ..SamplingParams::default()
    };
    let mut run = || {
        let root = block_on(engine.prefill(&[5, 17, 200, 3, 99])).expect("prefill");
        let kids = engine.fork(root, 3).expect("fork");
        engine.release(root).expect("release");
        // The same random streams every run: the same work, the same buffers.
        let options = ExtendOptions {
            release_finished: true,
            streams: Some(&[0, 1, 2]),
            ..ExtendOptions::default()
        };
        block_on(engine.extend(&kids, &params, options)).expect("extend");
        assert_eq!(engine.counters().kv_blocks_in_use, 0);
        ctx.buffer_stats()
    };
    let first = run();
    assert!(first.buffers > baseline.buffers);
    for _ in 0..5 {
        assert_eq!(run(), first, "the pools reuse their buffers");
    }
    drop(engine);
    assert_eq!(
        ctx.buffer_stats(),
        baseline,
        "dropping the engine frees everything"
    );
}
