//! The CPU forward pass against HF transformers (float32) on tiny random Qwen2, Llama 3 (llama3
//! rope scaling, sharded f32) and Gemma 3 (bf16, sliding window) models: tests/fixtures/models,
//! written by scripts/gen_tiny_models.py. Whole sequences, token by token, batched sequences of
//! different lengths, and forks of a shared prefix in a paged cache with small blocks.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{fixture_model, ids, max_diff, rows};
use ttsearch::model::{CpuKvCache, CpuModel, PagedCache, Rows, SequenceInput};
use ttsearch::quant::WeightFormat;

/// f32 on the same weights: the differences are summation order only.
const TOLERANCE: f32 = 1e-4;

fn input(seq: ttsearch::model::SeqId, tokens: &[u32], logits: Rows) -> SequenceInput<'_> {
    SequenceInput {
        seq,
        tokens,
        logits,
        hidden: Rows::All,
    }
}

fn check(name: &str) {
    let (config, weights, golden) = fixture_model(name, WeightFormat::F32);
    let model = CpuModel::new(config, weights);
    let sequences = golden["sequences"].as_array().expect("sequences");
    let mut worst = 0f32;
    // Blocks of 4 positions: sequences span several blocks with a partial last one.
    let mut cache = CpuKvCache::new(model.config(), 64, 4).expect("cache");
    for seq in sequences {
        let tokens = ids(&seq["tokens"]);
        let (want_logits, want_hidden) = (rows(&seq["logits"]), rows(&seq["hidden"]));
        // Whole sequence at once.
        let id = cache.create();
        let out = model
            .forward(&mut cache, &[input(id, &tokens, Rows::All)])
            .expect("forward")
            .remove(0);
        assert_eq!(out.logits.len(), want_logits.len(), "{name}: logit rows");
        for (p, (got, want)) in out.logits.iter().zip(&want_logits).enumerate() {
            let d = max_diff(got, want);
            worst = worst.max(d);
            assert!(d < TOLERANCE, "{name} position {p}: max |logit diff| {d}");
        }
        assert!(
            max_diff(&out.hidden, &want_hidden.concat()) < TOLERANCE,
            "{name}: hidden states differ"
        );
        cache.release(id).expect("release");
        // Prefill two tokens, then one token at a time from the cache.
        let id = cache.create();
        model
            .forward(&mut cache, &[input(id, &tokens[..2], Rows::None)])
            .expect("prefill");
        for p in 2..tokens.len() {
            let out = model
                .forward(&mut cache, &[input(id, &tokens[p..=p], Rows::Last)])
                .expect("decode")
                .remove(0);
            let d = max_diff(&out.logits[0], &want_logits[p]);
            assert!(d < TOLERANCE, "{name} decode position {p}: {d}");
        }
        assert_eq!(cache.len(id).expect("len"), tokens.len());
        cache.release(id).expect("release");
    }
    assert_eq!(cache.blocks().blocks_in_use(), 0, "{name}: blocks leaked");
    // Both sequences in one batched call, with different logit requests.
    let seqs: Vec<Vec<u32>> = sequences.iter().map(|s| ids(&s["tokens"])).collect();
    let (a, b) = (cache.create(), cache.create());
    let outs = model
        .forward(
            &mut cache,
            &[
                input(a, &seqs[0], Rows::Last),
                input(b, &seqs[1], Rows::All),
            ],
        )
        .expect("batch");
    let want0 = rows(&sequences[0]["logits"]);
    let want1 = rows(&sequences[1]["logits"]);
    assert_eq!(outs[0].logits.len(), 1);
    assert!(max_diff(&outs[0].logits[0], &want0[want0.len() - 1]) < TOLERANCE);
    assert_eq!(outs[1].logits.len(), seqs[1].len());
    assert!(max_diff(&outs[1].logits.concat(), &want1.concat()) < TOLERANCE);
    eprintln!("{name}: max |logit diff| vs transformers {worst:e}");
}

#[test]
fn qwen2_matches_transformers() {
    check("qwen2-tiny");
}

#[test]
fn llama3_matches_transformers() {
    check("llama-tiny");
}

