//! Models on OpenAI-compatible servers, from command-line options: the policy on the
//! `--policy-url` servers; the scorer a PRM on `--prm-url` servers (LM-token PRMs over the
//! completions API, reward-head PRMs over vLLM's pooling API), a generative verifier on
//! `--verifier-url` servers or, with `--verifier self`, on the policy's. [`RemoteModels`] makes
//! one pair per worker, every pair sharing the server pools (their load, counters and what the
//! servers were found to support).

use crate::tokenizer_source::{load_tokenizer, tokenizer_path};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use ttsearch::kv::SeqId;
use ttsearch::load;
use ttsearch::model::Architecture;
use ttsearch::prm::PrmFormat;
use ttsearch::search::{Models, NoScorer, PolicyPrompt, ScorerStats, StepScorer};
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result, block_on};
use ttsearch_remote::{CounterSnapshot, Pool, RemotePolicy, RemotePrm, RetryPolicy};

/// Where remote models are served.
#[derive(Args, Debug, Clone, Default)]
pub struct RemoteArgs {
    /// An OpenAI-compatible server of the policy (vLLM, llama.cpp's server): repeat it to
    /// spread requests over several servers or replicas (least-loaded first). Needs
    /// --tokenizer (the served model's tokenizer: a folder, a GGUF, a hub repo id or a folder
    /// URL in the hub's layout), which renders the prompts.
    #[arg(long = "policy-url")]
    pub policy_urls: Vec<String>,
    /// The policy's model name on its servers (default: the first model the first server lists).
    #[arg(long)]
    pub policy_model: Option<String>,
    /// The policy's context in tokens, for servers that do not list it (vLLM lists
    /// `max_model_len`; llama.cpp's servers do not: give their --n_ctx): each request's
    /// max_tokens is capped to what is left, and a full context ends the path on length.
    #[arg(long)]
    pub policy_context: Option<usize>,
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
    /// A server of a PRM (repeatable), of --prm-kind rlhflow or math-shepherd (read from the
    /// next-token logprobs over the completions API) or qwen-prm (vLLM's pooling API, the
    /// model served as a reward model); needs --prm-tokenizer.
    #[arg(long = "prm-url")]
    pub prm_urls: Vec<String>,
    /// The PRM's model name on its servers.
    #[arg(long)]
    pub prm_model: Option<String>,
    /// The PRM's tokenizer files or GGUF (its format is rendered here).
    #[arg(long)]
    pub prm_tokenizer: Option<PathBuf>,
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
    scorer: Option<(Arc<Pool>, Arc<Tokenizer>, PrmFormat)>,
}

