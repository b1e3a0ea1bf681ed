//! Tokenizer and recursive-descent parser from normalized LaTeX to [`Expr`].
//!
//! Handles implicit multiplication (2x, 3\sqrt{2}, 2\pi r), mixed numbers (1\frac{4}{5}),
//! \frac and \sqrt with one-character arguments (\frac43, \sqrt2), roots with an index,
//! functions (\sin x, \ln(2)), powers, factorials, binomial coefficients (\binom{9}{4},
//! {9 \choose 4}), repeating decimals (0.1\overline{6}, 0.\dot{3}, 0.(3)) and absolute
//! values. Depth is bounded.

use super::expr::{Constant, Expr, Func};
use num_bigint::BigInt;
use num_rational::BigRational;

/// Deepest nesting the parser follows.
const MAX_DEPTH: usize = 100;
/// Longest number literal accepted (digits).
const MAX_DIGITS: usize = 80;

/// A lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Digits with at most one '.'.
    Num(String),
    /// A repeating decimal: the digits written before the repeating block (with their '.')
    /// and the block: "0.1\overline{6}" is ("0.1", "6").
    Repeating(String, String),
    /// One ASCII letter.
    Letter(char),
    /// `\name`, or `\{`, `\}`, `\\` (name "{", "}", "\\").
    Cmd(String),
    /// Any other character.
    Sym(char),
}

/// Splits a normalized answer into tokens (whitespace dropped).
pub(crate) fn tokenize(s: &str) -> Vec<Tok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            let mut dot = false;
            while i < chars.len() && (chars[i].is_ascii_digit() || (chars[i] == '.' && !dot)) {
                dot |= chars[i] == '.';
                i += 1;
            }
            let mut text: String = chars[start..i].iter().collect();
            // Scientific notation written out: 6.72e-5, 1E3.
            if matches!(chars.get(i), Some('e' | 'E')) {
                let mut j = i + 1;
                if matches!(chars.get(j), Some('+' | '-')) {
                    j += 1;
                }
                let digits_from = j;
                while chars.get(j).is_some_and(char::is_ascii_digit) {
                    j += 1;
                }
                let letter_after = chars.get(j).is_some_and(|c| c.is_ascii_alphabetic());
                if j > digits_from && !letter_after {
                    text.push('e');
                    text.extend(&chars[i + 1..j]);
                    i = j;
                }
            }
            let decimal = text.contains('.') && !text.contains('e');
            match decimal.then(|| repeating_block(&chars, i)).flatten() {
                Some((block, end)) => {
                    out.push(Tok::Repeating(text, block));
                    i = end;
                }
                None => out.push(Tok::Num(text)),
            }
        } else if c.is_ascii_alphabetic() {
            out.push(Tok::Letter(c));
            i += 1;
        } else if c == '\\' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            if j == start {
                // \{ \} \\ \| and friends: one character.
                match chars.get(start) {
                    Some(&n) => {
                        out.push(Tok::Cmd(n.to_string()));
                        i = start + 1;
                    }
                    None => i = start,
                }
            } else {
                out.push(Tok::Cmd(chars[start..j].iter().collect()));
                i = j;
            }
        } else {
            out.push(Tok::Sym(c));
            i += 1;
        }
    }
    out
}

