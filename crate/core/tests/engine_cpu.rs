//! The generation engine on the CPU backend with the tiny Qwen2 model: greedy and sampled
//! decoding checked against teacher-forced forward passes, seeded reproducibility independent of
//! batch composition, stop strings ending inside a token, scoring, KV exhaustion and cancellation.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{cpu_run, fixture_model};
use ttsearch::block_on;
use ttsearch::engine::{
    CancelToken, CpuBackend, Engine, ExtendOptions, FinishReason, SamplingParams,
};
use ttsearch::model::{CpuKvCache, CpuModel, Rows};
use ttsearch::quant::WeightFormat;
use ttsearch::tokenize::{TokenCodec, decode_bytes};

const PROMPT: [u32; 7] = [5, 17, 200, 3, 99, 42, 7];

fn engine(blocks: usize, block_size: usize) -> Engine<CpuBackend> {
    let (config, weights, _) = fixture_model("qwen2-tiny", WeightFormat::F32);
    let cache = CpuKvCache::new(&config, blocks, block_size).expect("cache");
    Engine::new(CpuBackend {
        model: CpuModel::new(config, weights),
        cache,
    })
}

fn log_softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let sum: f64 = row.iter().map(|v| ((v - max) as f64).exp()).sum();
    row.iter().map(|v| v - max - sum.ln() as f32).collect()
}

fn sampled(temperature: f32, seed: u64, max_tokens: usize) -> SamplingParams {
    SamplingParams {
        temperature,
        seed,
        max_tokens,
        ..SamplingParams::default()
    }
}

/// Every generated token is the argmax of a full forward pass over everything before it, with
/// the logprob that pass gives.
#[test]
fn greedy_tokens_and_logprobs_match_teacher_forcing() {
    let mut e = engine(64, 4);
    let seq = block_on(e.prefill(&PROMPT)).expect("prefill");
    let out = block_on(e.extend(&[seq], &sampled(0.0, 0, 12), ExtendOptions::default()))
        .expect("extend")
        .remove(0);
    assert_eq!(out.tokens.len(), 12);
    assert_eq!(out.finish_reason, FinishReason::Length);
    let all: Vec<u32> = PROMPT
        .iter()
        .copied()
        .chain(out.tokens.iter().copied())
        .collect();
    let model = &e.backend().model;
    let full = cpu_run(model, &all, Rows::All);
    for (i, token) in out.tokens.iter().enumerate() {
        let row = &full.logits[PROMPT.len() - 1 + i];
        let lp = log_softmax(row);
        let best = (0..row.len()).max_by(|a, b| row[*a].total_cmp(&row[*b]).then(b.cmp(a)));
        assert_eq!(Some(*token as usize), best, "token {i} is not the argmax");
        let got = out.logprobs[i].expect("sampled logprob");
        assert!((got - lp[*token as usize]).abs() < 1e-4, "logprob {i}");
    }
    let c = e.counters();
    assert_eq!(c.prefill_tokens, PROMPT.len() as u64 - 1);
    assert_eq!(c.generated_tokens, 12);
    // The last prompt token and 11 generated tokens were fed by decode steps.
    assert_eq!(c.decode_tokens, 12);
}

/// Forks of one prompt sample different continuations; the same seed gives the same tokens
/// whether the forks decode together or one at a time.
#[test]
fn seeded_sampling_is_reproducible_across_batch_compositions() {
    let params = SamplingParams {
        temperature: 1.0,
        top_p: 0.9,
        top_k: 50,
        seed: 42,
        max_tokens: 10,
        logprobs: 3,
        ..SamplingParams::default()
    };
    let mut together = engine(64, 4);
    let root = block_on(together.prefill(&PROMPT)).expect("prefill");
    let kids = together.fork(root, 4).expect("fork");
    let batched =
        block_on(together.extend(&kids, &params, ExtendOptions::default())).expect("batched");
    let mut alone = engine(64, 4);
    let root2 = block_on(alone.prefill(&PROMPT)).expect("prefill");
    let kids2 = alone.fork(root2, 4).expect("fork");
    assert_eq!(kids, kids2, "sequence ids are deterministic");
    for (k, want) in kids2.iter().zip(&batched) {
        let got = block_on(alone.extend(&[*k], &params, ExtendOptions::default()))
            .expect("alone")
            .remove(0);
        assert_eq!(got.tokens, want.tokens);
        assert_eq!(got.top_logprobs.len(), got.tokens.len());
        assert_eq!(got.logprobs.len(), want.logprobs.len());
        for (a, b) in got.logprobs.iter().zip(&want.logprobs) {
            assert!((a.expect("lp") - b.expect("lp")).abs() < 1e-4);
        }
    }
    let distinct: std::collections::BTreeSet<&Vec<u32>> =
        batched.iter().map(|o| &o.tokens).collect();
    assert!(distinct.len() > 1, "forks drew the same continuation");
    // The forks shared the prompt's full blocks.
    assert!(together.counters().kv_blocks_peak < 4 * (PROMPT.len() + 10).div_ceil(4));
}

