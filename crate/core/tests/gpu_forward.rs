//! The GPU forward pass against transformers' golden outputs on the tiny Qwen2, Llama 3 and
//! Gemma 3 models, natively (lavapipe in CI): whole sequences and token by token; and in every
//! weight format against the CPU backend on the same weights.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{cpu_run, fixture_model, gpu_run, ids, max_diff, rows};
use ttsearch::block_on;
use ttsearch::model::{CpuModel, GpuKvCache, GpuModel, PagedCache, Rows, SeqId, SequenceInput};
use ttsearch::quant::WeightFormat;

const TOLERANCE: f32 = 1e-4;

fn input(seq: SeqId, tokens: &[u32], logits: Rows) -> SequenceInput<'_> {
    SequenceInput {
        seq,
        tokens,
        logits,
        hidden: Rows::All,
    }
}

fn check(name: &str) {
    let Some(ctx) = common::gpu() else { return };
    let (config, weights, golden) = fixture_model(name, WeightFormat::F32);
    let mut model = GpuModel::upload(ctx, config, &weights).expect("uploads");
    let mut worst = 0f32;
    let mut cache = GpuKvCache::new(ctx, model.config(), 16, 4).expect("cache");
    for seq in golden["sequences"].as_array().expect("sequences") {
        let tokens = ids(&seq["tokens"]);
        let want = rows(&seq["logits"]);
        let id = cache.create();
        let out = block_on(model.forward(&mut cache, &[input(id, &tokens, Rows::All)]))
            .expect("forward")
            .remove(0);
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
        cache.release(id).expect("release");
        // Token by token from an empty sequence: every step reads the paged cache.
        let id = cache.create();
        for (p, t) in tokens.iter().enumerate() {
            let out = block_on(model.forward(&mut cache, &[input(id, &[*t], Rows::Last)]))
                .expect("decode")
                .remove(0);
            let d = max_diff(&out.logits[0], &want[p]);
            assert!(d < TOLERANCE, "{name} decode position {p}: {d}");
        }
        assert_eq!(cache.len(id).expect("len"), tokens.len());
        cache.release(id).expect("release");
    }
    assert_eq!(cache.blocks().blocks_in_use(), 0);
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
    let mut model = GpuModel::upload(ctx, config, &weights).expect("uploads");
    let mut cache = GpuKvCache::new(ctx, model.config(), 2, 4).expect("cache");
    let id = cache.create();
    block_on(model.forward(&mut cache, &[input(id, &[1, 2, 3], Rows::None)])).expect("prefill");
    for (tokens, code) in [
        (&[4u32, 999][..], "invalid_argument"),
        (&[], "invalid_argument"),
        (&[1; 6], "kv_cache_full"),
    ] {
        let err =
            block_on(model.forward(&mut cache, &[input(id, tokens, Rows::Last)])).unwrap_err();
        assert_eq!(err.code(), code);
        assert_eq!(cache.len(id).expect("len"), 3);
    }
    assert_eq!(cache.blocks().blocks_in_use(), 1);
}

/// Forks of a prefilled prefix decoded in one batch on the GPU (copy-on-write of the shared
/// partial block through the staging copy) against the CPU backend doing the same.
#[test]
fn forked_batches_match_the_cpu_backend() {
    let Some(ctx) = common::gpu() else { return };
    for name in ["qwen2-tiny", "llama-tiny", "gemma3-tiny"] {
        let (config, weights, golden) = fixture_model(name, WeightFormat::F32);
        let tokens = ids(&golden["sequences"][0]["tokens"]);
        let want = rows(&golden["sequences"][0]["logits"]);
        let mut gpu = GpuModel::upload(ctx, config, &weights).expect("uploads");
        let mut cache = GpuKvCache::new(ctx, gpu.config(), 32, 4).expect("cache");
        let root = cache.create();
        block_on(gpu.forward(&mut cache, &[input(root, &tokens[..6], Rows::None)]))
            .expect("prefill");
        let kids = cache.fork(root, 3).expect("fork");
        let steps = [1usize, 2, 5];
        let batch: Vec<SequenceInput<'_>> = kids
            .iter()
            .zip(steps)
            .map(|(&k, n)| input(k, &tokens[6..6 + n], Rows::All))
            .collect();
        let outs = block_on(gpu.forward(&mut cache, &batch)).expect("forked decode");
        assert_eq!(outs.len(), steps.len());
        for (out, n) in outs.iter().zip(steps) {
            assert_eq!(out.logits.len(), n);
            for (i, got) in out.logits.iter().enumerate() {
                let d = max_diff(got, &want[6 + i]);
                assert!(d < TOLERANCE, "{name} fork of {n}, position {}: {d}", 6 + i);
            }
        }
        let out = block_on(gpu.forward(&mut cache, &[input(root, &tokens[6..7], Rows::Last)]))
            .expect("root")
            .remove(0);
        assert!(
            max_diff(&out.logits[0], &want[6]) < TOLERANCE,
            "{name} root"
        );
    }
}

