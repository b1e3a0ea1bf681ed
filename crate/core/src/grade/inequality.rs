//! Inequalities in one variable read as the intervals they describe: "x > 1" is (1, ∞),
//! "-5 \le x \le 2" is [-5, 2], "2 \ge x > 0" is (0, 2], "x \ne 3" is (-∞, 3) ∪ (3, ∞), and
//! inequalities joined by "or" (or by commas, or `\lor`) the union of their intervals. Strict
//! relations give open ends; ∞ ends are open whatever was written. Parts in different
//! variables, bounds with variables in them, or a chain that turns (`1 < x > 3`) read as no
//! interval.

use super::answer::{Answer, split_top};
use super::expr::{Constant, Expr};
use super::parse::parse_expr;

/// A relation between two sides.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Relation {
    /// `<` (strict) or `\le`.
    Less { strict: bool },
    /// `>` (strict) or `\ge`.
    Greater { strict: bool },
    /// `\ne`.
    NotEqual,
}

/// The spellings of each relation, longest first so that `\leq` is not read as `\le` + "q".
const RELATIONS: [(&str, Relation); 18] = [
    ("\\leqslant", Relation::Less { strict: false }),
    ("\\geqslant", Relation::Greater { strict: false }),
    ("\\leq", Relation::Less { strict: false }),
    ("\\geq", Relation::Greater { strict: false }),
    ("\\neq", Relation::NotEqual),
    ("\\le", Relation::Less { strict: false }),
    ("\\ge", Relation::Greater { strict: false }),
    ("\\lt", Relation::Less { strict: true }),
    ("\\gt", Relation::Greater { strict: true }),
    ("\\ne", Relation::NotEqual),
    ("<=", Relation::Less { strict: false }),
    (">=", Relation::Greater { strict: false }),
    ("=<", Relation::Less { strict: false }),
    ("=>", Relation::Greater { strict: false }),
    ("≤", Relation::Less { strict: false }),
    ("≥", Relation::Greater { strict: false }),
    ("<", Relation::Less { strict: true }),
    (">", Relation::Greater { strict: true }),
];

/// Whether `s` may hold a relation at all (a cheap test before any splitting).
fn mentions_relation(s: &str) -> bool {
    s.contains(['<', '>', '≤', '≥'])
        || ["\\le", "\\ge", "\\lt", "\\gt", "\\ne"]
            .iter()
            .any(|r| s.contains(r))
}

/// Splits one inequality at its top-level relations (outside brackets): the sides and the
/// relations between them.
fn split_relations(s: &str) -> (Vec<&str>, Vec<Relation>) {
    let (mut sides, mut relations) = (Vec::new(), Vec::new());
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    let bytes = s.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            let rest = &s[i..];
            let found = RELATIONS.iter().find(|(spelling, _)| {
                rest.starts_with(spelling)
                    && !(spelling.starts_with('\\')
                        && rest[spelling.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
            });
            if let Some((spelling, relation)) = found {
                sides.push(s[start..i].trim());
                relations.push(*relation);
                i += spelling.len();
                start = i;
                continue;
            }
        }
        i += s[i..].chars().next().map_or(1, char::len_utf8);
    }
    sides.push(s[start..].trim());
    (sides, relations)
}

fn infinity(negative: bool) -> Expr {
    let inf = Expr::Const(Constant::Infinity);
    if negative {
        Expr::Neg(Box::new(inf))
    } else {
        inf
    }
}

/// The interval from `lo` to `hi` with the given open/closed ends (∞ ends always open).
fn interval(lo: Expr, lo_open: bool, hi: Expr, hi_open: bool) -> Answer {
    let open = if lo_open || lo.has_infinity() {
        '('
    } else {
        '['
    };
    let close = if hi_open || hi.has_infinity() {
        ')'
    } else {
        ']'
    };
    Answer::Bracketed {
        open,
        close,
        items: vec![Answer::Expr(lo), Answer::Expr(hi)],
    }
}

/// A bound: an expression without variables.
fn bound(s: &str) -> Option<Expr> {
    parse_expr(s).filter(|e| e.variables().is_empty())
}

/// A single variable's name.
fn variable(s: &str) -> Option<String> {
    match parse_expr(s)? {
        Expr::Var(name) => Some(name),
        _ => None,
    }
}

