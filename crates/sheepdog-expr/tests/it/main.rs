//! Integration tests of sheepdog-expr: the language's semantics and diagnostics as data-driven
//! cases (`tests/cases/`), the public API, and properties (a reference interpreter over random
//! expressions, no panic on any input).

mod props;

use std::path::Path;

use sheepdog_expr::{compile, Env, Program, Schema, Type, Value, MAX_DEPTH, MAX_DIAGNOSTICS, MAX_SOURCE_LEN};

/// The schema every case file is compiled against.
pub fn schema() -> Schema {
    let mut s = Schema::new();
    for (name, ty) in [
        ("features.regs_per_fp_1h", Type::Int),
        ("features.phones_per_device_24h", Type::Int),
        ("features.amount", Type::Double),
        ("phone.segment", Type::String),
        ("phone.number", Type::String),
        ("ip.datacenter", Type::Bool),
        ("device.emulator", Type::Bool),
        ("event.type", Type::String),
        ("user.nickname", Type::String),
        ("lists.vip", Type::StringList),
        ("attributes.channel", Type::String),
    ] {
        s.declare(name, ty);
    }
    s
}

/// Builds an environment from a JSON object of slot name to value (string, bool, int, float,
/// array of strings; `null` or a missing name is absent). Leaks the strings: tests only.
fn env_from_json(schema: &Schema, json: &str) -> Vec<Value<'static>> {
    let obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("bad env json {json}: {e}"));
    let mut env = vec![Value::Absent; schema.len()];
    for (name, v) in obj {
        let (slot, _) = schema.slot(&name).unwrap_or_else(|| panic!("env names unknown slot {name}"));
        env[slot] = match v {
            serde_json::Value::Null => Value::Absent,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Double(n.as_f64().unwrap()),
            },
            serde_json::Value::String(s) => Value::Str(Box::leak(s.into_boxed_str())),
            serde_json::Value::Array(items) => {
                let items: Vec<&'static str> = items
                    .into_iter()
                    .map(|i| &*Box::leak(i.as_str().expect("lists hold strings").to_owned().into_boxed_str()))
                    .collect();
                Value::StrList(Box::leak(items.into_boxed_slice()))
            }
            serde_json::Value::Object(_) => panic!("objects are not values"),
        };
    }
    env
}

/// One case of a case file: see `tests/cases/README.md`.
struct Case {
    file: String,
    name: String,
    src: String,
    ty: Type,
    /// `-- env` / `-- expect` pairs, or `-- error` lines, in file order.
    steps: Vec<(String, String)>,
}

fn parse_cases(file: &str, text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    let mut in_source = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            cases.extend(current.take());
            current = Some(Case {
                file: file.into(),
                name: name.trim().into(),
                src: String::new(),
                ty: Type::Bool,
                steps: vec![],
            });
            in_source = true;
            continue;
        }
        let Some(case) = current.as_mut() else {
            continue; // the file's header comment
        };
        if let Some(directive) = line.strip_prefix("-- ") {
            in_source = false;
            let (key, value) = directive.split_once(':').unwrap_or_else(|| panic!("{file}: bad directive {line}"));
            let value = value.trim().to_owned();
            match key {
                "type" => {
                    case.ty = match value.as_str() {
                        "bool" => Type::Bool,
                        "int" => Type::Int,
                        "double" => Type::Double,
                        "string" => Type::String,
                        other => panic!("{file}: bad type {other}"),
                    }
                }
                "env" | "expect" | "error" => case.steps.push((key.into(), value)),
                other => panic!("{file}: unknown directive {other}"),
            }
        } else if in_source {
            if !case.src.is_empty() {
                case.src.push('\n');
            }
            case.src.push_str(line);
        } else if !line.trim().is_empty() {
            panic!("{file}: stray line after directives in case {}: {line}", case.name);
        }
    }
    cases.extend(current);
    cases
}