#[test]
fn gemma3_matches_transformers() {
    check("gemma3-tiny");
}

/// A prefix prefilled once and forked: each fork continues with its own tokens in one batched
/// decode step, copying only the shared partial block, and gets transformers' logits for the
/// whole sequence; truncating and re-extending gives the same logits again.
#[test]
fn forked_prefixes_decode_in_one_batch() {
    for name in ["qwen2-tiny", "llama-tiny", "gemma3-tiny"] {
        let (config, weights, golden) = fixture_model(name, WeightFormat::F32);
        let model = CpuModel::new(config, weights);
        let tokens = ids(&golden["sequences"][0]["tokens"]);
        let want = rows(&golden["sequences"][0]["logits"]);
        let mut cache = CpuKvCache::new(model.config(), 32, 4).expect("cache");
        let root = cache.create();
        // 6 tokens: one full block and a partial one.
        model
            .forward(&mut cache, &[input(root, &tokens[..6], Rows::None)])
            .expect("prefill");
        let kids = cache.fork(root, 3).expect("fork");
        assert_eq!(cache.blocks().blocks_in_use(), 2, "a fork copies nothing");
        // The forks continue by 1, 2 and 5 tokens of the golden sequence, in one call.
        let steps = [1usize, 2, 5];
        let batch: Vec<SequenceInput<'_>> = kids
            .iter()
            .zip(steps)
            .map(|(&k, n)| input(k, &tokens[6..6 + n], Rows::All))
            .collect();
        let outs = model.forward(&mut cache, &batch).expect("forked decode");
        assert_eq!(outs.len(), steps.len());
        for (out, n) in outs.iter().zip(steps) {
            assert_eq!(out.logits.len(), n);
            for (i, got) in out.logits.iter().enumerate() {
                let d = max_diff(got, &want[6 + i]);
                assert!(d < TOLERANCE, "{name} fork of {n}, position {}: {d}", 6 + i);
            }
        }
        // The root is untouched by its forks: it continues with the same logits.
        let out = model
            .forward(&mut cache, &[input(root, &tokens[6..7], Rows::Last)])
            .expect("root continues")
            .remove(0);
        assert!(
            max_diff(&out.logits[0], &want[6]) < TOLERANCE,
            "{name} root"
        );
        // Truncate a fork back into the shared block, then extend it again.
        cache.truncate(kids[2], 3).expect("truncate");
        let out = model
            .forward(&mut cache, &[input(kids[2], &tokens[3..8], Rows::All)])
            .expect("re-extend")
            .remove(0);
        assert!(max_diff(&out.logits.concat(), &want[3..8].concat()) < TOLERANCE);
        for id in kids.into_iter().chain([root]) {
            cache.release(id).expect("release");
        }
        assert_eq!(cache.blocks().blocks_in_use(), 0, "{name}: blocks leaked");
    }
}

#[test]
fn bad_input_is_a_typed_error_and_changes_nothing() {
    let (config, weights, _) = fixture_model("qwen2-tiny", WeightFormat::F32);
    let model = CpuModel::new(config, weights);
    let mut cache = CpuKvCache::new(model.config(), 2, 4).expect("cache");
    let id = cache.create();
    for tokens in [&[9999u32][..], &[]] {
        let err = model
            .forward(&mut cache, &[input(id, tokens, Rows::Last)])
            .unwrap_err();
        assert_eq!(err.code(), "invalid_argument");
    }
    // 9 positions do not fit 2 blocks of 4.
    let err = model
        .forward(&mut cache, &[input(id, &[1; 9], Rows::Last)])
        .unwrap_err();
    assert_eq!(err.code(), "kv_cache_full");
    assert_eq!(cache.len(id).expect("len"), 0);
    assert_eq!(cache.blocks().blocks_in_use(), 0);
    // The same sequence twice in a batch, and a released sequence.
    let err = model
        .forward(
            &mut cache,
            &[input(id, &[1], Rows::Last), input(id, &[2], Rows::Last)],
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
    cache.release(id).expect("release");
    let err = model
        .forward(&mut cache, &[input(id, &[1], Rows::Last)])
        .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
}
