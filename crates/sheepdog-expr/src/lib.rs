//! Rule expressions for sheepdog policies: a subset of CEL's syntax, checked against a schema of
//! named slots and compiled once into a typed tree that evaluates without allocating.
//!
//! ```
//! use sheepdog_expr::{compile, Schema, Type, Value};
//!
//! let mut schema = Schema::new();
//! schema.declare("phone.segment", Type::String);
//! schema.declare("features.regs_per_fp_1h", Type::Int);
//! let rule = compile(r#"phone.segment == "iot" && features.regs_per_fp_1h >= 3"#, &schema, Type::Bool).unwrap();
//! let event = [Value::Str("iot"), Value::Int(4)];
//! assert_eq!(rule.eval_bool(&event), Some(true));
//! ```
//!
//! # Grammar
//!
//! ```text
//! expr     = or [ "?" or ":" expr ]
//! or       = and { "||" and }
//! and      = relation { "&&" relation }
//! relation = addition { ("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") addition }
//! addition = product { ("+" | "-") product }
//! product  = unary { ("*" | "/" | "%") unary }
//! unary    = "!" unary | "-" unary | member
//! member   = primary { "." IDENT [ "(" [ args ] ")" ] | "[" STRING "]" }
//! primary  = IDENT [ "(" [ args ] ")" ] | "(" expr ")" | "[" [ args ] "]"
//!          | INT | FLOAT | STRING | "true" | "false" | "null"
//! args     = expr { "," expr } [ "," ]
//! ```
//!
//! Names are dotted identifiers (`features.regs_per_fp_1h`); the whole dotted name is one slot
//! of the [`Schema`], resolved at compile time. `attributes["x"]` is the slot `attributes.x`.
//! Strings are quoted with `"` or `'` and know the escapes `\n \t \r \\ \" \'`; `//` starts a
//! comment to the end of the line. Expressions may span lines; diagnostics count lines and
//! columns (in characters, from 1) over the whole source.
//!
//! Functions: `has(name)`, `size(x)` / `x.size()` (characters of a string, length of a list),
//! `int(x)`, `double(x)`, `string(x)`; methods on strings `startsWith`, `endsWith`,
//! `contains`, `matches` (an unanchored regular expression search; the pattern must be a
//! string literal and is compiled with the rule, a bad pattern is a compile error).
//!
//! # Types
//!
//! `bool`, `int` (i64), `double` (f64), `string`, `list(string)` (slots of type
//! [`Type::StringList`] and list literals) and `list(int)` (literals only). Lists appear only on
//! the right of `in` and in `size()`. `null` appears only as `name == null` / `name != null`,
//! which are `!has(name)` / `has(name)`.
//!
//! Unlike CEL, int and double mix: in arithmetic and comparisons an int operand is promoted to
//! double (`features.amount > 2.5` with an int slot works). `%` is for ints only. `==` between
//! bools, ints/doubles and strings; `<`-style ordering for numbers and strings (byte order).
//! `+` also concatenates strings; that and `string()` of a non-string are the only operations
//! that allocate while evaluating.
//!
//! List literals hold constants of one type (`["iot", "voip"]`, `[1, 2]`); `in` over a string
//! literal list is a binary search in a set sorted by length then bytes, over a list slot a
//! linear scan.
//!
//! # Compiling and evaluating
//!
//! [`compile`] reports every problem at once (syntax, unknown names with a "did you mean"
//! among the declared ones, type errors, unknown functions and wrong argument counts, bad
//! regular expressions, a result of the wrong type), each as a [`Diagnostic`] shown as
//! `line:column: message`. Subexpressions that read no slot are computed at compile time.
//! A [`Program`] is immutable and `Send + Sync`; it reads slots through [`Env`] (implemented for
//! slices, arrays and vectors of [`Value`], indexed by slot) and reports the slots it names
//! ([`Program::slots`]).
//!
//! # Values that are not there
//!
//! A slot may be absent when a rule runs (an event without a phone), and some operations have
//! no value: integer overflow, division or `%` by zero (int or double), `int()` of a string that
//! is not a number or of a double out of range. All of these are *no value*, which propagates
//! like a CEL error through every operator and function, except:
//!
//! - `has(name)` (and `name == null`, `name != null`) test presence and always have a value;
//! - `&&` and `||` absorb it when the other side decides: `false && x` is false and
//!   `true || x` is true whatever `x` is, in either order; otherwise the result has no value;
//! - `c ? a : b` only evaluates the branch `c` chooses.
//!
//! So `!(phone.segment == "iot")` has no value, not true, for an event without a phone. A rule
//! with no value did not fire: [`Program::eval_bool`] returns `None`. An [`Env`] returning a
//! value of another type than the slot's declared one counts as absent (an int is accepted for
//! a double slot).
//!
//! # Limits
//!
//! Sources longer than [`MAX_SOURCE_LEN`] bytes and expressions nested deeper than
//! [`MAX_DEPTH`] are rejected with a diagnostic, so no input can exhaust the stack at compile
//! or evaluation time. A chain of `&&` or `||` counts as one level. At most
//! [`MAX_DIAGNOSTICS`] diagnostics are reported, then one saying there were more.

