//! `ttsearch grade`: grade one prediction, or a JSONL file of them, against gold answers.

use clap::Args;
use serde::Serialize;
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;
use ttsearch::grade::{ExtractRule, extract_answer, grade};
use ttsearch::{Error, Result};

#[derive(Args)]
pub struct GradeArgs {
    /// The prediction: a whole solution text or a bare answer.
    #[arg(long, conflicts_with = "input")]
    pred: Option<String>,
    /// The gold answer.
    #[arg(long, conflicts_with = "input")]
    gold: Option<String>,
    /// A JSONL file of {"pred": ..., "gold": ...} lines ("-" for standard input); writes one
    /// JSON line per input line, in order.
    #[arg(long)]
    input: Option<String>,
    /// Print only the answer extracted from --pred (or from each line's "pred").
    #[arg(long)]
    extract: bool,
}

#[derive(Serialize)]
struct ExtractLine<'a> {
    pred_answer: &'a str,
    rule: ExtractRule,
}

pub fn run(args: &GradeArgs) -> Result<ExitCode> {
    if let Some(path) = &args.input {
        return grade_file(path, args.extract);
    }
    let pred = args.pred.as_deref().ok_or_else(|| {
        Error::InvalidArgument("give --pred (and --gold), or --input FILE".into())
    })?;
    if args.extract {
        println!("{}", extract_answer(pred).answer);
        return Ok(ExitCode::SUCCESS);
    }
    let gold = args
        .gold
        .as_deref()
        .ok_or_else(|| Error::InvalidArgument("--gold is required with --pred".into()))?;
    println!("{}", grade(pred, gold).correct);
    Ok(ExitCode::SUCCESS)
}

fn grade_file(path: &str, extract_only: bool) -> Result<ExitCode> {
    let reader: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::InvalidArgument(format!("cannot open {path}: {e}")))?;
        Box::new(std::io::BufReader::new(file))
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let io_error = |e: std::io::Error| Error::InvalidArgument(format!("write failed: {e}"));
    for (number, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::InvalidArgument(format!("{path}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| Error::InvalidArgument(format!("{path}:{}: {what}", number + 1));
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| bad(&e.to_string()))?;
        let pred = value["pred"]
            .as_str()
            .ok_or_else(|| bad("\"pred\" must be a string"))?;
        let json = if extract_only {
            let e = extract_answer(pred);
            serde_json::to_string(&ExtractLine {
                pred_answer: &e.answer,
                rule: e.rule,
            })
        } else {
            let gold = value["gold"]
                .as_str()
                .ok_or_else(|| bad("\"gold\" must be a string"))?;
            serde_json::to_string(&grade(pred, gold))
        }
        .map_err(|e| bad(&e.to_string()))?;
        writeln!(out, "{json}").map_err(io_error)?;
    }
    out.flush().map_err(io_error)?;
    Ok(ExitCode::SUCCESS)
}
