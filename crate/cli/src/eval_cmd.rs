//! `ttsearch eval`: a search strategy over MATH-500 or AIME24 problems for budgets n, with a
//! progress bar; one JSON line per problem in results.jsonl (appended as each finishes, so an
//! interrupted run resumes where it stopped) and summary.json (accuracy by n, level, subject).
//! The records carry search-and-learn's fields by its evaluation's rule and ttsearch's own
//! choices in ttsearch's fields (`eval_data`).

use crate::eval_data::{Problem, load_dataset, parse_levels, prefix_strategy, record};
use crate::eval_summary::summarize;
use crate::model_args::parse_list;
use crate::search_models::{SearchJob, SearchModelArgs, SearchParamArgs};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ttsearch::search::{Policy, SearchOptions, StepScorer, Strategy, search};
use ttsearch::{Error, Result, block_on};

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    models: SearchModelArgs,
    #[command(flatten)]
    search: SearchParamArgs,
    /// MATH-500 or AIME24 JSONL file.
    #[arg(long)]
    dataset: PathBuf,
    /// Comma-separated budgets; Best-of-N, majority and DVTS run once at the largest and read
    /// the smaller ones from its first completions, beam search and auto run once per n.
    #[arg(long, default_value = "4")]
    n: String,
    /// Only the first K problems (after the level filter).
    #[arg(long)]
    limit: Option<usize>,
    /// MATH levels to keep: "1-5", "3", "1,2".
    #[arg(long)]
    levels: Option<String>,
    /// Output folder: results.jsonl, summary.json, run.json.
    #[arg(long)]
    out: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("{}: {e}", path.display()))
}

/// The version of the records' meaning; 2: pred_naive@n, pred_weighted@n and pred_maj@n by
/// search-and-learn's last-step rule, ttsearch's choices in answer_naive@n, answer_weighted@n
/// and answer_maj@n. A folder of older records is not resumed.
const RECORDS: u32 = 2;

/// The run's identity: a resumed run must have the same.
fn run_identity(args: &EvalArgs, ns: &[usize]) -> Value {
    let s = &args.search;
    json!({
        "records": RECORDS,
        "dataset": args.dataset.display().to_string(),
        "policy": args.models.policy.display().to_string(),
        "prm": args.models.prm.as_ref().map(|p| p.display().to_string()),
        "verifier": args.models.verifier,
        "dtype": args.models.dtype,
        "strategy": s.strategy, "n": ns, "beam_width": s.beam_width,
        "num_iterations": s.num_iterations, "lookahead": s.lookahead, "agg_strategy": s.agg,
        "temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens, "seed": s.seed,
        "filter_duplicates": s.filter_duplicates, "sort_completed": s.sort_completed,
        "shrink_width": s.shrink_width, "auto_probes": s.auto_probes,
    })
}

/// The records already written; a torn last line (an interrupted write) is dropped.
fn read_done(path: &Path) -> Result<Vec<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path, e)),
    };
    let mut rows = Vec::new();
    let mut torn = false;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => rows.push(v),
            Err(_) => torn = true,
        }
    }
    if torn || !text.is_empty() && !text.ends_with('\n') {
        let mut clean = String::new();
        for row in &rows {
            clean.push_str(&row.to_string());
            clean.push('\n');
        }
        std::fs::write(path, clean).map_err(|e| io(path, e))?;
    }
    Ok(rows)
}

struct Eval<'a> {
    args: &'a EvalArgs,
    ns: Vec<usize>,
    todo: Vec<Problem>,
    competition: bool,
    results: PathBuf,
    done: Vec<Value>,
}

