//! The compiled form: one typed node enum per result type, specialised nodes for the shapes
//! rules use most (a slot against a constant, string set membership), evaluated by matching.
//! "No value" (an absent slot, a slot of the wrong type, an arithmetic error) is `None`.

use std::borrow::Cow;

use regex::Regex;

use crate::{Env, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    #[inline]
    pub(crate) fn apply<T: PartialOrd + ?Sized>(self, a: &T, b: &T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }

    /// The operator with its operands swapped: `a < b` is `b > a`.
    pub(crate) fn flip(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A set of string literals, sorted by length then bytes: a probe of the wrong length is
/// rejected without touching string bytes.
#[derive(Debug)]
pub(crate) struct StrSet(Box<[Box<str>]>);

impl StrSet {
    pub(crate) fn new(mut items: Vec<Box<str>>) -> Self {
        items.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        items.dedup();
        StrSet(items.into_boxed_slice())
    }

    #[inline]
    pub(crate) fn contains(&self, s: &str) -> bool {
        self.0.binary_search_by(|p| p.len().cmp(&s.len()).then_with(|| p.as_bytes().cmp(s.as_bytes()))).is_ok()
    }
}

#[derive(Debug)]
pub(crate) enum B {
    Const(Option<bool>),
    Slot(usize),
    /// `has(slot)` when the flag is true, `slot == null` when false.
    Present(usize, bool),
    Not(Box<B>),
    And(Box<[B]>),
    Or(Box<[B]>),
    Cond(Box<(B, B, B)>),
    /// `==` or `!=` between bools.
    CmpBool(Cmp, Box<(B, B)>),
    CmpI(Cmp, Box<(I, I)>),
    CmpD(Cmp, Box<(D, D)>),
    CmpS(Cmp, Box<(S, S)>),
    SlotIntCmp {
        slot: usize,
        op: Cmp,
        k: i64,
    },
    SlotDoubleCmp {
        slot: usize,
        op: Cmp,
        k: f64,
    },
    SlotStrEq {
        slot: usize,
        k: Box<str>,
        eq: bool,
    },
    SlotStrIn {
        slot: usize,
        set: StrSet,
    },
    StrIn(Box<S>, StrSet),
    /// Membership in a list-typed slot.
    StrInSlot(Box<S>, usize),
    IntIn(Box<I>, Box<[i64]>),
    StartsWith(Box<(S, S)>),
    EndsWith(Box<(S, S)>),
    Contains(Box<(S, S)>),
    Matches(Box<S>, Box<Regex>),
    SlotMatches(usize, Box<Regex>),
}

#[derive(Debug)]
pub(crate) enum I {
    Const(Option<i64>),
    Slot(usize),
    Neg(Box<I>),
    Arith(Arith, Box<(I, I)>),
    Cond(Box<(B, I, I)>),
    /// Characters of a string.
    SizeS(Box<S>),
    /// Length of a list-typed slot.
    SizeList(usize),
    FromD(Box<D>),
    FromS(Box<S>),
}

#[derive(Debug)]
pub(crate) enum D {
    Const(Option<f64>),
    Slot(usize),
    FromI(Box<I>),
    Neg(Box<D>),
    Arith(Arith, Box<(D, D)>),
    Cond(Box<(B, D, D)>),
    FromS(Box<S>),
}

#[derive(Debug)]
pub(crate) enum S {
    Const(Option<Box<str>>),
    Slot(usize),
    /// Allocates: the only string operations that do are `+` and `string()` of a non-string.
    Concat(Box<(S, S)>),
    Cond(Box<(B, S, S)>),
    FromI(Box<I>),
    FromD(Box<D>),
    FromB(Box<B>),
}

#[inline]
fn slot_int(env: &dyn Env, slot: usize) -> Option<i64> {
    match env.get(slot) {
        Value::Int(v) => Some(v),
        _ => None,
    }
}

#[inline]
fn slot_double(env: &dyn Env, slot: usize) -> Option<f64> {
    match env.get(slot) {
        Value::Double(v) => Some(v),
        Value::Int(v) => Some(v as f64),
        _ => None,
    }
}

/// Three-valued `&&` (`stop` false) and `||` (`stop` true): `Some(stop)` ends the chain.
#[inline(never)]
fn junction(items: &[B], env: &dyn Env, stop: bool) -> Option<bool> {
    let mut absent = false;
    for item in items {
        match item.eval_inline(env) {
            Some(v) if v == stop => return Some(stop),
            Some(_) => {}
            None => absent = true,
        }
    }
    if absent {
        None
    } else {
        Some(!stop)
    }
}

impl B {
    /// The leaves rules are made of, and `&&` / `||`, evaluated without going through the
    /// big match of [`B::eval`]: a call less per operand (measured on the benchmark's
    /// four-variable rule: 20 → 15 ns; a slot against a constant: 5.7 → 1.8 ns).
    #[inline(always)]
    pub(crate) fn eval_inline(&self, env: &dyn Env) -> Option<bool> {
        match self {
            B::Slot(slot) => match env.get(*slot) {
                Value::Bool(v) => Some(v),
                _ => None,
            },
            B::SlotIntCmp { slot, op, k } => Some(op.apply(&slot_int(env, *slot)?, k)),
            B::SlotStrEq { slot, k, eq } => match env.get(*slot) {
                Value::Str(s) => Some((s == &**k) == *eq),
                _ => None,
            },
            B::And(items) => junction(items, env, false),
            B::Or(items) => junction(items, env, true),
            _ => self.eval(env),
        }
    }

    pub(crate) fn eval(&self, env: &dyn Env) -> Option<bool> {
        match self {
            B::Const(v) => *v,
            B::Slot(slot) => match env.get(*slot) {
                Value::Bool(v) => Some(v),
                _ => None,
            },
            B::Present(slot, want) => Some(!matches!(env.get(*slot), Value::Absent) == *want),
            B::Not(b) => b.eval(env).map(|v| !v),
            B::And(items) => junction(items, env, false),
            B::Or(items) => junction(items, env, true),
            B::Cond(c) => match c.0.eval(env)? {
                true => c.1.eval(env),
                false => c.2.eval(env),
            },
            B::CmpBool(op, p) => Some(op.apply(&p.0.eval(env)?, &p.1.eval(env)?)),
            B::CmpI(op, p) => Some(op.apply(&p.0.eval(env)?, &p.1.eval(env)?)),
            B::CmpD(op, p) => Some(op.apply(&p.0.eval(env)?, &p.1.eval(env)?)),
            B::CmpS(op, p) => Some(op.apply(&*p.0.eval(env)?, &*p.1.eval(env)?)),
            B::SlotIntCmp { slot, op, k } => Some(op.apply(&slot_int(env, *slot)?, k)),
            B::SlotDoubleCmp { slot, op, k } => Some(op.apply(&slot_double(env, *slot)?, k)),
            B::SlotStrEq { slot, k, eq } => match env.get(*slot) {
                Value::Str(s) => Some((s == &**k) == *eq),
                _ => None,
            },
            B::SlotStrIn { slot, set } => match env.get(*slot) {
                Value::Str(s) => Some(set.contains(s)),
                _ => None,
            },
            B::StrIn(s, set) => Some(set.contains(&s.eval(env)?)),
            B::StrInSlot(s, slot) => {
                let s = s.eval(env)?;
                match env.get(*slot) {
                    Value::StrList(list) => Some(list.iter().any(|item| *item == &*s)),
                    _ => None,
                }
            }
            B::IntIn(i, list) => {
                let v = i.eval(env)?;
                Some(list.contains(&v))
            }
            B::StartsWith(p) => Some(p.0.eval(env)?.starts_with(&*p.1.eval(env)?)),
            B::EndsWith(p) => Some(p.0.eval(env)?.ends_with(&*p.1.eval(env)?)),
            B::Contains(p) => Some(p.0.eval(env)?.contains(&*p.1.eval(env)?)),
            B::Matches(s, re) => Some(re.is_match(&s.eval(env)?)),
            B::SlotMatches(slot, re) => match env.get(*slot) {
                Value::Str(s) => Some(re.is_match(s)),
                _ => None,
            },
        }
    }
}

impl I {
    pub(crate) fn eval(&self, env: &dyn Env) -> Option<i64> {
        match self {
            I::Const(v) => *v,
            I::Slot(slot) => slot_int(env, *slot),
            I::Neg(i) => i.eval(env)?.checked_neg(),
            I::Arith(op, p) => {
                let (a, b) = (p.0.eval(env)?, p.1.eval(env)?);
                match op {
                    Arith::Add => a.checked_add(b),
                    Arith::Sub => a.checked_sub(b),
                    Arith::Mul => a.checked_mul(b),
                    Arith::Div => a.checked_div(b),
                    Arith::Rem => a.checked_rem(b),
                }
            }
            I::Cond(c) => match c.0.eval(env)? {
                true => c.1.eval(env),
                false => c.2.eval(env),
            },
            I::SizeS(s) => i64::try_from(s.eval(env)?.chars().count()).ok(),
            I::SizeList(slot) => match env.get(*slot) {
                Value::StrList(list) => i64::try_from(list.len()).ok(),
                _ => None,
            },
            I::FromD(d) => double_to_int(d.eval(env)?),
            I::FromS(s) => s.eval(env)?.trim().parse().ok(),
        }
    }
}

/// Truncates towards zero; NaN and values outside i64 have no int value.
pub(crate) fn double_to_int(v: f64) -> Option<i64> {
    // 2^63 is exactly representable; every double below it and >= -2^63 fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (-LIMIT..LIMIT).contains(&v).then(|| v.trunc() as i64)
}

impl D {
    pub(crate) fn eval(&self, env: &dyn Env) -> Option<f64> {
        match self {
            D::Const(v) => *v,
            D::Slot(slot) => slot_double(env, *slot),
            D::FromI(i) => i.eval(env).map(|v| v as f64),
            D::Neg(d) => d.eval(env).map(|v| -v),
            D::Arith(op, p) => {
                let (a, b) = (p.0.eval(env)?, p.1.eval(env)?);
                match op {
                    Arith::Add => Some(a + b),
                    Arith::Sub => Some(a - b),
                    Arith::Mul => Some(a * b),
                    Arith::Div => (b != 0.0).then(|| a / b),
                    // Rejected by the checker; kept total.
                    Arith::Rem => (b != 0.0).then(|| a % b),
                }
            }
            D::Cond(c) => match c.0.eval(env)? {
                true => c.1.eval(env),
                false => c.2.eval(env),
            },
            D::FromS(s) => s.eval(env)?.trim().parse().ok(),
        }
    }
}

impl S {
    pub(crate) fn eval<'a>(&'a self, env: &'a dyn Env) -> Option<Cow<'a, str>> {
        match self {
            S::Const(v) => v.as_deref().map(Cow::Borrowed),
            S::Slot(slot) => match env.get(*slot) {
                Value::Str(s) => Some(Cow::Borrowed(s)),
                _ => None,
            },
            S::Concat(p) => {
                let a = p.0.eval(env)?;
                let b = p.1.eval(env)?;
                Some(Cow::Owned(format!("{a}{b}")))
            }
            S::Cond(c) => match c.0.eval(env)? {
                true => c.1.eval(env),
                false => c.2.eval(env),
            },
            S::FromI(i) => Some(Cow::Owned(i.eval(env)?.to_string())),
            S::FromD(d) => Some(Cow::Owned(d.eval(env)?.to_string())),
            S::FromB(b) => Some(Cow::Borrowed(if b.eval(env)? { "true" } else { "false" })),
        }
    }
}
