//! `ttsearch logits`: run token ids through a model on the CPU or GPU backend (any weight
//! format) and print the logits.

use crate::model_args::BackendKind;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use ttsearch::engine::Backend;
use ttsearch::load::{self, KvBudget, LoadOptions};
use ttsearch::model::{Rows, SequenceInput};
use ttsearch::quant::WeightFormat;
use ttsearch::{Error, Result, block_on};

#[derive(Clone, Copy, ValueEnum)]
enum Positions {
    All,
    Last,
}

#[derive(Args)]
pub struct LogitsArgs {
    /// A folder with config.json + *.safetensors (or pytorch_model*.bin), or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// Comma-separated token ids.
    #[arg(long)]
    tokens: String,
    /// Where the forward pass runs (gpu: the default adapter; WGPU_BACKEND picks the API).
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
    /// Weight format in the engine: f32 (reference), f16, q8, q4 (group-32, f16 scales) or gguf.
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// Which positions' logits to print.
    #[arg(long, value_enum, default_value = "all")]
    positions: Positions,
    /// Print one JSON object {"tokens": [...], "logits": [[...], ...]} (the only output format).
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Output<'a> {
    tokens: &'a [u32],
    logits: &'a [Vec<f32>],
}

pub fn run(args: &LogitsArgs) -> Result<ExitCode> {
    let tokens: Vec<u32> = args
        .tokens
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<u32>()
                .map_err(|e| Error::InvalidArgument(format!("token id {t:?}: {e}")))
        })
        .collect::<Result<_>>()?;
    let format = WeightFormat::parse(&args.dtype)?;
    let want = match args.positions {
        Positions::All => Rows::All,
        Positions::Last => Rows::Last,
    };
    let options = LoadOptions {
        dtype: format,
        device: args.backend.device()?,
        kv: KvBudget::Blocks(tokens.len().div_ceil(16).max(1)),
        ..LoadOptions::default()
    };
    let source = load::path_source(&args.model)?;
    let checkpoint = block_on(load::open(&source, None))?;
    let mut backend = block_on(load::backend(
        &checkpoint.config,
        &checkpoint.store,
        &options,
    ))?;
    let seq = backend.create();
    let out = block_on(backend.forward(&[SequenceInput {
        seq,
        tokens: &tokens,
        logits: want,
        hidden: Rows::None,
    }]))?;
    let logits = out.first().map(|o| o.logits.as_slice()).unwrap_or_default();
    let json = serde_json::to_string(&Output {
        tokens: &tokens,
        logits,
    })
    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    // A closed pipe (`| head`) is the reader's choice, not an error.
    let _ = writeln!(std::io::stdout(), "{json}");
    Ok(ExitCode::SUCCESS)
}
