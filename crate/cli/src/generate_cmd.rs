//! `ttsearch generate`: one prompt prefilled once, forked into n sequences that decode together
//! in batched steps; prints the outputs, the work counters and the time per phase as JSON.

use crate::model_args::{ModelArgs, parse_list};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;
use ttsearch::engine::{AnyBackend, Counters, Engine, ExtendOptions, SamplingParams, SeqOutput};
use ttsearch::tokenize::{TokenCodec, Tokenizer};
use ttsearch::{Error, Result, block_on};

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Comma-separated prompt token ids.
    #[arg(long, required_unless_present = "prompt", conflicts_with = "prompt")]
    prompt_tokens: Option<String>,
    /// Prompt text, tokenized with the model's tokenizer (no chat template: see `ttsearch prompt`).
    #[arg(long)]
    prompt: Option<String>,
    /// Stop when the text reaches this string (kept in the output; repeatable; needs the
    /// model's tokenizer).
    #[arg(long)]
    stop: Vec<String>,
    /// Samples of the prompt.
    #[arg(long, default_value_t = 1)]
    n: usize,
    /// 0 is greedy.
    #[arg(long, default_value_t = 0.8)]
    temperature: f32,
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// 0: off.
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    /// Comma-separated extra stop token ids (the model's EOS ids always stop).
    #[arg(long)]
    stop_token_ids: Option<String>,
    /// Top logprobs per token.
    #[arg(long, default_value_t = 0)]
    logprobs: usize,
    /// Keep generating past the model's EOS tokens (benchmarks).
    #[arg(long)]
    ignore_eos: bool,
    /// Print one JSON object (the only output format).
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Output {
    model: String,
    prompt_tokens: usize,
    outputs: Vec<SeqOutput>,
    counters: Counters,
    prefill_seconds: f64,
    decode_seconds: f64,
}

impl GenerateArgs {
    fn params(&self) -> Result<SamplingParams> {
        let params = SamplingParams {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            seed: self.seed,
            max_tokens: self.max_tokens,
            stop_token_ids: match &self.stop_token_ids {
                Some(ids) => parse_list("stop token id", ids)?,
                None => Vec::new(),
            },
            logprobs: self.logprobs,
            ignore_eos: self.ignore_eos,
            stop: self.stop.clone(),
        };
        params.validate()?;
        Ok(params)
    }
}

fn run_with(
    mut engine: Engine<AnyBackend>,
    args: &GenerateArgs,
    params: &SamplingParams,
    prompt: &[u32],
    tokenizer: Option<&Tokenizer>,
) -> Result<Output> {
    let start = Instant::now();
    let root = block_on(engine.prefill(prompt))?;
    let prefill_seconds = start.elapsed().as_secs_f64();
    let seqs = engine.fork(root, args.n)?;
    engine.release(root)?;
    let start = Instant::now();
    let options = ExtendOptions {
        codec: tokenizer.map(|t| t as &dyn TokenCodec),
        ..ExtendOptions::default()
    };
    let outputs = block_on(engine.extend(&seqs, params, options))?;
    let decode_seconds = start.elapsed().as_secs_f64();
    Ok(Output {
        model: args.model.name(),
        prompt_tokens: prompt.len(),
        outputs,
        counters: engine.counters(),
        prefill_seconds,
        decode_seconds,
    })
}

pub fn run(args: &GenerateArgs) -> Result<ExitCode> {
    // The tokenizer, where the model has one: it gives text, stop strings and text prompts.
    let tokenizer = match &args.model.model {
        Some(_) => match args.model.tokenizer() {
            Ok(t) => Some(t),
            Err(_) if args.stop.is_empty() && args.prompt.is_none() => None,
            Err(e) => return Err(e),
        },
        None if args.stop.is_empty() && args.prompt.is_none() => None,
        None => {
            return Err(Error::InvalidArgument(
                "--stop and --prompt need a model with a tokenizer (--model)".into(),
            ));
        }
    };
    let prompt: Vec<u32> = match (&args.prompt_tokens, &args.prompt, &tokenizer) {
        (Some(ids), _, _) => parse_list("token id", ids)?,
        (None, Some(text), Some(t)) => t.encode(text, true)?,
        _ => {
            return Err(Error::InvalidArgument(
                "give --prompt-tokens or --prompt".into(),
            ));
        }
    };
    if args.n == 0 {
        return Err(Error::InvalidArgument("--n must be at least 1".into()));
    }
    let params = args.params()?;
    let config = args.model.config()?;
    let positions = (prompt.len() + args.max_tokens).min(config.max_position_embeddings);
    let bs = args.model.block_size.max(1);
    // The prompt's blocks once, then every sample's own blocks (and a copied partial block).
    let blocks = prompt.len().div_ceil(bs) + args.n * (positions.div_ceil(bs) + 1);
    let engine = args.model.engine(args.model.backend.device()?, blocks)?;
    let out = run_with(engine, args, &params, &prompt, tokenizer.as_ref())?;
    let json = serde_json::to_string(&out).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let _ = writeln!(std::io::stdout(), "{json}");
    Ok(ExitCode::SUCCESS)
}
