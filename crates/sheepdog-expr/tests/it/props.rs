//! Properties: random well-typed expressions (bool, int and string operators, functions,
//! membership, presence) printed to source, compiled and evaluated, agree with a small reference
//! interpreter written from the module docs; and no input makes `compile` or evaluation panic.

use proptest::prelude::*;
use sheepdog_expr::{compile, Output, Type, Value};

use crate::schema;

const INT_SLOTS: [&str; 2] = ["features.regs_per_fp_1h", "features.phones_per_device_24h"];
const STR_SLOTS: [&str; 2] = ["phone.segment", "phone.number"];
const BOOL_SLOTS: [&str; 2] = ["ip.datacenter", "device.emulator"];
const STRINGS: [&str; 6] = ["", "a", "ab", "iot", "é\"", "b'\\"];

#[derive(Debug, Clone)]
enum E {
    Bool(bool),
    Int(i64),
    Str(String),
    /// A slot by name (its type follows from the name's list).
    Slot(&'static str),
    Not(Box<E>),
    Neg(Box<E>),
    And(Box<E>, Box<E>),
    Or(Box<E>, Box<E>),
    /// A binary operator printed as is: comparisons and int arithmetic.
    Bin(&'static str, Box<E>, Box<E>),
    Cond(Box<E>, Box<E>, Box<E>),
    Has(&'static str),
    InStrs(Box<E>, Vec<String>),
    InInts(Box<E>, Vec<i64>),
    Method(&'static str, Box<E>, Box<E>),
    Size(Box<E>),
    Concat(Box<E>, Box<E>),
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints with every composite in parentheses, so the printed text parses back to `e`.
fn print(e: &E) -> String {
    match e {
        E::Bool(b) => b.to_string(),
        E::Int(v) if *v < 0 => format!("({v})"),
        E::Int(v) => v.to_string(),
        E::Str(s) => quote(s),
        E::Slot(name) => name.to_string(),
        E::Not(a) => format!("(!{})", print(a)),
        E::Neg(a) => format!("(-{})", print(a)),
        E::And(a, b) => format!("({} && {})", print(a), print(b)),
        E::Or(a, b) => format!("({} || {})", print(a), print(b)),
        E::Bin(op, a, b) => format!("({} {op} {})", print(a), print(b)),
        E::Cond(c, a, b) => format!("({} ? {} : {})", print(c), print(a), print(b)),
        E::Has(name) => format!("has({name})"),
        E::InStrs(a, items) => {
            format!("({} in [{}])", print(a), items.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", "))
        }
        E::InInts(a, items) => {
            format!("({} in [{}])", print(a), items.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
        }
        E::Method(name, a, b) => format!("{}.{name}({})", print(a), print(b)),
        E::Size(a) => format!("size({})", print(a)),
        E::Concat(a, b) => format!("({} + {})", print(a), print(b)),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum R {
    Absent,
    B(bool),
    I(i64),
    S(String),
}

type Event = Vec<(&'static str, R)>;

/// The reference: plain recursive evaluation of the documented semantics.
fn reference(e: &E, env: &Event) -> R {
    use R::*;
    let ev = |x: &E| reference(x, env);
    match e {
        E::Bool(b) => B(*b),
        E::Int(v) => I(*v),
        E::Str(s) => S(s.clone()),
        E::Slot(name) => env.iter().find(|(n, _)| n == name).map_or(Absent, |(_, v)| v.clone()),
        E::Has(name) => B(env.iter().any(|(n, _)| n == name)),
        E::Not(a) => match ev(a) {
            B(b) => B(!b),
            _ => Absent,
        },
        E::Neg(a) => match ev(a) {
            I(v) => v.checked_neg().map_or(Absent, I),
            _ => Absent,
        },
        E::And(a, b) => match (ev(a), ev(b)) {
            (B(false), _) | (_, B(false)) => B(false),
            (B(true), B(true)) => B(true),
            _ => Absent,
        },
        E::Or(a, b) => match (ev(a), ev(b)) {
            (B(true), _) | (_, B(true)) => B(true),
            (B(false), B(false)) => B(false),
            _ => Absent,
        },
        E::Bin(op, a, b) => match (ev(a), ev(b)) {
            (I(x), I(y)) => match *op {
                "+" => x.checked_add(y).map_or(Absent, I),
                "-" => x.checked_sub(y).map_or(Absent, I),
                "*" => x.checked_mul(y).map_or(Absent, I),
                "/" => x.checked_div(y).map_or(Absent, I),
                "%" => x.checked_rem(y).map_or(Absent, I),
                op => B(compare(op, &x, &y)),
            },
            (S(x), S(y)) => B(compare(op, &x, &y)),
            (B(x), B(y)) => B(compare(op, &x, &y)),
            _ => Absent,
        },
        E::Cond(c, a, b) => match ev(c) {
            B(true) => ev(a),
            B(false) => ev(b),
            _ => Absent,
        },
        E::InStrs(a, items) => match ev(a) {
            S(s) => B(items.contains(&s)),
            _ => Absent,
        },
        E::InInts(a, items) => match ev(a) {
            I(v) => B(items.contains(&v)),
            _ => Absent,
        },
        E::Method(name, a, b) => match (ev(a), ev(b)) {
            (S(x), S(y)) => B(match *name {
                "startsWith" => x.starts_with(&y),
                "endsWith" => x.ends_with(&y),
                _ => x.contains(&y),
            }),
            _ => Absent,
        },
        E::Size(a) => match ev(a) {
            S(s) => I(s.chars().count() as i64),
            _ => Absent,
        },
        E::Concat(a, b) => match (ev(a), ev(b)) {
            (S(x), S(y)) => S(x + &y),
            _ => Absent,
        },
    }
}

fn compare<T: PartialOrd + ?Sized>(op: &str, a: &T, b: &T) -> bool {
    match op {
        "==" => a == b,
        "!=" => a != b,
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        ">=" => a >= b,
        other => unreachable!("{other}"),
    }
}

fn small_int() -> impl Strategy<Value = i64> {
    prop_oneof![8 => -3i64..=3, 1 => Just(i64::MAX), 1 => Just(i64::MIN)]
}

fn string() -> impl Strategy<Value = String> {
    proptest::sample::select(&STRINGS[..]).prop_map(str::to_owned)
}

fn int_e(depth: u32) -> BoxedStrategy<E> {
    let leaf = prop_oneof![small_int().prop_map(E::Int), proptest::sample::select(&INT_SLOTS[..]).prop_map(E::Slot)];
    if depth == 0 {
        return leaf.boxed();
    }
    let d = depth - 1;
    prop_oneof![
        2 => leaf,
        3 => (proptest::sample::select(&["+", "-", "*", "/", "%"][..]), int_e(d), int_e(d))
            .prop_map(|(op, a, b)| E::Bin(op, Box::new(a), Box::new(b))),
        1 => int_e(d).prop_map(|a| E::Neg(Box::new(a))),
        1 => (bool_e(d), int_e(d), int_e(d)).prop_map(|(c, a, b)| E::Cond(Box::new(c), Box::new(a), Box::new(b))),
        1 => str_e(d).prop_map(|a| E::Size(Box::new(a))),
    ]
    .boxed()
}

fn str_e(depth: u32) -> BoxedStrategy<E> {
    let leaf = prop_oneof![string().prop_map(E::Str), proptest::sample::select(&STR_SLOTS[..]).prop_map(E::Slot)];
    if depth == 0 {
        return leaf.boxed();
    }
    let d = depth - 1;
    prop_oneof![
        3 => leaf,
        1 => (str_e(d), str_e(d)).prop_map(|(a, b)| E::Concat(Box::new(a), Box::new(b))),
        1 => (bool_e(d), str_e(d), str_e(d)).prop_map(|(c, a, b)| E::Cond(Box::new(c), Box::new(a), Box::new(b))),
    ]
    .boxed()
}

const CMP: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

fn bool_e(depth: u32) -> BoxedStrategy<E> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(E::Bool),
        proptest::sample::select(&BOOL_SLOTS[..]).prop_map(E::Slot),
        proptest::sample::select(&[INT_SLOTS[0], STR_SLOTS[0], BOOL_SLOTS[0]][..]).prop_map(E::Has),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let d = depth - 1;
    prop_oneof![
        2 => leaf,
        1 => bool_e(d).prop_map(|a| E::Not(Box::new(a))),
        2 => (bool_e(d), bool_e(d)).prop_map(|(a, b)| E::And(Box::new(a), Box::new(b))),
        2 => (bool_e(d), bool_e(d)).prop_map(|(a, b)| E::Or(Box::new(a), Box::new(b))),
        2 => (proptest::sample::select(&CMP[..]), int_e(d), int_e(d))
            .prop_map(|(op, a, b)| E::Bin(op, Box::new(a), Box::new(b))),
        1 => (proptest::sample::select(&CMP[..]), str_e(d), str_e(d))
            .prop_map(|(op, a, b)| E::Bin(op, Box::new(a), Box::new(b))),
        1 => (proptest::sample::select(&["==", "!="][..]), bool_e(d), bool_e(d))
            .prop_map(|(op, a, b)| E::Bin(op, Box::new(a), Box::new(b))),
        1 => (bool_e(d), bool_e(d), bool_e(d)).prop_map(|(c, a, b)| E::Cond(Box::new(c), Box::new(a), Box::new(b))),
        1 => (str_e(d), proptest::collection::vec(string(), 0..4)).prop_map(|(a, l)| E::InStrs(Box::new(a), l)),
        1 => (int_e(d), proptest::collection::vec(small_int(), 1..4)).prop_map(|(a, l)| E::InInts(Box::new(a), l)),
        1 => (proptest::sample::select(&["startsWith", "endsWith", "contains"][..]), str_e(d), str_e(d))
            .prop_map(|(m, a, b)| E::Method(m, Box::new(a), Box::new(b))),
    ]
    .boxed()
}

/// Every slot present or absent, with values from the same small pools as literals.
fn event() -> impl Strategy<Value = Event> {
    (
        proptest::collection::vec(proptest::option::of(small_int()), 2),
        proptest::collection::vec(proptest::option::of(string()), 2),
        proptest::collection::vec(proptest::option::of(any::<bool>()), 2),
    )
        .prop_map(|(ints, strs, bools)| {
            let mut env = Vec::new();
            for (i, v) in ints.into_iter().enumerate() {
                env.extend(v.map(|v| (INT_SLOTS[i], R::I(v))));
            }
            for (i, v) in strs.into_iter().enumerate() {
                env.extend(v.map(|v| (STR_SLOTS[i], R::S(v))));
            }
            for (i, v) in bools.into_iter().enumerate() {
                env.extend(v.map(|v| (BOOL_SLOTS[i], R::B(v))));
            }
            env
        })
}

fn to_values<'a>(event: &'a Event) -> Vec<Value<'a>> {
    let schema = schema();
    let mut values = vec![Value::Absent; schema.len()];
    for (name, v) in event {
        values[schema.slot(name).unwrap().0] = match v {
            R::B(b) => Value::Bool(*b),
            R::I(i) => Value::Int(*i),
            R::S(s) => Value::Str(s),
            R::Absent => Value::Absent,
        };
    }
    values
}

fn to_output(r: R) -> Output {
    match r {
        R::Absent => Output::Absent,
        R::B(b) => Output::Bool(b),
        R::I(i) => Output::Int(i),
        R::S(s) => Output::String(s),
    }
}

fn check_against_reference(e: &E, ty: Type, events: &[Event]) -> Result<(), TestCaseError> {
    let src = print(e);
    let program = compile(&src, &schema(), ty).map_err(|d| TestCaseError::fail(format!("{src}: {d:?}")))?;
    for event in events {
        let got = program.eval(&to_values(event));
        let want = to_output(reference(e, event));
        prop_assert_eq!(&got, &want, "{} on {:?}", src, event);
        if ty == Type::Bool {
            let fast = program.eval_bool(&to_values(event));
            prop_assert_eq!(fast.map(Output::Bool).unwrap_or(Output::Absent), want);
        }
    }
    Ok(())
}

/// Token soup: mostly-plausible sources that exercise every error path.
fn soup() -> impl Strategy<Value = String> {
    const TOKENS: [&str; 40] = [
        "phone.segment",
        "features.regs_per_fp_1h",
        "lists.vip",
        "ip.datacenter",
        "has",
        "size",
        "int",
        "string",
        ".startsWith",
        ".matches",
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        "?",
        ":",
        "&&",
        "||",
        "!",
        "-",
        "+",
        "*",
        "/",
        "%",
        "==",
        "<",
        ">=",
        "in",
        "null",
        "true",
        "1",
        "2.5",
        "9223372036854775808",
        "\"iot\"",
        "'(['",
        "\"",
        "\n",
        "#",
    ];
    proptest::collection::vec(proptest::sample::select(&TOKENS[..]), 0..24).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn bool_expressions_agree_with_the_reference(e in bool_e(4), events in proptest::collection::vec(event(), 8)) {
        check_against_reference(&e, Type::Bool, &events)?;
    }

    #[test]
    fn int_expressions_agree_with_the_reference(e in int_e(4), events in proptest::collection::vec(event(), 8)) {
        check_against_reference(&e, Type::Int, &events)?;
    }

    #[test]
    fn string_expressions_agree_with_the_reference(e in str_e(4), events in proptest::collection::vec(event(), 4)) {
        check_against_reference(&e, Type::String, &events)?;
    }

    #[test]
    fn no_panic_on_token_soup(src in soup(), event in event()) {
        no_panic(&src, &event);
    }

    #[test]
    fn no_panic_on_any_string(src in any::<String>(), event in event()) {
        no_panic(&src, &event);
    }
}

/// Compiles `src` for every result type; what compiles is evaluated; diagnostics are
/// well-formed (1-based, inside the source).
fn no_panic(src: &str, event: &Event) {
    let n_lines = src.split('\n').count() as u32;
    for ty in [Type::Bool, Type::Int, Type::Double, Type::String] {
        match compile(src, &schema(), ty) {
            Ok(program) => {
                let values = to_values(event);
                let _ = program.eval(&values);
                let _ = program.eval_bool(&values);
                let _ = program.eval_f64(&values);
            }
            Err(diags) => {
                assert!(!diags.is_empty(), "{src:?}: an error without diagnostics");
                for d in diags {
                    assert!(d.line >= 1 && d.line <= n_lines && d.column >= 1, "{src:?}: {d}");
                }
            }
        }
    }
}
