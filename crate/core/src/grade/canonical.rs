//! Canonical forms for voting: equivalent answers get the same key ("\frac12", "0.5" and "1/2"
//! all become "q:1/2"), different ones ("west", "east") different keys; and grouping of a list
//! of answers into vote groups.

use super::answer::{Answer, parse_answer};
use super::equiv::{as_tuple, sample_points};
use super::expr::Expr;
use num_complex::Complex64;

/// Significant digits kept in keys of inexact values.
const KEY_DIGITS: usize = 6;
/// Points at which expressions with variables are keyed.
const KEY_POINTS: usize = 3;

fn float_key(z: Complex64) -> String {
    let fmt = |v: f64| -> String {
        if v.is_infinite() {
            return if v > 0.0 { "inf".into() } else { "-inf".into() };
        }
        if v.abs() < 1e-9 {
            return "0".into();
        }
        let s = format!("{:.*e}", KEY_DIGITS - 1, v);
        // Trim trailing zeros of the mantissa: 5.00000e-1 -> 5e-1.
        match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{e}")
            }
            None => s,
        }
    };
    if z.im.abs() <= 1e-9 * z.re.abs().max(1.0) {
        fmt(z.re)
    } else {
        format!(
            "{}{}{}i",
            fmt(z.re),
            if z.im < 0.0 { "" } else { "+" },
            fmt(z.im)
        )
    }
}

fn expr_key(e: &Expr) -> String {
    if let Some(r) = e.exact() {
        return if r.is_integer() {
            format!("q:{}", r.numer())
        } else {
            format!("q:{}/{}", r.numer(), r.denom())
        };
    }
    let vars = e.variables();
    if vars.is_empty() {
        return match e.eval(&Default::default()) {
            Some(z) => format!("f:{}", float_key(z)),
            None => "undefined".to_string(),
        };
    }
    let values: Vec<String> = sample_points(&vars)
        .iter()
        .take(KEY_POINTS)
        .map(|env| e.eval(env).map_or("?".into(), float_key))
        .collect();
    format!(
        "v[{}]:{}",
        vars.into_iter().collect::<Vec<_>>().join(","),
        values.join(";")
    )
}

/// The canonical key of a parsed answer.
pub fn answer_key(a: &Answer) -> String {
    match a {
        Answer::Expr(e) => expr_key(e),
        Answer::Equation(l, r) => {
            // Keyed by lhs - rhs scaled to its value at the first point (proportional forms agree).
            let d = Expr::Sub(Box::new(l.clone()), Box::new(r.clone()));
            let vars = d.variables();
            let points = sample_points(&vars);
            let values: Vec<Complex64> = points
                .iter()
                .take(KEY_POINTS + 1)
                .filter_map(|p| d.eval(p))
                .collect();
            match values.first() {
                Some(first) if first.norm() > 1e-9 => {
                    let keys: Vec<String> =
                        values[1..].iter().map(|v| float_key(v / first)).collect();
                    format!(
                        "eq[{}]:{}",
                        vars.into_iter().collect::<Vec<_>>().join(","),
                        keys.join(";")
                    )
                }
                _ => "eq:degenerate".to_string(),
            }
        }
        Answer::Unordered(items) => {
            let mut keys: Vec<String> = items.iter().map(answer_key).collect();
            keys.sort();
            if keys.len() == 1 {
                return keys.remove(0);
            }
            format!("{{{}}}", keys.join(","))
        }
        Answer::Bracketed { open, close, items } => {
            let keys: Vec<String> = items.iter().map(answer_key).collect();
            format!("{open}{}{close}", keys.join(","))
        }
        Answer::Union(parts) => {
            let mut keys: Vec<String> = parts.iter().map(answer_key).collect();
            keys.sort();
            format!("U({})", keys.join(","))
        }
        Answer::Assignments(named) => {
            let mut keys: Vec<String> = named
                .iter()
                .map(|(name, value)| format!("{name}={}", answer_key(value)))
                .collect();
            keys.sort();
            format!("A[{}]", keys.join(";"))
        }
        // A column vector is keyed as the tuple it equals.
        Answer::Matrix(rows) => match as_tuple(a) {
            Some(items) => {
                let keys: Vec<String> = items.into_iter().map(answer_key).collect();
                format!("({})", keys.join(","))
            }
            None => {
                let rows: Vec<String> = rows
                    .iter()
                    .map(|r| r.iter().map(answer_key).collect::<Vec<_>>().join(","))
                    .collect();
                format!("M[{}]", rows.join(";"))
            }
        },
        Answer::BaseN { digits, base } => {
            let d = digits.trim_start_matches('0');
            format!("b{base}:{}", if d.is_empty() { "0" } else { d })
        }
        Answer::Choice(c) => format!("c:{c}"),
        Answer::Text(t) => format!(
            "t:{}",
            t.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        ),
        Answer::Raw(s) => format!("raw:{}", s.split_whitespace().collect::<String>()),
    }
}

