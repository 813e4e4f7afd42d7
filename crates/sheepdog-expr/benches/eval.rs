//! Rule evaluation against its baseline, measured in the same run: each rule compiled by
//! sheepdog-expr and evaluated through `&dyn Env` (`program`), and the same rule written by hand
//! as a Rust closure over the slot slice with the same absent-value semantics (`hand_written`).
//! `closure_tree` is the design not taken: the tree a closure compiler would build (one boxed
//! closure per node, same specialised leaves, same `&dyn Env`). All run over the same 64 varied
//! events; divan's figures are per 64 evaluations.
//!
//! `cargo bench -p sheepdog-expr --bench eval`

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use regex::Regex;
use sheepdog_expr::{compile, Env, Schema, Type, Value};

fn main() {
    divan::main();
}

const RULES: [&str; 4] = ["simple", "four_vars", "in_20", "matches"];

const SEGMENTS: [&str; 20] = [
    "iot",
    "voip",
    "virtual",
    "m2m",
    "satellite",
    "premium",
    "shared_cost",
    "pager",
    "uan",
    "vpn",
    "personal",
    "toll_free",
    "mvno_a",
    "mvno_b",
    "mvno_c",
    "mvno_d",
    "mvno_e",
    "mvno_f",
    "mvno_g",
    "mvno_h",
];

const REGS: usize = 0;
const SEGMENT: usize = 1;
const DATACENTER: usize = 2;
const EMULATOR: usize = 3;
const NICKNAME: usize = 4;

fn schema() -> Schema {
    let mut s = Schema::new();
    assert_eq!(s.declare("features.regs_per_fp_1h", Type::Int), REGS);
    assert_eq!(s.declare("phone.segment", Type::String), SEGMENT);
    assert_eq!(s.declare("ip.datacenter", Type::Bool), DATACENTER);
    assert_eq!(s.declare("device.emulator", Type::Bool), EMULATOR);
    assert_eq!(s.declare("user.nickname", Type::String), NICKNAME);
    s
}

fn source(rule: &str) -> String {
    match rule {
        "simple" => "features.regs_per_fp_1h >= 3".into(),
        "four_vars" => {
            r#"phone.segment == "iot" && features.regs_per_fp_1h >= 3 && ip.datacenter || device.emulator"#.into()
        }
        "in_20" => {
            let list: Vec<String> = SEGMENTS.iter().map(|s| format!("{s:?}")).collect();
            format!("phone.segment in [{}]", list.join(", "))
        }
        "matches" => r#"user.nickname.matches("[0-9]{5,}")"#.into(),
        other => unreachable!("{other}"),
    }
}

const NICKNAMES: [&str; 4] = ["小羊", "seller1234567", "alice_w", "tg:code88888 cheap"];
const EVENT_SEGMENTS: [&str; 5] = ["mobile", "iot", "fixed", "mvno_h", "voip"];

/// 64 events varied enough that branches are not all predicted; one in seven has no phone.
fn events() -> Vec<Vec<Value<'static>>> {
    (0..64usize)
        .map(|i| {
            let mut e = vec![Value::Absent; 5];
            e[REGS] = Value::Int((i % 6) as i64);
            if i % 7 != 0 {
                e[SEGMENT] = Value::Str(EVENT_SEGMENTS[i % 5]);
            }
            e[DATACENTER] = Value::Bool(i % 3 == 0);
            e[EMULATOR] = Value::Bool(i % 11 == 0);
            e[NICKNAME] = Value::Str(NICKNAMES[i % 4]);
            e
        })
        .collect()
}

#[divan::bench(args = RULES)]
fn program(b: Bencher, rule: &str) {
    let program = compile(&source(rule), &schema(), Type::Bool).unwrap();
    let events = events();
    b.counter(ItemsCount::new(events.len())).bench_local(|| {
        let mut fired = 0u32;
        for e in &events {
            fired += u32::from(black_box(&program).eval_bool(e) == Some(true));
        }
        fired
    });
}

