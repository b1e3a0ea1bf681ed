//! The CPU forward pass against HF transformers (float32) on tiny random Qwen2, Llama 3 (llama3
//! rope scaling, sharded f32) and Gemma 3 (bf16, sliding window) models: tests/fixtures/models,
//! written by scripts/gen_tiny_models.py.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{fixture_model, ids, max_diff, rows};
use ttsearch::model::{CpuModel, KvCache, LogitPositions, SequenceInput};
use ttsearch::quant::WeightFormat;

/// f32 on the same weights: the differences are summation order only.
const TOLERANCE: f32 = 1e-4;

fn check(name: &str) {
    let (config, weights, golden) = fixture_model(name, WeightFormat::F32);
    let model = CpuModel::new(config, weights);
    let sequences = golden["sequences"].as_array().expect("sequences");
    let mut worst = 0f32;
    for seq in sequences {
        let tokens = ids(&seq["tokens"]);
        let (want_logits, want_hidden) = (rows(&seq["logits"]), rows(&seq["hidden"]));
        // Whole sequence at once.
        let mut cache = KvCache::default();
        let out = model
            .forward(&mut [SequenceInput {
                cache: &mut cache,
                tokens: &tokens,
                logits: LogitPositions::All,
            }])
            .expect("forward")
            .remove(0);
        for (p, (got, want)) in out.logits.iter().zip(&want_logits).enumerate() {
            let d = max_diff(got, want);
            worst = worst.max(d);
            assert!(d < TOLERANCE, "{name} position {p}: max |logit diff| {d}");
        }
        assert!(
            max_diff(&out.hidden, &want_hidden.concat()) < TOLERANCE,
            "{name}: hidden states differ"
        );
        // Prefill two tokens, then one token at a time from the cache.
        let mut cache = KvCache::default();
        model
            .forward(&mut [SequenceInput {
                cache: &mut cache,
                tokens: &tokens[..2],
                logits: LogitPositions::None,
            }])
            .expect("prefill");
        for p in 2..tokens.len() {
            let out = model
                .forward(&mut [SequenceInput {
                    cache: &mut cache,
                    tokens: &tokens[p..=p],
                    logits: LogitPositions::Last,
                }])
                .expect("decode")
                .remove(0);
            let d = max_diff(&out.logits[0], &want_logits[p]);
            assert!(d < TOLERANCE, "{name} decode position {p}: {d}");
        }
        assert_eq!(cache.len(), tokens.len());
    }
    // Both sequences in one batched call.
    let seqs: Vec<Vec<u32>> = sequences.iter().map(|s| ids(&s["tokens"])).collect();
    let (mut c0, mut c1) = (KvCache::default(), KvCache::default());
    let outs = model
        .forward(&mut [
            SequenceInput {
                cache: &mut c0,
                tokens: &seqs[0],
                logits: LogitPositions::Last,
            },
            SequenceInput {
                cache: &mut c1,
                tokens: &seqs[1],
                logits: LogitPositions::Last,
            },
        ])
        .expect("batch");
    for (i, out) in outs.iter().enumerate() {
        let want = rows(&sequences[i]["logits"]);
        assert!(
            max_diff(&out.logits[0], want.last().expect("last")) < TOLERANCE,
            "{name} batch {i}"
        );
    }
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

#[test]
fn bad_tokens_are_typed_errors() {
    let (config, weights, _) = fixture_model("qwen2-tiny", WeightFormat::F32);
    let model = CpuModel::new(config, weights);
    let mut cache = KvCache::default();
    let err = model
        .forward(&mut [SequenceInput {
            cache: &mut cache,
            tokens: &[9999],
            logits: LogitPositions::Last,
        }])
        .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
    let err = model
        .forward(&mut [SequenceInput {
            cache: &mut cache,
            tokens: &[],
            logits: LogitPositions::Last,
        }])
        .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
    assert!(cache.is_empty());
}