/// Runs one case; returns a description of every mismatch.
fn run_case(case: &Case, schema: &Schema) -> Vec<String> {
    let mut failures = Vec::new();
    let fail = |what: String| format!("{} / {}:\n  source: {}\n  {what}", case.file, case.name, case.src);
    let want_errors: Vec<&str> = case.steps.iter().filter(|(k, _)| k == "error").map(|(_, v)| v.as_str()).collect();
    match compile(&case.src, schema, case.ty) {
        Ok(program) => {
            if !want_errors.is_empty() {
                failures.push(fail(format!("compiled, expected errors {want_errors:?}")));
                return failures;
            }
            let mut env = Vec::new();
            let mut n_expects = 0;
            for (key, value) in &case.steps {
                if key == "env" {
                    env = env_from_json(schema, value);
                    continue;
                }
                n_expects += 1;
                let got = program.eval(&env).to_string();
                if got != *value {
                    failures.push(fail(format!("env {env:?}: got {got}, expected {value}")));
                }
                check_fast_paths(&program, &env, &got).err().into_iter().for_each(|e| failures.push(fail(e)));
            }
            if n_expects == 0 {
                failures.push(fail("case has no expect".into()));
            }
        }
        Err(diags) => {
            let got: Vec<String> = diags.iter().map(ToString::to_string).collect();
            if got != want_errors {
                failures.push(fail(format!("diagnostics\n    got:      {got:?}\n    expected: {want_errors:?}")));
            }
        }
    }
    failures
}

/// `eval_bool` and `eval_f64` agree with `eval`.
fn check_fast_paths(program: &Program, env: &dyn Env, got: &str) -> Result<(), String> {
    match program.ty() {
        Type::Bool => {
            let fast = program.eval_bool(env).map_or("absent".to_string(), |b| b.to_string());
            (fast == got).then_some(()).ok_or(format!("eval_bool says {fast}, eval says {got}"))
        }
        Type::Double | Type::Int => {
            let fast = program.eval_f64(env);
            let slow = got.parse::<f64>().ok();
            (fast == slow).then_some(()).ok_or(format!("eval_f64 says {fast:?}, eval says {got}"))
        }
        _ => Ok(()),
    }
}

#[test]
fn cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let schema = schema();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    paths.sort();
    let mut n_cases = 0;
    let mut failures = Vec::new();
    for path in &paths {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let cases = parse_cases(&file, &std::fs::read_to_string(path).unwrap());
        assert!(!cases.is_empty(), "{file} has no cases");
        for case in &cases {
            n_cases += 1;
            failures.extend(run_case(case, &schema));
        }
    }
    assert!(n_cases >= 40, "only {n_cases} cases found in {}", dir.display());
    assert!(failures.is_empty(), "{} of {n_cases} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn readme_example_rule() {
    let mut schema = Schema::new();
    let segment = schema.declare("phone.segment", Type::String);
    let regs = schema.declare("features.regs_per_fp_1h", Type::Int);
    let dc = schema.declare("ip.datacenter", Type::Bool);
    let emu = schema.declare("device.emulator", Type::Bool);
    let rule = compile(
        r#"phone.segment == "iot" && features.regs_per_fp_1h >= 3 && ip.datacenter || device.emulator"#,
        &schema,
        Type::Bool,
    )
    .unwrap();
    let mut env = [Value::Absent; 4];
    assert_eq!(rule.eval_bool(&env), None, "nothing known: no verdict");
    env[emu] = Value::Bool(true);
    assert_eq!(rule.eval_bool(&env), Some(true), "an emulator fires whatever else is absent");
    env[emu] = Value::Bool(false);
    env[segment] = Value::Str("iot");
    env[regs] = Value::Int(3);
    env[dc] = Value::Bool(true);
    assert_eq!(rule.eval_bool(&env), Some(true));
    env[regs] = Value::Int(2);
    assert_eq!(rule.eval_bool(&env), Some(false));
    assert_eq!(rule.slots(), &[segment, regs, dc, emu]);
}

