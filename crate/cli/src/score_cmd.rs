//! `ttsearch score`: a PRM's score for every step of one solution, steps fed incrementally.

use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use ttsearch::load::{self, KvBudget, LoadOptions};
use ttsearch::prm::PrmFormat;
use ttsearch::quant::WeightFormat;
use ttsearch::{Error, Result, block_on};

#[derive(Clone, Copy, ValueEnum, Debug)]
enum Kind {
    /// Skywork-o1-Open-PRM (value head, "\n" step markers).
    Skywork,
    /// Qwen2.5-Math-PRM (classifier head, "<extra_0>" step markers).
    QwenPrm,
    /// RLHFlow Llama3.1-8B-PRM (chat turns, P("+") before each assistant "+").
    Rlhflow,
    /// Math-Shepherd (" ки" step tags, P("+") at each tag).
    MathShepherd,
    /// TRL's PRMTrainer (*ForTokenClassification, each step followed by its separator).
    Trl,
    /// Any chat model asked whether each step is correct (P("Yes") against P("No")).
    Generative,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// The PRM: a folder with config.json, *.safetensors or pytorch_model*.bin (with its head) and tokenizer files,
    /// or a chat model (folder or .gguf file) as generative verifier.
    #[arg(long)]
    prm: PathBuf,
    /// The PRM family (its input format and head); by default, from the checkpoint's head.
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// The step separator of a TRL PRM (default: the one its training_args.bin records, else
    /// "\n\n").
    #[arg(long)]
    separator: Option<String>,
    /// The question.
    #[arg(long)]
    question: String,
    /// A JSON file holding an array of step strings.
    #[arg(long)]
    steps: PathBuf,
    /// Weight format: f32, f16, q8, q4 or gguf (a GGUF file's own blocks on the CPU).
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// Print one JSON object {"scores": [...], "tokens_fed": N} (the only output format).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ScoreArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.steps)
        .map_err(|e| Error::Io(format!("{}: {e}", args.steps.display())))?;
    let steps: Vec<String> = serde_json::from_str(&text).map_err(|e| {
        Error::InvalidArgument(format!(
            "{}: expected a JSON array of strings: {e}",
            args.steps.display()
        ))
    })?;
    let kind = args.kind.map(|k| match k {
        Kind::Skywork => PrmFormat::Skywork,
        Kind::QwenPrm => PrmFormat::QwenPrm,
        Kind::Rlhflow => PrmFormat::Rlhflow,
        Kind::MathShepherd => PrmFormat::MathShepherd,
        Kind::Trl => PrmFormat::Trl,
        Kind::Generative => PrmFormat::Generative,
    });
    let options = LoadOptions {
        dtype: WeightFormat::parse(&args.dtype)?,
        kv: KvBudget::Blocks(256),
        ..LoadOptions::default()
    };
    let model = block_on(load::load(&load::path_source(&args.prm)?, None, &options))?;
    let mut prm = model.into_prm(kind)?;
    if let Some(separator) = &args.separator {
        prm.set_separator(separator)?;
    }
    let refs: Vec<&str> = steps.iter().map(String::as_str).collect();
    let scores = block_on(prm.score(&args.question, &refs))?;
    let json = serde_json::json!({"scores": scores, "tokens_fed": prm.tokens_fed()});
    let _ = writeln!(std::io::stdout(), "{json}");
    Ok(ExitCode::SUCCESS)
}
