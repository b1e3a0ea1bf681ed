//! Evaluation data: MATH-500 and AIME24 JSONL problems (MATH-500: `problem`, `level` "Level 1"
//! to "Level 5", `subject`, `unique_id`, `answer`; AIME24: `problem`, `extracted_groundtruth`, a
//! zero-padded string), the level filter, and
//! the per-problem result record in search-and-learn's schema (completions, scores, pred,
//! pred_naive@n, pred_weighted@n, pred_maj@n, completion_tokens) plus ttsearch's additions.
//!
//! Fields with search-and-learn's names mean what its fields mean: `pred` is the naive choice
//! under agg_strategy (its search functions' rule), and pred_naive@n, pred_weighted@n and
//! pred_maj@n follow its evaluation (`score()`: each completion's last step score whatever
//! agg_strategy was, completions without an answer voting as the empty answer). ttsearch's own
//! choices under agg_strategy go in its own fields: answer@n (the strategy's answer) and
//! answer_naive@n, answer_weighted@n, answer_maj@n.

use serde_json::{Map, Value, json};
use std::path::Path;
use ttsearch::search::{
    AggStrategy, Completion, SearchOutcome, Strategy, select, select_search_and_learn,
};
use ttsearch::{Error, Result};

/// One problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// MATH-500's unique_id, or AIME's url (else the line number).
    pub id: String,
    /// The statement.
    pub problem: String,
    /// The gold answer.
    pub answer: String,
    /// MATH level 1-5.
    pub level: Option<u8>,
    /// MATH subject.
    pub subject: Option<String>,
}

/// A dataset and whether it is competition-level (AIME).
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The problems in file order.
    pub problems: Vec<Problem>,
    /// AIME-format rows (extracted_groundtruth): cotts' AIME rules apply.
    pub competition: bool,
}

fn field<'a>(row: &'a Value, key: &str, line: usize) -> Result<&'a str> {
    row.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Format {
            what: "dataset",
            detail: format!("line {line}: no string field {key:?}"),
        })
}

/// Reads a MATH-500 (problem, answer, level, subject, unique_id) or AIME24 (problem,
/// extracted_groundtruth, url) JSONL file.
pub fn load_dataset(path: &Path) -> Result<Dataset> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    let mut problems = Vec::new();
    let mut competition = false;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let n = i + 1;
        let row: Value = serde_json::from_str(line).map_err(|e| Error::Format {
            what: "dataset",
            detail: format!("line {n}: {e}"),
        })?;
        let aime = row.get("extracted_groundtruth").is_some();
        competition |= aime;
        let answer = if aime {
            field(&row, "extracted_groundtruth", n)?
        } else {
            field(&row, "answer", n)?
        };
        let level =
            match row.get("level").and_then(Value::as_str) {
                Some(l) => Some(l.trim_start_matches("Level ").parse::<u8>().map_err(|_| {
                    Error::Format {
                        what: "dataset",
                        detail: format!("line {n}: level {l:?}"),
                    }
                })?),
                None => None,
            };
        let id = ["unique_id", "url"]
            .iter()
            .find_map(|k| row.get(*k).and_then(Value::as_str))
            .map_or_else(|| format!("line-{n}"), str::to_string);
        problems.push(Problem {
            id,
            problem: field(&row, "problem", n)?.to_string(),
            answer: answer.to_string(),
            level,
            subject: row
                .get("subject")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(Dataset {
        problems,
        competition,
    })
}

/// Parses a level filter: "1-5", "3", "1,2,5".
pub fn parse_levels(text: &str) -> Result<Vec<u8>> {
    let bad = || Error::InvalidArgument(format!("--levels {text:?}: use e.g. 1-5 or 1,3"));
    let mut levels = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u8, u8) = (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                );
                if a > b {
                    return Err(bad());
                }
                levels.extend(a..=b);
            }
            None => levels.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(levels)
}

fn boxed(answer: Option<&String>) -> String {
    format!("\\boxed{{{}}}", answer.map_or("", String::as_str))
}

