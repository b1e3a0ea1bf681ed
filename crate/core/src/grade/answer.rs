//! Structured answers: expressions, equations, tuples and intervals (bracket types kept),
//! unordered solution lists and sets, unions, matrices, base-n numerals, multiple-choice
//! letters and text.

use super::expr::{Constant, Expr};
use super::normalize::normalize;
use super::parse::parse_expr;

/// Longest normalized answer that is parsed (longer ones compare as strings only).
const MAX_PARSE_LEN: usize = 1000;

/// A parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A number or an expression.
    Expr(Expr),
    /// An equation that is not a plain "x = value": lhs = rhs.
    Equation(Expr, Expr),
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
fn split_top(s: &str, sep: &str) -> Vec<String> {
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

/// Whether `s` names a single variable ("x", "y", "k", "x_1", "\theta").
fn is_variable_name(s: &str) -> bool {
    matches!(parse_expr(s), Some(Expr::Var(_)))
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

/// "a \pm b" -> {a + b, a - b}.
fn expand_plus_minus(s: &str) -> Option<Vec<Answer>> {
    for sep in ["\\pm", "\\mp"] {
        let parts = split_top(s, sep);
        if parts.len() == 2 {
            let rhs = parse_expr(&parts[1])?;
            let both = if parts[0].is_empty() {
                vec![rhs.clone(), Expr::Neg(Box::new(rhs))]
            } else {
                let lhs = parse_expr(&parts[0])?;
                vec![
                    Expr::Add(Box::new(lhs.clone()), Box::new(rhs.clone())),
                    Expr::Sub(Box::new(lhs), Box::new(rhs)),
                ]
            };
            return Some(both.into_iter().map(Answer::Expr).collect());
        }
    }
    None
}

/// One scalar-like item: an expression, "x = value", an equation, ± pair, base-n, a choice
/// letter or text. Falls back to [`Answer::Raw`].
fn parse_item(s: &str) -> Answer {
    let s = s.trim();
    let sides = split_top(s, "=");
    if sides.len() == 2 && !sides[0].is_empty() && !sides[1].is_empty() {
        if is_variable_name(&sides[0]) {
            return parse_item(&sides[1]);
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
    if let Some(m) = parse_matrix(s) {
        return m;
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
