//! Equivalence of parsed answers: exact rationals first, then complex values within a
//! relative tolerance, expressions with variables at random points, and structure-aware
//! comparison of lists, tuples, intervals, unions, matrices and assignments.
//!
//! Across kinds: a tuple "(a, b, c)" is the column vector with those entries (an n x 1 matrix,
//! n >= 2; never a 1 x n row matrix, and never a "[a, b, c]" list); assignments "a = 4, b = -7"
//! are compared by name with assignments, in the order written with a tuple or a column
//! vector, and as a list of values with an unordered list; "y = 3x + 5" equals the expression
//! "3x + 5" (a variable alone on one side, absent from the other).

use super::answer::{Answer, is_infinite};
use super::expr::Expr;
use num_complex::Complex64;
use std::collections::{BTreeMap, BTreeSet};

/// Relative tolerance of numeric comparison.
pub const RELATIVE_TOLERANCE: f64 = 1e-4;
/// Values closer than this to each other are equal whatever their size.
const ABSOLUTE_FLOOR: f64 = 1e-9;
/// Tolerance when comparing two expressions at random points (same formula, float noise only).
const POINT_TOLERANCE: f64 = 1e-6;
/// Points tried, and points that must evaluate on both sides.
const POINTS: usize = 8;
const POINTS_NEEDED: usize = 3;
/// Largest list matched item by item.
const MAX_ITEMS: usize = 64;

/// Deterministic sample points for the variables: reals in [0.31, 2.9] from a fixed sequence,
/// so the same comparison always gives the same verdict.
pub(crate) fn sample_points(vars: &BTreeSet<String>) -> Vec<BTreeMap<String, Complex64>> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..POINTS)
        .map(|_| {
            vars.iter()
                .map(|v| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
                    (v.clone(), Complex64::new(0.31 + 2.59 * unit, 0.0))
                })
                .collect()
        })
        .collect()
}

/// Whether two complex values agree within `rel` (or both are the same infinity).
pub(crate) fn close(a: Complex64, b: Complex64, rel: f64) -> bool {
    if a.re.is_infinite() || b.re.is_infinite() {
        return a.re == b.re && a.im == b.im;
    }
    let scale = a.norm().max(b.norm());
    (a - b).norm() <= ABSOLUTE_FLOOR.max(rel * scale)
}

/// Whether two expressions are equal: exactly, numerically, or at random points.
pub fn expr_equivalent(a: &Expr, b: &Expr) -> bool {
    if let (Some(x), Some(y)) = (a.exact(), b.exact()) {
        // Exact forms compare exactly (123456 is not 123457); a decimal may be a rounded value
        // and gets the relative tolerance (4.66667 is 14/3).
        if x == y || !(a.has_decimal() || b.has_decimal()) {
            return x == y;
        }
    }
    if a.has_infinity() || b.has_infinity() {
        return is_infinite(a) && is_infinite(b) && same_value(a, b, &BTreeMap::new(), 0.0);
    }
    // Over the union of both sides' variables: "\sin^2 x + \cos^2 x" equals 1, "2n" is not "2k".
    let mut vars = a.variables();
    vars.extend(b.variables());
    if vars.is_empty() {
        return same_value(a, b, &BTreeMap::new(), RELATIVE_TOLERANCE);
    }
    let mut agreed = 0;
    for env in sample_points(&vars) {
        match (a.eval(&env), b.eval(&env)) {
            (Some(x), Some(y)) => {
                if !close(x, y, POINT_TOLERANCE) {
                    return false;
                }
                agreed += 1;
            }
            (None, None) => {}
            // Defined on one side only: different functions.
            _ => return false,
        }
    }
    agreed >= POINTS_NEEDED
}

fn same_value(a: &Expr, b: &Expr, env: &BTreeMap<String, Complex64>, rel: f64) -> bool {
    match (a.eval(env), b.eval(env)) {
        (Some(x), Some(y)) => close(x, y, rel),
        _ => false,
    }
}

/// Whether two equations describe the same relation: lhs - rhs proportional on both sides.
fn equations_equivalent(l1: &Expr, r1: &Expr, l2: &Expr, r2: &Expr) -> bool {
    let d1 = Expr::Sub(Box::new(l1.clone()), Box::new(r1.clone()));
    let d2 = Expr::Sub(Box::new(l2.clone()), Box::new(r2.clone()));
    let mut vars = d1.variables();
    vars.extend(d2.variables());
    let mut ratio: Option<Complex64> = None;
    let mut agreed = 0;
    for env in sample_points(&vars) {
        let (Some(x), Some(y)) = (d1.eval(&env), d2.eval(&env)) else {
            continue;
        };
        if y.norm() < ABSOLUTE_FLOOR {
            if x.norm() >= ABSOLUTE_FLOOR {
                return false;
            }
            continue;
        }
        let r = x / y;
        match ratio {
            None => ratio = Some(r),
            Some(first) if !close(first, r, POINT_TOLERANCE) => return false,
            Some(_) => {}
        }
        agreed += 1;
    }
    agreed >= POINTS_NEEDED && ratio.is_some_and(|r| r.norm() > ABSOLUTE_FLOOR)
}

