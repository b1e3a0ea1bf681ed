//! `ttsearch eval`: a search strategy over MATH-500 or AIME24 problems for budgets n, with a
//! progress bar; one JSON line per problem in results.jsonl (appended as each finishes, so an
//! interrupted run resumes where it stopped) and summary.json (accuracy by n, level, subject).
//! The records carry search-and-learn's fields by its evaluation's rule and ttsearch's own
//! choices in ttsearch's fields (`eval_data`).

use crate::eval_data::{Problem, load_dataset, parse_levels, prefix_strategy, record};
use crate::eval_summary::summarize;
use crate::model_args::parse_list;
use crate::remote_models::RemoteModels;
use crate::search_models::{SearchJob, SearchModelArgs, SearchParamArgs};
use crate::shard::Shard;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use ttsearch::search::{
    AggStrategy, Policy, SearchOptions, SearchParams, StepScorer, Strategy, search,
};
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
    /// Output folder: results.jsonl, summary.json, run.json (and servers.json for servers).
    #[arg(long)]
    out: PathBuf,
    /// Problems in flight at once (servers only: --policy-url).
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    concurrency: usize,
    /// Only shard i of k ("i/k", 0 <= i < k): the problems whose index (after --levels and
    /// --limit) is i modulo k; `ttsearch eval-summary` merges the shards' folders.
    #[arg(long)]
    shard: Option<Shard>,
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
        // By name and content, not path: shards on other machines hold it elsewhere.
        "dataset": dataset_identity(&args.dataset),
        "policy": args.models.policy_name(),
        "policy_model": args.models.remote.policy_model,
        "verifier_model": args.models.remote.verifier_model,
        "prm_model": args.models.remote.prm_model,
        "prm_kind": args.models.prm_kind,
        "remote_scorer": if !args.models.remote.prm_urls.is_empty() {
            Some("prm")
        } else if !args.models.remote.verifier_urls.is_empty() {
            Some("verifier")
        } else {
            None
        },
        "shard": args.shard.map(|s| s.to_string()),
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

/// A dataset file's name and a hash of its bytes (FNV-1a, 64 bits).
fn dataset_identity(path: &Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    let hash = std::fs::read(path)
        .map(|bytes| {
            bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        })
        .unwrap_or(0);
    format!("{name} fnv1a:{hash:016x}")
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
        // A new file renamed over the old one: a kill here loses nothing.
        let fresh = path.with_extension("jsonl.tmp");
        std::fs::write(&fresh, clean).map_err(|e| io(&fresh, e))?;
        std::fs::rename(&fresh, path).map_err(|e| io(path, e))?;
    }
    Ok(rows)
}

/// The searches of one problem and its record.
struct ProblemRuns<'a> {
    params: &'a [SearchParams],
    ns: &'a [usize],
    agg: AggStrategy,
    competition: bool,
}

impl ProblemRuns<'_> {
    fn record<M: Policy + StepScorer>(&self, models: &mut M, problem: &Problem) -> Result<Value> {
        let mut runs = Vec::new();
        let mut seconds = 0.0;
        for p in self.params {
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
        record(problem, self.ns, &runs, self.agg, seconds)
    }
}

/// Appends records to results.jsonl as they come, and shows the progress.
struct Writer {
    file: std::fs::File,
    path: PathBuf,
    done: Vec<Value>,
    bar: ProgressBar,
    largest: usize,
    started: Instant,
}

