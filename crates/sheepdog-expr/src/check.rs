//! The checker: resolves names to slots, checks types, and builds the typed evaluation tree,
//! folding every subtree that reads no slot and choosing specialised nodes on the way.

use std::cell::Cell;

use regex::Regex;

use crate::eval::{Arith, Cmp, StrSet, B, D, I, S};
use crate::parse::{BinOp, Expr, Kind};
use crate::{Diags, Env, Schema, Type, Value};

/// A checked subexpression. Lists exist only as operands of `in` and `size()`.
pub(crate) enum Typed {
    B(B),
    I(I),
    D(D),
    S(S),
    /// A slot of type `StringList`.
    ListSlot(usize),
    ListStr(Vec<Box<str>>),
    ListInt(Vec<i64>),
    /// `[]`, which is a list of anything.
    ListEmpty,
    Null,
    /// Already reported.
    Err,
}

impl Typed {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Typed::B(_) => "bool",
            Typed::I(_) => "int",
            Typed::D(_) => "double",
            Typed::S(_) => "string",
            Typed::ListSlot(_) | Typed::ListStr(_) => "list(string)",
            Typed::ListInt(_) => "list(int)",
            Typed::ListEmpty => "list",
            Typed::Null => "null",
            Typed::Err => "error",
        }
    }
}

pub(crate) struct Checker<'s, 'd> {
    pub schema: &'s Schema,
    pub diags: &'d mut Diags,
    /// Slots named in the source, in order of first use.
    pub slots: Vec<usize>,
}

/// An environment that has nothing and remembers whether anything was asked: a subtree that
/// evaluated without reading a slot has a value independent of the event.
struct Probe(Cell<bool>);

impl Env for Probe {
    fn get(&self, _slot: usize) -> Value<'_> {
        self.0.set(true);
        Value::Absent
    }
}

fn fold_b(b: B) -> B {
    if matches!(b, B::Const(_)) {
        return b;
    }
    let probe = Probe(Cell::new(false));
    let v = b.eval(&probe);
    if probe.0.get() {
        b
    } else {
        B::Const(v)
    }
}

fn fold_i(i: I) -> I {
    if matches!(i, I::Const(_)) {
        return i;
    }
    let probe = Probe(Cell::new(false));
    let v = i.eval(&probe);
    if probe.0.get() {
        i
    } else {
        I::Const(v)
    }
}

fn fold_d(d: D) -> D {
    if matches!(d, D::Const(_)) {
        return d;
    }
    let probe = Probe(Cell::new(false));
    let v = d.eval(&probe);
    if probe.0.get() {
        d
    } else {
        D::Const(v)
    }
}

fn fold_s(s: S) -> S {
    if matches!(s, S::Const(_)) {
        return s;
    }
    let probe = Probe(Cell::new(false));
    let v = s.eval(&probe).map(|v| Box::from(&*v));
    if probe.0.get() {
        s
    } else {
        S::Const(v)
    }
}

fn to_d(i: I) -> D {
    fold_d(D::FromI(Box::new(i)))
}

fn cmp_of(op: BinOp) -> Cmp {
    match op {
        BinOp::Eq => Cmp::Eq,
        BinOp::Ne => Cmp::Ne,
        BinOp::Lt => Cmp::Lt,
        BinOp::Le => Cmp::Le,
        BinOp::Gt => Cmp::Gt,
        _ => Cmp::Ge,
    }
}

fn arith_of(op: BinOp) -> Arith {
    match op {
        BinOp::Add => Arith::Add,
        BinOp::Sub => Arith::Sub,
        BinOp::Mul => Arith::Mul,
        BinOp::Div => Arith::Div,
        _ => Arith::Rem,
    }
}

impl Checker<'_, '_> {
    fn error(&mut self, at: usize, msg: String) -> Typed {
        self.diags.push(at, msg);
        Typed::Err
    }

