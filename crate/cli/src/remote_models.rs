//! Models on OpenAI-compatible servers, from command-line options: the policy on the
//! `--policy-url` servers and the generative verifier on its own `--verifier-url` servers or,
//! with `--verifier self`, on the policy's. [`RemoteModels`] makes one pair per worker, every
//! pair sharing the server pools (their load, counters and what the servers were found to
//! support).

use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use ttsearch::kv::SeqId;
use ttsearch::load;
use ttsearch::model::Architecture;
use ttsearch::search::{Models, NoScorer, PolicyPrompt, ScorerStats, StepScorer};
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result, block_on};
use ttsearch_remote::{CounterSnapshot, Pool, RemotePolicy, RemoteVerifier, RetryPolicy};

/// Where remote models are served.
#[derive(Args, Debug, Clone, Default)]
pub struct RemoteArgs {
    /// An OpenAI-compatible server of the policy (vLLM, llama.cpp's server): repeat it to
    /// spread requests over several servers or replicas (least-loaded first). Needs
    /// --tokenizer (the served model's tokenizer files or GGUF), which renders the prompts.
    #[arg(long = "policy-url")]
    pub policy_urls: Vec<String>,
    /// The policy's model name on its servers (default: the first model the first server lists).
    #[arg(long)]
    pub policy_model: Option<String>,
    /// An OpenAI-compatible server of a generative verifier (repeatable); its tokenizer is
    /// --verifier-tokenizer, else --tokenizer.
    #[arg(long = "verifier-url")]
    pub verifier_urls: Vec<String>,
    /// The verifier's model name on its servers.
    #[arg(long)]
    pub verifier_model: Option<String>,
    /// The verifier's tokenizer files or GGUF.
    #[arg(long)]
    pub verifier_tokenizer: Option<PathBuf>,
    /// Seconds one request may take before it is retried.
    #[arg(long, default_value_t = 900.0)]
    pub request_timeout: f64,
    /// Tries per request (429, 5xx, timeouts and connection errors are retried with
    /// exponential backoff, on another server when one is live).
    #[arg(long, default_value_t = 8)]
    pub retries: u32,
}

/// The pools and tokenizers remote models are made from.
pub struct RemoteModels {
    policy: Arc<Pool>,
    policy_tokenizer: Arc<Tokenizer>,
    architecture: Architecture,
    honours_n: Arc<AtomicBool>,
    verifier: Option<(Arc<Pool>, Arc<Tokenizer>)>,
}

/// The scorer of a remote pair.
pub enum RemoteScorer {
    /// No scorer (CoT, majority vote).
    None(NoScorer),
    /// A generative verifier on servers.
    Verifier(RemoteVerifier),
}

/// A remote policy and its scorer.
pub type RemotePair = Models<RemotePolicy, RemoteScorer>;

/// The architecture a tokenizer path's config names (the default system message depends on
/// it); Qwen2's when it has no config.
fn architecture_of(path: &std::path::Path) -> Architecture {
    load::path_source(path)
        .ok()
        .and_then(|source| block_on(load::open_config(&source)).ok())
        .map_or(Architecture::Qwen2, |c| c.architecture)
}

/// The first model id a server lists.
fn first_model(url: &str, retry: RetryPolicy) -> Result<String> {
    let probe = Pool::new(&[url.to_string()], "", api_key(), retry)?;
    probe.first_model()
}

fn api_key() -> Option<String> {
    std::env::var("TTSEARCH_API_KEY")
        .ok()
        .filter(|k| !k.is_empty())
}

fn pool(urls: &[String], model: Option<&str>, retry: RetryPolicy) -> Result<Arc<Pool>> {
    let model = match model {
        Some(m) => m.to_string(),
        None => first_model(&urls[0], retry)?,
    };
    let pool = Pool::new(urls, &model, api_key(), retry)?;
    pool.connect()?;
    Ok(Arc::new(pool))
}

impl RemoteArgs {
    /// Whether the policy is remote.
    pub fn active(&self) -> bool {
        !self.policy_urls.is_empty()
    }

    fn retry(&self) -> Result<RetryPolicy> {
        if !(self.request_timeout.is_finite() && self.request_timeout > 0.0) {
            return Err(Error::InvalidArgument(
                "--request-timeout needs a positive number of seconds".into(),
            ));
        }
        Ok(RetryPolicy {
            attempts: self.retries.max(1),
            timeout: Duration::from_secs_f64(self.request_timeout),
            ..RetryPolicy::default()
        })
    }

