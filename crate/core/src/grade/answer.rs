//! Structured answers: expressions, equations, tuples and intervals (bracket types kept),
//! inequalities (as intervals), assignments, unordered solution lists and sets, unions,
//! matrices (a scalar in front multiplied in), base-n numerals, multiple-choice letters and
//! text.

use super::expr::{Constant, Expr};
use super::inequality::parse_inequalities;
use super::normalize::normalize;
use super::parse::parse_expr;
use num_bigint::BigInt;
use num_rational::BigRational;

/// Longest normalized answer that is parsed (longer ones compare as strings only).
const MAX_PARSE_LEN: usize = 1000;

/// A parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A number or an expression.
    Expr(Expr),
    /// An equation that is not a plain "x = value": lhs = rhs ("y = 3x + 5" included: its
    /// right side has a variable).
    Equation(Expr, Expr),
    /// Values given to two or more distinct variables: "a = 4, b = -7, c = 2" or
    /// "(a, b, c) = (4, -7, 2)", in the order written.
    Assignments(Vec<(String, Answer)>),
    /// Order does not matter: a solution list "1, -2", a set "\{1, 2\}", or "a \pm b".
    Unordered(Vec<Answer>),
    /// Order and bracket types matter: a point "(1, 2)" or an interval "(3, 4]".
    Bracketed {
        /// '(' or '['.
        open: char,
        /// ')' or ']'.
        close: char,
        /// The components.
        items: Vec<Answer>,
    },
    /// A union of intervals.
    Union(Vec<Answer>),
    /// A matrix or column vector, row by row.
    Matrix(Vec<Vec<Answer>>),
    /// A numeral in base `base`: "52_8".
    BaseN {
        /// The digits as written (upper-cased).
        digits: String,
        /// The base.
        base: u32,
    },
    /// A multiple-choice letter: "(C)", "C".
    Choice(char),
    /// A word or phrase: "Evelyn", "east", "even".
    Text(String),
    /// Anything else: compared as a normalized string.
    Raw(String),
}

/// Splits at top-level occurrences of `sep` (outside (), [], {} and \{ \}).
pub(crate) fn split_top(s: &str, sep: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth: i32 = 0;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\\' && i + 1 < bytes.len() && (bytes[i + 1] == b'{' || bytes[i + 1] == b'}') {
            depth += if bytes[i + 1] == b'{' { 1 } else { -1 };
            i += 2;
            continue;
        }
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && bytes[i..].starts_with(sep.as_bytes()) {
            // A command separator must not be the prefix of a longer command (\pm vs \pmatrix).
            let after = &s[i + sep.len()..];
            let cmd_prefix =
                sep.starts_with('\\') && after.starts_with(|c: char| c.is_ascii_alphabetic());
            if !cmd_prefix {
                parts.push(s[start..i].trim().to_string());
                i += sep.len();
                start = i;
                continue;
            }
        }
        i += 1;
    }
    parts.push(s[start..].trim().to_string());
    parts
}

/// If `s` is wrapped whole in one bracket pair of any types ("(3, 4]"), returns the brackets
/// and the inside.
fn outer_brackets(s: &str) -> Option<(char, char, &str)> {
    let open = s.chars().next()?;
    let close = s.chars().last()?;
    if !matches!(open, '(' | '[') || !matches!(close, ')' | ']') || s.len() < 2 {
        return None;
    }
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && i + c.len_utf8() < s.len() {
            return None;
        }
    }
    Some((open, close, &s[1..s.len() - 1]))
}

fn parse_matrix(s: &str) -> Option<Answer> {
    for env in ["pmatrix", "bmatrix", "matrix", "vmatrix"] {
        let begin = format!("\\begin{{{env}}}");
        let end = format!("\\end{{{env}}}");
        if let Some(inner) = s.strip_prefix(&begin).and_then(|r| r.strip_suffix(&end)) {
            let rows: Vec<Vec<Answer>> = inner
                .split("\\\\")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|row| row.split('&').map(|cell| parse_item(cell.trim())).collect())
                .collect();
            if rows.is_empty() || rows.iter().any(|r| r.len() != rows[0].len()) {
                return None;
            }
            return Some(Answer::Matrix(rows));
        }
    }
    None
}