    pub(crate) fn check(&mut self, e: &Expr) -> Typed {
        match &e.kind {
            Kind::Error => Typed::Err,
            Kind::Int(v) => Typed::I(I::Const(Some(*v))),
            Kind::Float(v) => Typed::D(D::Const(Some(*v))),
            Kind::Str(s) => Typed::S(S::Const(Some(s.as_str().into()))),
            Kind::Bool(v) => Typed::B(B::Const(Some(*v))),
            Kind::Null => Typed::Null,
            Kind::Name(name) => match self.resolve(name, e.start) {
                Some((slot, ty)) => match ty {
                    Type::Bool => Typed::B(B::Slot(slot)),
                    Type::Int => Typed::I(I::Slot(slot)),
                    Type::Double => Typed::D(D::Slot(slot)),
                    Type::String => Typed::S(S::Slot(slot)),
                    Type::StringList => Typed::ListSlot(slot),
                },
                None => Typed::Err,
            },
            Kind::List(items) => self.list(items),
            Kind::Not(inner) => match self.check(inner) {
                Typed::B(b) => Typed::B(fold_b(B::Not(Box::new(b)))),
                Typed::Err => Typed::Err,
                other => self.error(e.at, format!("'!' needs a bool operand, found {}", other.name())),
            },
            Kind::Neg(inner) => match self.check(inner) {
                Typed::I(i) => Typed::I(fold_i(I::Neg(Box::new(i)))),
                Typed::D(d) => Typed::D(fold_d(D::Neg(Box::new(d)))),
                Typed::Err => Typed::Err,
                other => self.error(e.at, format!("'-' needs an int or double operand, found {}", other.name())),
            },
            Kind::And(items) => self.junction(items, "&&"),
            Kind::Or(items) => self.junction(items, "||"),
            Kind::Cond(c, a, b) => self.cond(c, a, b, e.at),
            Kind::Binary(op, a, b) => self.binary(*op, a, b, e.at),
            Kind::Call { name, recv, args } => self.call(name, recv.as_deref(), args, e.at),
        }
    }

    fn resolve(&mut self, name: &str, at: usize) -> Option<(usize, Type)> {
        if let Some((slot, ty)) = self.schema.slot(name) {
            if !self.slots.contains(&slot) {
                self.slots.push(slot);
            }
            return Some((slot, ty));
        }
        if !self.diags.accepting() {
            return None;
        }
        let mut msg = format!("unknown identifier '{name}'");
        if let Some(near) = self.schema.nearest(name) {
            msg.push_str(&format!(" (did you mean '{near}'?)"));
        }
        self.diags.push(at, msg);
        None
    }

    fn list(&mut self, items: &[Expr]) -> Typed {
        let mut strs = Vec::new();
        let mut ints = Vec::new();
        let mut failed = false;
        for item in items {
            match self.check(item) {
                Typed::S(S::Const(Some(s))) if ints.is_empty() => strs.push(s),
                Typed::I(I::Const(Some(v))) if strs.is_empty() => ints.push(v),
                Typed::Err => failed = true,
                _ => {
                    self.diags.push(item.start, "list elements must be string or int constants of one type".into());
                    failed = true;
                }
            }
        }
        if failed {
            Typed::Err
        } else if !strs.is_empty() {
            Typed::ListStr(strs)
        } else if !ints.is_empty() {
            Typed::ListInt(ints)
        } else {
            Typed::ListEmpty
        }
    }

    fn junction(&mut self, items: &[Expr], op: &str) -> Typed {
        let is_and = op == "&&";
        let mut out = Vec::with_capacity(items.len());
        let mut failed = false;
        for item in items {
            match self.check(item) {
                // Nested chains from parentheses flatten into this one.
                Typed::B(B::And(inner)) if is_and => out.extend(inner.into_vec()),
                Typed::B(B::Or(inner)) if !is_and => out.extend(inner.into_vec()),
                // `true && x` is `x`; `false || x` is `x`.
                Typed::B(B::Const(Some(v))) if v == is_and => {}
                Typed::B(b) => out.push(b),
                Typed::Err => failed = true,
                other => {
                    self.diags.push(item.start, format!("'{op}' needs bool operands, found {}", other.name()));
                    failed = true;
                }
            }
        }
        if failed {
            return Typed::Err;
        }
        let b = match out.len() {
            0 => B::Const(Some(is_and)),
            1 => out.pop().unwrap_or(B::Const(None)),
            _ if is_and => B::And(out.into_boxed_slice()),
            _ => B::Or(out.into_boxed_slice()),
        };
        Typed::B(fold_b(b))
    }