#[test]
fn score_expression_evaluates_to_f64() {
    let schema = schema();
    let p = compile("features.regs_per_fp_1h * 10 + features.amount / 2", &schema, Type::Double).unwrap();
    let env = env_from_json(&schema, r#"{"features.regs_per_fp_1h": 3, "features.amount": 5.0}"#);
    assert_eq!(p.eval_f64(&env), Some(32.5));
    assert_eq!(p.eval_bool(&env), None, "not a boolean program");
    let p = compile("features.regs_per_fp_1h * 10", &schema, Type::Double).unwrap();
    assert_eq!(p.eval_f64(&env), Some(30.0), "an int expression is accepted where a double is expected");
}

#[test]
fn env_of_a_slice_and_of_a_custom_type() {
    struct OnlyFirst;
    impl Env for OnlyFirst {
        fn get(&self, slot: usize) -> Value<'_> {
            if slot == 0 {
                Value::Int(5)
            } else {
                Value::Absent
            }
        }
    }
    let schema = schema();
    let p = compile("features.regs_per_fp_1h > 4", &schema, Type::Bool).unwrap();
    assert_eq!(p.eval_bool(&OnlyFirst), Some(true));
    let values = vec![Value::Int(1)];
    let slice: &[Value<'_>] = &values;
    assert_eq!(p.eval_bool(&slice), Some(false));
    assert_eq!(p.eval_bool(&[] as &[Value<'_>; 0]), None, "a slot past the slice's end is absent");
}

#[test]
fn wrongly_typed_env_value_is_absent() {
    let schema = schema();
    let p = compile("features.regs_per_fp_1h > 4", &schema, Type::Bool).unwrap();
    assert_eq!(p.eval_bool(&[Value::Str("9")]), None);
}

#[test]
fn source_length_is_capped() {
    let src = format!("true{}", " ".repeat(MAX_SOURCE_LEN));
    let diags = compile(&src, &schema(), Type::Bool).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].to_string(), format!("1:1: source is longer than {MAX_SOURCE_LEN} bytes"));
}

#[test]
fn nesting_is_capped_without_overflowing_the_stack() {
    let schema = schema();
    for src in [
        format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}true", "!".repeat(10_000)),
        format!("{}1 > 0", "-".repeat(10_000)),
        format!("{}1 > 0", "1 + ".repeat(10_000)),
        format!("{}1 > 0", "size([".repeat(5_000)),
        format!("true{}", " ? true : true".repeat(4_000)),
    ] {
        let diags = compile(&src, &schema, Type::Bool).unwrap_err();
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("nested too deeply"), "{}", diags[0]);
    }
    // Just under the cap compiles; long flat chains are not nesting.
    let ok = format!("{}true{}", "(".repeat(MAX_DEPTH - 2), ")".repeat(MAX_DEPTH - 2));
    compile(&ok, &schema, Type::Bool).unwrap();
    let chain = vec!["device.emulator"; 3_000].join(" || ");
    compile(&chain, &schema, Type::Bool).unwrap();
}

#[test]
fn diagnostic_display_is_line_colon_column() {
    let diags = compile("phone.segment ==\n  featurs.regs_per_fp_1h", &schema(), Type::Bool).unwrap_err();
    assert_eq!(
        diags.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["2:3: unknown identifier 'featurs.regs_per_fp_1h' (did you mean 'features.regs_per_fp_1h'?)"]
    );
    assert_eq!((diags[0].line, diags[0].column), (2, 3));
}

#[test]
fn diagnostics_are_capped_and_cheap_on_hostile_input() {
    let schema = schema();
    for src in
        ["#".repeat(MAX_SOURCE_LEN), "x || ".repeat(MAX_SOURCE_LEN / 5 - 1) + "x", "\n#".repeat(MAX_SOURCE_LEN / 2)]
    {
        let diags = compile(&src, &schema, Type::Bool).unwrap_err();
        assert_eq!(diags.len(), MAX_DIAGNOSTICS + 1);
        assert_eq!(
            diags.last().unwrap().message,
            format!("too many errors: only the first {MAX_DIAGNOSTICS} are shown")
        );
        assert!(diags.windows(2).all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)));
    }
    let long_name = "a".repeat(MAX_SOURCE_LEN - 10);
    let diags = compile(&long_name, &schema, Type::Bool).unwrap_err();
    assert_eq!(diags.len(), 1);
}
