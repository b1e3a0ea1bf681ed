//! The models a search runs on, from command-line options: a policy (a folder or a GGUF file,
//! with an optional separate tokenizer folder for its chat template, or OpenAI-compatible
//! servers: `remote_models`), and a PRM folder, the policy itself as generative verifier, a
//! verifier on servers, or no scorer; on the CPU or the GPU backend. A [`SearchJob`] is handed
//! whichever concrete pair was built.

use crate::model_args::BackendKind;
use crate::remote_models::{RemoteArgs, RemoteModels};
use clap::Args;
use std::path::PathBuf;
use ttsearch::load::{self, KvBudget, LoadOptions, LoadedModel};
use ttsearch::prm::PrmFormat;
use ttsearch::quant::WeightFormat;
use ttsearch::search::{
    AggStrategy, EnginePolicy, Models, NoScorer, Policy, PolicyPrompt, SearchParams, SelfVerified,
    StepScorer, Strategy,
};
use ttsearch::{Error, Result, block_on};

/// Where the policy and the scorer come from.
#[derive(Args, Debug, Clone)]
pub struct SearchModelArgs {
    /// The policy: a folder (config.json, *.safetensors or pytorch_model*.bin, tokenizer files) or a .gguf file.
    #[arg(
        long,
        required_unless_present = "policy_urls",
        conflicts_with = "policy_urls"
    )]
    pub policy: Option<PathBuf>,
    /// A folder whose tokenizer files (and chat template) replace the policy's own (a GGUF
    /// without a chat template); with --policy-url, the served model's tokenizer (a folder or
    /// its GGUF), which renders the prompts.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The PRM: a folder (config.json, *.safetensors or pytorch_model*.bin with its head, tokenizer files), or a chat
    /// model (folder or .gguf file) with --prm-kind generative.
    #[arg(long, conflicts_with = "verifier")]
    pub prm: Option<PathBuf>,
    /// The PRM family: skywork, qwen-prm, rlhflow, math-shepherd, trl, generative (default:
    /// from the checkpoint's config and head).
    #[arg(long)]
    pub prm_kind: Option<String>,
    /// The step separator of a TRL PRM (default: the one its training_args.bin records, else
    /// "\n\n").
    #[arg(long, requires = "prm")]
    pub prm_separator: Option<String>,
    /// "self": the policy verifies its own steps as a generative verifier (one engine).
    #[arg(long)]
    pub verifier: Option<String>,
    /// Where the models run.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// Weight format in the engine: f32, f16, q8, q4, or gguf (a GGUF file's own blocks with int8
    /// products on the CPU; q8 on the GPU).
    #[arg(long, default_value = "q8")]
    pub dtype: String,
    /// KV-cache blocks of 16 positions per model (on the GPU at most what one binding holds).
    #[arg(long, default_value_t = 4096)]
    pub kv_blocks: usize,
}

/// Search parameters with search-and-learn's names and defaults.
#[derive(Args, Debug, Clone)]
pub struct SearchParamArgs {
    /// cot, majority, bon, weighted-bon, beam, dvts or auto.
    #[arg(long, default_value = "beam")]
    pub strategy: String,
    /// M: beams kept per survivor (beam search), candidates per subtree step (DVTS).
    #[arg(long, default_value_t = 4)]
    pub beam_width: usize,
    /// Most steps per beam.
    #[arg(long, default_value_t = 40)]
    pub num_iterations: usize,
    /// Greedy rollout steps scored with each candidate step.
    #[arg(long, default_value_t = 0)]
    pub lookahead: usize,
    /// Step-score aggregation: last, min, prod or mean.
    #[arg(long, default_value = "last")]
    pub agg: String,
    #[arg(long, default_value_t = 0.8)]
    pub temperature: f32,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// Tokens per generate call.
    #[arg(long, default_value_t = 2048)]
    pub max_tokens: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Beam search: drop beams with identical text.
    #[arg(long)]
    pub filter_duplicates: bool,
    /// Beam search: return completed beams best first.
    #[arg(long)]
    pub sort_completed: bool,
    /// Beam search: shrink the beams in flight as beams complete (cotts).
    #[arg(long)]
    pub shrink_width: bool,
    /// Auto: probe samples for the difficulty estimate.
    #[arg(long, default_value_t = 4)]
    pub auto_probes: usize,
}