    fn cond(&mut self, c: &Expr, a: &Expr, b: &Expr, at: usize) -> Typed {
        let c_t = self.check(c);
        let a_t = self.check(a);
        let b_t = self.check(b);
        let c = match c_t {
            Typed::B(c) => c,
            Typed::Err => return Typed::Err,
            other => return self.error(c.start, format!("'?:' needs a bool condition, found {}", other.name())),
        };
        let out = match (a_t, b_t) {
            (Typed::Err, _) | (_, Typed::Err) => return Typed::Err,
            (Typed::B(x), Typed::B(y)) => Typed::B(fold_b(B::Cond(Box::new((c, x, y))))),
            (Typed::I(x), Typed::I(y)) => Typed::I(fold_i(I::Cond(Box::new((c, x, y))))),
            (Typed::D(x), Typed::D(y)) => Typed::D(fold_d(D::Cond(Box::new((c, x, y))))),
            (Typed::I(x), Typed::D(y)) => Typed::D(fold_d(D::Cond(Box::new((c, to_d(x), y))))),
            (Typed::D(x), Typed::I(y)) => Typed::D(fold_d(D::Cond(Box::new((c, x, to_d(y)))))),
            (Typed::S(x), Typed::S(y)) => Typed::S(fold_s(S::Cond(Box::new((c, x, y))))),
            (x, y) => {
                return self.error(at, format!("'?:' branches must have one type, found {} and {}", x.name(), y.name()))
            }
        };
        out
    }

    fn binary(&mut self, op: BinOp, a_e: &Expr, b_e: &Expr, at: usize) -> Typed {
        // `name == null` and `name != null` test presence.
        if matches!(op, BinOp::Eq | BinOp::Ne) {
            let name = match (&a_e.kind, &b_e.kind) {
                (Kind::Name(n), Kind::Null) => Some((n, a_e.start)),
                (Kind::Null, Kind::Name(n)) => Some((n, b_e.start)),
                _ => None,
            };
            if let Some((name, name_at)) = name {
                return match self.resolve(name, name_at) {
                    Some((slot, _)) => Typed::B(B::Present(slot, op == BinOp::Ne)),
                    None => Typed::Err,
                };
            }
        }
        let a = self.check(a_e);
        let b = self.check(b_e);
        if matches!(a, Typed::Err) || matches!(b, Typed::Err) {
            return Typed::Err;
        }
        match op {
            BinOp::In => self.membership(a, b, at),
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => self.compare(op, a, b, at),
            _ => self.arith(op, a, b, at),
        }
    }

    fn compare(&mut self, op: BinOp, a: Typed, b: Typed, at: usize) -> Typed {
        let cmp = cmp_of(op);
        let equality = matches!(op, BinOp::Eq | BinOp::Ne);
        let b = match (a, b) {
            (Typed::I(I::Slot(slot)), Typed::I(I::Const(Some(k)))) => B::SlotIntCmp { slot, op: cmp, k },
            (Typed::I(I::Const(Some(k))), Typed::I(I::Slot(slot))) => B::SlotIntCmp { slot, op: cmp.flip(), k },
            (Typed::I(x), Typed::I(y)) => B::CmpI(cmp, Box::new((x, y))),
            (Typed::D(D::Slot(slot)), Typed::D(D::Const(Some(k)))) => B::SlotDoubleCmp { slot, op: cmp, k },
            (Typed::D(D::Const(Some(k))), Typed::D(D::Slot(slot))) => B::SlotDoubleCmp { slot, op: cmp.flip(), k },
            (Typed::D(x), Typed::D(y)) => B::CmpD(cmp, Box::new((x, y))),
            (Typed::I(x), Typed::D(y)) => B::CmpD(cmp, Box::new((to_d(x), y))),
            (Typed::D(x), Typed::I(y)) => B::CmpD(cmp, Box::new((x, to_d(y)))),
            (Typed::S(S::Slot(slot)), Typed::S(S::Const(Some(k)))) if equality => {
                B::SlotStrEq { slot, k, eq: op == BinOp::Eq }
            }
            (Typed::S(S::Const(Some(k))), Typed::S(S::Slot(slot))) if equality => {
                B::SlotStrEq { slot, k, eq: op == BinOp::Eq }
            }
            (Typed::S(x), Typed::S(y)) => B::CmpS(cmp, Box::new((x, y))),
            (Typed::B(x), Typed::B(y)) if equality => B::CmpBool(cmp, Box::new((x, y))),
            (x, y) => {
                let what = if equality { "compare" } else { "order" };
                return self.error(at, format!("'{}' cannot {what} {} with {}", op.symbol(), x.name(), y.name()));
            }
        };
        Typed::B(fold_b(b))
    }