#[test]
fn quantized_formats_match_the_cpu_backend() {
    let Some(ctx) = common::gpu() else { return };
    for name in ["qwen2-tiny", "llama-tiny", "gemma3-tiny"] {
        for format in [WeightFormat::F16, WeightFormat::Q8, WeightFormat::Q4] {
            let (config, weights, golden) = fixture_model(name, format);
            let tokens = ids(&golden["sequences"][0]["tokens"]);
            let mut gpu = GpuModel::upload(ctx, config.clone(), &weights).expect("uploads");
            let cpu = CpuModel::new(config, weights);
            let want = cpu_run(&cpu, &tokens, Rows::All);
            let got = gpu_run(&mut gpu, &tokens, Rows::All);
            assert_eq!(got.logits.len(), want.logits.len());
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
    let store = common::fixture_store(&dir);
    let mut streamed = block_on(GpuModel::load(
        ctx,
        config.clone(),
        &store,
        WeightFormat::Q8,
    ))
    .expect("load");
    let mut uploaded = GpuModel::upload(ctx, config, &weights).expect("upload");
    let tokens = ids(&golden["sequences"][0]["tokens"]);
    let a = gpu_run(&mut streamed, &tokens, Rows::All);
    let b = gpu_run(&mut uploaded, &tokens, Rows::All);
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
            let source = ttsearch::model::FileSource::open(dir.join(file)).expect("opens");
            block_on(ttsearch::model::GgufStore::open(source)).expect("header")
        };
        let (config, store) = open();
        let weights = block_on(ttsearch::model::ModelWeights::load(&config, &store, format))
            .expect("weights");
        let cpu = CpuModel::new(config.clone(), weights);
        let mut gpu = block_on(GpuModel::load(ctx, config, &open().1, format)).expect("GPU load");
        let want = cpu_run(&cpu, &tokens, Rows::All);
        let got = gpu_run(&mut gpu, &tokens, Rows::All);
        let d = max_diff(&got.logits.concat(), &want.logits.concat());
        assert!(d < 1e-3, "{file} as {format:?}: GPU vs CPU {d}");
    }
}

/// A matrix written a few rows at a time, across several parts, holds what one whole upload
/// holds: the product of both with the same input is identical, in every format.
#[test]
fn weights_written_in_row_chunks_equal_whole_uploads() {
    use ttsearch::quant::WeightMatrix;
    let Some(ctx) = common::gpu() else { return };
    let (rows, x_rows) = (301, 3);
    for (cols, format) in [
        (64, WeightFormat::F32),
        (40, WeightFormat::F16),
        (33, WeightFormat::F16),
        (64, WeightFormat::Q8),
        (96, WeightFormat::Q4),
        (40, WeightFormat::Q4),
    ] {
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.3)
            .collect();
        let whole = WeightMatrix::from_f32(values.clone(), rows, cols, format).expect("matrix");
        let part_bytes = Some((whole.byte_len() as u64 / 5).max(8));
        let a = ctx.upload_weight(&whole, part_bytes).expect("whole");
        let b = ctx
            .empty_weight(rows, cols, format, part_bytes)
            .expect("empty");
        assert!(b.parts() > 2, "{format:?}: {} parts", b.parts());
        for start in (0..rows).step_by(6) {
            let end = (start + 6).min(rows);
            let chunk = WeightMatrix::from_f32(
                values[start * cols..end * cols].to_vec(),
                end - start,
                cols,
                format,
            )
            .expect("chunk");
            b.write_rows(ctx, start, &chunk).expect("write rows");
        }
        let x: Vec<f32> = (0..x_rows * cols).map(|i| (i % 13) as f32 / 13.0).collect();
        let xb = ctx.upload_f32(&x, "x").expect("x");
        let out = |w: &ttsearch::gpu::GpuWeight| {
            let y = ctx.create_buffer(x_rows * rows, "y").expect("y");
            let mut batch = ctx.batch();
            batch.linear(&xb, x_rows, w, &y).expect("linear");
            block_on(batch.submit()).expect("submit");
            block_on(ctx.read_f32(&y)).expect("read")
        };
        assert_eq!(out(&a), out(&b), "{cols} columns in {format:?}");
    }
}
