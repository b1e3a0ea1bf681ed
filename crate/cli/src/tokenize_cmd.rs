//! `ttsearch tokenize` and `ttsearch prompt`: token ids of a text, and the exact prompt (text and
//! ids) for a math problem, optionally continuing a partial solution.

use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use ttsearch::load;
use ttsearch::tokenize::{Date, RenderOptions, system_prompt_for};
use ttsearch::{Error, Result, block_on};

#[derive(Args, Debug)]
pub struct TokenizeArgs {
    /// A folder with tokenizer.json (+ tokenizer_config.json), or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// The text to tokenize.
    #[arg(long)]
    text: String,
    /// Add the model's special tokens (BOS where it adds one).
    #[arg(long)]
    add_special_tokens: bool,
    /// Print one JSON object {"ids": [...], "tokens": [...]} (the only output format).
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct PromptArgs {
    /// A folder with tokenizer.json + tokenizer_config.json (and config.json), or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// The math problem.
    #[arg(long)]
    problem: String,
    /// A partial solution to continue (kept exactly, no trimming).
    #[arg(long)]
    partial: Option<String>,
    /// The system message (default: the recipe's prompt for the model's architecture).
    #[arg(long)]
    system: Option<String>,
    /// The date templates print, YYYY-MM-DD (default: today).
    #[arg(long)]
    date: Option<String>,
    /// Print one JSON object {"text": ..., "ids": [...]} (the only output format).
    #[arg(long)]
    json: bool,
}

fn print<T: Serialize>(value: &T) -> Result<ExitCode> {
    let json = serde_json::to_string(value).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let _ = writeln!(std::io::stdout(), "{json}");
    Ok(ExitCode::SUCCESS)
}

pub fn tokenize(args: &TokenizeArgs) -> Result<ExitCode> {
    let tokenizer = block_on(load::path_tokenizer(&args.model))?;
    let ids = tokenizer.encode(&args.text, args.add_special_tokens)?;
    #[derive(Serialize)]
    struct Out {
        ids: Vec<u32>,
        tokens: Vec<String>,
    }
    let tokens = tokenizer.tokens(&ids);
    print(&Out { ids, tokens })
}

fn parse_date(text: &str) -> Result<Date> {
    let bad = || Error::InvalidArgument(format!("--date {text:?}: expected YYYY-MM-DD"));
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let date = Date {
        year: y.parse().map_err(|_| bad())?,
        month: m.parse().map_err(|_| bad())?,
        day: d.parse().map_err(|_| bad())?,
    };
    if !(1..=12).contains(&date.month) || !(1..=31).contains(&date.day) {
        return Err(bad());
    }
    Ok(date)
}

pub fn prompt(args: &PromptArgs) -> Result<ExitCode> {
    let tokenizer = block_on(load::path_tokenizer(&args.model))?;
    let system = match &args.system {
        Some(s) => s.clone(),
        None => {
            let config = block_on(load::open_config(&load::path_source(&args.model)?))?;
            system_prompt_for(config.architecture).to_string()
        }
    };
    let options = RenderOptions {
        date: args.date.as_deref().map(parse_date).transpose()?,
        ..RenderOptions::default()
    };
    let prompt =
        tokenizer.math_prompt(&system, &args.problem, args.partial.as_deref(), &options)?;
    print(&prompt)
}