    fn membership(&mut self, a: Typed, b: Typed, at: usize) -> Typed {
        let out = match (a, b) {
            (Typed::S(S::Slot(slot)), Typed::ListStr(items)) => B::SlotStrIn { slot, set: StrSet::new(items) },
            (Typed::S(s), Typed::ListStr(items)) => B::StrIn(Box::new(s), StrSet::new(items)),
            (Typed::S(s), Typed::ListSlot(slot)) => B::StrInSlot(Box::new(s), slot),
            (Typed::I(i), Typed::ListInt(items)) => B::IntIn(Box::new(i), items.into_boxed_slice()),
            // Still no value when the left side has none.
            (Typed::S(s), Typed::ListEmpty) => B::StrIn(Box::new(s), StrSet::new(Vec::new())),
            (Typed::I(i), Typed::ListEmpty) => B::IntIn(Box::new(i), Box::new([])),
            (x, y @ (Typed::ListSlot(_) | Typed::ListStr(_) | Typed::ListInt(_) | Typed::ListEmpty)) => {
                return self.error(at, format!("'in' cannot look for {} in {}", x.name(), y.name()))
            }
            (_, y) => return self.error(at, format!("'in' needs a list on the right, found {}", y.name())),
        };
        Typed::B(fold_b(out))
    }

    fn arith(&mut self, op: BinOp, a: Typed, b: Typed, at: usize) -> Typed {
        let arith = arith_of(op);
        match (a, b) {
            (Typed::I(x), Typed::I(y)) => Typed::I(fold_i(I::Arith(arith, Box::new((x, y))))),
            (Typed::D(x), Typed::D(y)) if op != BinOp::Rem => Typed::D(fold_d(D::Arith(arith, Box::new((x, y))))),
            (Typed::I(x), Typed::D(y)) if op != BinOp::Rem => Typed::D(fold_d(D::Arith(arith, Box::new((to_d(x), y))))),
            (Typed::D(x), Typed::I(y)) if op != BinOp::Rem => Typed::D(fold_d(D::Arith(arith, Box::new((x, to_d(y)))))),
            (Typed::S(x), Typed::S(y)) if op == BinOp::Add => Typed::S(fold_s(S::Concat(Box::new((x, y))))),
            (x, y) => self.error(at, format!("'{}' cannot be applied to {} and {}", op.symbol(), x.name(), y.name())),
        }
    }

    /// Checks operands of a call that is already in error, for their own diagnostics.
    fn check_all(&mut self, recv: Option<&Expr>, args: &[Expr]) {
        for e in recv.into_iter().chain(args) {
            self.check(e);
        }
    }

