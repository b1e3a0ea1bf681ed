//! Math expressions of answers: exact rational evaluation where possible, complex floating
//! point evaluation otherwise, with every size (exponents, factorials, digits) bounded.

use num_bigint::BigInt;
use num_complex::Complex64;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use std::collections::{BTreeMap, BTreeSet};

/// Largest |exponent| evaluated exactly.
const MAX_EXACT_EXPONENT: u32 = 64;
/// Largest bit length of a base raised to a power exactly.
const MAX_EXACT_BITS: u64 = 256;
/// Largest n for which n! is evaluated.
const MAX_FACTORIAL: u32 = 170;
/// Largest k for which a binomial coefficient C(n, k) is evaluated (its product has k factors).
const MAX_BINOMIAL_K: u32 = 400;
/// Largest bit length of n times k for which C(n, k) is evaluated exactly (a bound on the size
/// of the product).
const MAX_BINOMIAL_BITS: u64 = 32_768;

/// Named constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Constant {
    /// π.
    Pi,
    /// The imaginary unit i.
    I,
    /// +∞ (intervals).
    Infinity,
}

/// Functions of one argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Func {
    /// Square root (principal branch).
    Sqrt,
    /// sin, cos, tan and their reciprocals.
    Sin,
    /// cos.
    Cos,
    /// tan.
    Tan,
    /// cot = 1 / tan.
    Cot,
    /// sec = 1 / cos.
    Sec,
    /// csc = 1 / sin.
    Csc,
    /// arcsin.
    Asin,
    /// arccos.
    Acos,
    /// arctan.
    Atan,
    /// Natural logarithm.
    Ln,
    /// Base-10 logarithm.
    Log,
    /// e^x.
    Exp,
    /// |x|.
    Abs,
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// An exact number literal: an integer (or a fraction built by the parser).
    Num(BigRational),
    /// A literal written with a decimal point or an exponent (1.25, 6.72e-5): its exact value,
    /// but it may be a rounded one, so comparisons with it allow the numeric tolerance.
    Decimal(BigRational),
    /// π, i, ∞.
    Const(Constant),
    /// A variable: a letter, a subscripted letter, or a Greek letter name.
    Var(String),
    /// -a.
    Neg(Box<Expr>),
    /// a + b.
    Add(Box<Expr>, Box<Expr>),
    /// a - b.
    Sub(Box<Expr>, Box<Expr>),
    /// a * b.
    Mul(Box<Expr>, Box<Expr>),
    /// a / b.
    Div(Box<Expr>, Box<Expr>),
    /// a ^ b.
    Pow(Box<Expr>, Box<Expr>),
    /// The n-th root of a: (index, radicand).
    Root(Box<Expr>, Box<Expr>),
    /// f(a).
    Call(Func, Box<Expr>),
    /// a!.
    Factorial(Box<Expr>),
    /// The binomial coefficient C(n, k): (n, k); `\binom{n}{k}`, `{n \choose k}`.
    Binom(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Whether this is an integer literal.
    pub fn as_integer(&self) -> Option<&BigInt> {
        match self {
            Expr::Num(r) if r.is_integer() => Some(r.numer()),
            _ => None,
        }
    }

    /// The variable names the expression uses.
    pub fn variables(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_variables(&mut out);
        out
    }

    fn collect_variables(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Var(v) => {
                out.insert(v.clone());
            }
            Expr::Num(_) | Expr::Decimal(_) | Expr::Const(_) => {}
            Expr::Neg(a) | Expr::Call(_, a) | Expr::Factorial(a) => a.collect_variables(out),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b)
            | Expr::Binom(a, b) => {
                a.collect_variables(out);
                b.collect_variables(out);
            }
        }
    }

    /// Whether the expression contains a decimal literal (a possibly rounded value).
    pub fn has_decimal(&self) -> bool {
        match self {
            Expr::Decimal(_) => true,
            Expr::Num(_) | Expr::Const(_) | Expr::Var(_) => false,
            Expr::Neg(a) | Expr::Call(_, a) | Expr::Factorial(a) => a.has_decimal(),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b)
            | Expr::Binom(a, b) => a.has_decimal() || b.has_decimal(),
        }
    }

    /// Whether the expression contains ∞.
    pub fn has_infinity(&self) -> bool {
        match self {
            Expr::Const(Constant::Infinity) => true,
            Expr::Num(_) | Expr::Decimal(_) | Expr::Const(_) | Expr::Var(_) => false,
            Expr::Neg(a) | Expr::Call(_, a) | Expr::Factorial(a) => a.has_infinity(),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b)
            | Expr::Binom(a, b) => a.has_infinity() || b.has_infinity(),
        }
    }

    /// The exact rational value, when the expression is built from rationals with + - * /,
    /// integer powers and small factorials only.
    pub fn exact(&self) -> Option<BigRational> {
        Some(match self {
            Expr::Num(r) | Expr::Decimal(r) => r.clone(),
            Expr::Neg(a) => -a.exact()?,
            Expr::Add(a, b) => a.exact()? + b.exact()?,
            Expr::Sub(a, b) => a.exact()? - b.exact()?,
            Expr::Mul(a, b) => a.exact()? * b.exact()?,
            Expr::Div(a, b) => {
                let d = b.exact()?;
                if d.is_zero() {
                    return None;
                }
                a.exact()? / d
            }
            Expr::Pow(a, b) => {
                let exp = b.exact()?;
                if !exp.is_integer() {
                    return None;
                }
                let n = exp.numer().to_i32()?;
                if n.unsigned_abs() > MAX_EXACT_EXPONENT {
                    return None;
                }
                let base = a.exact()?;
                if base.numer().bits() > MAX_EXACT_BITS || base.denom().bits() > MAX_EXACT_BITS {
                    return None;
                }
                if n < 0 && base.is_zero() {
                    return None;
                }
                num_traits::pow::Pow::pow(base, n)
            }
            Expr::Factorial(a) => {
                let n = a.exact()?;
                if !n.is_integer() || n.is_negative() {
                    return None;
                }
                let n = n.numer().to_u32()?;
                if n > 40 {
                    return None;
                }
                BigRational::from_integer((1..=n).map(BigInt::from).product())
            }
            Expr::Binom(n, k) => binomial_exact(&n.exact()?, &k.exact()?)?,
            Expr::Const(_) | Expr::Var(_) | Expr::Root(..) | Expr::Call(..) => return None,
        })
    }

    /// The complex value with the variables bound as in `env`; `None` where undefined
    /// (division by zero, an unbound variable, a factorial of a non-integer).
    pub fn eval(&self, env: &BTreeMap<String, Complex64>) -> Option<Complex64> {
        let value = match self {
            Expr::Num(r) | Expr::Decimal(r) => Complex64::new(rational_to_f64(r)?, 0.0),
            Expr::Const(Constant::Pi) => Complex64::new(std::f64::consts::PI, 0.0),
            Expr::Const(Constant::I) => Complex64::new(0.0, 1.0),
            Expr::Const(Constant::Infinity) => Complex64::new(f64::INFINITY, 0.0),
            Expr::Var(v) => *env.get(v)?,
            Expr::Neg(a) => -a.eval(env)?,
            Expr::Add(a, b) => a.eval(env)? + b.eval(env)?,
            Expr::Sub(a, b) => a.eval(env)? - b.eval(env)?,
            Expr::Mul(a, b) => a.eval(env)? * b.eval(env)?,
            Expr::Div(a, b) => {
                let d = b.eval(env)?;
                if d.norm() == 0.0 {
                    return None;
                }
                a.eval(env)? / d
            }
            Expr::Pow(a, b) => power(a.eval(env)?, b.eval(env)?),
            Expr::Root(n, a) => root(n.eval(env)?, a.eval(env)?)?,
            Expr::Call(f, a) => call(*f, a.eval(env)?)?,
            Expr::Factorial(a) => {
                let n = a.eval(env)?;
                if n.im != 0.0 || n.re < 0.0 || n.re.fract() != 0.0 || n.re > MAX_FACTORIAL as f64 {
                    return None;
                }
                Complex64::new((1..=n.re as u32).map(f64::from).product(), 0.0)
            }
            Expr::Binom(n, k) => binomial(n.eval(env)?, k.eval(env)?)?,
        };
        // -0.0 imaginary parts flip the branch of later square roots and logarithms.
        let value = Complex64::new(value.re, if value.im == 0.0 { 0.0 } else { value.im });
        (!value.re.is_nan() && !value.im.is_nan()).then_some(value)
    }
}