/// The repeating block written right after a decimal's digits (at `chars[at..]`):
/// `\overline{27}` or `\bar{27}`, `\dot{3}` (one digit) or `\dot{1}4\dot{2}` (from the first
/// dotted digit to the last), or `(3)` with no space before it. Returns the block's digits and
/// the index after it.
fn repeating_block(chars: &[char], at: usize) -> Option<(String, usize)> {
    let rest: String = chars[at..chars.len().min(at + MAX_DIGITS + 16)]
        .iter()
        .collect();
    let digits_in = |inner: &str| {
        (!inner.is_empty()
            && inner.len() <= MAX_DIGITS
            && inner.chars().all(|c| c.is_ascii_digit()))
        .then(|| inner.to_string())
    };
    // "\overline{27}", "\bar{27}", "(27)": a delimited block.
    for (open, close) in [("\\overline{", '}'), ("\\bar{", '}'), ("(", ')')] {
        if let Some(after) = rest.strip_prefix(open) {
            let inner = after.split(close).next()?;
            if after.len() > inner.len() {
                let block = digits_in(inner)?;
                return Some((block, at + open.chars().count() + inner.chars().count() + 1));
            }
        }
    }
    // "\dot{3}", "\dot 3", "\dot{1}4\dot{2}".
    let dotted_digit = |j: usize| -> Option<(char, usize)> {
        let tail: String = chars[j..chars.len().min(j + 7)].iter().collect();
        if let Some(r) = tail.strip_prefix("\\dot{") {
            let mut it = r.chars();
            let digit = it.next().filter(char::is_ascii_digit)?;
            (it.next() == Some('}')).then_some((digit, j + 7))
        } else {
            let r = tail.strip_prefix("\\dot ")?;
            let digit = r.chars().next().filter(char::is_ascii_digit)?;
            Some((digit, j + 6))
        }
    };
    let (mut block, mut between, mut end, mut j) = (String::new(), String::new(), None, at);
    loop {
        if let Some((digit, next)) = dotted_digit(j) {
            // Digits between two dotted ones belong to the block.
            block.push_str(&between);
            between.clear();
            block.push(digit);
            j = next;
            end = Some(j);
        } else if end.is_some() && chars.get(j).is_some_and(char::is_ascii_digit) {
            between.push(chars[j]);
            j += 1;
        } else {
            break;
        }
        if block.len() + between.len() > MAX_DIGITS {
            return None;
        }
    }
    end.map(|end| (block, end))
}

/// The exact value of a repeating decimal: "0.1" with block "6" is 1/6.
fn repeating_value(written: &str, block: &str) -> Option<BigRational> {
    let before = parse_number(written)?;
    let decimals = written.split_once('.').map_or(0, |(_, f)| f.len()) as u32;
    let block_value: BigInt = block.parse().ok()?;
    let ten = BigInt::from(10u32);
    let denom = (ten.pow(block.len() as u32) - 1u32) * ten.pow(decimals);
    Some(before + BigRational::new(block_value, denom))
}

/// Parses a number literal exactly ("1.25" -> 5/4, ".5" -> 1/2).
pub(crate) fn parse_number(text: &str) -> Option<BigRational> {
    if text.len() > MAX_DIGITS {
        return None;
    }
    let (text, exponent) = match text.split_once('e') {
        Some((mantissa, exp)) => (mantissa, exp.parse::<i32>().ok()?),
        None => (text, 0),
    };
    if exponent.unsigned_abs() > MAX_DIGITS as u32 {
        return None;
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{int}{frac}");
    let numer: BigInt = if digits.is_empty() {
        return None;
    } else {
        digits.parse().ok()?
    };
    let denom = BigInt::from(10u32).pow(frac.len() as u32);
    let scale = BigRational::from_integer(BigInt::from(10u32).pow(exponent.unsigned_abs()));
    let value = BigRational::new(numer, denom);
    Some(if exponent >= 0 {
        value * scale
    } else {
        value / scale
    })
}

fn func_named(name: &str) -> Option<Func> {
    Some(match name {
        "sin" => Func::Sin,
        "cos" => Func::Cos,
        "tan" => Func::Tan,
        "cot" => Func::Cot,
        "sec" => Func::Sec,
        "csc" => Func::Csc,
        "arcsin" => Func::Asin,
        "arccos" => Func::Acos,
        "arctan" => Func::Atan,
        "ln" => Func::Ln,
        "log" => Func::Log,
        "exp" => Func::Exp,
        _ => return None,
    })
}

const GREEK: [&str; 24] = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "omega",
];

/// The parser state over a token list.
pub(crate) struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

type Parsed = Option<Expr>;