impl Writer {
    fn new(path: &Path, done: Vec<Value>, todo: usize, largest: usize) -> Result<Self> {
        let bar = ProgressBar::new(todo as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} problems, {elapsed} {msg}")
                .map_err(|e| Error::InvalidArgument(e.to_string()))?,
        );
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io(path, e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            done,
            bar,
            largest,
            started: Instant::now(),
        })
    }

    fn add(&mut self, row: Value) -> Result<()> {
        writeln!(self.file, "{row}").map_err(|e| io(&self.path, e))?;
        self.file.flush().map_err(|e| io(&self.path, e))?;
        self.done.push(row);
        self.bar.inc(1);
        Ok(())
    }

    /// The bar's message: accuracy so far and, for servers, requests in flight and tokens/s.
    fn show(&self, remote: Option<&RemoteModels>) {
        let n = self.largest;
        let s = summarize(&self.done, &[n]);
        let accuracy = s["by_n"][n.to_string()]["answer"]["accuracy"]
            .as_f64()
            .unwrap_or(0.0);
        let mut msg = format!("accuracy@{n} {accuracy:.3}");
        if let Some(remote) = remote {
            let c = remote.counters();
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            msg.push_str(&format!(
                ", {} requests in flight, {:.0} tokens/s, {} retries",
                c.in_flight,
                c.completion_tokens as f64 / secs,
                c.retries
            ));
        }
        self.bar.set_message(msg);
    }
}

/// Runs `todo` on the local models, one problem after another.
struct Sequential<'a> {
    runs: ProblemRuns<'a>,
    todo: Vec<Problem>,
    writer: Writer,
}

impl SearchJob for Sequential<'_> {
    type Output = Vec<Value>;
    fn run<M: Policy + StepScorer>(mut self, models: &mut M) -> Result<Vec<Value>> {
        for problem in &self.todo {
            let row = self.runs.record(models, problem)?;
            self.writer.add(row)?;
            self.writer.show(None);
        }
        self.writer.bar.finish();
        Ok(self.writer.done)
    }
}

/// Runs `todo` on servers, `workers` problems in flight at once, each worker with its own
/// models on the shared pools; records are written as problems finish. On an error the
/// workers stop taking problems and the first error is returned (the records written stay).
fn concurrent(
    remote: &RemoteModels,
    runs: &ProblemRuns,
    todo: &[Problem],
    workers: usize,
    mut writer: Writer,
) -> Result<Vec<Value>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (send, receive) = mpsc::channel::<Result<Value>>();
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..workers.min(todo.len()) {
            let send = send.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                let mut pair = match remote.pair() {
                    Ok(pair) => pair,
                    Err(e) => {
                        let _ = send.send(Err(e));
                        return;
                    }
                };
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(problem) = todo.get(i) else { break };
                    let result = runs.record(&mut pair, problem);
                    let failed = result.is_err();
                    if send.send(result).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(send);
        loop {
            match receive.recv_timeout(Duration::from_millis(500)) {
                Ok(Ok(row)) => {
                    if let Err(e) = writer.add(row) {
                        stop.store(true, Ordering::SeqCst);
                        first_error.get_or_insert(e);
                    }
                }
                Ok(Err(e)) => {
                    stop.store(true, Ordering::SeqCst);
                    first_error.get_or_insert(e);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            writer.show(Some(remote));
        }
    });
    writer.bar.finish();
    match first_error {
        Some(e) => Err(e),
        None => Ok(writer.done),
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
    if let Some(shard) = args.shard {
        problems = shard.select(problems);
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
        let strategy = Strategy::parse(&args.search.strategy)?;
        let largest = ns.iter().copied().max().unwrap_or(1);
        // Budgets that need their own run.
        let run_ns: Vec<usize> = if prefix_strategy(strategy) {
            vec![largest]
        } else {
            ns.clone()
        };
        let params: Vec<SearchParams> = run_ns
            .iter()
            .map(|&n| args.search.params(n))
            .collect::<Result<_>>()?;
        let runs = ProblemRuns {
            params: &params,
            ns: &ns,
            agg: params[0].agg_strategy,
            competition: dataset.competition,
        };
        let writer = Writer::new(&results, done, todo.len(), largest)?;
        match args.models.remote_models()? {
            Some(remote) => {
                let rows = concurrent(&remote, &runs, &todo, args.concurrency, writer)?;
                let report = args.out.join("servers.json");
                std::fs::write(&report, format!("{:#}\n", remote.report()))
                    .map_err(|e| io(&report, e))?;
                rows
            }
            None if args.concurrency > 1 => {
                return Err(Error::InvalidArgument(
                    "--concurrency above 1 needs servers (--policy-url): local models run one \
                     problem at a time"
                        .into(),
                ));
            }
            None => args.models.with_models(Sequential { runs, todo, writer })?,
        }
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