/// A matrix with an optional scalar in front, multiplied into every entry:
/// "\frac{2}{7}\begin{pmatrix} 7 \\ -14 \end{pmatrix}", "-\begin{pmatrix}...", "3 \cdot ...".
fn parse_scaled_matrix(s: &str) -> Option<Answer> {
    let at = s.find("\\begin{")?;
    let matrix = parse_matrix(&s[at..])?;
    let prefix = s[..at].trim();
    if prefix.is_empty() {
        return Some(matrix);
    }
    let prefix = ["\\cdot", "\\times"]
        .iter()
        .find_map(|op| prefix.strip_suffix(op))
        .unwrap_or(prefix)
        .trim();
    let one = || Expr::Num(BigRational::from_integer(BigInt::from(1)));
    let scalar = match prefix {
        "-" => Expr::Neg(Box::new(one())),
        "+" => one(),
        p => parse_expr(p)?,
    };
    let Answer::Matrix(rows) = matrix else {
        return None;
    };
    let scaled = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| match cell {
                    Answer::Expr(e) => Some(Answer::Expr(Expr::Mul(
                        Box::new(scalar.clone()),
                        Box::new(e),
                    ))),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Answer::Matrix(scaled))
}

fn parse_base_n(s: &str) -> Option<Answer> {
    let (digits, base) = s.split_once('_')?;
    let base = base.trim_matches(|c| c == '{' || c == '}');
    let base: u32 = base.parse().ok()?;
    let digits = digits.trim();
    if !(2..=36).contains(&base) || digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    Some(Answer::BaseN {
        digits: digits.to_ascii_uppercase(),
        base,
    })
}

/// "(C)", "C", and "(c)" (a lowercase letter only in parentheses: a bare "c" is a variable).
fn parse_choice(s: &str) -> Option<Answer> {
    let (inner, parenthesized) = match s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (inner, true),
        None => (s, false),
    };
    let mut chars = inner.chars();
    let c = chars.next()?;
    let letter = if parenthesized {
        c.to_ascii_uppercase()
    } else {
        c
    };
    (chars.next().is_none() && ('A'..='E').contains(&letter)).then_some(Answer::Choice(letter))
}

fn parse_text(s: &str) -> Option<Answer> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let wordy = !words.is_empty()
        && words.iter().all(|w| {
            w.chars().any(char::is_alphabetic)
                && w.chars()
                    .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
        })
        && words
            .iter()
            .any(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 3);
    wordy.then(|| Answer::Text(words.join(" ")))
}

/// Replaces every `\pm` with `pm` and every `\mp` with `mp` (where neither is the prefix of a
/// longer command such as `\pmatrix`); `None` when there is none.
fn substitute_plus_minus(s: &str, pm: &str, mp: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let (mut rest, mut found) = (s, false);
    while let Some(i) = rest.find("\\pm").into_iter().chain(rest.find("\\mp")).min() {
        let after = &rest[i + 3..];
        out.push_str(&rest[..i]);
        if after.starts_with(|c: char| c.is_ascii_alphabetic()) {
            out.push_str(&rest[i..i + 3]);
        } else {
            out.push_str(if rest[i..].starts_with("\\pm") {
                pm
            } else {
                mp
            });
            found = true;
        }
        rest = after;
    }
    out.push_str(rest);
    found.then_some(out)
}

/// "a \pm b" -> {a + b, a - b}: every `\pm` read as "+" and then as "-" (and `\mp` the other
/// way), so "\pm\sqrt{11} - 2" is {√11 - 2, -√11 - 2} and "\frac{1 \pm \sqrt5}{2}" works.
fn expand_plus_minus(s: &str) -> Option<Vec<Answer>> {
    let plus = parse_expr(&substitute_plus_minus(s, "+", "-")?)?;
    let minus = parse_expr(&substitute_plus_minus(s, "-", "+")?)?;
    Some(vec![Answer::Expr(plus), Answer::Expr(minus)])
}