mod check;
mod eval;
mod lex;
mod parse;

use std::collections::HashMap;
use std::fmt;

use crate::check::{Checker, Typed};
use crate::eval::{B, D, I, S};

/// Longest accepted source, in bytes.
pub const MAX_SOURCE_LEN: usize = 64 * 1024;

/// Deepest accepted nesting of the expression tree.
pub const MAX_DEPTH: usize = 64;

/// The type of a slot or of a whole expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Int,
    Double,
    String,
    StringList,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Double => "double",
            Type::String => "string",
            Type::StringList => "list(string)",
        })
    }
}

/// The names a rule may use, each with a slot index (its position in the [`Env`]) and a type.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    names: Vec<(String, Type)>,
    index: HashMap<String, usize>,
}

impl Schema {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares `name` and returns its slot. Slots are numbered from 0 in order of declaration;
    /// declaring a name again keeps its slot and replaces its type.
    pub fn declare(&mut self, name: &str, ty: Type) -> usize {
        if let Some(&slot) = self.index.get(name) {
            self.names[slot].1 = ty;
            return slot;
        }
        let slot = self.names.len();
        self.names.push((name.to_owned(), ty));
        self.index.insert(name.to_owned(), slot);
        slot
    }

    pub fn slot(&self, name: &str) -> Option<(usize, Type)> {
        self.index.get(name).map(|&slot| (slot, self.names[slot].1))
    }

    /// Number of declared slots.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of `slot`, if declared.
    pub fn name(&self, slot: usize) -> Option<&str> {
        self.names.get(slot).map(|(n, _)| n.as_str())
    }

    /// The declared name closest to `name` by edit distance, if close enough to be a typo.
    fn nearest(&self, name: &str) -> Option<&str> {
        let n_chars = name.chars().count();
        let limit = (n_chars / 3).clamp(1, 3);
        self.names
            .iter()
            // Lengths further apart than the limit cannot be within it; skipping them keeps a
            // long unknown name cheap.
            .filter(|(n, _)| n.chars().count().abs_diff(n_chars) <= limit)
            .map(|(n, _)| (edit_distance(name, n), n.as_str()))
            .filter(|(d, _)| *d <= limit)
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// One slot's value for one evaluation, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Value<'a> {
    #[default]
    Absent,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(&'a str),
    StrList(&'a [&'a str]),
}

/// Where a program reads its slots.
pub trait Env {
    /// The value of `slot`; [`Value::Absent`] for a slot the event does not have.
    fn get(&self, slot: usize) -> Value<'_>;
}

/// A slice indexed by slot; slots past its end are absent.
impl Env for [Value<'_>] {
    #[inline]
    fn get(&self, slot: usize) -> Value<'_> {
        match <[Value<'_>]>::get(self, slot) {
            Some(v) => *v,
            None => Value::Absent,
        }
    }
}

impl Env for Vec<Value<'_>> {
    #[inline]
    fn get(&self, slot: usize) -> Value<'_> {
        Env::get(self.as_slice(), slot)
    }
}

impl<const N: usize> Env for [Value<'_>; N] {
    #[inline]
    fn get(&self, slot: usize) -> Value<'_> {
        Env::get(self.as_slice(), slot)
    }
}

impl<T: Env + ?Sized> Env for &T {
    #[inline]
    fn get(&self, slot: usize) -> Value<'_> {
        (**self).get(slot)
    }
}

/// The result of [`Program::eval`], owned: for tests and tools, not the hot path.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Absent,
    Bool(bool),
    Int(i64),
    Double(f64),
    String(String),
}

