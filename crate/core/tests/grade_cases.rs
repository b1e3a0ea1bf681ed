//! The grader against the hand-checked case table (tests/fixtures/grade/cases.jsonl, written by
//! scripts/gen_grade_cases.py), the MATH-500 and AIME24 gold answers, and fuzzed strings.

use serde_json::Value;
use ttsearch::grade::{canonical_form, grade, group_answers, is_equivalent};

const CASES: &str = include_str!("../../../tests/fixtures/grade/cases.jsonl");
const MATH500: &str = include_str!("../../../tests/fixtures/grade/math500_answers.jsonl");
const AIME24: &str = include_str!("../../../tests/fixtures/grade/aime24_answers.jsonl");

fn lines(text: &str) -> impl Iterator<Item = Value> + '_ {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("missing {name} in {v}"))
}

#[test]
fn case_table() {
    let mut failures = Vec::new();
    let mut count = 0;
    for case in lines(CASES) {
        count += 1;
        let (pred, gold) = (field(&case, "pred"), field(&case, "gold"));
        let want = case["equivalent"].as_bool().expect("equivalent is a bool");
        let kind = field(&case, "kind");
        // Whole texts go through extraction: solution texts, and bare answers with no \boxed.
        if kind == "solution_text" || kind == "bare_answer" {
            let g = grade(pred, gold);
            if g.correct != want {
                failures.push(format!(
                    "[{kind}] grade({pred:?}, {gold:?}) = {} ({g:?})",
                    g.correct
                ));
            }
            continue;
        }
        for (a, b) in [(pred, gold), (gold, pred)] {
            if is_equivalent(a, b) != want {
                failures.push(format!("[{kind}] is_equivalent({a:?}, {b:?}) != {want}"));
            }
        }
        // Voting: the pair forms one group exactly when it is equivalent.
        let groups = group_answers(&[pred, gold]);
        let expected_groups = if want || pred.trim().is_empty() { 1 } else { 2 };
        if !pred.trim().is_empty() && groups.len() != expected_groups {
            failures.push(format!(
                "[{kind}] group_answers([{pred:?}, {gold:?}]) gave {} groups",
                groups.len()
            ));
        }
    }
    assert!(count >= 500, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_math500_gold_answer_equals_itself_and_its_boxed_form() {
    let mut failures = Vec::new();
    let mut count = 0;
    for row in lines(MATH500) {
        count += 1;
        let gold = field(&row, "answer");
        let boxed = format!("The final result is $\\boxed{{{gold}}}$.");
        if !is_equivalent(gold, gold) {
            failures.push(format!("{gold:?} != itself"));
        }
        let g = grade(&boxed, gold);
        if !g.correct || g.pred_answer != gold {
            failures.push(format!("{gold:?}: boxed form graded {g:?}"));
        }
        if canonical_form(&g.pred_answer) != canonical_form(gold) {
            failures.push(format!("{gold:?}: canonical forms differ"));
        }
        // An integer answer is never equal to its neighbour.
        if let Ok(n) = gold.parse::<i64>() {
            if is_equivalent(&(n + 1).to_string(), gold) {
                failures.push(format!("{gold:?} == {}", n + 1));
            }
        }
    }
    assert_eq!(count, 500);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn aime24_zero_padded_answers_compare_numerically() {
    let mut count = 0;
    for row in lines(AIME24) {
        count += 1;
        let gold = field(&row, "extracted_groundtruth");
        let n: i64 = gold.parse().expect("AIME answers are integers");
        assert!(is_equivalent(&n.to_string(), gold), "{n} vs {gold:?}");
        assert!(
            grade(&format!("so $\\boxed{{{n}}}$"), gold).correct,
            "{gold}"
        );
        assert!(
            !is_equivalent(&(n + 1).to_string(), gold),
            "{} vs {gold:?}",
            n + 1
        );
        assert!(!is_equivalent(&format!("{n}0"), gold), "{n}0 vs {gold:?}");
    }
    assert_eq!(count, 30);
}

#[test]
fn fuzzed_strings_never_panic_or_hang() {
    // Fragments that exercise every parser path, glued at random (a fixed-seed generator so a
    // failure reproduces).
    const PIECES: [&str; 60] = [
        "\\frac",
        "\\sqrt",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "\\{",
        "\\}",
        "^",
        "_",
        ",",
        "=",
        "+",
        "-",
        "*",
        "/",
        "!",
        "|",
        "\\pi",
        "\\infty",
        "\\pm",
        "\\cup",
        "\\text{",
        "\\boxed{",
        "\\left",
        "\\right",
        "x",
        "y",
        "i",
        "e",
        "0",
        "1",
        "9",
        "12.5",
        "3e5",
        "\\begin{pmatrix}",
        "\\\\",
        "&",
        "\\end{pmatrix}",
        " ",
        "$",
        "\\sin",
        "\\ln",
        "°",
        "é",
        "\\",
        "\\overline{",
        "\\dot{",
        "\\binom",
        "\\choose",
        "<",
        ">",
        "\\le",
        "\\ge",
        " or ",
        "\\mp",
        "a=",
        "0.",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let started = std::time::Instant::now();
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let text: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let gold = PIECES[(next() % PIECES.len() as u64) as usize];
        let _ = grade(&text, gold);
        let _ = canonical_form(&text);
        let _ = group_answers(&[text.as_str(), gold]);
    }
    // Pathological inputs: deep nesting, huge powers and factorials, long numbers.
    for text in [
        "(".repeat(10_000),
        "\\frac{".repeat(3_000),
        "2^{2^{2^{2^{2^{2^{2^{2}}}}}}}".to_string(),
        "99999999999999999999^{99999999999999999999}".to_string(),
        "1000000!".to_string(),
        "9".repeat(5_000),
        "\\sqrt{".repeat(2_000) + "2" + &"}".repeat(2_000),
        "x^{x^{x^{x}}}+".repeat(200),
        "\\binom{10^{70}}{400}".to_string(),
        "\\binom{".repeat(300) + "9}{4}" + &"}{2}".repeat(300),
        format!("0.\\overline{{{}}}", "9".repeat(500)),
        "0.".to_string() + &"\\dot{3}".repeat(500),
        "x < ".repeat(500) + "1",
        "\\pm 1".repeat(500),
        (0..300)
            .map(|i| format!("a_{{{i}}}={i}"))
            .collect::<Vec<_>>()
            .join(","),
    ] {
        let _ = grade(&text, &text);
        let _ = is_equivalent(&text, "2");
    }
    // A hang detector, not a speed claim: 20,000 comparisons in well under a minute.
    assert!(
        started.elapsed().as_secs() < 60,
        "fuzzing took {:?}",
        started.elapsed()
    );
}