/// C(n, k) = n (n - 1) ... (n - k + 1) / k! exactly, for any rational n (so C(3, 5) = 0 and
/// C(-1, 2) = 1) and an integer k; `None` past [`MAX_BINOMIAL_K`] factors.
fn binomial_exact(n: &BigRational, k: &BigRational) -> Option<BigRational> {
    if !k.is_integer() {
        return None;
    }
    if k.is_negative() {
        return Some(BigRational::zero());
    }
    if n.numer().bits() > MAX_EXACT_BITS || n.denom().bits() > MAX_EXACT_BITS {
        return None;
    }
    let mut k = k.numer().clone();
    if n.is_integer() && !n.is_negative() {
        let whole = n.numer();
        if k > *whole {
            return Some(BigRational::zero());
        }
        // C(n, k) = C(n, n - k): the shorter product.
        k = k.clone().min(whole - &k);
    }
    let k = k.to_u32().filter(|&k| k <= MAX_BINOMIAL_K)?;
    if u64::from(k) * (n.numer().bits() + n.denom().bits()) > MAX_BINOMIAL_BITS {
        return None;
    }
    let one = BigRational::from_integer(BigInt::from(1));
    let mut value = one.clone();
    for i in 0..k {
        let i = BigRational::from_integer(BigInt::from(i));
        value = value * (n - &i) / (i + &one);
    }
    Some(value)
}