/// "(a, b, c) = (4, -7, 2)" or "a = 4" parts: the assignments, when every name is a distinct
/// variable.
fn assignments(pairs: Vec<(String, String)>) -> Option<Answer> {
    let mut named: Vec<(String, Answer)> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let Some(Expr::Var(name)) = parse_expr(&name) else {
            return None;
        };
        if named.iter().any(|(n, _)| *n == name) {
            return None;
        }
        named.push((name, parse_item(&value)));
    }
    (named.len() >= 2).then_some(Answer::Assignments(named))
}

/// "(a, b, c) = (4, -7, 2)": a tuple of variables set equal to a tuple of values.
fn tuple_assignment(lhs: &str, rhs: &str) -> Option<Answer> {
    let (_, _, names) = outer_brackets(lhs)?;
    let (_, _, values) = outer_brackets(rhs)?;
    let (names, values) = (split_top(names, ","), split_top(values, ","));
    if names.len() != values.len() {
        return None;
    }
    assignments(names.into_iter().zip(values).collect())
}

/// One scalar-like item: an expression, "x = value", an equation, ± pair, base-n, a choice
/// letter or text. Falls back to [`Answer::Raw`].
fn parse_item(s: &str) -> Answer {
    let s = s.trim();
    let sides = split_top(s, "=");
    if sides.len() == 2 && !sides[0].is_empty() && !sides[1].is_empty() {
        if let Some(lhs @ Expr::Var(_)) = parse_expr(&sides[0]) {
            // "x = 5" is its value; "y = 3x + 5" (a variable on the right) an equation.
            return match parse_expr(&sides[1]) {
                Some(rhs) if !rhs.variables().is_empty() => Answer::Equation(lhs, rhs),
                _ => parse_scaled_matrix(&sides[1]).unwrap_or_else(|| parse_item(&sides[1])),
            };
        }
        if let Some(a) = tuple_assignment(&sides[0], &sides[1]) {
            return a;
        }
        if let (Some(l), Some(r)) = (parse_expr(&sides[0]), parse_expr(&sides[1])) {
            return Answer::Equation(l, r);
        }
        return Answer::Raw(s.to_string());
    }
    if let Some(items) = expand_plus_minus(s) {
        return Answer::Unordered(items);
    }
    if let Some(a) = parse_base_n(s).or_else(|| parse_choice(s)) {
        return a;
    }
    if let Some(e) = parse_expr(s) {
        // A lone word parses as a product of letters: keep words of 3+ letters as text.
        if parse_text(s).is_none() || !e.variables().iter().all(|v| v.len() == 1) {
            return Answer::Expr(e);
        }
    }
    parse_text(s).unwrap_or_else(|| Answer::Raw(s.to_string()))
}

/// Items of a list, each parsed; ± pairs and "x = a" items flattened in.
fn parse_list(parts: &[String]) -> Vec<Answer> {
    let mut items = Vec::new();
    for part in parts {
        match parse_item(part) {
            Answer::Unordered(inner) => items.extend(inner),
            other => items.push(other),
        }
    }
    items
}

/// Parses a normalized answer string.
pub fn parse_normalized(s: &str) -> Answer {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_PARSE_LEN {
        return Answer::Raw(s.to_string());
    }
    if let Some(m) = parse_scaled_matrix(s) {
        return m;
    }
    if let Some(set) = parse_inequalities(s) {
        return set;
    }
    let union = split_top(s, "\\cup");
    if union.len() > 1 {
        return Answer::Union(union.iter().map(|p| parse_normalized(p)).collect());
    }
    if let Some(inner) = s.strip_prefix("\\{").and_then(|r| r.strip_suffix("\\}")) {
        return Answer::Unordered(parse_list(&split_top(inner, ",")));
    }
    if let Some((open, close, inner)) = outer_brackets(s) {
        let parts = split_top(inner, ",");
        if parts.len() >= 2 {
            return Answer::Bracketed {
                open,
                close,
                items: parts.iter().map(|p| parse_item(p)).collect(),
            };
        }
    }
    let parts = split_top(s, ",");
    if parts.len() >= 2 {
        let named: Option<Vec<(String, String)>> = parts
            .iter()
            .map(|p| match split_top(p, "=").as_slice() {
                [name, value] if !value.is_empty() => Some((name.clone(), value.clone())),
                _ => None,
            })
            .collect();
        if let Some(a) = named.and_then(assignments) {
            return a;
        }
        return Answer::Unordered(parse_list(&parts));
    }
    // "x = 1, -2" was split above; "\{...\}" after a variable: "x \in \{1,2\}".
    parse_item(s)
}

