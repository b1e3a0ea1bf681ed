//! Searches on real (tiny) models through the engine: policy-tiny (a random Qwen2 that writes
//! steps) with the Skywork-format tiny PRM, and policy-tiny verifying itself. Best-of-N and DVTS
//! runs with a smaller n are exact prefixes of larger ones; a search prefills its prompt once and
//! feeds the PRM far less than re-scoring; a small KV cache gives the same samples; cancellation
//! leaves nothing allocated.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{load_cpu_model, load_cpu_prm, load_tokenizer};
use std::path::{Path, PathBuf};
use ttsearch::block_on;
use ttsearch::engine::{AnyBackend, CancelToken, CpuBackend, Engine};
use ttsearch::kv::CpuKvCache;
use ttsearch::prm::{Prm, PrmFormat};
use ttsearch::quant::WeightFormat;
use ttsearch::search::{
    EnginePolicy, Models, PolicyPrompt, SearchEvent, SearchOptions, SearchOutcome, SearchParams,
    SelfVerified, Strategy, search,
};

const PROBLEM: &str = "What is $3 \\cdot 4 + 5$?";

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/prms")
        .join(name)
}

fn policy(blocks: usize) -> EnginePolicy<CpuBackend> {
    let path = dir("policy-tiny");
    let model = block_on(load_cpu_model(&path, WeightFormat::F32)).expect("policy");
    let cache = CpuKvCache::new(model.config(), blocks, 16).expect("cache");
    let tokenizer = block_on(load_tokenizer(&path)).expect("tokenizer");
    EnginePolicy::new(
        Engine::new(CpuBackend { model, cache }),
        tokenizer,
        PolicyPrompt::default(),
    )
}

fn prm() -> Prm<AnyBackend> {
    block_on(load_cpu_prm(
        &dir("skywork-tiny"),
        WeightFormat::F32,
        PrmFormat::Skywork,
        4096,
    ))
    .expect("prm")
}

fn models(blocks: usize) -> Models<EnginePolicy<CpuBackend>, Prm<AnyBackend>> {
    Models {
        policy: policy(blocks),
        scorer: prm(),
    }
}

fn params(strategy: Strategy, n: usize, beam_width: usize) -> SearchParams {
    SearchParams {
        strategy,
        n,
        beam_width,
        num_iterations: 4,
        max_tokens: 24,
        ..SearchParams::default()
    }
}

fn run<M: ttsearch::search::Policy + ttsearch::search::StepScorer>(
    models: &mut M,
    p: &SearchParams,
) -> SearchOutcome {
    block_on(search(models, PROBLEM, p, SearchOptions::default())).expect("searches")
}

fn assert_released(m: &Models<EnginePolicy<CpuBackend>, Prm<AnyBackend>>) {
    assert!(m.policy.engine.live().is_empty(), "policy sequences left");
    assert_eq!(m.policy.engine.counters().kv_blocks_in_use, 0);
    assert!(m.scorer.engine().live().is_empty(), "PRM sequences left");
    assert_eq!(m.scorer.engine().counters().kv_blocks_in_use, 0);
}

#[test]
fn best_of_n_and_dvts_with_smaller_n_are_prefixes_of_one_larger_run() {
    let mut m = models(4096);
    let large = run(&mut m, &params(Strategy::Bon, 8, 4));
    let small = run(&mut m, &params(Strategy::Bon, 2, 4));
    assert_eq!(large.completions.len(), 8);
    assert_eq!(small.completions[..], large.completions[..2]);
    // The samples differ from each other and carry one score per step.
    assert_ne!(large.completions[0].text, large.completions[1].text);
    for c in &large.completions {
        assert_eq!(c.scores.len(), ttsearch::search::split_steps(&c.text).len());
    }
    // The same samples when the cache holds only a few at a time (they wait for blocks).
    let mut tight = models(40);
    let waited = run(&mut tight, &params(Strategy::Bon, 8, 4));
    assert_eq!(waited.completions, large.completions);
    assert_released(&tight);

    let large = run(&mut m, &params(Strategy::Dvts, 8, 2));
    let small = run(&mut m, &params(Strategy::Dvts, 4, 2));
    assert_eq!(large.completions.len(), 8);
    assert_eq!(small.completions[..], large.completions[..4]);
    assert!(large.report.iterations >= 2, "the policy writes steps");
    assert_released(&m);
}