/// The record of one problem: `runs` holds (n, outcome) for each search run; budgets in `ns`
/// that no run has exactly are read from the first `n` completions of the largest run (Best-of-N,
/// majority and DVTS results for smaller n are prefixes of one large run).
pub fn record(
    problem: &Problem,
    ns: &[usize],
    runs: &[(usize, SearchOutcome)],
    agg: AggStrategy,
    seconds: f64,
) -> Result<Value> {
    let (_, largest) = runs
        .iter()
        .max_by_key(|(n, _)| *n)
        .ok_or_else(|| Error::InvalidArgument("no search run".into()))?;
    let completions: &[Completion] = &largest.completions;
    let mut row = Map::new();
    row.insert("unique_id".into(), json!(problem.id));
    row.insert("problem".into(), json!(problem.problem));
    row.insert("answer".into(), json!(problem.answer));
    row.insert(
        "level".into(),
        json!(problem.level.map(|l| format!("Level {l}"))),
    );
    row.insert("subject".into(), json!(problem.subject));
    row.insert(
        "completions".into(),
        json!(completions.iter().map(|c| &c.text).collect::<Vec<_>>()),
    );
    row.insert(
        "scores".into(),
        json!(completions.iter().map(|c| &c.scores).collect::<Vec<_>>()),
    );
    row.insert(
        "completion_tokens".into(),
        json!(completions.iter().map(|c| c.tokens).collect::<Vec<_>>()),
    );
    // search-and-learn's `pred`: the naive choice under agg_strategy, as its searches record it.
    let pred = largest
        .selection
        .naive
        .and_then(|i| completions.get(i))
        .map_or("", |c| c.text.as_str());
    row.insert("pred".into(), json!(pred));
    let mut reports = Map::new();
    for &n in ns {
        // A budget's completions: its own run's, else the first n of the largest run's (as
        // search-and-learn's score() subsamples).
        let (strategy, chosen, own) = match runs.iter().find(|(m, _)| *m == n) {
            Some((_, out)) => {
                reports.insert(n.to_string(), json!(out.report));
                (out.strategy, &out.completions[..], out.selection.clone())
            }
            None => {
                let first = &completions[..n.min(completions.len())];
                (largest.strategy, first, select(first, agg))
            }
        };
        // search-and-learn's evaluation rule in its fields.
        let sal = select_search_and_learn(chosen);
        let naive = sal.naive.and_then(|i| sal.answers.get(i));
        row.insert(format!("pred_naive@{n}"), json!(boxed(naive)));
        row.insert(
            format!("pred_weighted@{n}"),
            json!(boxed(sal.weighted.as_ref())),
        );
        row.insert(format!("pred_maj@{n}"), json!(boxed(sal.majority.as_ref())));
        // ttsearch's choices under agg_strategy in its own.
        row.insert(
            format!("answer@{n}"),
            json!(own.answer_for(strategy).unwrap_or_default()),
        );
        let own_naive = own.naive.and_then(|i| own.answers.get(i));
        row.insert(
            format!("answer_naive@{n}"),
            json!(own_naive.map_or("", String::as_str)),
        );
        row.insert(
            format!("answer_weighted@{n}"),
            json!(own.weighted.unwrap_or_default()),
        );
        row.insert(
            format!("answer_maj@{n}"),
            json!(own.majority.unwrap_or_default()),
        );
        row.insert(format!("strategy@{n}"), json!(strategy));
    }
    row.insert("reports".into(), Value::Object(reports));
    let auto: Vec<Value> = runs
        .iter()
        .filter_map(|(n, out)| out.auto.as_ref().map(|a| json!({"n": n, "choice": a})))
        .collect();
    if !auto.is_empty() {
        row.insert("auto".into(), json!(auto));
    }
    row.insert("seconds".into(), json!(seconds));
    Ok(Value::Object(row))
}