/// `absent`, `true`, `3`, `3.0` (a double always shows a point or exponent), `"text"`.
impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Absent => f.write_str("absent"),
            Output::Bool(v) => write!(f, "{v}"),
            Output::Int(v) => write!(f, "{v}"),
            Output::Double(v) => write!(f, "{v:?}"),
            Output::String(v) => write!(f, "{v:?}"),
        }
    }
}

/// A compile error at a 1-based line and column (counted in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Most diagnostics one compilation reports; past it, one more says so.
pub const MAX_DIAGNOSTICS: usize = 50;

/// Diagnostics as byte offsets while compiling; one per offset (the first wins), so one
/// mistake seen by two passes is reported once.
#[derive(Default)]
pub(crate) struct Diags {
    items: Vec<(usize, String)>,
    closed: bool,
    /// Some were dropped for [`MAX_DIAGNOSTICS`].
    truncated: bool,
}

impl Diags {
    pub(crate) fn push(&mut self, at: usize, message: String) {
        if !self.accepting() || self.items.iter().any(|(a, _)| *a == at) {
            return;
        }
        if self.items.len() == MAX_DIAGNOSTICS {
            self.truncated = true;
            return;
        }
        self.items.push((at, message));
    }

    /// False once nothing more will be recorded: callers can skip costly messages.
    pub(crate) fn accepting(&self) -> bool {
        !self.closed && !self.truncated
    }

    /// Ignores everything pushed from now on.
    pub(crate) fn close(&mut self) {
        self.closed = true;
    }

    fn into_diagnostics(mut self, src: &str) -> Vec<Diagnostic> {
        self.items.sort_by_key(|(at, _)| *at);
        let mut lines = LineCounter::new(src);
        let mut out: Vec<Diagnostic> = self
            .items
            .into_iter()
            .map(|(at, message)| {
                let (line, column) = lines.line_column(at);
                Diagnostic { line, column, message }
            })
            .collect();
        if self.truncated {
            let (line, column) = out.last().map_or((1, 1), |d| (d.line, d.column));
            out.push(Diagnostic {
                line,
                column,
                message: format!("too many errors: only the first {MAX_DIAGNOSTICS} are shown"),
            });
        }
        out
    }
}

/// Line and column of increasing byte offsets in one pass over the source.
struct LineCounter<'s> {
    src: &'s str,
    /// Byte offset where the current line starts, and its 1-based number.
    line_start: usize,
    line: usize,
}

impl<'s> LineCounter<'s> {
    fn new(src: &'s str) -> Self {
        LineCounter { src, line_start: 0, line: 1 }
    }