    /// Connects to the servers: checks each answers and serves the model.
    pub fn connect(&self, tokenizer: Option<&PathBuf>, self_verify: bool) -> Result<RemoteModels> {
        let retry = self.retry()?;
        let tokenizer_path = tokenizer.ok_or_else(|| {
            Error::InvalidArgument(
                "--policy-url needs --tokenizer (the served model's tokenizer folder or GGUF)"
                    .into(),
            )
        })?;
        let policy_tokenizer = Arc::new(block_on(load::path_tokenizer(tokenizer_path))?);
        let policy = pool(&self.policy_urls, self.policy_model.as_deref(), retry)?;
        let verifier = if !self.verifier_urls.is_empty() {
            let tokenizer = match &self.verifier_tokenizer {
                Some(path) => Arc::new(block_on(load::path_tokenizer(path))?),
                None => Arc::clone(&policy_tokenizer),
            };
            let pool = pool(&self.verifier_urls, self.verifier_model.as_deref(), retry)?;
            Some((pool, tokenizer))
        } else if self_verify {
            Some((Arc::clone(&policy), Arc::clone(&policy_tokenizer)))
        } else {
            None
        };
        Ok(RemoteModels {
            architecture: architecture_of(tokenizer_path),
            policy,
            policy_tokenizer,
            honours_n: Arc::new(AtomicBool::new(true)),
            verifier,
        })
    }
}

impl RemoteModels {
    /// A policy and scorer pair on the shared pools.
    pub fn pair(&self) -> RemotePair {
        let policy = RemotePolicy::new(
            Arc::clone(&self.policy),
            Arc::clone(&self.policy_tokenizer),
            PolicyPrompt::default(),
            self.architecture,
            Arc::clone(&self.honours_n),
        );
        let scorer = match &self.verifier {
            Some((pool, tokenizer)) => {
                RemoteScorer::Verifier(RemoteVerifier::new(Arc::clone(pool), Arc::clone(tokenizer)))
            }
            None => RemoteScorer::None(NoScorer),
        };
        Models { policy, scorer }
    }

    /// Every pool's counters added up.
    pub fn counters(&self) -> CounterSnapshot {
        let mut total = self.policy.counters().snapshot();
        if let Some((pool, _)) = &self.verifier
            && !Arc::ptr_eq(pool, &self.policy)
        {
            let v = pool.counters().snapshot();
            total.requests += v.requests;
            total.retries += v.retries;
            total.failures += v.failures;
            total.in_flight += v.in_flight;
            total.prompt_tokens += v.prompt_tokens;
            total.completion_tokens += v.completion_tokens;
            total.cached_tokens = match (total.cached_tokens, v.cached_tokens) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            };
        }
        total
    }

    /// What the servers did, as JSON (per pool: kind, counters, per-server requests).
    pub fn report(&self) -> serde_json::Value {
        let one = |pool: &Pool| {
            serde_json::json!({
                "model": pool.model(),
                "kind": pool.kind(),
                "counters": pool.counters().snapshot(),
                "servers": pool.server_stats(),
            })
        };
        serde_json::json!({
            "policy": one(&self.policy),
            "verifier": self.verifier.as_ref().map(|(p, _)| one(p)),
        })
    }
}

impl StepScorer for RemoteScorer {
    fn available(&self) -> bool {
        match self {
            RemoteScorer::None(s) => s.available(),
            RemoteScorer::Verifier(s) => s.available(),
        }
    }
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        match self {
            RemoteScorer::None(s) => s.start(problem).await,
            RemoteScorer::Verifier(s) => s.start(problem).await,
        }
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        match self {
            RemoteScorer::None(s) => s.fork(seq, k),
            RemoteScorer::Verifier(s) => s.fork(seq, k),
        }
    }
    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        match self {
            RemoteScorer::None(s) => s.score_steps(items).await,
            RemoteScorer::Verifier(s) => s.score_steps(items).await,
        }
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        match self {
            RemoteScorer::None(s) => s.release(seq),
            RemoteScorer::Verifier(s) => s.release(seq),
        }
    }
    fn stats(&self) -> ScorerStats {
        match self {
            RemoteScorer::None(s) => s.stats(),
            RemoteScorer::Verifier(s) => s.stats(),
        }
    }
    fn sequence_tokens(&self, seq: SeqId) -> Option<usize> {
        match self {
            RemoteScorer::None(s) => s.sequence_tokens(seq),
            RemoteScorer::Verifier(s) => s.sequence_tokens(seq),
        }
    }
}