/// The canonical key of an answer string.
pub fn canonical_form(answer: &str) -> String {
    answer_key(&parse_answer(answer))
}

/// A set of equivalent answers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AnswerGroup {
    /// The canonical key of the group's first member.
    pub key: String,
    /// The first member's answer text.
    pub answer: String,
    /// Indices of the members in the input, in order.
    pub members: Vec<usize>,
}

/// Groups answers by equivalence, in order of first appearance (so a tie between groups goes
/// to the one seen first). Empty answers are left out of every group.
pub fn group_answers<S: AsRef<str>>(answers: &[S]) -> Vec<AnswerGroup> {
    let mut groups: Vec<AnswerGroup> = Vec::new();
    for (i, text) in answers.iter().enumerate() {
        let text = text.as_ref();
        if text.trim().is_empty() {
            continue;
        }
        let key = canonical_form(text);
        let found = groups
            .iter_mut()
            .find(|g| g.key == key || super::is_equivalent(&g.answer, text));
        match found {
            Some(group) => group.members.push(i),
            None => groups.push(AnswerGroup {
                key,
                answer: text.to_string(),
                members: vec![i],
            }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_a_key() {
        let half = canonical_form("\\frac12");
        assert_eq!(half, "q:1/2");
        assert_eq!(canonical_form("0.5"), half);
        assert_eq!(canonical_form("1/2"), half);
        assert_eq!(canonical_form("\\dfrac{1}{2}"), half);
        assert_ne!(
            canonical_form("\\text{west}"),
            canonical_form("\\text{east}")
        );
        assert_eq!(canonical_form("1,-2"), canonical_form("-2, 1"));
    }

    #[test]
    fn later_forms_share_a_key() {
        let same = |a: &str, b: &str| assert_eq!(canonical_form(a), canonical_form(b), "{a} / {b}");
        same("0.\\overline{3}", "\\frac13");
        same("\\binom{9}{4}", "126");
        same("x > 1", "(1,\\infty)");
        same(
            "x < -2 \\text{ or } x > 3",
            "(3,\\infty) \\cup (-\\infty,-2)",
        );
        same("(1, -4)", "\\begin{pmatrix} 1 \\\\ -4 \\end{pmatrix}");
        same("-\\begin{pmatrix} -1 \\\\ 4 \\end{pmatrix}", "(1,-4)");
        same("b=2, a=1", "a=1, b=2");
        same("\\pm\\sqrt{11} - 2", "-2 \\pm \\sqrt{11}");
        same("3x - y + 5 = 0", "y = 3x + 5");
        assert_ne!(canonical_form("x \\ge 1"), canonical_form("(1,\\infty)"));
    }

    #[test]
    fn later_forms_vote_together() {
        let groups = group_answers(&[
            "x > 1",
            "(1,\\infty)",
            "x \\ge 1",
            "1 < x",
            "a=4, b=-7",
            "(4,-7)",
            "b=-7, a=4",
            "0.\\overline{6}",
            "\\frac23",
        ]);
        let members: Vec<Vec<usize>> = groups.into_iter().map(|g| g.members).collect();
        assert_eq!(
            members,
            vec![vec![0, 1, 3], vec![2], vec![4, 5, 6], vec![7, 8]]
        );
    }

    #[test]
    fn grouping_keeps_first_seen_order() {
        let groups = group_answers(&["3", "\\frac{6}{2}", "4", "", "3.0", "\\sqrt{16}"]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].members, vec![0, 1, 4]);
        assert_eq!(groups[1].members, vec![2, 5]);
    }
}
