//! The evaluation summary: accuracy by budget n, by level and by subject, and tokens and
//! seconds per problem, graded from the per-problem records with ttsearch's grader. By n:
//! `naive`, `weighted` and `maj` grade search-and-learn's fields (pred_naive@n,
//! pred_weighted@n, pred_maj@n: its evaluation's last-step rule); `answer` (the strategy's
//! answer), `answer_naive`, `answer_weighted` and `answer_maj` grade ttsearch's choices under
//! agg_strategy. By level and subject: `answer`, ttsearch's.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use ttsearch::grade::grade;

fn correct(pred: &str, gold: &str) -> bool {
    grade(pred, gold).correct
}

fn str_of<'a>(row: &'a Value, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Accuracy counters.
#[derive(Default, Clone, Copy)]
struct Tally {
    right: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.right += usize::from(ok);
        self.total += 1;
    }
    fn json(self) -> Value {
        json!({
            "accuracy": if self.total == 0 { 0.0 } else { self.right as f64 / self.total as f64 },
            "correct": self.right,
            "problems": self.total,
        })
    }
}

/// The summary of `rows` (records of `record`) for budgets `ns`.
pub fn summarize(rows: &[Value], ns: &[usize]) -> Value {
    let mut by_n = Map::new();
    let mut by_level: BTreeMap<String, BTreeMap<usize, Tally>> = BTreeMap::new();
    let mut by_subject: BTreeMap<String, BTreeMap<usize, Tally>> = BTreeMap::new();
    for &n in ns {
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        let mut generated = 0.0;
        let mut prm = 0.0;
        let mut with_report = 0usize;
        for row in rows {
            let gold = str_of(row, "answer");
            for kind in ["naive", "weighted", "maj"] {
                let pred = str_of(row, &format!("pred_{kind}@{n}"));
                tallies
                    .entry(kind.to_string())
                    .or_default()
                    .add(correct(pred, gold));
            }
            // ttsearch's fields hold bare answers ("" when none).
            let bare = |key: &str| {
                let answer = str_of(row, key);
                !answer.is_empty() && correct(&format!("\\boxed{{{answer}}}"), gold)
            };
            for kind in ["naive", "weighted", "maj"] {
                let ok = bare(&format!("answer_{kind}@{n}"));
                tallies.entry(format!("answer_{kind}")).or_default().add(ok);
            }
            let ok = bare(&format!("answer@{n}"));
            tallies.entry("answer".into()).or_default().add(ok);
            let level = row
                .get("level")
                .and_then(Value::as_str)
                .unwrap_or("none")
                .to_string();
            by_level
                .entry(level)
                .or_default()
                .entry(n)
                .or_default()
                .add(ok);
            let subject = str_of(row, "subject");
            let subject = if subject.is_empty() { "none" } else { subject };
            by_subject
                .entry(subject.to_string())
                .or_default()
                .entry(n)
                .or_default()
                .add(ok);
            if let Some(r) = row.get("reports").and_then(|r| r.get(n.to_string())) {
                generated += r["generated_tokens"].as_f64().unwrap_or(0.0);
                prm += r["prm_tokens_fed"].as_f64().unwrap_or(0.0);
                with_report += 1;
            }
        }
        let mut entry: Map<String, Value> =
            tallies.into_iter().map(|(k, t)| (k, t.json())).collect();
        if with_report > 0 {
            entry.insert(
                "generated_tokens_per_problem".into(),
                json!(generated / with_report as f64),
            );
            entry.insert(
                "prm_tokens_per_problem".into(),
                json!(prm / with_report as f64),
            );
        }
        by_n.insert(n.to_string(), Value::Object(entry));
    }
    let nest = |m: BTreeMap<String, BTreeMap<usize, Tally>>| -> Value {
        Value::Object(
            m.into_iter()
                .map(|(k, per_n)| {
                    let per_n: Map<String, Value> = per_n
                        .into_iter()
                        .map(|(n, t)| (n.to_string(), t.json()))
                        .collect();
                    (k, Value::Object(per_n))
                })
                .collect(),
        )
    };
    let seconds: f64 = rows.iter().filter_map(|r| r["seconds"].as_f64()).sum();
    json!({
        "problems": rows.len(),
        "by_n": by_n,
        "by_level": nest(by_level),
        "by_subject": nest(by_subject),
        "seconds_per_problem": if rows.is_empty() { 0.0 } else { seconds / rows.len() as f64 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_each_prediction_kind() {
        let rows = [
            json!({"answer": "\\frac{1}{2}", "level": "Level 1", "subject": "Algebra",
                   "pred_naive@4": "\\boxed{0.5}", "pred_weighted@4": "\\boxed{1}",
                   "pred_maj@4": "\\boxed{}", "answer@4": "1/2", "answer_naive@4": "1",
                   "answer_weighted@4": "1/2", "answer_maj@4": "", "seconds": 2.0,
                   "reports": {"4": {"generated_tokens": 100, "prm_tokens_fed": 10}}}),
            json!({"answer": "3", "level": "Level 5", "subject": "Algebra",
                   "pred_naive@4": "\\boxed{4}", "pred_weighted@4": "\\boxed{3}",
                   "pred_maj@4": "\\boxed{3}", "answer@4": "", "answer_naive@4": "3",
                   "answer_weighted@4": "", "answer_maj@4": "3", "seconds": 4.0,
                   "reports": {"4": {"generated_tokens": 300, "prm_tokens_fed": 30}}}),
        ];
        let s = summarize(&rows, &[4]);
        assert_eq!(s["by_n"]["4"]["naive"]["correct"], 1);
        assert_eq!(s["by_n"]["4"]["weighted"]["correct"], 1);
        assert_eq!(s["by_n"]["4"]["maj"]["correct"], 1);
        assert_eq!(s["by_n"]["4"]["answer"]["correct"], 1);
        assert_eq!(s["by_n"]["4"]["answer_naive"]["correct"], 1);
        assert_eq!(s["by_n"]["4"]["answer_weighted"]["correct"], 1);
        assert_eq!(s["by_n"]["4"]["answer_maj"]["correct"], 1);
        assert_eq!(s["by_n"]["4"]["answer_maj"]["problems"], 2);
        assert_eq!(s["by_n"]["4"]["generated_tokens_per_problem"], 200.0);
        assert_eq!(s["by_level"]["Level 1"]["4"]["correct"], 1);
        assert_eq!(s["by_level"]["Level 5"]["4"]["correct"], 0);
        assert_eq!(s["by_subject"]["Algebra"]["4"]["problems"], 2);
        assert_eq!(s["seconds_per_problem"], 3.0);
    }
}