/// C(n, k) in floating point for a complex n and a small non-negative integer k.
fn binomial(n: Complex64, k: Complex64) -> Option<Complex64> {
    if !is_real(k) || k.re.fract() != 0.0 || k.re.abs() > f64::from(MAX_BINOMIAL_K) {
        return None;
    }
    if k.re < 0.0 {
        return Some(Complex64::new(0.0, 0.0));
    }
    let mut value = Complex64::new(1.0, 0.0);
    for i in 0..k.re as u32 {
        let i = f64::from(i);
        value = value * (n - i) / (i + 1.0);
    }
    Some(value)
}

fn rational_to_f64(r: &BigRational) -> Option<f64> {
    let v = r.numer().to_f64()? / r.denom().to_f64()?;
    if v.is_finite() {
        Some(v)
    } else {
        // Both parts overflowed: scale down.
        let shift = r.numer().bits().max(r.denom().bits()).saturating_sub(1000);
        let n = (r.numer() >> shift).to_f64()?;
        let d = (r.denom() >> shift).to_f64()?;
        Some(n / d)
    }
}

fn is_real(z: Complex64) -> bool {
    z.im == 0.0
}

fn power(base: Complex64, exp: Complex64) -> Complex64 {
    if is_real(base) && is_real(exp) {
        if exp.re.fract() == 0.0 && exp.re.abs() < 1e9 {
            return Complex64::new(base.re.powi(exp.re as i32), 0.0);
        }
        if base.re >= 0.0 {
            return Complex64::new(base.re.powf(exp.re), 0.0);
        }
    }
    if base.norm() == 0.0 {
        return Complex64::new(0.0, 0.0);
    }
    base.powc(exp)
}

