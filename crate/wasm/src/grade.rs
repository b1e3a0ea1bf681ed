//! The grader in JS: extraction, equivalence, canonical forms and vote groups of math answers.

use crate::error::to_js;
use wasm_bindgen::prelude::*;

/// Grades a prediction (solution text or bare answer) against a gold answer; returns
/// `{ correct, pred_answer, gold_answer, rule }`.
#[wasm_bindgen]
pub fn grade(pred: &str, gold: &str) -> Result<JsValue, JsValue> {
    to_js(&ttsearch::grade::grade(pred, gold))
}

/// The final answer of a solution text and the rule that found it: `{ answer, rule }`.
#[wasm_bindgen(js_name = extractAnswer)]
pub fn extract_answer(text: &str) -> Result<JsValue, JsValue> {
    to_js(&ttsearch::grade::extract_answer(text))
}

/// Whether two bare answers are mathematically equivalent.
#[wasm_bindgen(js_name = isEquivalent)]
pub fn is_equivalent(pred: &str, gold: &str) -> bool {
    ttsearch::grade::is_equivalent(pred, gold)
}

/// The canonical key of an answer: equal keys mean equivalent answers.
#[wasm_bindgen(js_name = canonicalForm)]
pub fn canonical_form(answer: &str) -> String {
    ttsearch::grade::canonical_form(answer)
}

/// Groups answers by equivalence, first seen first: `[{ key, answer, members }]`.
#[wasm_bindgen(js_name = groupAnswers)]
pub fn group_answers(answers: Vec<String>) -> Result<JsValue, JsValue> {
    to_js(&ttsearch::grade::group_answers(&answers))
}