impl SearchParamArgs {
    /// The parameters for budget `n`.
    pub fn params(&self, n: usize) -> Result<SearchParams> {
        let p = SearchParams {
            strategy: Strategy::parse(&self.strategy)?,
            n,
            beam_width: self.beam_width,
            num_iterations: self.num_iterations,
            lookahead: self.lookahead,
            agg_strategy: AggStrategy::parse(&self.agg)?,
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_tokens,
            seed: self.seed,
            filter_duplicates: self.filter_duplicates,
            sort_completed: self.sort_completed,
            shrink_width: self.shrink_width,
            auto_probes: self.auto_probes,
        };
        p.validate()?;
        Ok(p)
    }
}

/// Work to do with the models, whatever their concrete types.
pub trait SearchJob {
    /// What the job returns.
    type Output;
    /// Runs on `models`.
    fn run<M: Policy + StepScorer>(self, models: &mut M) -> Result<Self::Output>;
}

impl SearchModelArgs {
    fn load(
        &self,
        path: &std::path::Path,
        tokenizer_dir: Option<&PathBuf>,
        options: &LoadOptions,
    ) -> Result<LoadedModel> {
        let tokenizer = tokenizer_dir
            .map(|dir| block_on(load::path_tokenizer(dir)))
            .transpose()?;
        block_on(load::load(&load::path_source(path)?, tokenizer, options))
    }

    /// The remote models, when the policy is on servers.
    pub fn remote_models(&self) -> Result<Option<RemoteModels>> {
        if !self.remote.active() {
            if !self.remote.verifier_urls.is_empty() || !self.remote.prm_urls.is_empty() {
                return Err(Error::InvalidArgument(
                    "--verifier-url and --prm-url need a remote policy (--policy-url)".into(),
                ));
            }
            return Ok(None);
        }
        if self.prm.is_some() {
            return Err(Error::Unsupported(
                "a local --prm with a remote policy: serve the PRM too (--prm-url), or use \
                 --verifier-url / --verifier self"
                    .into(),
            ));
        }
        let self_verify = self.self_verify()?;
        let kind = self.prm_kind.as_deref().map(PrmFormat::parse).transpose()?;
        Ok(Some(self.remote.connect(
            self.tokenizer.as_ref(),
            self_verify,
            kind,
        )?))
    }

    /// A short description of where the models run, for a run's identity.
    pub fn policy_name(&self) -> String {
        match &self.policy {
            Some(path) => path.display().to_string(),
            // Not the URLs: shards on other machines reach other servers.
            None => format!(
                "served: {}",
                self.remote
                    .policy_model
                    .as_deref()
                    .unwrap_or("the first model listed")
            ),
        }
    }

    fn self_verify(&self) -> Result<bool> {
        match self.verifier.as_deref() {
            None => Ok(false),
            Some("self") => Ok(true),
            Some(other) => Err(Error::InvalidArgument(format!(
                "--verifier {other:?}: the only verifier is \"self\" (or give --prm)"
            ))),
        }
    }

    /// Builds the models and runs `job` on them.
    pub fn with_models<J: SearchJob>(&self, job: J) -> Result<J::Output> {
        if let Some(remote) = self.remote_models()? {
            return job.run(&mut remote.pair()?);
        }
        let policy_path = self
            .policy
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("give --policy or --policy-url".into()))?;
        let options = LoadOptions {
            dtype: WeightFormat::parse(&self.dtype)?,
            device: self.backend.device()?,
            kv: KvBudget::Blocks(self.kv_blocks),
            ..LoadOptions::default()
        };
        let self_verify = self.self_verify()?;
        let kind = self.prm_kind.as_deref().map(PrmFormat::parse).transpose()?;
        let policy = self.load(policy_path, self.tokenizer.as_ref(), &options)?;
        let prompt = PolicyPrompt::default();
        if self_verify {
            let prm = policy.into_prm(Some(PrmFormat::Generative))?;
            return job.run(&mut SelfVerified::new(prm, prompt));
        }
        let scorer = match &self.prm {
            Some(path) => {
                let mut prm = self.load(path, None, &options)?.into_prm(kind)?;
                if let Some(separator) = &self.prm_separator {
                    prm.set_separator(separator)?;
                }
                Some(prm)
            }
            None => None,
        };
        let policy = EnginePolicy::new(policy.engine, policy.tokenizer?, prompt);
        match scorer {
            Some(scorer) => job.run(&mut Models { policy, scorer }),
            None => job.run(&mut Models {
                policy,
                scorer: NoScorer,
            }),
        }
    }
}