/// `x > a` with the variable on the left: the set it describes.
fn one_sided(relation: Relation, value: Expr) -> Answer {
    match relation {
        Relation::Less { strict } => interval(infinity(true), true, value, strict),
        Relation::Greater { strict } => interval(value, strict, infinity(false), true),
        Relation::NotEqual => Answer::Union(vec![
            interval(infinity(true), true, value.clone(), true),
            interval(value, true, infinity(false), true),
        ]),
    }
}

/// The same relation read from the other side: `a < x` is `x > a`.
fn flipped(relation: Relation) -> Relation {
    match relation {
        Relation::Less { strict } => Relation::Greater { strict },
        Relation::Greater { strict } => Relation::Less { strict },
        Relation::NotEqual => Relation::NotEqual,
    }
}

/// One inequality or chain: its variable and its set.
fn parse_one(s: &str) -> Option<(String, Answer)> {
    let (sides, relations) = split_relations(s);
    match (sides.as_slice(), relations.as_slice()) {
        ([left, right], [relation]) => {
            if let Some(name) = variable(left) {
                return Some((name, one_sided(*relation, bound(right)?)));
            }
            let name = variable(right)?;
            Some((name, one_sided(flipped(*relation), bound(left)?)))
        }
        ([outer_left, middle, outer_right], [first, second]) => {
            let name = variable(middle)?;
            let (a, b) = (bound(outer_left)?, bound(outer_right)?);
            let set = match (*first, *second) {
                (Relation::Less { strict: s1 }, Relation::Less { strict: s2 }) => {
                    interval(a, s1, b, s2)
                }
                (Relation::Greater { strict: s1 }, Relation::Greater { strict: s2 }) => {
                    interval(b, s2, a, s1)
                }
                _ => return None,
            };
            Some((name, set))
        }
        _ => None,
    }
}

/// Reads a normalized answer as inequalities in one variable; `None` when it is not one.
pub(crate) fn parse_inequalities(s: &str) -> Option<Answer> {
    if !mentions_relation(s) {
        return None;
    }
    let mut parts = Vec::new();
    for piece in split_top(s, ",") {
        for piece in split_top(&piece, " or ") {
            for piece in split_top(&piece, "\\lor") {
                parts.extend(split_top(&piece, "\\vee"));
            }
        }
    }
    let mut name: Option<String> = None;
    let mut sets = Vec::new();
    for part in &parts {
        let (variable, set) = parse_one(part)?;
        if name.get_or_insert_with(|| variable.clone()) != &variable {
            return None;
        }
        match set {
            Answer::Union(pieces) => sets.extend(pieces),
            other => sets.push(other),
        }
    }
    Some(if sets.len() == 1 {
        sets.remove(0)
    } else {
        Answer::Union(sets)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brackets(a: &Answer) -> (char, char) {
        match a {
            Answer::Bracketed { open, close, .. } => (*open, *close),
            other => panic!("not an interval: {other:?}"),
        }
    }

    #[test]
    fn single_and_chained_inequalities() {
        let read = |s: &str| parse_inequalities(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(brackets(&read("x > 1")), ('(', ')'));
        assert_eq!(brackets(&read("y \\ge -3")), ('[', ')'));
        assert_eq!(brackets(&read("1 \\geq t")), ('(', ']'));
        assert_eq!(brackets(&read("-5 \\le x \\le 2")), ('[', ']'));
        assert_eq!(brackets(&read("0 < k \\le 6")), ('(', ']'));
        assert_eq!(brackets(&read("2 \\ge x > 0")), ('(', ']'));
        assert_eq!(brackets(&read("x <= 4")), ('(', ']'));
        assert!(matches!(read("x < -2 or x > 3"), Answer::Union(v) if v.len() == 2));
        assert!(matches!(read("x \\ne 3"), Answer::Union(v) if v.len() == 2));
    }

    #[test]
    fn what_is_not_an_interval() {
        for s in [
            "x + 1",
            "1 < x > 3",
            "x > 1, y < 2",
            "x > y",
            "2 < 3",
            "x < 1 < 2 < 3",
            "\\left",
        ] {
            assert_eq!(parse_inequalities(s), None, "{s}");
        }
    }
}