type Rule = Box<dyn Fn(&[Value<'_>]) -> Option<bool>>;

fn hand_written_rule(rule: &str) -> Rule {
    fn int(v: Value<'_>) -> Option<i64> {
        match v {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }
    fn boolean(v: Value<'_>) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn string(v: Value<'_>) -> Option<&str> {
        match v {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// CEL's `&&` / `||` over values that may be missing.
    fn and(a: Option<bool>, b: impl FnOnce() -> Option<bool>) -> Option<bool> {
        match a {
            Some(false) => Some(false),
            a => match (a, b()) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
        }
    }
    fn or(a: Option<bool>, b: impl FnOnce() -> Option<bool>) -> Option<bool> {
        and(a.map(|v| !v), || b().map(|v| !v)).map(|v| !v)
    }
    match rule {
        "simple" => Box::new(|e| Some(int(e[REGS])? >= 3)),
        "four_vars" => Box::new(|e| {
            let seg = || string(e[SEGMENT]).map(|s| s == "iot");
            let regs = || int(e[REGS]).map(|v| v >= 3);
            or(and(and(seg(), regs), || boolean(e[DATACENTER])), || boolean(e[EMULATOR]))
        }),
        "in_20" => {
            let set: std::collections::HashSet<&str> = SEGMENTS.into_iter().collect();
            Box::new(move |e| Some(set.contains(string(e[SEGMENT])?)))
        }
        "matches" => {
            let re = Regex::new("[0-9]{5,}").unwrap();
            Box::new(move |e| Some(re.is_match(string(e[NICKNAME])?)))
        }
        other => unreachable!("{other}"),
    }
}

#[divan::bench(args = RULES)]
fn hand_written(b: Bencher, rule: &str) {
    let f = hand_written_rule(rule);
    bench_against_program(b, rule, |e| f(e));
}

/// Times `f` over the events, after checking that it agrees with the compiled rule on each.
fn bench_against_program(b: Bencher, rule: &str, f: impl Fn(&Vec<Value>) -> Option<bool>) {
    let events = events();
    // Both sides agree on every event before anything is timed.
    let program = compile(&source(rule), &schema(), Type::Bool).unwrap();
    for e in &events {
        assert_eq!(f(e), program.eval_bool(e), "{rule} on {e:?}");
    }
    b.counter(ItemsCount::new(events.len())).bench_local(|| {
        let mut fired = 0u32;
        for e in &events {
            fired += u32::from(black_box(&f)(e) == Some(true));
        }
        fired
    });
}

type Node = Box<dyn Fn(&dyn Env) -> Option<bool>>;

/// `&&` / `||` over boxed children, as a closure compiler would emit them.
fn junction(items: Vec<Node>, stop: bool) -> Node {
    Box::new(move |env| {
        let mut absent = false;
        for item in &items {
            match item(env) {
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
    })
}

fn closure_tree_rule(rule: &str) -> Node {
    let slot_int_ge = |slot: usize, k: i64| -> Node {
        Box::new(move |env| match env.get(slot) {
            Value::Int(v) => Some(v >= k),
            _ => None,
        })
    };
    let slot_bool = |slot: usize| -> Node {
        Box::new(move |env| match env.get(slot) {
            Value::Bool(v) => Some(v),
            _ => None,
        })
    };
    match rule {
        "simple" => slot_int_ge(REGS, 3),
        "four_vars" => {
            let seg: Node = Box::new(|env| match env.get(SEGMENT) {
                Value::Str(s) => Some(s == "iot"),
                _ => None,
            });
            let all = junction(vec![seg, slot_int_ge(REGS, 3), slot_bool(DATACENTER)], false);
            junction(vec![all, slot_bool(EMULATOR)], true)
        }
        "in_20" => {
            let mut set: Vec<&str> = SEGMENTS.to_vec();
            set.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            Box::new(move |env| match env.get(SEGMENT) {
                Value::Str(s) => Some(set.binary_search_by(|p| p.len().cmp(&s.len()).then_with(|| p.cmp(&s))).is_ok()),
                _ => None,
            })
        }
        "matches" => {
            let re = Regex::new("[0-9]{5,}").unwrap();
            Box::new(move |env| match env.get(NICKNAME) {
                Value::Str(s) => Some(re.is_match(s)),
                _ => None,
            })
        }
        other => unreachable!("{other}"),
    }
}

#[divan::bench(args = RULES)]
fn closure_tree(b: Bencher, rule: &str) {
    let f = closure_tree_rule(rule);
    bench_against_program(b, rule, |e| f(e));
}