/// Whether a strategy's results for smaller n are prefixes of one larger run.
pub fn prefix_strategy(strategy: Strategy) -> bool {
    matches!(
        strategy,
        Strategy::Majority | Strategy::Bon | Strategy::WeightedBon | Strategy::Dvts
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttsearch::search::SearchReport;

    fn c(answer: &str, scores: &[f32]) -> Completion {
        Completion {
            text: format!("So $\\boxed{{{answer}}}$."),
            scores: scores.to_vec(),
            tokens: 1,
        }
    }

    fn outcome(
        strategy: Strategy,
        completions: Vec<Completion>,
        agg: AggStrategy,
    ) -> SearchOutcome {
        let selection = select(&completions, agg);
        SearchOutcome {
            strategy,
            answer: selection.answer_for(strategy),
            completions,
            selection,
            auto: None,
            report: SearchReport::default(),
        }
    }

    fn problem() -> Problem {
        Problem {
            id: "p".into(),
            problem: "?".into(),
            answer: "2".into(),
            level: Some(1),
            subject: None,
        }
    }

    /// Scripted scores on which the last step score (search-and-learn's evaluation) picks
    /// answer 1 and min or prod aggregation picks answer 2, at n = 2 (the first two) and n = 4.
    fn scripted() -> Vec<Completion> {
        vec![
            c("1", &[0.3, 0.95]),
            c("2", &[0.8, 0.6]),
            c("1", &[0.9, 0.5]),
            c("2", &[0.7, 0.7]),
        ]
    }

    #[test]
    fn search_and_learn_fields_follow_the_last_step_and_ttsearch_fields_the_aggregate() {
        for agg in [AggStrategy::Min, AggStrategy::Prod] {
            // One weighted Best-of-N run at n = 4; n = 2 is read from its first two.
            let runs = [(4, outcome(Strategy::WeightedBon, scripted(), agg))];
            let row = record(&problem(), &[2, 4], &runs, agg, 1.0).expect("record");
            for n in [2, 4] {
                assert_eq!(
                    row[format!("pred_naive@{n}")],
                    "\\boxed{1}",
                    "{agg:?} n={n}"
                );
                assert_eq!(
                    row[format!("pred_weighted@{n}")],
                    "\\boxed{1}",
                    "{agg:?} n={n}"
                );
                assert_eq!(row[format!("pred_maj@{n}")], "\\boxed{1}", "{agg:?} n={n}");
                assert_eq!(row[format!("answer@{n}")], "2", "{agg:?} n={n}");
                assert_eq!(row[format!("answer_naive@{n}")], "2", "{agg:?} n={n}");
                assert_eq!(row[format!("answer_weighted@{n}")], "2", "{agg:?} n={n}");
                assert_eq!(row[format!("answer_maj@{n}")], "1", "{agg:?} n={n}");
            }
            // `pred` is search-and-learn's search-time choice: the best aggregate.
            assert_eq!(row["pred"], "So $\\boxed{2}$.");
        }
        // Under agg last the two rules agree.
        let runs = [(
            4,
            outcome(Strategy::WeightedBon, scripted(), AggStrategy::Last),
        )];
        let row = record(&problem(), &[4], &runs, AggStrategy::Last, 1.0).expect("record");
        assert_eq!(row["pred_weighted@4"], "\\boxed{1}");
        assert_eq!(row["answer_weighted@4"], "1");
        assert_eq!(row["answer@4"], "1");
        assert_eq!(row["pred"], "So $\\boxed{1}$.");
    }

    #[test]
    fn budgets_with_their_own_run_use_its_completions() {
        // Beam search runs once per n: n = 2 is its own run, not the first two of n = 4.
        let agg = AggStrategy::Min;
        let small = vec![c("3", &[0.2, 0.9]), c("4", &[0.5, 0.5])];
        let runs = [
            (2, outcome(Strategy::Beam, small, agg)),
            (4, outcome(Strategy::Beam, scripted(), agg)),
        ];
        let row = record(&problem(), &[2, 4], &runs, agg, 1.0).expect("record");
        assert_eq!(row["pred_naive@2"], "\\boxed{3}");
        assert_eq!(row["answer_naive@2"], "4");
        assert_eq!(row["answer@2"], "4");
        assert_eq!(row["pred_weighted@4"], "\\boxed{1}");
        assert_eq!(row["answer@4"], "2");
        assert_eq!(row["completions"].as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn reads_both_formats_and_levels() {
        let dir = std::env::temp_dir().join(format!("ttsearch-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let math = dir.join("math.jsonl");
        std::fs::write(
            &math,
            "{\"problem\":\"p\",\"level\":\"Level 3\",\"solution\":\"s\",\"subject\":\"Algebra\",\
             \"unique_id\":\"test/algebra/1.json\",\"answer\":\"5\"}\n",
        )
        .expect("writes");
        let d = load_dataset(&math).expect("math");
        assert!(!d.competition);
        assert_eq!(d.problems[0].level, Some(3));
        assert_eq!(d.problems[0].id, "test/algebra/1.json");
        let aime = dir.join("aime.jsonl");
        std::fs::write(
            &aime,
            "{\"problem\":\"p\",\"solution\":\"s\",\"extracted_groundtruth\":\"025\",\"url\":\"u\"}\n",
        )
        .expect("writes");
        let d = load_dataset(&aime).expect("aime");
        assert!(d.competition);
        assert_eq!(d.problems[0].answer, "025");
        std::fs::write(&aime, "{\"problem\":1}\n").expect("writes");
        assert_eq!(load_dataset(&aime).expect_err("bad").code(), "format");
        assert_eq!(parse_levels("1-3,5").expect("levels"), [1, 2, 3, 5]);
        assert!(parse_levels("3-1").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
