//! The models a search runs on, from command-line options: a policy (a folder or a GGUF file,
//! with an optional separate tokenizer folder for its chat template), and a PRM folder, the
//! policy itself as generative verifier, or no scorer; on the CPU or the GPU backend. A
//! [`SearchJob`] is handed whichever concrete pair was built.

use crate::model_args::BackendKind;
use clap::Args;
use std::path::{Path, PathBuf};
use ttsearch::engine::{Backend, CpuBackend, Engine, GpuBackend};
use ttsearch::gpu::GpuContext;
use ttsearch::kv::{CpuKvCache, GpuKvCache};
use ttsearch::model::loader::{
    load_config, load_cpu_model, load_cpu_prm, load_gpu_model, load_gpu_prm, load_tokenizer,
};
use ttsearch::model::safetensors::open_dir;
use ttsearch::prm::{Prm, PrmFormat, PrmHead};
use ttsearch::quant::WeightFormat;
use ttsearch::search::{
    AggStrategy, EnginePolicy, Models, NoScorer, Policy, PolicyPrompt, SearchParams, SelfVerified,
    StepScorer, Strategy,
};
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result, block_on};

/// Where the policy and the scorer come from.
#[derive(Args, Debug, Clone)]
pub struct SearchModelArgs {
    /// The policy: a folder (config.json, *.safetensors, tokenizer files) or a .gguf file.
    #[arg(long)]
    pub policy: PathBuf,
    /// A folder whose tokenizer files (and chat template) replace the policy's own (a GGUF
    /// without a chat template).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// The PRM folder (config.json, *.safetensors with its head, tokenizer files).
    #[arg(long, conflicts_with = "verifier")]
    pub prm: Option<PathBuf>,
    /// The PRM family: skywork, qwen-prm, rlhflow, math-shepherd, generative (default: from
    /// the checkpoint's head).
    #[arg(long)]
    pub prm_kind: Option<String>,
    /// "self": the policy verifies its own steps as a generative verifier (one engine).
    #[arg(long)]
    pub verifier: Option<String>,
    /// Where the models run.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// Weight format in the engine: f32, f16, q8 or q4.
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

/// The PRM format of the checkpoint at `path`: `kind` when given, else from its head.
pub fn prm_format(path: &Path, kind: Option<&str>) -> Result<PrmFormat> {
    if let Some(kind) = kind {
        return PrmFormat::parse(kind);
    }
    let config = block_on(load_config(path))?;
    let store = block_on(open_dir(path))?;
    let head = block_on(PrmHead::load(&store, config.hidden_size))?;
    PrmFormat::detect(head.as_ref())
}

impl SearchModelArgs {
    fn format(&self) -> Result<WeightFormat> {
        WeightFormat::parse(&self.dtype)
    }

    fn tokenizer(&self) -> Result<Tokenizer> {
        block_on(load_tokenizer(
            self.tokenizer.as_ref().unwrap_or(&self.policy),
        ))
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
        let format = self.format()?;
        match self.backend {
            BackendKind::Cpu => {
                let model = block_on(load_cpu_model(&self.policy, format))?;
                let cache = CpuKvCache::new(model.config(), self.kv_blocks, 16)?;
                let engine = Engine::new(CpuBackend { model, cache });
                let scorer = match &self.prm {
                    Some(path) => {
                        let kind = prm_format(path, self.prm_kind.as_deref())?;
                        Some(block_on(load_cpu_prm(path, format, kind, self.kv_blocks))?)
                    }
                    None => None,
                };
                self.dispatch(engine, scorer, job)
            }
            BackendKind::Gpu => {
                let ctx = block_on(GpuContext::new())?;
                let config = block_on(load_config(&self.policy))?;
                let model = block_on(load_gpu_model(&ctx, &self.policy, format))?;
                // No more blocks than one binding can hold.
                let fit = |config: &ttsearch::model::ModelConfig| {
                    self.kv_blocks
                        .min(GpuKvCache::max_blocks(&ctx, config, 16, u64::MAX))
                        .max(1)
                };
                let cache = GpuKvCache::new(&ctx, &config, fit(&config), 16)?;
                let engine = Engine::new(GpuBackend {
                    ctx: &ctx,
                    model,
                    cache,
                });
                let scorer = match &self.prm {
                    Some(path) => {
                        let kind = prm_format(path, self.prm_kind.as_deref())?;
                        let blocks = fit(&block_on(load_config(path))?);
                        Some(block_on(load_gpu_prm(&ctx, path, format, kind, blocks))?)
                    }
                    None => None,
                };
                self.dispatch(engine, scorer, job)
            }
        }
    }

    fn dispatch<B: Backend, J: SearchJob>(
        &self,
        engine: Engine<B>,
        scorer: Option<Prm<B>>,
        job: J,
    ) -> Result<J::Output> {
        let tokenizer = self.tokenizer()?;
        let prompt = PolicyPrompt::default();
        if self.self_verify()? {
            let format = PrmFormat::Generative;
            let head = Prm::<B>::head_for(None, format, &tokenizer)?;
            let prm = Prm::new(engine, tokenizer, head, format);
            return job.run(&mut SelfVerified::new(prm, prompt));
        }
        let policy = EnginePolicy::new(engine, tokenizer, prompt);
        match scorer {
            Some(scorer) => job.run(&mut Models { policy, scorer }),
            None => job.run(&mut Models {
                policy,
                scorer: NoScorer,
            }),
        }
    }
}