/// A test vocabulary with multi-byte tokens, so that "\n\n" can end inside a token.
struct PieceCodec;

fn piece(id: u32) -> &'static str {
    match id % 16 {
        0 => "\n",
        1 => "\n\n",
        2 => "a\n",
        3 => "\nb",
        4 => " \n\nx",
        5 => "ç",
        6 => "z",
        7 => " ",
        n => ["0", "1", "2", "3", "4", "5", "6", "7"][n as usize - 8],
    }
}

impl TokenCodec for PieceCodec {
    fn token_bytes(&self, id: u32) -> ttsearch::Result<Vec<u8>> {
        Ok(piece(id).as_bytes().to_vec())
    }
    fn encode(&self, text: &str) -> ttsearch::Result<Vec<u32>> {
        // Longest piece first at each position.
        let mut ids = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let best = (0..16u32)
                .filter(|&i| rest.starts_with(piece(i)))
                .max_by_key(|&i| piece(i).len())
                .ok_or_else(|| {
                    ttsearch::Error::InvalidArgument(format!("cannot encode {rest:?}"))
                })?;
            ids.push(best);
            rest = &rest[piece(best).len()..];
        }
        Ok(ids)
    }
}

/// Stop strings end the text right after the stop string even inside a token; the cut token is
/// replaced by the re-tokenized tail, and the cache agrees with the tokens afterwards.
#[test]
fn stop_strings_cut_inside_tokens_and_keep_the_cache_consistent() {
    let codec = PieceCodec;
    let mut cuts = 0;
    for seed in 0..12 {
        let mut e = engine(128, 4);
        let root = block_on(e.prefill(&PROMPT)).expect("prefill");
        let kids = e.fork(root, 3).expect("fork");
        let params = SamplingParams {
            temperature: 1.5,
            seed,
            max_tokens: 30,
            stop: vec!["\n\n".into()],
            ..SamplingParams::default()
        };
        let mut streamed = vec![String::new(); 3];
        let mut on_text = |id: ttsearch::kv::SeqId, piece: &str| {
            let i = kids.iter().position(|k| *k == id).expect("known sequence");
            streamed[i].push_str(piece);
        };
        let outs = block_on(e.extend(
            &kids,
            &params,
            ExtendOptions {
                codec: Some(&codec),
                on_text: Some(&mut on_text),
                ..ExtendOptions::default()
            },
        ))
        .expect("extend");
        for (i, out) in outs.iter().enumerate() {
            let text =
                String::from_utf8(decode_bytes(&codec, &out.tokens).expect("bytes")).expect("utf8");
            assert_eq!(text, out.text, "tokens and text agree");
            assert_eq!(streamed[i], out.text, "streamed text equals the final text");
            if out.finish_reason == FinishReason::Stop("\n\n".into()) {
                assert!(out.text.ends_with("\n\n"));
                assert_eq!(out.text.find("\n\n"), Some(out.text.len() - 2));
                if out.logprobs.last() == Some(&None) {
                    cuts += 1;
                }
            } else {
                assert!(!out.text.contains("\n\n"));
            }
            // Continue greedily: the result equals a fresh prefill of every token so far.
            let all = e.tokens(kids[i]).expect("tokens").to_vec();
            let next =
                block_on(e.extend(&[kids[i]], &sampled(0.0, 0, 1), ExtendOptions::default()))
                    .expect("continue")
                    .remove(0);
            let mut fresh = engine(128, 4);
            let s = block_on(fresh.prefill(&all)).expect("fresh");
            let want = block_on(fresh.extend(&[s], &sampled(0.0, 0, 1), ExtendOptions::default()))
                .expect("fresh extend")
                .remove(0);
            assert_eq!(next.tokens, want.tokens);
            let (a, b) = (next.logprobs[0].expect("lp"), want.logprobs[0].expect("lp"));
            assert!(
                (a - b).abs() < 1e-4,
                "cache and tokens disagree: {a} vs {b}"
            );
        }
        for id in e.live() {
            e.release(id).expect("release");
        }
        assert_eq!(e.counters().kv_blocks_in_use, 0);
    }
    assert!(
        cuts > 0,
        "no stop string ended inside a token in 36 samples"
    );
}

#[test]
fn score_and_append_match_the_forward_pass() {
    let mut e = engine(64, 4);
    let seq = block_on(e.prefill(&PROMPT[..3])).expect("prefill");
    let lp = block_on(e.score(seq, &PROMPT[3..])).expect("score");
    let full = cpu_run(&e.backend().model, &PROMPT, Rows::All);
    for (i, t) in PROMPT[3..].iter().enumerate() {
        let want = log_softmax(&full.logits[2 + i])[*t as usize];
        assert!((lp[i] - want).abs() < 1e-4);
    }
    let hidden = block_on(e.append(&[(seq, &[11, 12][..])])).expect("append");
    let all: Vec<u32> = PROMPT.iter().copied().chain([11, 12]).collect();
    let full = cpu_run(&e.backend().model, &all, Rows::None);
    let h = e.backend().model.config().hidden_size;
    assert_eq!(hidden[0].len(), 2 * h);
    let d = common::max_diff(&hidden[0], &full.hidden[7 * h..]);
    assert!(d < 1e-4, "hidden states differ by {d}");
    // Everything is cached now; extend re-feeds the last token and goes on.
    let out =
        block_on(e.extend(&[seq], &sampled(0.0, 0, 2), ExtendOptions::default())).expect("extend");
    assert_eq!(out[0].tokens.len(), 2);
}

