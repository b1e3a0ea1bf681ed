//! `ttsearch eval-summary DIR...`: merges the records of `ttsearch eval` folders (the shards of
//! one run, from one machine or many, and runs of several strategies) into one summary.json and
//! draws the plots beside it: accuracy against N per strategy and selection (accuracy.svg) and
//! per MATH level for each run (accuracy_by_level-LABEL.svg).
//!
//! Folders whose run.json agree on everything but the shard are one run; their records are
//! merged by unique_id (a problem recorded twice counts once). Several runs give a summary with
//! one entry per run.

use crate::eval_summary::summarize;
use crate::plots::{Series, accuracy_plot};
use clap::Args;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ttsearch::{Error, Result};

#[derive(Args, Debug)]
pub struct EvalSummaryArgs {
    /// `ttsearch eval` output folders (run.json and results.jsonl in each).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where summary.json and the plots go (default: the folder, when only one is given).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("{}: {e}", path.display()))
}

/// One run: its identity without the shard, and its records.
struct Run {
    identity: Value,
    shards: Vec<String>,
    rows: Vec<Value>,
    duplicates: usize,
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Format {
        what: "run.json",
        detail: format!("{}: {e}", path.display()),
    })
}

/// A folder's records (a torn last line is skipped).
fn read_rows(path: &Path) -> Result<Vec<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path, e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect())
}

/// The run's label: its strategy, and the fields that tell runs of one strategy apart.
fn label(identity: &Value, all: &[Run]) -> String {
    let strategy = identity["strategy"].as_str().unwrap_or("run").to_string();
    let same = all
        .iter()
        .filter(|r| r.identity["strategy"] == identity["strategy"])
        .count();
    if same <= 1 {
        return strategy;
    }
    format!(
        "{strategy} (M={}, {}, T={})",
        identity["beam_width"],
        identity["agg_strategy"].as_str().unwrap_or(""),
        identity["temperature"]
    )
}

fn file_label(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('_')
        .to_string()
}

/// The budgets a run's identity lists.
fn budgets(identity: &Value) -> Vec<usize> {
    identity["n"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64().map(|n| n as usize))
                .collect()
        })
        .unwrap_or_default()
}

/// The shards "i/k" of a run's k that no folder holds (none for unsharded runs).
fn missing_shards(shards: &[String]) -> Vec<String> {
    let parsed: Vec<crate::shard::Shard> = shards.iter().filter_map(|s| s.parse().ok()).collect();
    let Some(count) = parsed.iter().map(|s| s.count).max() else {
        return Vec::new();
    };
    (0..count)
        .filter(|i| !parsed.iter().any(|s| s.index == *i && s.count == count))
        .map(|i| format!("{i}/{count}"))
        .collect()
}

pub fn run(args: &EvalSummaryArgs) -> Result<ExitCode> {
    let out = match (&args.out, args.dirs.as_slice()) {
        (Some(out), _) => out.clone(),
        (None, [one]) => one.clone(),
        (None, _) => {
            return Err(Error::InvalidArgument(
                "several folders: give --out for the merged summary".into(),
            ));
        }
    };
    let mut runs: Vec<Run> = Vec::new();
    for dir in &args.dirs {
        let mut identity = read_json(&dir.join("run.json"))?;
        let shard = identity
            .as_object_mut()
            .and_then(|o| o.remove("shard"))
            .and_then(|s| s.as_str().map(str::to_string))
            .unwrap_or_else(|| "all".into());
        let rows = read_rows(&dir.join("results.jsonl"))?;
        let at = match runs.iter().position(|r| r.identity == identity) {
            Some(i) => i,
            None => {
                runs.push(Run {
                    identity,
                    shards: Vec::new(),
                    rows: Vec::new(),
                    duplicates: 0,
                });
                runs.len() - 1
            }
        };
        let run = &mut runs[at];
        run.shards.push(shard);
        let mut seen: BTreeSet<String> = run
            .rows
            .iter()
            .filter_map(|r| r["unique_id"].as_str().map(str::to_string))
            .collect();
        for row in rows {
            let id = row["unique_id"].as_str().unwrap_or("").to_string();
            if seen.insert(id) {
                run.rows.push(row);
            } else {
                run.duplicates += 1;
            }
        }
    }
    std::fs::create_dir_all(&out).map_err(|e| io(&out, e))?;
    let labels: Vec<String> = runs.iter().map(|r| label(&r.identity, &runs)).collect();
    let mut entries = Vec::new();
    let mut series = Vec::new();
    for (run, label) in runs.iter().zip(&labels) {
        let ns = budgets(&run.identity);
        let summary = summarize(&run.rows, &ns);
        for (kind, name) in [
            ("weighted", "weighted"),
            ("maj", "majority"),
            ("naive", "naive"),
        ] {
            let points = ns
                .iter()
                .map(|n| {
                    let acc = summary["by_n"][n.to_string()][kind]["accuracy"]
                        .as_f64()
                        .unwrap_or(0.0);
                    (*n, acc)
                })
                .collect();
            series.push(Series {
                label: format!("{label}: {name}"),
                points,
            });
        }
        let levels: Vec<Series> = summary["by_level"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(level, per_n)| Series {
                        label: level.clone(),
                        points: ns
                            .iter()
                            .map(|n| (*n, per_n[n.to_string()]["accuracy"].as_f64().unwrap_or(0.0)))
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !levels.is_empty() && !ns.is_empty() {
            let path = out.join(format!("accuracy_by_level-{}.svg", file_label(label)));
            accuracy_plot(&path, &format!("{label}: accuracy by level"), &levels)?;
        }
        let missing = missing_shards(&run.shards);
        if !missing.is_empty() {
            eprintln!("{label}: shards {missing:?} are missing; the summary covers the others");
        }
        entries.push(json!({
            "label": label,
            "run": run.identity,
            "shards": run.shards,
            "missing_shards": missing,
            "duplicates": run.duplicates,
            "summary": summary,
        }));
    }
    if series.iter().any(|s| !s.points.is_empty()) {
        accuracy_plot(&out.join("accuracy.svg"), "accuracy against N", &series)?;
    }
    let merged = match entries.len() {
        1 => {
            let mut one = entries.remove(0);
            let mut summary = one["summary"].take();
            summary["shards"] = one["shards"].take();
            summary["duplicates"] = one["duplicates"].take();
            summary["missing_shards"] = one["missing_shards"].take();
            summary
        }
        _ => json!({ "runs": entries }),
    };
    let path = out.join("summary.json");
    std::fs::write(&path, format!("{merged:#}\n")).map_err(|e| io(&path, e))?;
    let _ = writeln!(std::io::stdout(), "{merged}");
    Ok(ExitCode::SUCCESS)
}