fn root(index: Complex64, radicand: Complex64) -> Option<Complex64> {
    if !is_real(index) || index.re == 0.0 {
        return None;
    }
    let n = index.re;
    if is_real(radicand) {
        // Odd roots of negative reals are real: \sqrt[3]{-8} = -2.
        if radicand.re < 0.0 && n.fract() == 0.0 && (n as i64) % 2 != 0 {
            return Some(Complex64::new(-(-radicand.re).powf(1.0 / n), 0.0));
        }
        if radicand.re >= 0.0 {
            return Some(Complex64::new(radicand.re.powf(1.0 / n), 0.0));
        }
    }
    Some(radicand.powc(Complex64::new(1.0 / n, 0.0)))
}

fn call(f: Func, z: Complex64) -> Option<Complex64> {
    let one = Complex64::new(1.0, 0.0);
    let value = match f {
        Func::Sqrt => {
            if is_real(z) && z.re >= 0.0 {
                Complex64::new(z.re.sqrt(), 0.0)
            } else if is_real(z) {
                Complex64::new(0.0, (-z.re).sqrt())
            } else {
                z.sqrt()
            }
        }
        Func::Sin => z.sin(),
        Func::Cos => z.cos(),
        Func::Tan => z.tan(),
        Func::Cot => one / z.tan(),
        Func::Sec => one / z.cos(),
        Func::Csc => one / z.sin(),
        Func::Asin => z.asin(),
        Func::Acos => z.acos(),
        Func::Atan => z.atan(),
        Func::Ln => {
            if z.norm() == 0.0 {
                return None;
            }
            z.ln()
        }
        Func::Log => {
            if z.norm() == 0.0 {
                return None;
            }
            z.ln() / std::f64::consts::LN_10
        }
        Func::Exp => z.exp(),
        Func::Abs => Complex64::new(z.norm(), 0.0),
    };
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(n: i64) -> Box<Expr> {
        Box::new(Expr::Num(BigRational::from_integer(n.into())))
    }

    #[test]
    fn exact_arithmetic() {
        let e = Expr::Div(num(6), Box::new(Expr::Pow(num(2), num(3))));
        assert_eq!(e.exact(), Some(BigRational::new(3.into(), 4.into())));
        assert_eq!(Expr::Div(num(1), num(0)).exact(), None);
        assert_eq!(Expr::Pow(num(2), num(100)).exact(), None, "exponent bound");
        assert_eq!(
            Expr::Factorial(num(5)).exact(),
            Some(BigRational::from_integer(120.into()))
        );
        let binom = |n: i64, k: i64| Expr::Binom(num(n), num(k)).exact();
        assert_eq!(binom(9, 4), Some(BigRational::from_integer(126.into())));
        assert_eq!(binom(9, 9), Some(BigRational::from_integer(1.into())));
        assert_eq!(binom(3, 5), Some(BigRational::zero()));
        assert_eq!(binom(5, -1), Some(BigRational::zero()));
        assert_eq!(binom(-1, 2), Some(BigRational::from_integer(1.into())));
        assert_eq!(
            binom(5000, 2),
            Some(BigRational::from_integer(12_497_500.into()))
        );
        assert_eq!(
            binom(5000, 4998),
            Some(BigRational::from_integer(12_497_500.into()))
        );
        assert_eq!(binom(5000, 2500).map(|_| ()), None, "factor bound");
    }

    #[test]
    fn complex_and_real_roots() {
        let env = BTreeMap::new();
        let cube = Expr::Root(num(3), Box::new(Expr::Neg(num(8))));
        assert_eq!(cube.eval(&env), Some(Complex64::new(-2.0, 0.0)));
        let sq = Expr::Call(Func::Sqrt, Box::new(Expr::Neg(num(4))));
        assert_eq!(sq.eval(&env), Some(Complex64::new(0.0, 2.0)));
    }
}