/// Normalizes and parses an answer string.
pub fn parse_answer(raw: &str) -> Answer {
    parse_normalized(&normalize(raw))
}

/// Whether a whole text reads as a math answer rather than prose (for bare answers).
pub(crate) fn parses_as_math(text: &str) -> bool {
    if has_prose(text) {
        return false;
    }
    match parse_answer(text) {
        Answer::Raw(_) => false,
        Answer::Text(t) => !t.contains(' ') || text.contains("\\text"),
        Answer::Expr(e) => {
            // "so x equals" parses as a product of letters: not an answer.
            e.variables().len() <= 3 || text.contains('\\')
        }
        _ => true,
    }
}

/// Whether the text has two plain words in a row (outside \text{}): prose, not an answer.
fn has_prose(text: &str) -> bool {
    let mut outside = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("\\text{") {
        outside.push_str(&rest[..i]);
        match super::normalize::matching_brace(rest, i + 5) {
            Some(close) => rest = &rest[close + 1..],
            None => {
                rest = "";
            }
        }
    }
    outside.push_str(rest);
    let is_word = |w: &str| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic());
    let words: Vec<&str> = outside.split_whitespace().collect();
    words
        .windows(2)
        .any(|pair| is_word(pair[0]) && is_word(pair[1]))
}

/// Whether an expression is ±∞.
pub(crate) fn is_infinite(e: &Expr) -> bool {
    match e {
        Expr::Const(Constant::Infinity) => true,
        Expr::Neg(a) => is_infinite(a),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert!(matches!(
            parse_answer("\\left( 3, \\frac{\\pi}{2} \\right)"),
            Answer::Bracketed {
                open: '(',
                close: ')',
                ..
            }
        ));
        assert!(matches!(
            parse_answer("(3,4]"),
            Answer::Bracketed {
                open: '(',
                close: ']',
                ..
            }
        ));
        assert!(matches!(parse_answer("1,-2"), Answer::Unordered(v) if v.len() == 2));
        assert!(
            matches!(parse_answer("\\{1\\pm\\sqrt{5},-2\\}"), Answer::Unordered(v) if v.len() == 3)
        );
        assert!(matches!(parse_answer("(0,9) \\cup (9,36)"), Answer::Union(v) if v.len() == 2));
        assert!(
            matches!(parse_answer("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}"), Answer::Matrix(r) if r.len() == 2)
        );
        assert_eq!(
            parse_answer("52_8"),
            Answer::BaseN {
                digits: "52".into(),
                base: 8
            }
        );
        assert_eq!(
            parse_answer("4210_{5}"),
            Answer::BaseN {
                digits: "4210".into(),
                base: 5
            }
        );
        assert_eq!(parse_answer("\\text{(C)}"), Answer::Choice('C'));
        assert_eq!(
            parse_answer("\\text{Evelyn}"),
            Answer::Text("Evelyn".into())
        );
        assert!(matches!(parse_answer("x=5"), Answer::Expr(_)));
        assert!(matches!(
            parse_answer("5x - 7y + 11z + 4 = 0"),
            Answer::Equation(..)
        ));
        assert!(matches!(parse_answer("1 \\pm \\sqrt{19}"), Answer::Unordered(v) if v.len() == 2));
    }
}