#[test]
fn beam_search_prefills_once_and_feeds_the_prm_incrementally() {
    let mut m = models(4096);
    let prompt = PolicyPrompt::default()
        .ids(&m.policy.engine, &m.policy.tokenizer, PROBLEM)
        .expect("prompt");
    let out = run(&mut m, &params(Strategy::Beam, 8, 2));
    let r = out.report;
    assert!(r.iterations >= 2, "{r:?}");
    assert!(!out.completions.is_empty() && out.completions.len() <= 8);
    // One prefill of the prompt (its last token is fed by the first decode step).
    assert_eq!(r.policy_prefill_tokens, prompt.len() as u64 - 1);
    // Without a prefix cache every generate call would re-send every beam's whole prefix.
    assert!(
        r.policy_resubmitted_tokens > 8 * prompt.len() as u64,
        "{r:?}"
    );
    // The PRM is fed each step once; re-scoring would feed each prefix again.
    assert!(r.prm_tokens_fed * 2 < r.prm_rescore_tokens, "{r:?}");
    assert!(r.policy_kv_blocks_peak > 0 && r.prm_kv_blocks_peak > 0);
    assert!(r.seconds.total >= r.seconds.generate + r.seconds.score);
    let answer = out.selection.answer_for(Strategy::Beam);
    assert_eq!(out.answer, answer);
    assert_released(&m);
}

#[test]
fn cancellation_frees_every_sequence_of_both_models() {
    for strategy in [Strategy::Beam, Strategy::Dvts, Strategy::Bon] {
        let mut m = models(4096);
        let token = CancelToken::default();
        let mut sink = |e: &SearchEvent| {
            if matches!(e, SearchEvent::StepProposed { .. }) {
                token.cancel();
            }
        };
        let out = block_on(search(
            &mut m,
            PROBLEM,
            &params(strategy, 4, 2),
            SearchOptions {
                cancel: Some(&token),
                on_event: Some(&mut sink),
                ..SearchOptions::default()
            },
        ));
        match (strategy, out) {
            // Best-of-N proposes its samples only when they are done: nothing to cancel.
            (Strategy::Bon, Ok(_)) => {}
            (_, out) => assert_eq!(out.expect_err("cancelled").code(), "cancelled"),
        }
        assert_released(&m);
        // Cancelled before it starts.
        let token = CancelToken::default();
        token.cancel();
        let out = block_on(search(
            &mut m,
            PROBLEM,
            &params(strategy, 4, 2),
            SearchOptions {
                cancel: Some(&token),
                ..SearchOptions::default()
            },
        ));
        assert_eq!(out.expect_err("cancelled").code(), "cancelled");
        assert_released(&m);
    }
}

#[test]
fn the_policy_verifies_its_own_steps_on_one_engine() {
    let path: &Path = &dir("policy-tiny");
    let prm = block_on(load_cpu_prm(
        path,
        WeightFormat::F32,
        PrmFormat::Generative,
        4096,
    ))
    .expect("verifier");
    let mut m = SelfVerified::new(prm, PolicyPrompt::default());
    let out = run(&mut m, &params(Strategy::Dvts, 4, 2));
    assert_eq!(out.completions.len(), 4);
    assert!(
        out.completions
            .iter()
            .flat_map(|c| &c.scores)
            .all(|s| (0.0..=1.0).contains(s))
    );
    assert!(out.report.prm_tokens_fed > 0);
    assert!(m.prm.engine().live().is_empty());
    assert_eq!(m.prm.engine().counters().kv_blocks_in_use, 0);
}