#[test]
fn exhausted_cache_and_cancellation_are_typed_and_leave_sequences_usable() {
    // 5 blocks of 4: the prompt takes 2; four forks growing by 10 tokens cannot all fit.
    let mut e = engine(5, 4);
    let root = block_on(e.prefill(&PROMPT)).expect("prefill");
    let kids = e.fork(root, 4).expect("fork");
    let err = block_on(e.extend(&kids, &sampled(1.0, 3, 10), ExtendOptions::default()))
        .expect_err("cannot fit");
    assert_eq!(err.code(), "kv_cache_full");
    for &k in &kids {
        let tokens = e.tokens(k).expect("tokens").len();
        assert!(tokens >= PROMPT.len());
    }
    let cancel = CancelToken::default();
    cancel.cancel();
    let err = block_on(e.extend(
        &[root],
        &sampled(0.0, 0, 3),
        ExtendOptions {
            cancel: Some(&cancel),
            ..ExtendOptions::default()
        },
    ))
    .expect_err("cancelled");
    assert_eq!(err.code(), "cancelled");
    for id in e.live() {
        e.release(id).expect("release");
    }
    assert_eq!(e.counters().kv_blocks_in_use, 0);
    // Invalid parameters say what to change.
    let mut e = engine(8, 4);
    let s = block_on(e.prefill(&PROMPT)).expect("prefill");
    for params in [
        SamplingParams {
            top_p: 0.0,
            ..SamplingParams::default()
        },
        SamplingParams {
            temperature: -1.0,
            ..SamplingParams::default()
        },
        SamplingParams {
            max_tokens: 0,
            ..SamplingParams::default()
        },
        SamplingParams {
            stop: vec!["x".into()],
            ..SamplingParams::default()
        },
    ] {
        let err = block_on(e.extend(&[s], &params, ExtendOptions::default())).expect_err("bad");
        assert_eq!(err.code(), "invalid_argument", "{err}");
    }
}

/// With too few KV blocks for every sample at once, samples start as finished ones release
/// their blocks, and produce exactly what they produce with room to spare.
#[test]
fn samples_wait_for_blocks_and_resume_when_others_release() {
    let params = sampled(1.0, 9, 6);
    let run = |blocks: usize, release_finished: bool| {
        let mut e = engine(blocks, 4);
        let root = block_on(e.prefill(&PROMPT)).expect("prefill");
        let kids = e.fork(root, 3).expect("fork");
        e.release(root).expect("release root");
        let result = block_on(e.extend(
            &kids,
            &params,
            ExtendOptions {
                release_finished,
                ..ExtendOptions::default()
            },
        ));
        (result, e.counters())
    };
    let (roomy, _) = run(64, false);
    let roomy = roomy.expect("fits");
    // 7 blocks: the shared prompt takes 2, a sample may need 3 more: one starts, two wait.
    let (tight, counters) = run(7, true);
    let tight = tight.expect("waits, then runs");
    assert_eq!(tight.len(), roomy.len());
    for (a, b) in tight.iter().zip(&roomy) {
        assert_eq!(a.tokens, b.tokens, "same draws whatever the schedule");
    }
    assert_eq!(
        counters.kv_blocks_in_use, 0,
        "finished samples were released"
    );
    assert!(counters.kv_blocks_peak <= 7);
    // Without releasing, the last sample never gets blocks: a typed error, no hang.
    let (stuck, _) = run(7, false);
    assert_eq!(stuck.expect_err("cannot start").code(), "kv_cache_full");
}

/// A token the engine is told ends sequences (a tokenizer's EOS id beyond the config's) stops
/// generation there, with finish reason EOS and the token kept.
#[test]
fn added_eos_tokens_end_generation() {
    let mut e = engine(64, 4);
    let seq = block_on(e.prefill(&PROMPT)).expect("prefill");
    let free = block_on(e.extend(&[seq], &sampled(0.0, 0, 6), ExtendOptions::default()))
        .expect("extend")
        .remove(0);
    assert_eq!(free.finish_reason, FinishReason::Length);
    let third = free.tokens[2];
    let mut e = engine(64, 4);
    assert!(
        !e.eos_tokens().contains(&third),
        "pick a token the config does not end on"
    );
    e.add_eos_tokens(&[third]);
    let seq = block_on(e.prefill(&PROMPT)).expect("prefill");
    let out = block_on(e.extend(&[seq], &sampled(0.0, 0, 6), ExtendOptions::default()))
        .expect("extend")
        .remove(0);
    let first = free
        .tokens
        .iter()
        .position(|t| *t == third)
        .expect("present");
    assert_eq!(out.tokens, free.tokens[..=first].to_vec());
    assert_eq!(out.finish_reason, FinishReason::Eos);
}