impl Parser {
    pub(crate) fn new(toks: Vec<Tok>) -> Self {
        Self {
            toks,
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat_sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_cmd(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Cmd(n)) if n == name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Parses the whole token list as one expression.
    pub(crate) fn parse_all(mut self) -> Parsed {
        let e = self.sum()?;
        (self.pos == self.toks.len()).then_some(e)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn sum(&mut self) -> Parsed {
        self.enter()?;
        let mut left = self.product()?;
        loop {
            if self.eat_sym('+') {
                left = Expr::Add(Box::new(left), Box::new(self.product()?));
            } else if self.eat_sym('-') {
                left = Expr::Sub(Box::new(left), Box::new(self.product()?));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Some(left)
    }

    fn starts_primary(&self) -> bool {
        match self.peek() {
            Some(Tok::Num(_) | Tok::Repeating(..) | Tok::Letter(_)) => true,
            Some(Tok::Sym(c)) => matches!(c, '(' | '{' | '['),
            Some(Tok::Cmd(name)) => {
                matches!(
                    name.as_str(),
                    "frac" | "sqrt" | "binom" | "pi" | "infty" | "infinity"
                ) || func_named(name).is_some()
                    || GREEK.contains(&name.as_str())
            }
            None => false,
        }
    }

    fn product(&mut self) -> Parsed {
        let mut left = self.unary()?;
        loop {
            if self.eat_sym('*') || self.eat_cmd("cdot") || self.eat_cmd("times") {
                left = Expr::Mul(Box::new(left), Box::new(self.unary()?));
            } else if self.eat_sym('/') || self.eat_cmd("div") {
                left = Expr::Div(Box::new(left), Box::new(self.unary()?));
            } else if self.starts_primary() {
                left = Expr::Mul(Box::new(left), Box::new(self.power()?));
            } else {
                break;
            }
        }
        Some(left)
    }

    fn unary(&mut self) -> Parsed {
        self.enter()?;
        let e = if self.eat_sym('-') {
            Expr::Neg(Box::new(self.unary()?))
        } else if self.eat_sym('+') {
            self.unary()?
        } else {
            self.power()?
        };
        self.depth -= 1;
        Some(e)
    }

    fn power(&mut self) -> Parsed {
        let base = self.postfix()?;
        if self.eat_sym('^') {
            let exp = self.script()?;
            return Some(Expr::Pow(Box::new(base), Box::new(exp)));
        }
        Some(base)
    }

    /// An exponent: `{...}`, or a signed single primary (`x^2`, `x^-1`, `e^x`).
    fn script(&mut self) -> Parsed {
        self.enter()?;
        let e = if self.eat_sym('{') {
            let e = self.sum()?;
            self.eat_sym('}').then_some(e)?
        } else if self.eat_sym('-') {
            Expr::Neg(Box::new(self.postfix()?))
        } else {
            self.postfix()?
        };
        self.depth -= 1;
        Some(e)
    }

    fn postfix(&mut self) -> Parsed {
        let mut e = self.primary()?;
        while self.eat_sym('!') {
            e = Expr::Factorial(Box::new(e));
        }
        Some(e)
    }

    /// A `\frac` or `\sqrt` argument: `{...}`, or one character (`\frac43`, `\sqrt2`, `\frac xy`).
    fn argument(&mut self) -> Parsed {
        match self.peek().cloned() {
            Some(Tok::Sym('{')) => {
                self.pos += 1;
                let e = self.sum()?;
                self.eat_sym('}').then_some(e)
            }
            Some(Tok::Num(text)) => {
                let mut chars = text.chars();
                let first = chars.next()?;
                let rest: String = chars.collect();
                if rest.is_empty() || first == '.' {
                    self.pos += 1;
                    let value = parse_number(&text)?;
                    Some(if text.contains(['.', 'e']) {
                        Expr::Decimal(value)
                    } else {
                        Expr::Num(value)
                    })
                } else {
                    // Take one digit, leave the rest as the next token.
                    self.toks[self.pos] = Tok::Num(rest);
                    Some(Expr::Num(parse_number(&first.to_string())?))
                }
            }
            Some(Tok::Letter(_) | Tok::Cmd(_)) => self.primary(),
            _ => None,
        }
    }

    /// A `{...}` group, or the binomial coefficient `{n \choose k}`.
    fn braced(&mut self) -> Parsed {
        let e = self.sum()?;
        if self.eat_cmd("choose") {
            let k = self.sum()?;
            return self
                .eat_sym('}')
                .then(|| Expr::Binom(Box::new(e), Box::new(k)));
        }
        self.eat_sym('}').then_some(e)
    }

    fn grouped(&mut self, close: char) -> Parsed {
        let e = self.sum()?;
        self.eat_sym(close).then_some(e)
    }

    fn primary(&mut self) -> Parsed {
        self.enter()?;
        let e = match self.next()? {
            Tok::Num(text) => {
                let value = parse_number(&text)?;
                if text.contains(['.', 'e']) {
                    Expr::Decimal(value)
                } else {
                    self.mixed_number(Expr::Num(value))
                }
            }
            Tok::Repeating(written, block) => Expr::Num(repeating_value(&written, &block)?),
            Tok::Letter('i') => Expr::Const(Constant::I),
            Tok::Letter(c) => self.subscripted(c.to_string())?,
            Tok::Sym('(') => self.grouped(')')?,
            Tok::Sym('[') => self.grouped(']')?,
            Tok::Sym('{') => self.braced()?,
            Tok::Sym('|') => Expr::Call(Func::Abs, Box::new(self.grouped('|')?)),
            Tok::Cmd(name) => self.command(&name)?,
            Tok::Sym(_) => return None,
        };
        self.depth -= 1;
        Some(e)
    }

    /// `1\frac{4}{5}` is the mixed number 1 + 4/5 (integer literals only).
    fn mixed_number(&mut self, whole: Expr) -> Expr {
        let Some(int) = whole.as_integer().cloned() else {
            return whole;
        };
        if !matches!(self.peek(), Some(Tok::Cmd(n)) if n == "frac") {
            return whole;
        }
        let saved = (self.pos, self.toks.clone(), self.depth);
        self.pos += 1;
        let num = self.argument();
        let den = self.argument();
        if let (Some(Expr::Num(n)), Some(Expr::Num(d))) = (&num, &den) {
            if n.is_integer() && d.is_integer() && *d.numer() != BigInt::from(0) {
                let frac = BigRational::new(n.numer().clone(), d.numer().clone());
                let value = if int < BigInt::from(0) {
                    BigRational::from_integer(int) - frac
                } else {
                    BigRational::from_integer(int) + frac
                };
                return Expr::Num(value);
            }
        }
        (self.pos, self.toks, self.depth) = saved;
        whole
    }

    /// A variable with an optional subscript: x, x_1, x_{12}, a_n.
    fn subscripted(&mut self, mut name: String) -> Option<Expr> {
        if self.eat_sym('_') {
            name.push('_');
            match self.next()? {
                Tok::Num(n) => name.push_str(&n),
                Tok::Letter(c) => name.push(c),
                Tok::Sym('{') => {
                    while let Some(t) = self.next() {
                        match t {
                            Tok::Sym('}') => break,
                            Tok::Num(n) => name.push_str(&n),
                            Tok::Letter(c) => name.push(c),
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
        }
        Some(Expr::Var(name))
    }

    fn command(&mut self, name: &str) -> Option<Expr> {
        Some(match name {
            "frac" => {
                let num = self.argument()?;
                let den = self.argument()?;
                Expr::Div(Box::new(num), Box::new(den))
            }
            "binom" => {
                let n = self.argument()?;
                let k = self.argument()?;
                Expr::Binom(Box::new(n), Box::new(k))
            }
            "sqrt" => {
                if self.eat_sym('[') {
                    let index = self.grouped(']')?;
                    Expr::Root(Box::new(index), Box::new(self.argument()?))
                } else {
                    Expr::Call(Func::Sqrt, Box::new(self.argument()?))
                }
            }
            "pi" => Expr::Const(Constant::Pi),
            "infty" | "infinity" => Expr::Const(Constant::Infinity),
            g if GREEK.contains(&g) => self.subscripted(g.to_string())?,
            f => {
                let func = func_named(f)?;
                // \sin^2 x = (\sin x)^2.
                let power = if self.eat_sym('^') {
                    Some(self.script()?)
                } else {
                    None
                };
                let arg = match self.peek() {
                    Some(Tok::Sym('(' | '{')) => self.primary()?,
                    _ => self.product_argument()?,
                };
                let call = Expr::Call(func, Box::new(arg));
                match power {
                    Some(p) => Expr::Pow(Box::new(call), Box::new(p)),
                    None => call,
                }
            }
        })
    }

    /// The argument of a function written without parentheses: `\sin 2x` is sin(2x).
    fn product_argument(&mut self) -> Parsed {
        let mut e = self.power()?;
        while matches!(self.peek(), Some(Tok::Num(_) | Tok::Letter(_))) {
            e = Expr::Mul(Box::new(e), Box::new(self.power()?));
        }
        Some(e)
    }
}

/// Parses a normalized string as one expression.
pub fn parse_expr(s: &str) -> Option<Expr> {
    let toks = tokenize(s);
    if toks.is_empty() {
        return None;
    }
    Parser::new(toks).parse_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn value(s: &str) -> f64 {
        let e = parse_expr(s).unwrap_or_else(|| panic!("{s} does not parse"));
        let z = e
            .eval(&BTreeMap::new())
            .unwrap_or_else(|| panic!("{s} does not evaluate"));
        assert!(z.im.abs() < 1e-12, "{s} is complex");
        z.re
    }

    #[test]
    fn literals_and_latex_forms() {
        assert_eq!(value("\\frac43"), 4.0 / 3.0);
        assert_eq!(value("\\frac 59"), 5.0 / 9.0);
        assert_eq!(value("\\frac9{19}"), 9.0 / 19.0);
        assert_eq!(value("\\frac{270}7"), 270.0 / 7.0);
        assert_eq!(value("11\\sqrt2"), 11.0 * 2f64.sqrt());
        assert_eq!(value("1\\frac{4}{5}"), 1.8);
        assert_eq!(value("137 \\frac{1}{2}"), 137.5);
        assert_eq!(value(".0000672"), 0.0000672);
        assert_eq!(value("6.72e-5"), 0.0000672);
        assert_eq!(value("1E3"), 1000.0);
        assert_eq!(value("2^{10}"), 1024.0);
        assert_eq!(value("\\sqrt[3]{27}"), 3.0);
        assert_eq!(value("5!"), 120.0);
        assert_eq!(value("|-3|"), 3.0);
        assert!((value("\\frac{3\\sqrt{3}}{4}") - 3.0 * 3f64.sqrt() / 4.0).abs() < 1e-15);
        assert_eq!(value("\\binom{9}{4}"), 126.0);
        assert_eq!(value("\\binom94"), 126.0);
        assert_eq!(value("{9 \\choose 4}"), 126.0);
        assert_eq!(value("2\\binom{4}{2}\\binom{3}{1}"), 36.0);
    }

    fn exact(s: &str) -> BigRational {
        parse_expr(s)
            .and_then(|e| e.exact())
            .unwrap_or_else(|| panic!("{s} has no exact value"))
    }

    #[test]
    fn repeating_decimals_are_exact() {
        let q = |n: i64, d: i64| BigRational::new(n.into(), d.into());
        assert_eq!(exact("0.\\overline{7}"), q(7, 9));
        assert_eq!(exact("2.\\overline{1}"), q(19, 9));
        assert_eq!(exact("0.1\\overline{6}"), q(1, 6));
        assert_eq!(exact("0.41\\overline{2}"), q(371, 900));
        assert_eq!(exact("0.\\overline{27}"), q(3, 11));
        assert_eq!(exact("0.\\bar{3}"), q(1, 3));
        assert_eq!(exact("0.(3)"), q(1, 3));
        assert_eq!(exact("0.1(6)"), q(1, 6));
        assert_eq!(exact("0.\\dot{3}"), q(1, 3));
        assert_eq!(exact("0.\\dot 3"), q(1, 3));
        assert_eq!(exact("0.\\dot{1}\\dot{8}"), q(2, 11));
        assert_eq!(exact("0.\\dot{1}4\\dot{2}"), q(142, 999));
        assert_eq!(exact("-1.\\overline{9}"), q(-2, 1));
        // Not a repeating block: an integer before parentheses multiplies.
        assert_eq!(exact("2(3)"), q(6, 1));
        assert!(parse_expr("0.\\overline{x}").is_none());
    }

    #[test]
    fn implicit_multiplication_and_precedence() {
        assert_eq!(value("2\\cdot3+4"), 10.0);
        assert_eq!(value("2(3+4)"), 14.0);
        assert_eq!(value("-2^2"), -4.0);
        assert_eq!(value("12\\pi"), 12.0 * std::f64::consts::PI);
        assert_eq!(value("6/2(1+2)"), 9.0);
    }

    #[test]
    fn functions_and_variables() {
        let e = parse_expr("\\sin 2x").unwrap();
        let env = BTreeMap::from([("x".to_string(), num_complex::Complex64::new(0.5, 0.0))]);
        assert!((e.eval(&env).unwrap().re - 1f64.sin()).abs() < 1e-15);
        assert_eq!(parse_expr("x_1 + a_{12}").unwrap().variables().len(), 2);
        assert!(parse_expr("3+").is_none());
        assert!(parse_expr("(1").is_none());
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "(".repeat(5000) + "1" + &")".repeat(5000);
        assert!(parse_expr(&deep).is_none());
    }
}
