//! The grader's case table inside headless Chromium (the same verdicts as natively).

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CASES: &str = include_str!("../../../tests/fixtures/grade/cases.jsonl");

#[derive(serde::Deserialize)]
struct Case {
    pred: String,
    gold: String,
    equivalent: bool,
    kind: String,
}

#[wasm_bindgen_test]
fn case_table_in_the_browser() {
    let mut failures = Vec::new();
    let mut count = 0;
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("valid case line");
        count += 1;
        let got = if case.kind == "solution_text" || case.kind == "bare_answer" {
            ttsearch::grade::grade(&case.pred, &case.gold).correct
        } else {
            ttsearch::grade::is_equivalent(&case.pred, &case.gold)
        };
        if got != case.equivalent {
            failures.push(format!(
                "[{}] {:?} vs {:?}: {got}",
                case.kind, case.pred, case.gold
            ));
        }
    }
    assert!(count >= 500, "only {count} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[wasm_bindgen_test]
fn js_api_returns_plain_objects() {
    let g = ttsearch_wasm::grade("so $\\boxed{\\frac12}$", "0.5").expect("grade");
    let correct = js_sys::Reflect::get(&g, &"correct".into()).expect("correct field");
    assert_eq!(correct.as_bool(), Some(true));
    assert_eq!(ttsearch_wasm::canonical_form("0.5"), "q:1/2");
}