/// The scorer of a remote pair.
pub enum RemoteScorer {
    /// No scorer (CoT, majority vote).
    None(NoScorer),
    /// A PRM or generative verifier on servers.
    Prm(RemotePrm),
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
    /// `prm_kind` is the PRM's format (with --prm-url).
    pub fn connect(
        &self,
        tokenizer: Option<&PathBuf>,
        self_verify: bool,
        prm_kind: Option<PrmFormat>,
    ) -> Result<RemoteModels> {
        let given = [
            !self.verifier_urls.is_empty(),
            !self.prm_urls.is_empty(),
            self_verify,
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(Error::InvalidArgument(
                "give one scorer: --prm-url, --verifier-url or --verifier self".into(),
            ));
        }
        let retry = self.retry()?;
        let tokenizer_spec = tokenizer.ok_or_else(|| {
            Error::InvalidArgument(
                "--policy-url needs --tokenizer (the served model's tokenizer folder or GGUF)"
                    .into(),
            )
        })?;
        let tokenizer_path = tokenizer_path(tokenizer_spec)?;
        let policy_tokenizer = Arc::new(load_tokenizer(&tokenizer_path)?);
        let policy = pool(&self.policy_urls, self.policy_model.as_deref(), retry)?;
        if let Some(tokens) = self.policy_context {
            policy.set_context(Some(tokens));
        }
        let scorer = if !self.prm_urls.is_empty() {
            let kind = prm_kind.ok_or_else(|| {
                Error::InvalidArgument(
                    "--prm-url needs --prm-kind (rlhflow, math-shepherd, qwen-prm, generative)"
                        .into(),
                )
            })?;
            let path = self
                .prm_tokenizer
                .as_ref()
                .ok_or_else(|| Error::InvalidArgument("--prm-url needs --prm-tokenizer".into()))?;
            let tokenizer = Arc::new(load_tokenizer(path)?);
            let pool = pool(&self.prm_urls, self.prm_model.as_deref(), retry)?;
            // Checks the kind now rather than at the first problem.
            RemotePrm::new(Arc::clone(&pool), Arc::clone(&tokenizer), kind)?;
            Some((pool, tokenizer, kind))
        } else if !self.verifier_urls.is_empty() {
            let tokenizer = match &self.verifier_tokenizer {
                Some(path) => Arc::new(load_tokenizer(path)?),
                None => Arc::clone(&policy_tokenizer),
            };
            let pool = pool(&self.verifier_urls, self.verifier_model.as_deref(), retry)?;
            Some((pool, tokenizer, PrmFormat::Generative))
        } else if self_verify {
            let tokenizer = Arc::clone(&policy_tokenizer);
            Some((Arc::clone(&policy), tokenizer, PrmFormat::Generative))
        } else {
            None
        };
        Ok(RemoteModels {
            architecture: architecture_of(&tokenizer_path),
            policy,
            policy_tokenizer,
            honours_n: Arc::new(AtomicBool::new(true)),
            scorer,
        })
    }
}

impl RemoteModels {
    /// A policy and scorer pair on the shared pools.
    pub fn pair(&self) -> Result<RemotePair> {
        let policy = RemotePolicy::new(
            Arc::clone(&self.policy),
            Arc::clone(&self.policy_tokenizer),
            PolicyPrompt::default(),
            self.architecture,
            Arc::clone(&self.honours_n),
        );
        let scorer = match &self.scorer {
            Some((pool, tokenizer, format)) => RemoteScorer::Prm(RemotePrm::new(
                Arc::clone(pool),
                Arc::clone(tokenizer),
                *format,
            )?),
            None => RemoteScorer::None(NoScorer),
        };
        Ok(Models { policy, scorer })
    }

    /// Every pool's counters added up.
    pub fn counters(&self) -> CounterSnapshot {
        let mut total = self.policy.counters().snapshot();
        if let Some((pool, _, _)) = &self.scorer
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
            "scorer": self.scorer.as_ref().map(|(p, _, format)| {
                let mut v = one(p);
                v["format"] = serde_json::json!(format.name());
                v["same_servers_as_policy"] = serde_json::json!(Arc::ptr_eq(p, &self.policy));
                v
            }),
        })
    }
}

impl StepScorer for RemoteScorer {
    fn available(&self) -> bool {
        match self {
            RemoteScorer::None(s) => s.available(),
            RemoteScorer::Prm(s) => s.available(),
        }
    }
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        match self {
            RemoteScorer::None(s) => s.start(problem).await,
            RemoteScorer::Prm(s) => s.start(problem).await,
        }
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        match self {
            RemoteScorer::None(s) => s.fork(seq, k),
            RemoteScorer::Prm(s) => s.fork(seq, k),
        }
    }
    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        match self {
            RemoteScorer::None(s) => s.score_steps(items).await,
            RemoteScorer::Prm(s) => s.score_steps(items).await,
        }
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        match self {
            RemoteScorer::None(s) => s.release(seq),
            RemoteScorer::Prm(s) => s.release(seq),
        }
    }
    fn stats(&self) -> ScorerStats {
        match self {
            RemoteScorer::None(s) => s.stats(),
            RemoteScorer::Prm(s) => s.stats(),
        }
    }
    fn sequence_tokens(&self, seq: SeqId) -> Option<usize> {
        match self {
            RemoteScorer::None(s) => s.sequence_tokens(seq),
            RemoteScorer::Prm(s) => s.sequence_tokens(seq),
        }
    }
}
