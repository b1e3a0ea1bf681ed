//! Grading math answers: extraction from solution texts, normalization, equivalence, and
//! canonical forms for voting.
//!
//! - Extraction: the text of the last `\boxed{...}` (braces matched; also `\fbox`), else
//!   "final answer is $...$", else "the answer is ...", else the whole text when it is a bare
//!   answer (no prose: an expression, a matrix, an inequality, assignments), else the last
//!   number.
//! - Normalization (in the style of Qwen2.5-Math's `strip_string`): trimming, `\left`/`\right`,
//!   `\!` and "\ " dropped, `\tfrac`/`\dfrac` to `\frac`, `\text{X}` to X, degrees, dollar
//!   signs, percent, a trailing ".", units, "x =" prefixes, thousands separators
//!   (`10,\!080`), `\frac12`, `a/b`, `12.000`, `\sqrt3`. That normalizer's bugs are not copied:
//!   its unit list eats `\pm` (it contains "pm"), turns `\text{east}` into "" (so "west" would
//!   match) and keeps unit exponents (`864 \mbox{ inches}^2` becomes `864^2`).
//! - Equivalence, in order: equal strings; numbers within a relative tolerance of 1e-4
//!   ([`RELATIVE_TOLERANCE`]; percent leniency); unordered solution lists (`a \pm b` is the
//!   list of `a + b` and `a - b`, every `\pm` read as + and then as -); tuples and intervals
//!   element by element with their bracket types; inequalities in one variable as their
//!   intervals (`x > 1` is `(1,\infty)`, `0 < k \le 6` is `(0,6]`; "or" makes a union);
//!   matrices element by element, a scalar in front multiplied in; a tuple as the column vector
//!   with its entries (not a row matrix); assignments (`a=4, b=-7`) by name, or in order
//!   against a tuple; equations as proportional lhs - rhs (`y = 3x + 5` also equals `3x + 5`);
//!   exact rationals (repeating decimals `0.1\overline{6}`, `0.\dot{3}`, `0.(3)` and binomial
//!   coefficients `\binom{9}{4}`, `{9 \choose 4}` included), roots, pi and i, and expressions
//!   in variables compared at random points.
//! - The data: MATH-500's 500 gold answers are mostly integers, with fractions, roots, pi,
//!   degrees, tuples, solution lists, sets, intervals, matrices, base-n numbers, text answers,
//!   units, equations and complex numbers among them; AIME24's are zero-padded strings ("025"),
//!   compared as numbers.

mod answer;
mod canonical;
mod equiv;
mod expr;
mod extract;
mod inequality;
mod normalize;
mod parse;

pub use answer::{Answer, parse_answer};
pub use canonical::{AnswerGroup, answer_key, canonical_form, group_answers};
pub use equiv::{RELATIVE_TOLERANCE, answers_equivalent, expr_equivalent};
pub use expr::{Constant, Expr, Func};
pub use extract::{ExtractRule, Extraction, extract_answer};
pub use normalize::normalize;
pub use parse::parse_expr;

use serde::Serialize;

/// Longest answer string compared at all (longer ones are never equivalent to anything but
/// themselves): every comparison stays bounded in time.
const MAX_ANSWER_LEN: usize = 4000;

/// Whether two answer strings (bare answers, not solution texts) are equivalent.
pub fn is_equivalent(pred: &str, gold: &str) -> bool {
    let (p, g) = (normalize(pred), normalize(gold));
    let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if compact(&p) == compact(&g) {
        return true;
    }
    if p.len() > MAX_ANSWER_LEN || g.len() > MAX_ANSWER_LEN {
        return false;
    }
    let (pa, ga) = (answer::parse_normalized(&p), answer::parse_normalized(&g));
    if answers_equivalent(&pa, &ga) {
        return true;
    }
    // Percent leniency: "25\%" also matches 0.25 (normalization dropped the sign).
    match (pred.contains('%'), gold.contains('%')) {
        (false, true) => percent_of(&ga).is_some_and(|g| answers_equivalent(&pa, &g)),
        (true, false) => percent_of(&pa).is_some_and(|p| answers_equivalent(&p, &ga)),
        _ => false,
    }
}

/// The value of a percentage as a fraction: 25 -> 25/100.
fn percent_of(a: &Answer) -> Option<Answer> {
    match a {
        Answer::Expr(e) => Some(Answer::Expr(Expr::Div(
            Box::new(e.clone()),
            Box::new(Expr::Num(num_rational::BigRational::from_integer(
                100.into(),
            ))),
        ))),
        _ => None,
    }
}

/// The verdict on one prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grade {
    /// Whether the prediction's answer equals the gold answer.
    pub correct: bool,
    /// The answer extracted from the prediction.
    pub pred_answer: String,
    /// The gold answer (extracted too when it is a solution text).
    pub gold_answer: String,
    /// Which rule extracted the prediction's answer.
    pub rule: ExtractRule,
}

/// Grades a prediction (a whole solution text or a bare answer) against a gold answer.
pub fn grade(pred: &str, gold: &str) -> Grade {
    let extracted = extract_answer(pred);
    let gold_answer = match extract_answer(gold) {
        e if matches!(e.rule, ExtractRule::Boxed | ExtractRule::Fbox) => e.answer,
        _ => gold.trim().to_string(),
    };
    let correct =
        extracted.rule != ExtractRule::None && is_equivalent(&extracted.answer, &gold_answer);
    Grade {
        correct,
        pred_answer: extracted.answer,
        gold_answer,
        rule: extracted.rule,
    }
}
