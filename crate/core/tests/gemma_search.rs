//! A search on the real Gemma 3 270M GGUF (base model) as policy and as its own generative
//! verifier, on the CPU backend: beam search completes and reports sane statistics (no accuracy
//! claim). Needs TTSEARCH_GEMMA_GGUF and the Gemma 3 tokenizer files (scripts/fetch_*.sh; the
//! GGUF has no chat template); scripts/test.sh runs it in release.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{load_cpu_model, load_tokenizer};
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::engine::{CpuBackend, Engine};
use ttsearch::kv::CpuKvCache;
use ttsearch::prm::{Prm, PrmFormat, PrmHead};
use ttsearch::quant::WeightFormat;
use ttsearch::search::{
    PolicyPrompt, SearchEvent, SearchOptions, SearchParams, SelfVerified, Strategy, search,
    split_steps,
};

fn inputs() -> Option<(PathBuf, PathBuf)> {
    let require = std::env::var("TTSEARCH_REQUIRE_GEMMA").is_ok_and(|v| v == "1");
    let tokenizer = std::env::var_os("TTSEARCH_TOKENIZERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tokenizers")
        })
        .join("gemma3");
    match std::env::var_os("TTSEARCH_GEMMA_GGUF") {
        Some(gguf) if tokenizer.join("tokenizer.json").exists() => {
            Some((PathBuf::from(gguf), tokenizer))
        }
        _ if require => panic!(
            "TTSEARCH_REQUIRE_GEMMA=1 needs TTSEARCH_GEMMA_GGUF and target/tokenizers/gemma3 \
             (scripts/fetch_gemma.sh, scripts/fetch_tokenizers.sh)"
        ),
        _ => {
            eprintln!("SKIPPED: Gemma search: set TTSEARCH_GEMMA_GGUF and fetch the tokenizers");
            None
        }
    }
}

#[test]
fn gemma_searches_and_verifies_itself() {
    let Some((gguf, tokenizer_dir)) = inputs() else {
        return;
    };
    let model = block_on(load_cpu_model(&gguf, WeightFormat::Q8)).expect("model");
    let cache = CpuKvCache::new(model.config(), 512, 16).expect("cache");
    let tokenizer = block_on(load_tokenizer(&tokenizer_dir)).expect("tokenizer");
    let format = PrmFormat::Generative;
    let head = PrmHead::for_format(None, format, &tokenizer).expect("Yes/No head");
    let engine = Engine::new(CpuBackend { model, cache });
    let prompt = PolicyPrompt::default();
    let prompt_len = prompt
        .ids(&engine, &tokenizer, "What is $3 \\cdot 4 + 5$?")
        .expect("prompt")
        .len();
    let mut models = SelfVerified::new(Prm::new(engine, tokenizer, head, format), prompt);
    let params = SearchParams {
        strategy: Strategy::Beam,
        n: 4,
        beam_width: 2,
        num_iterations: 3,
        max_tokens: 24,
        ..SearchParams::default()
    };
    let mut events = 0;
    let mut sink = |_: &SearchEvent| events += 1;
    let out = block_on(search(
        &mut models,
        "What is $3 \\cdot 4 + 5$?",
        &params,
        SearchOptions {
            on_event: Some(&mut sink),
            ..SearchOptions::default()
        },
    ))
    .expect("searches");
    let r = out.report;
    eprintln!("{r:?}");
    assert!(!out.completions.is_empty() && out.completions.len() <= 4);
    for c in &out.completions {
        assert!(!c.text.is_empty());
        assert!(c.tokens > 0 && c.tokens <= 3 * 24, "{}", c.tokens);
        assert!(c.scores.len() <= split_steps(&c.text).len());
        assert!(c.scores.iter().all(|s| (0.0..=1.0).contains(s)));
    }
    assert!((1..=3).contains(&r.iterations));
    assert_eq!(r.policy_prefill_tokens, prompt_len as u64 - 1);
    assert!(r.generated_tokens > 0 && r.generated_tokens <= 4 * 3 * 24);
    assert!(r.prm_tokens_fed > 0 && r.prm_tokens_fed < r.prm_rescore_tokens);
    assert!(r.policy_resubmitted_tokens > r.policy_prefill_tokens);
    assert!(r.seconds.total > 0.0);
    assert!(events > 4);
    assert!(models.prm.engine().live().is_empty());
    assert_eq!(models.prm.engine().counters().kv_blocks_in_use, 0);
}
