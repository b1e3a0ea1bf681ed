//! `ttsearch solve`: one problem searched with a policy and a PRM (or the policy verifying
//! itself); prints the outcome (answer, predictions, completions with step scores, report) as
//! JSON and can write the event stream to a JSONL trace.

use crate::search_models::{SearchJob, SearchModelArgs, SearchParamArgs};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use ttsearch::search::{Policy, SearchEvent, SearchOptions, SearchOutcome, StepScorer, search};
use ttsearch::{Error, Result, block_on};

#[derive(Args, Debug)]
pub struct SolveArgs {
    #[command(flatten)]
    models: SearchModelArgs,
    #[command(flatten)]
    search: SearchParamArgs,
    /// The problem statement.
    #[arg(long)]
    problem: String,
    /// Budget: samples, beams or leaves.
    #[arg(long, default_value_t = 4)]
    n: usize,
    /// AIME-level problem (auto follows cotts' AIME rules).
    #[arg(long)]
    competition: bool,
    /// Write every search event as a JSON line to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Print one JSON object (the only output format).
    #[arg(long)]
    json: bool,
}

struct Solve<'a> {
    args: &'a SolveArgs,
}

impl SearchJob for Solve<'_> {
    type Output = SearchOutcome;
    fn run<M: Policy + StepScorer>(self, models: &mut M) -> Result<SearchOutcome> {
        let params = self.args.search.params(self.args.n)?;
        let mut trace = match &self.args.trace {
            Some(path) => Some(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?,
            )),
            None => None,
        };
        let mut write_error = None;
        let mut sink = |e: &SearchEvent| {
            if let Some(w) = trace.as_mut()
                && let Err(err) = serde_json::to_writer(&mut *w, e)
                    .map_err(std::io::Error::from)
                    .and_then(|()| w.write_all(b"\n"))
            {
                write_error.get_or_insert(err);
            }
        };
        let outcome = block_on(search(
            models,
            &self.args.problem,
            &params,
            SearchOptions {
                on_event: Some(&mut sink),
                competition: self.args.competition,
                ..SearchOptions::default()
            },
        ))?;
        if let Some(w) = trace.as_mut() {
            w.flush().map_err(|e| Error::Io(format!("trace: {e}")))?;
        }
        if let Some(e) = write_error {
            return Err(Error::Io(format!("trace: {e}")));
        }
        Ok(outcome)
    }
}

pub fn run(args: &SolveArgs) -> Result<ExitCode> {
    let outcome = args.models.with_models(Solve { args })?;
    let json = serde_json::json!({"problem": args.problem, "outcome": outcome});
    let _ = writeln!(std::io::stdout(), "{json}");
    Ok(ExitCode::SUCCESS)
}