/// Whether each item of `a` matches a distinct item of `b` (same lengths).
fn unordered_match(a: &[Answer], b: &[Answer]) -> bool {
    if a.len() != b.len() || a.len() > MAX_ITEMS {
        return false;
    }
    let mut used = vec![false; b.len()];
    // Greedy is exact here: equivalence is an equivalence relation on well-formed answers.
    'outer: for x in a {
        for (j, y) in b.iter().enumerate() {
            if !used[j] && answers_equivalent(x, y) {
                used[j] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

/// The entries of a tuple "(a, b)" or of a column vector (n x 1, n >= 2), in order.
pub(crate) fn as_tuple(a: &Answer) -> Option<Vec<&Answer>> {
    match a {
        Answer::Bracketed {
            open: '(',
            close: ')',
            items,
        } => Some(items.iter().collect()),
        Answer::Matrix(rows) if rows.len() >= 2 && rows.iter().all(|r| r.len() == 1) => {
            Some(rows.iter().map(|r| &r[0]).collect())
        }
        _ => None,
    }
}

/// The value an equation gives a variable standing alone on one side ("y = 3x + 5" gives
/// "3x + 5"), when the variable is absent from the other side.
fn defined_value<'a>(lhs: &'a Expr, rhs: &'a Expr) -> Option<&'a Expr> {
    match (lhs, rhs) {
        (Expr::Var(v), other) | (other, Expr::Var(v)) if !other.variables().contains(v) => {
            Some(other)
        }
        _ => None,
    }
}

/// Whether two sets of assignments give every variable the same value.
fn same_assignments(a: &[(String, Answer)], b: &[(String, Answer)]) -> bool {
    a.len() == b.len()
        && a.iter().all(|(name, value)| {
            b.iter()
                .any(|(other, v)| other == name && answers_equivalent(value, v))
        })
}

fn in_order(a: &[&Answer], b: &[&Answer]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(p, q)| answers_equivalent(p, q))
}

fn letters(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two parsed answers are equivalent.
pub fn answers_equivalent(a: &Answer, b: &Answer) -> bool {
    use Answer::*;
    match (a, b) {
        (Expr(x), Expr(y)) => expr_equivalent(x, y),
        (Equation(l1, r1), Equation(l2, r2)) => equations_equivalent(l1, r1, l2, r2),
        (Equation(l, r), Expr(e)) | (Expr(e), Equation(l, r)) => {
            defined_value(l, r).is_some_and(|v| expr_equivalent(v, e))
        }
        (Assignments(x), Assignments(y)) => same_assignments(x, y),
        (Assignments(x), Unordered(y)) | (Unordered(y), Assignments(x)) => {
            let values: Vec<Answer> = x.iter().map(|(_, v)| v.clone()).collect();
            unordered_match(&values, y)
        }
        (Assignments(x), other) | (other, Assignments(x)) => as_tuple(other)
            .is_some_and(|t| in_order(&x.iter().map(|(_, v)| v).collect::<Vec<_>>(), &t)),
        (Unordered(x), Unordered(y)) => unordered_match(x, y),
        // A one-item list is its item.
        (Unordered(x), other) | (other, Unordered(x)) if x.len() == 1 => {
            answers_equivalent(&x[0], other)
        }
        (
            Bracketed {
                open: o1,
                close: c1,
                items: x,
            },
            Bracketed {
                open: o2,
                close: c2,
                items: y,
            },
        ) => {
            o1 == o2
                && c1 == c2
                && x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| answers_equivalent(p, q))
        }
        (Union(x), Union(y)) => unordered_match(x, y),
        (Bracketed { .. }, Matrix(_)) | (Matrix(_), Bracketed { .. }) => {
            matches!((as_tuple(a), as_tuple(b)), (Some(x), Some(y)) if in_order(&x, &y))
        }
        (Matrix(x), Matrix(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(r, s)| {
                    r.len() == s.len() && r.iter().zip(s).all(|(p, q)| answers_equivalent(p, q))
                })
        }
        (
            BaseN {
                digits: d1,
                base: b1,
            },
            BaseN {
                digits: d2,
                base: b2,
            },
        ) => b1 == b2 && d1.trim_start_matches('0') == d2.trim_start_matches('0'),
        // The base subscript left off: "52" for "52_8" (the digits must match, not the value).
        (BaseN { digits, .. }, Expr(e)) | (Expr(e), BaseN { digits, .. }) => e
            .as_integer()
            .is_some_and(|n| n.to_string() == digits.trim_start_matches('0')),
        (Choice(x), Choice(y)) => x == y,
        (Choice(c), Text(t)) | (Text(t), Choice(c)) => {
            letters(t) == c.to_ascii_lowercase().to_string()
        }
        (Text(x), Text(y)) => letters(x) == letters(y),
        (Raw(x), Raw(y)) => x.split_whitespace().eq(y.split_whitespace()),
        _ => false,
    }
}