    fn call(&mut self, name: &str, recv: Option<&Expr>, args: &[Expr], at: usize) -> Typed {
        let known = match recv {
            None => matches!(name, "has" | "size" | "int" | "double" | "string"),
            Some(_) => matches!(name, "startsWith" | "endsWith" | "contains" | "matches" | "size"),
        };
        if !known {
            let what = if recv.is_some() { "method" } else { "function" };
            self.diags.push(at, format!("unknown {what} '{name}'"));
            self.check_all(recv, args);
            return Typed::Err;
        }
        // Receiver-less `size(x)` and method `x.size()` are one function of one value.
        let (arity, mut values): (usize, Vec<&Expr>) = match (name, recv) {
            ("size", Some(r)) => (0, vec![r]),
            (_, Some(r)) => (1, std::iter::once(r).chain(args).collect()),
            (_, None) => (1, args.iter().collect()),
        };
        let n_args = args.len();
        if n_args != arity {
            let plural = if arity == 1 { "argument" } else { "arguments" };
            self.diags.push(at, format!("'{name}' takes {arity} {plural}, found {n_args}"));
            self.check_all(recv, args);
            return Typed::Err;
        }
        if name == "has" {
            return match &args[0].kind {
                Kind::Name(n) => match self.resolve(n, args[0].start) {
                    Some((slot, _)) => Typed::B(B::Present(slot, true)),
                    None => Typed::Err,
                },
                Kind::Error => Typed::Err,
                _ => self.error(args[0].start, "'has' needs a name, as in has(phone.segment)".into()),
            };
        }
        if name == "matches" {
            let pattern = match &args[0].kind {
                Kind::Str(p) => Some(p.clone()),
                Kind::Error => return Typed::Err,
                _ => None,
            };
            let subject = self.check(values[0]);
            let Some(pattern) = pattern else {
                return self.error(args[0].start, "'matches' needs a string literal pattern".into());
            };
            let re = match Regex::new(&pattern) {
                Ok(re) => re,
                Err(e) => {
                    let detail = e.to_string();
                    let detail = detail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
                    let detail = detail.strip_prefix("error: ").unwrap_or(detail).trim_end_matches('.');
                    // Our messages start in lower case ("compiled regex exceeds size limit …").
                    let mut chars = detail.chars();
                    let detail: String =
                        chars.next().map(|c| c.to_ascii_lowercase()).into_iter().chain(chars).collect();
                    return self.error(args[0].start, format!("invalid regex: {detail}"));
                }
            };
            return match subject {
                Typed::S(S::Slot(slot)) => Typed::B(B::SlotMatches(slot, Box::new(re))),
                Typed::S(s) => Typed::B(fold_b(B::Matches(Box::new(s), Box::new(re)))),
                Typed::Err => Typed::Err,
                other => self.error(at, format!("'matches' needs a string receiver, found {}", other.name())),
            };
        }
        let checked: Vec<Typed> = values.drain(..).map(|v| self.check(v)).collect();
        if checked.iter().any(|t| matches!(t, Typed::Err)) {
            return Typed::Err;
        }
        let mut checked = checked.into_iter();
        let first = checked.next().unwrap_or(Typed::Err);
        match name {
            "size" => match first {
                Typed::S(s) => Typed::I(fold_i(I::SizeS(Box::new(s)))),
                Typed::ListSlot(slot) => Typed::I(I::SizeList(slot)),
                Typed::ListStr(items) => Typed::I(I::Const(i64::try_from(items.len()).ok())),
                Typed::ListInt(items) => Typed::I(I::Const(i64::try_from(items.len()).ok())),
                Typed::ListEmpty => Typed::I(I::Const(Some(0))),
                other => self.error(at, format!("'size' needs a string or a list, found {}", other.name())),
            },
            "int" => match first {
                Typed::I(i) => Typed::I(i),
                Typed::D(d) => Typed::I(fold_i(I::FromD(Box::new(d)))),
                Typed::S(s) => Typed::I(fold_i(I::FromS(Box::new(s)))),
                other => self.error(at, format!("'int' needs an int, double or string, found {}", other.name())),
            },
            "double" => match first {
                Typed::I(i) => Typed::D(to_d(i)),
                Typed::D(d) => Typed::D(d),
                Typed::S(s) => Typed::D(fold_d(D::FromS(Box::new(s)))),
                other => self.error(at, format!("'double' needs an int, double or string, found {}", other.name())),
            },
            "string" => match first {
                Typed::S(s) => Typed::S(s),
                Typed::I(i) => Typed::S(fold_s(S::FromI(Box::new(i)))),
                Typed::D(d) => Typed::S(fold_s(S::FromD(Box::new(d)))),
                Typed::B(b) => Typed::S(fold_s(S::FromB(Box::new(b)))),
                other => self.error(at, format!("'string' needs a scalar, found {}", other.name())),
            },
            _ => {
                // startsWith, endsWith, contains: string receiver, string argument.
                let second = checked.next().unwrap_or(Typed::Err);
                let recv = match first {
                    Typed::S(s) => s,
                    other => {
                        return self.error(at, format!("'{name}' needs a string receiver, found {}", other.name()))
                    }
                };
                let arg = match second {
                    Typed::S(s) => s,
                    other => {
                        return self
                            .error(args[0].start, format!("'{name}' needs a string argument, found {}", other.name()))
                    }
                };
                let pair = Box::new((recv, arg));
                let b = match name {
                    "startsWith" => B::StartsWith(pair),
                    "endsWith" => B::EndsWith(pair),
                    _ => B::Contains(pair),
                };
                Typed::B(fold_b(b))
            }
        }
    }
}
