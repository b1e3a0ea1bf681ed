//! `ttsearch score`: a PRM's score for every step of one solution, steps fed incrementally.

use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use ttsearch::model::loader::{load_config, load_cpu_prm};
use ttsearch::model::safetensors::open_dir;
use ttsearch::prm::{PrmFormat, PrmHead};
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
    /// Any chat model asked whether each step is correct (P("Yes") against P("No")).
    Generative,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// The PRM: a folder with config.json, *.safetensors (with its head) and tokenizer files.
    #[arg(long)]
    prm: PathBuf,
    /// The PRM family (its input format and head); by default, from the checkpoint's head.
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// The question.
    #[arg(long)]
    question: String,
    /// A JSON file holding an array of step strings.
    #[arg(long)]
    steps: PathBuf,
    /// Weight format: f32, f16, q8 or q4.
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
    let format = match args.kind {
        Some(Kind::Skywork) => PrmFormat::Skywork,
        Some(Kind::QwenPrm) => PrmFormat::QwenPrm,
        Some(Kind::Rlhflow) => PrmFormat::Rlhflow,
        Some(Kind::MathShepherd) => PrmFormat::MathShepherd,
        Some(Kind::Generative) => PrmFormat::Generative,
        None => {
            let config = block_on(load_config(&args.prm))?;
            let store = block_on(open_dir(&args.prm))?;
            let head = block_on(PrmHead::load(&store, config.hidden_size))?;
            PrmFormat::detect(head.as_ref())?
        }
    };
    let mut prm = block_on(load_cpu_prm(
        &args.prm,
        WeightFormat::parse(&args.dtype)?,
        format,
        256,
    ))?;
    let refs: Vec<&str> = steps.iter().map(String::as_str).collect();
    let scores = block_on(prm.score(&args.question, &refs))?;
    let json = serde_json::json!({"scores": scores, "tokens_fed": prm.tokens_fed()});
    let _ = writeln!(std::io::stdout(), "{json}");
    Ok(ExitCode::SUCCESS)
}