    /// `at` must not be below the previous call's.
    fn line_column(&mut self, at: usize) -> (u32, u32) {
        let at = (0..=at.min(self.src.len())).rev().find(|i| self.src.is_char_boundary(*i)).unwrap_or(0);
        let at = at.max(self.line_start);
        let between = &self.src[self.line_start..at];
        if let Some(last_newline) = between.rfind('\n') {
            self.line += between.matches('\n').count();
            self.line_start += last_newline + 1;
        }
        let column = self.src[self.line_start..at].chars().count() + 1;
        (u32::try_from(self.line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
    }
}

#[derive(Debug)]
enum Root {
    Bool(B),
    Int(I),
    Double(D),
    String(S),
}

/// A compiled expression: immutable, `Send + Sync`, evaluated any number of times.
#[derive(Debug)]
pub struct Program {
    root: Root,
    slots: Box<[usize]>,
}

/// Compiles `src` against `schema`, expecting a value of type `expect` (`Type::Double` also
/// accepts an int expression). Returns every diagnostic found, in source order.
pub fn compile(src: &str, schema: &Schema, expect: Type) -> Result<Program, Vec<Diagnostic>> {
    if src.len() > MAX_SOURCE_LEN {
        return Err(vec![Diagnostic {
            line: 1,
            column: 1,
            message: format!("source is longer than {MAX_SOURCE_LEN} bytes"),
        }]);
    }
    let mut diags = Diags::default();
    let tokens = lex::lex(src, &mut diags);
    let (ast, complete) = parse::parse(&tokens, &mut diags);
    let mut checker = Checker { schema, diags: &mut diags, slots: Vec::new() };
    let typed = checker.check(&ast);
    let mut slots = std::mem::take(&mut checker.slots);
    let root = match (expect, typed) {
        (_, Typed::Err) => None,
        (Type::Bool, Typed::B(b)) => Some(Root::Bool(b)),
        (Type::Int, Typed::I(i)) => Some(Root::Int(i)),
        (Type::Double, Typed::D(d)) => Some(Root::Double(d)),
        (Type::Double, Typed::I(i)) => Some(Root::Double(D::FromI(Box::new(i)))),
        (Type::String, Typed::S(s)) => Some(Root::String(s)),
        // A prefix of the source has no meaningful type.
        _ if !complete => None,
        (expect, found) => {
            diags.push(ast.start, format!("expression must be {expect}, found {}", found.name()));
            None
        }
    };
    match root {
        Some(root) if diags.items.is_empty() => {
            slots.sort_unstable();
            Ok(Program { root, slots: slots.into_boxed_slice() })
        }
        _ => Err(diags.into_diagnostics(src)),
    }
}

impl Program {
    /// The rule's verdict: `Some(true)` fired, `None` had no value (see the module docs), and
    /// `None` as well when the program is not boolean.
    #[inline]
    pub fn eval_bool(&self, env: &dyn Env) -> Option<bool> {
        match &self.root {
            Root::Bool(b) => b.eval_inline(env),
            _ => None,
        }
    }

    /// A numeric (score) expression's value; `None` when it has none or is not numeric.
    #[inline]
    pub fn eval_f64(&self, env: &dyn Env) -> Option<f64> {
        match &self.root {
            Root::Double(d) => d.eval(env),
            Root::Int(i) => i.eval(env).map(|v| v as f64),
            _ => None,
        }
    }

    /// The value of any program, owned.
    pub fn eval(&self, env: &dyn Env) -> Output {
        let out = match &self.root {
            Root::Bool(b) => b.eval(env).map(Output::Bool),
            Root::Int(i) => i.eval(env).map(Output::Int),
            Root::Double(d) => d.eval(env).map(Output::Double),
            Root::String(s) => s.eval(env).map(|s| Output::String(s.into_owned())),
        };
        out.unwrap_or(Output::Absent)
    }

    /// The type of the program's value (the `expect` it was compiled with).
    pub fn ty(&self) -> Type {
        match self.root {
            Root::Bool(_) => Type::Bool,
            Root::Int(_) => Type::Int,
            Root::Double(_) => Type::Double,
            Root::String(_) => Type::String,
        }
    }

    /// The slots the source names, sorted and without repeats (also those a constant
    /// condition made unreachable), for "declared but unused" lints.
    pub fn slots(&self) -> &[usize] {
        &self.slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let mut s = Schema::new();
        s.declare("features.regs_per_fp_1h", Type::Int);
        s.declare("phone.segment", Type::String);
        s
    }

    #[test]
    fn program_is_send_and_sync() {
        fn assert<T: Send + Sync>() {}
        assert::<Program>();
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn nearest_suggests_typos_only() {
        let s = schema();
        assert_eq!(s.nearest("features.regs_per_fp_2h"), Some("features.regs_per_fp_1h"));
        assert_eq!(s.nearest("device.emulator"), None);
    }

    #[test]
    fn line_column_counts_characters_across_lines() {
        let mut lines = LineCounter::new("ab\ncd\n\né x");
        assert_eq!(lines.line_column(0), (1, 1));
        assert_eq!(lines.line_column(4), (2, 2));
        assert_eq!(lines.line_column(4), (2, 2));
        assert_eq!(lines.line_column(10), (4, 3));
        assert_eq!(lines.line_column(99), (4, 4));
    }

    #[test]
    fn redeclaring_keeps_the_slot() {
        let mut s = schema();
        assert_eq!(s.declare("phone.segment", Type::String), 1);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn constants_fold_and_slots_are_reported() {
        let p = compile("1 + 2 * 3 == 7 && features.regs_per_fp_1h > 2", &schema(), Type::Bool).unwrap();
        assert!(matches!(p.root, Root::Bool(B::SlotIntCmp { slot: 0, .. })), "{:?}", p.root);
        assert_eq!(p.slots(), &[0]);
    }

    #[test]
    fn specialised_nodes_for_slot_against_constant() {
        let p = compile("3 <= features.regs_per_fp_1h", &schema(), Type::Bool).unwrap();
        assert!(matches!(p.root, Root::Bool(B::SlotIntCmp { op: eval::Cmp::Ge, k: 3, .. })), "{:?}", p.root);
        let p = compile("phone.segment in ['a', 'b']", &schema(), Type::Bool).unwrap();
        assert!(matches!(p.root, Root::Bool(B::SlotStrIn { .. })), "{:?}", p.root);
    }
}