impl SearchJob for Eval<'_> {
    type Output = Vec<Value>;
    fn run<M: Policy + StepScorer>(mut self, models: &mut M) -> Result<Vec<Value>> {
        let strategy = Strategy::parse(&self.args.search.strategy)?;
        let largest = self.ns.iter().copied().max().unwrap_or(1);
        // Budgets that need their own run.
        let run_ns: Vec<usize> = if prefix_strategy(strategy) {
            vec![largest]
        } else {
            self.ns.clone()
        };
        let params: Vec<_> = run_ns
            .iter()
            .map(|&n| self.args.search.params(n))
            .collect::<Result<_>>()?;
        let agg = params[0].agg_strategy;
        let bar = ProgressBar::new(self.todo.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} problems, {elapsed} {msg}")
                .map_err(|e| Error::InvalidArgument(e.to_string()))?,
        );
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.results)
            .map_err(|e| io(&self.results, e))?;
        for problem in &self.todo {
            let mut runs = Vec::new();
            let mut seconds = 0.0;
            for p in &params {
                let out = block_on(search(
                    models,
                    &problem.problem,
                    p,
                    SearchOptions {
                        competition: self.competition,
                        ..SearchOptions::default()
                    },
                ))?;
                seconds += out.report.seconds.total;
                runs.push((p.n, out));
            }
            let row = record(problem, &self.ns, &runs, agg, seconds)?;
            writeln!(file, "{row}").map_err(|e| io(&self.results, e))?;
            file.flush().map_err(|e| io(&self.results, e))?;
            self.done.push(row);
            let s = summarize(&self.done, &[largest]);
            bar.set_message(format!(
                "accuracy@{largest} {:.3}",
                s["by_n"][largest.to_string()]["answer"]["accuracy"]
                    .as_f64()
                    .unwrap_or(0.0)
            ));
            bar.inc(1);
        }
        bar.finish();
        Ok(self.done)
    }
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let mut ns: Vec<usize> = parse_list("n", &args.n)?;
    ns.sort_unstable();
    ns.dedup();
    if ns.first() == Some(&0) || ns.is_empty() {
        return Err(Error::InvalidArgument(
            "--n needs budgets of at least 1".into(),
        ));
    }
    let dataset = load_dataset(&args.dataset)?;
    let levels = args.levels.as_deref().map(parse_levels).transpose()?;
    let mut problems: Vec<Problem> = dataset
        .problems
        .into_iter()
        .filter(|p| match (&levels, p.level) {
            (Some(levels), Some(l)) => levels.contains(&l),
            _ => true,
        })
        .collect();
    if let Some(k) = args.limit {
        problems.truncate(k);
    }
    std::fs::create_dir_all(&args.out).map_err(|e| io(&args.out, e))?;
    let identity = run_identity(args, &ns);
    let run_file = args.out.join("run.json");
    match std::fs::read_to_string(&run_file) {
        Ok(text) => {
            let old: Value = serde_json::from_str(&text).map_err(|e| Error::Format {
                what: "run.json",
                detail: e.to_string(),
            })?;
            if old != identity {
                return Err(Error::InvalidArgument(format!(
                    "{} holds a run with other settings ({old}); use another --out",
                    args.out.display()
                )));
            }
        }
        Err(_) => {
            std::fs::write(&run_file, format!("{identity:#}\n")).map_err(|e| io(&run_file, e))?
        }
    }
    let results = args.out.join("results.jsonl");
    let done = read_done(&results)?;
    let done_ids: std::collections::HashSet<String> = done
        .iter()
        .filter_map(|r| r["unique_id"].as_str().map(str::to_string))
        .collect();
    let todo: Vec<Problem> = problems
        .iter()
        .filter(|p| !done_ids.contains(&p.id))
        .cloned()
        .collect();
    if !done.is_empty() {
        eprintln!(
            "resuming: {} problems done, {} to go",
            done.len(),
            todo.len()
        );
    }
    let rows = if todo.is_empty() {
        done
    } else {
        args.models.with_models(Eval {
            args,
            ns: ns.clone(),
            todo,
            competition: dataset.competition,
            results: results.clone(),
            done,
        })?
    };
    let summary = summarize(&rows, &ns);
    let path = args.out.join("summary.json");
    std::fs::write(&path, format!("{summary:#}\n")).map_err(|e| io(&path, e))?;
    for n in &ns {
        let by = &summary["by_n"][n.to_string()];
        let acc = |k: &str| by[k]["accuracy"].as_f64().unwrap_or(0.0);
        eprintln!(
            "n = {n}, {} problems: answer {:.3} (agg {}: naive {:.3}, weighted {:.3}, majority \
             {:.3}); search-and-learn's pred fields (last step): naive {:.3}, weighted {:.3}, \
             majority {:.3}",
            summary["problems"],
            acc("answer"),
            args.search.agg,
            acc("answer_naive"),
            acc("answer_weighted"),
            acc("answer_maj"),
            acc("naive"),
            acc("weighted"),
            acc("maj"),
        );
    }
    let _ = writeln!(std::io::stdout(), "{summary}");
    Ok(ExitCode::SUCCESS)
}
