//! Contract tests of v1 event parsing (`/work/shared/spec/API.md`, "Event (request)").
//!
//! Data-driven: every case is a JSON input and the expected outcome, checked by `check`
//! (one case, panics on mismatch) or `check_table` (many cases, reports every mismatch at once).
//! Every error is also checked for the invariants of the contract: a non-empty message and a
//! serialized body of exactly `{"error":{"code":…,"message":…,"field":…}}`.

use std::net::IpAddr;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sheepdog_model::{
    parse_event, parse_event_general, parse_event_value, Changed, Device, ErrorCode, Event, EventError, EventType,
    LabelValue, Profile, Session, Timestamp, LIMITS,
};

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// The expected outcome of parsing one input.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    /// Parses.
    Ok,
    /// Fails with this wire code and this field (`None`: the error names no field).
    Err(&'static str, Option<String>),
}

fn ok() -> Expect {
    Expect::Ok
}

/// An error at a field.
fn err(code: &'static str, field: &str) -> Expect {
    Expect::Err(code, Some(field.to_string()))
}

/// An error about the input as a whole (`"field": null`).
fn err_top(code: &'static str) -> Expect {
    Expect::Err(code, None)
}

/// Checks the invariants every error must hold; returns a description of the first violation.
fn error_invariants(e: &EventError) -> Result<(), String> {
    if e.message.trim().is_empty() {
        return Err(format!("error has an empty message: {e:?}"));
    }
    let text = serde_json::to_string(e).map_err(|x| format!("error does not serialize: {x}"))?;
    let body: Value = serde_json::from_str(&text).map_err(|x| format!("error body is not JSON: {x}: {text}"))?;
    let expected = json!({
        "error": {
            "code": e.code.as_str(),
            "message": e.message,
            "field": e.field,
        }
    });
    if body != expected {
        return Err(format!("error body {text} is not exactly {expected} (code, message, field)"));
    }
    Ok(())
}

fn show(input: &[u8]) -> String {
    let s = String::from_utf8_lossy(input);
    if s.len() > 200 {
        let cut: String = s.chars().take(160).collect();
        format!("{cut}… ({} bytes)", input.len())
    } else {
        s.into_owned()
    }
}

/// Parses `input` and compares with `expected`; `Err(description)` on any mismatch.
fn verify(input: &[u8], expected: &Expect) -> Result<Option<Event<'static>>, String> {
    let got = parse_event(input);
    // The fast path and serde agree on every input, events and errors alike.
    if got != parse_event_general(input) {
        return Err(format!("input {}: the fast path and serde disagree: {got:?}", show(input)));
    }
    match (&got, expected) {
        (Ok(ev), Expect::Ok) => Ok(Some(ev.clone().into_owned())),
        (Err(e), Expect::Err(code, field)) => {
            error_invariants(e).map_err(|m| format!("input {}: {m}", show(input)))?;
            if e.code.as_str() != *code || e.field.as_deref() != field.as_deref() {
                return Err(format!(
                    "input {}\n    expected: {code} at {field:?}\n    actual:   {} at {:?} ({})",
                    show(input),
                    e.code.as_str(),
                    e.field,
                    e.message
                ));
            }
            Ok(None)
        }
        (Ok(ev), Expect::Err(code, field)) => {
            Err(format!("input {}\n    expected: {code} at {field:?}\n    actual:   Ok({ev:?})", show(input)))
        }
        (Err(e), Expect::Ok) => Err(format!(
            "input {}\n    expected: Ok\n    actual:   {} at {:?} ({})",
            show(input),
            e.code.as_str(),
            e.field,
            e.message
        )),
    }
}

/// Checks one case; panics on mismatch. Returns the event when one was expected.
fn check(input: impl AsRef<[u8]>, expected: Expect) -> Option<Event<'static>> {
    match verify(input.as_ref(), &expected) {
        Ok(ev) => ev,
        Err(m) => panic!("{m}"),
    }
}

/// Checks an `Ok` case and returns the event.
fn parse_ok(input: impl AsRef<[u8]>) -> Event<'static> {
    check(input, ok()).expect("an event")
}

/// Checks every case and panics once, listing every mismatch.
fn check_table<S: AsRef<[u8]>>(name: &str, cases: impl IntoIterator<Item = (S, Expect)>) {
    let mut failures = Vec::new();
    let mut n = 0;
    for (input, expected) in cases {
        n += 1;
        if let Err(m) = verify(input.as_ref(), &expected) {
            failures.push(m);
        }
    }
    assert!(n > 0, "{name}: empty table");
    if !failures.is_empty() {
        panic!("{name}: {} of {n} cases failed:\n  {}", failures.len(), failures.join("\n  "));
    }
}

/// `{"type":"login"}` with the value `v` at the dotted `path` (`device.emulator`).
fn with(path: &str, v: Value) -> String {
    with_type("login", path, v)
}

/// `{"type":ty}` with the value `v` at the dotted `path`.
fn with_type(ty: &str, path: &str, v: Value) -> String {
    let mut root = json!({ "type": ty });
    set_path(&mut root, path, v);
    root.to_string()
}

fn set_path(root: &mut Value, path: &str, v: Value) {
    let mut cur = root;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        let obj = cur.as_object_mut().expect("an object on the path");
        if parts.peek().is_none() {
            obj.insert(p.to_string(), v);
            return;
        }
        cur = obj.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// `{"type":"login", ...extra}`.
fn login(extra: Value) -> String {
    let mut root = json!({ "type": "login" });
    for (k, v) in extra.as_object().expect("an object").clone() {
        root.as_object_mut().unwrap().insert(k, v);
    }
    root.to_string()
}

const KNOWN_TYPES: [&str; 7] =
    ["sms_code_request", "registration", "login", "profile_update", "content", "promo_claim", "label"];

const KNOWN_CHANGED: [&str; 8] =
    ["password", "phone", "email", "nickname", "avatar", "bio", "device_binding", "identity"];

// ---------------------------------------------------------------------------------------------
// Event types
// ---------------------------------------------------------------------------------------------

#[test]
fn the_contract_lists_seven_event_types() {
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(names, KNOWN_TYPES);
    for t in EventType::ALL {
        assert_eq!(EventType::parse(t.as_str()), Some(t));
    }
    assert_eq!(EventType::parse("Login"), None);
}

#[test]
fn every_non_label_type_parses_from_a_bare_event() {
    for name in KNOWN_TYPES.iter().filter(|n| **n != "label") {
        let ev = parse_ok(json!({ "type": name }).to_string());
        assert_eq!(ev.event_type.as_str(), *name);
        assert_eq!(ev.label, None, "{name}");
        assert_eq!(ev, Event::new(ev.event_type), "a bare {name} event has nothing but its type");
    }
}

#[test]
fn every_type_parses_with_its_typical_fields() {
    let cases = [
        json!({"type": "sms_code_request", "phone": "+8617012345678", "ip": "1.2.3.4"}),
        json!({"type": "registration", "phone": "17012345678", "region": "CN",
               "device": {"id": "d1"}, "session": {"form_fill_ms": 5000}}),
        json!({"type": "login", "account_id": "a1", "changed": ["device_binding"]}),
        json!({"type": "profile_update", "account_id": "a1", "changed": ["nickname", "bio"],
               "profile": {"nickname": "n", "bio": "b"}}),
        json!({"type": "content", "account_id": "a1", "text": "buy cheap followers"}),
        json!({"type": "promo_claim", "account_id": "a1", "campaign_id": "spring"}),
        json!({"type": "label", "account_id": "a1", "attributes": {"label": "fraud"}}),
    ];
    let mut seen = Vec::new();
    for c in cases {
        let ev = parse_ok(c.to_string());
        assert_eq!(ev.event_type.as_str(), c["type"].as_str().unwrap());
        seen.push(ev.event_type);
    }
    assert_eq!(seen, EventType::ALL);
}

#[test]
fn label_events() {
    let cases: Vec<(Value, LabelValue)> = vec![
        (json!({"type": "label", "account_id": "a1", "attributes": {"label": "fraud"}}), LabelValue::Fraud),
        (json!({"type": "label", "account_id": "a1", "attributes": {"label": "legit"}}), LabelValue::Legit),
        (json!({"type": "label", "phone": "+8617012345678", "attributes": {"label": "fraud"}}), LabelValue::Fraud),
        (json!({"type": "label", "device": {"id": "dev-9"}, "attributes": {"label": "legit"}}), LabelValue::Legit),
        (
            json!({"type": "label", "account_id": "a1", "phone": "+8617012345678",
                   "device": {"id": "d"}, "attributes": {"label": "fraud", "source": "manual"}}),
            LabelValue::Fraud,
        ),
    ];
    for (input, label) in cases {
        let ev = parse_ok(input.to_string());
        assert_eq!(ev.event_type, EventType::Label);
        assert_eq!(ev.label, Some(label), "{input}");
        assert_eq!(
            ev.attributes.as_ref().and_then(|a| a.get("label")),
            input["attributes"].get("label"),
            "attributes are kept as sent"
        );
    }

    // `attributes.label` on any other type is only an attribute.
    let ev = parse_ok(login(json!({"attributes": {"label": "fraud"}})));
    assert_eq!(ev.label, None);
    assert_eq!(ev.attributes.unwrap()["label"], "fraud");
}

#[test]
fn label_errors() {
    let label = |extra: Value| {
        let mut root = json!({"type": "label"});
        for (k, v) in extra.as_object().unwrap().clone() {
            root[k] = v;
        }
        root.to_string()
    };
    check_table(
        "label errors",
        [
            (label(json!({"account_id": "a1"})), err("missing_field", "attributes.label")),
            (label(json!({"account_id": "a1", "attributes": null})), err("missing_field", "attributes.label")),
            (label(json!({"account_id": "a1", "attributes": {}})), err("missing_field", "attributes.label")),
            (
                label(json!({"account_id": "a1", "attributes": {"label": null}})),
                err("missing_field", "attributes.label"),
            ),
            (
                label(json!({"account_id": "a1", "attributes": {"labels": "fraud"}})),
                err("missing_field", "attributes.label"),
            ),
            (
                label(json!({"account_id": "a1", "attributes": {"label": "FRAUD"}})),
                err("invalid_value", "attributes.label"),
            ),
            (
                label(json!({"account_id": "a1", "attributes": {"label": "bad"}})),
                err("invalid_value", "attributes.label"),
            ),
            (label(json!({"account_id": "a1", "attributes": {"label": ""}})), err("invalid_value", "attributes.label")),
            (label(json!({"account_id": "a1", "attributes": {"label": 1}})), err("invalid_value", "attributes.label")),
            (
                label(json!({"account_id": "a1", "attributes": {"label": true}})),
                err("invalid_value", "attributes.label"),
            ),
            (
                label(json!({"account_id": "a1", "attributes": {"label": ["fraud"]}})),
                err("invalid_value", "attributes.label"),
            ),
            // A label needs a subject: account_id, phone or device.id.
            (label(json!({"attributes": {"label": "fraud"}})), err("missing_field", "account_id")),
            (label(json!({"attributes": {"label": "fraud"}, "device": {}})), err("missing_field", "account_id")),
            (
                label(json!({"attributes": {"label": "fraud"}, "device": {"id": null,
                       "fingerprint": "fp"}})),
                err("missing_field", "account_id"),
            ),
            (
                label(json!({"attributes": {"label": "fraud"}, "account_id": null,
                       "phone": null, "device": null, "email": "a@b.c"})),
                err("missing_field", "account_id"),
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// A full event
// ---------------------------------------------------------------------------------------------

fn full_event_json() -> Value {
    json!({
        "id": "evt-0001",
        "type": "registration",
        "timestamp": "2026-11-25T10:00:00+08:00",
        "account_id": "acc-42",
        "phone": "+8617012345678",
        "region": "cn",
        "email": "sheep@example.com",
        "ip": "2001:db8::1",
        "device": {
            "id": "dev-1",
            "fingerprint": "fp-0badc0de",
            "model": "Pixel 8",
            "os": "Android 15",
            "emulator": false,
            "rooted": true,
            "hooked": false,
            "sim_present": true,
            "sim_phone_match": false
        },
        "user_agent": "Mozilla/5.0 (Linux; Android 15)",
        "session": {
            "form_fill_ms": 1234.5,
            "sms_code_entry_ms": 999.4,
            "captcha_solve_ms": 3000,
            "paste_used": true
        },
        "profile": {
            "nickname": "小羊",
            "bio": "grazing 🐑",
            "avatar_hash": "ab12cd34",
            "gender": "f",
            "birth_year": 1990
        },
        "identity_hash": "sha256:deadbeef",
        "text": "hello\nworld",
        "campaign_id": "spring-2026",
        "changed": KNOWN_CHANGED,
        "attributes": {
            "channel": "organic",
            "score": 0.5,
            "n": 7,
            "nested": {"a": [1, 2, null]},
            "flag": true
        }
    })
}

fn full_event_expected() -> Event<'static> {
    let mut attributes = Map::new();
    attributes.insert("channel".into(), json!("organic"));
    attributes.insert("score".into(), json!(0.5));
    attributes.insert("n".into(), json!(7));
    attributes.insert("nested".into(), json!({"a": [1, 2, null]}));
    attributes.insert("flag".into(), json!(true));
    Event {
        id: Some("evt-0001".into()),
        event_type: EventType::Registration,
        // 2026-11-25T10:00:00+08:00 = 2026-11-25T02:00:00Z
        timestamp: Some(Timestamp(1_795_572_000_000)),
        account_id: Some("acc-42".into()),
        phone: Some("+8617012345678".into()),
        region: Some("CN".into()),
        email: Some("sheep@example.com".into()),
        ip: Some("2001:db8::1".parse::<IpAddr>().unwrap()),
        device: Some(Device {
            id: Some("dev-1".into()),
            fingerprint: Some("fp-0badc0de".into()),
            model: Some("Pixel 8".into()),
            os: Some("Android 15".into()),
            emulator: Some(false),
            rooted: Some(true),
            hooked: Some(false),
            sim_present: Some(true),
            sim_phone_match: Some(false),
        }),
        user_agent: Some("Mozilla/5.0 (Linux; Android 15)".into()),
        session: Some(Session {
            form_fill_ms: Some(1235),
            sms_code_entry_ms: Some(999),
            captcha_solve_ms: Some(3000),
            paste_used: Some(true),
        }),
        profile: Some(Profile {
            nickname: Some("小羊".into()),
            bio: Some("grazing 🐑".into()),
            avatar_hash: Some("ab12cd34".into()),
            gender: Some("f".into()),
            birth_year: Some(1990),
        }),
        identity_hash: Some("sha256:deadbeef".into()),
        text: Some("hello\nworld".into()),
        campaign_id: Some("spring-2026".into()),
        changed: Changed::ALL.to_vec(),
        attributes: Some(attributes),
        label: None,
    }
}

#[test]
fn a_full_event_parses_to_typed_values() {
    let ev = parse_ok(full_event_json().to_string());
    assert_eq!(ev, full_event_expected());
    assert_eq!(ev.device_id(), Some("dev-1"));
    assert_eq!(ev.device_fingerprint(), Some("fp-0badc0de"));
}

#[test]
fn a_full_event_with_epoch_ms_timestamp() {
    let mut input = full_event_json();
    input["timestamp"] = json!(1_795_600_800_000_i64);
    input["ip"] = json!("203.0.113.7");
    let ev = parse_ok(input.to_string());
    let mut expected = full_event_expected();
    expected.timestamp = Some(Timestamp(1_795_600_800_000));
    expected.ip = Some("203.0.113.7".parse().unwrap());
    assert_eq!(ev, expected);
    assert!(matches!(ev.ip, Some(IpAddr::V4(_))));
}

#[test]
fn a_full_event_pretty_printed_and_with_surrounding_whitespace() {
    let pretty = serde_json::to_string_pretty(&full_event_json()).unwrap();
    let padded = format!(" \n\t{pretty}\r\n  ");
    assert_eq!(parse_ok(padded), full_event_expected());
}

#[test]
fn session_ms_are_rounded_to_the_nearest_integer() {
    let cases: &[(Value, u32)] = &[
        (json!(0), 0),
        (json!(0.0), 0),
        (json!(0.4), 0),
        (json!(0.5), 1),
        (json!(1234.4), 1234),
        (json!(1234.5), 1235),
        (json!(1234.6), 1235),
        (json!(1e3), 1000),
        (json!(86_400_000), 86_400_000),
        (json!(86_400_000.0), 86_400_000),
        (json!(86_399_999.6), 86_400_000),
    ];
    for field in ["form_fill_ms", "sms_code_entry_ms", "captcha_solve_ms"] {
        for (v, expected) in cases {
            let ev = parse_ok(with(&format!("session.{field}"), v.clone()));
            let s = ev.session.unwrap();
            let got = match field {
                "form_fill_ms" => s.form_fill_ms,
                "sms_code_entry_ms" => s.sms_code_entry_ms,
                _ => s.captcha_solve_ms,
            };
            assert_eq!(got, Some(*expected), "session.{field} = {v}");
        }
    }
}

#[test]
fn session_ms_out_of_range() {
    let mut cases = Vec::new();
    for field in ["form_fill_ms", "sms_code_entry_ms", "captcha_solve_ms"] {
        let path = format!("session.{field}");
        for v in [
            json!(-1),
            json!(-0.6),
            json!(86_400_001),
            json!(86_400_000.5),
            json!(1e300),
            json!(-1e300),
            json!(u64::MAX),
            json!(i64::MIN),
        ] {
            cases.push((with(&path, v), err("invalid_value", &path)));
        }
    }
    check_table("session ms out of range", cases);
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

/// Epoch ms of 2026-11-25T10:00:00Z.
const T0: i64 = 1_795_600_800_000;
/// 9999-12-31T23:59:59.999Z.
const MAX_MS: i64 = 253_402_300_799_999;

#[test]
fn timestamps_that_parse() {
    let cases: Vec<(Value, i64)> = vec![
        (json!("2026-11-25T10:00:00Z"), T0),
        (json!("2026-11-25T10:00:00+00:00"), T0),
        (json!("2026-11-25T10:00:00-00:00"), T0),
        (json!("2026-11-25T18:00:00+08:00"), T0),
        (json!("2026-11-25T04:30:00-05:30"), T0),
        (json!("2026-11-26T00:00:00+14:00"), T0),
        (json!("2026-11-25T10:00:00.123Z"), T0 + 123),
        (json!("2026-11-25T10:00:00.1Z"), T0 + 100),
        (json!("2026-11-25T18:00:00.250+08:00"), T0 + 250),
        (json!("1970-01-01T00:00:00Z"), 0),
        (json!("1970-01-01T08:00:00+08:00"), 0),
        (json!("9999-12-31T23:59:59.999Z"), MAX_MS),
        (json!("2024-02-29T00:00:00Z"), 1_709_164_800_000),
        (json!(0), 0),
        (json!(1), 1),
        (json!(T0), T0),
        (json!(MAX_MS), MAX_MS),
    ];
    let mut failures = Vec::new();
    for (v, ms) in cases {
        match parse_event(with("timestamp", v.clone()).as_bytes()) {
            Ok(ev) if ev.timestamp == Some(Timestamp(ms)) => {}
            other => failures.push(format!("timestamp {v}: expected Ok({ms}), got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn timestamp_lowercase_t_and_z_are_rfc_3339() {
    // RFC 3339 §5.6: "T" and "Z" may alternatively be lower case.
    let ev = parse_ok(with("timestamp", json!("2026-11-25t10:00:00z")));
    assert_eq!(ev.timestamp, Some(Timestamp(T0)));
}

#[test]
fn sub_millisecond_digits_do_not_change_the_millisecond() {
    let ev = parse_ok(with("timestamp", json!("2026-11-25T10:00:00.123456789Z")));
    let ms = ev.timestamp.unwrap().0;
    assert!(ms == T0 + 123 || ms == T0 + 124, "{ms}");
}

#[test]
fn bad_timestamps() {
    let bad = err("invalid_timestamp", "timestamp");
    let mut cases: Vec<(String, Expect)> = [
        json!("garbage"),
        json!(""),
        json!(" "),
        json!("now"),
        json!("2026-11-25"),
        json!("10:00:00Z"),
        json!("2026-11-25T10:00:00"),
        json!("2026-11-25T10:00Z"),
        json!("2026-13-01T00:00:00Z"),
        json!("2026-02-30T00:00:00Z"),
        json!("2026-11-25T25:00:00Z"),
        json!("2026-11-25T10:00:00+25:00"),
        json!("26-11-25T10:00:00Z"),
        json!("2026-11-25T10:00:00Z trailing"),
        json!("1795600800000"),
        // year > 9999
        json!("10000-01-01T00:00:00Z"),
        json!("+10000-01-01T00:00:00Z"),
        json!("99999-12-31T23:59:59Z"),
        json!("9999-12-31T23:59:59-01:00"),
        // before the epoch
        json!("1969-12-31T23:59:59Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("1970-01-01T00:00:00+00:01"),
        // negative, fractional, or past 9999 epoch milliseconds
        json!(-1),
        json!(-T0),
        json!(i64::MIN),
        json!(MAX_MS + 1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1.5),
        json!(0.1),
        json!(1_795_600_800_000.0),
        json!(1.7956008e12),
        json!(-0.0),
        json!(1e300),
    ]
    .into_iter()
    .map(|v| (with("timestamp", v), bad.clone()))
    .collect();
    // Integers beyond u64 arrive as floats.
    cases.push((r#"{"type":"login","timestamp":99999999999999999999999}"#.into(), bad.clone()));
    cases.push((r#"{"type":"login","timestamp":1e3}"#.into(), bad.clone()));
    check_table("bad timestamps", cases);
}

#[test]
fn a_timestamp_before_1970_by_a_fraction_of_a_millisecond_is_rejected() {
    // Everything before 1970 is rejected, including instants less than 1 ms before the epoch.
    check(with("timestamp", json!("1969-12-31T23:59:59.9999Z")), err("invalid_timestamp", "timestamp"));
    check(with("timestamp", json!("1970-01-01T07:59:59.9999+08:00")), err("invalid_timestamp", "timestamp"));
}

// ---------------------------------------------------------------------------------------------
// Optional fields: absent and null
// ---------------------------------------------------------------------------------------------

type Probe = fn(&Event) -> bool;

/// Every optional top-level field and a probe that says it is absent in the typed event.
const TOP_LEVEL: &[(&str, Probe)] = &[
    ("id", |e| e.id.is_none()),
    ("timestamp", |e| e.timestamp.is_none()),
    ("account_id", |e| e.account_id.is_none()),
    ("phone", |e| e.phone.is_none()),
    ("region", |e| e.region.is_none()),
    ("email", |e| e.email.is_none()),
    ("ip", |e| e.ip.is_none()),
    ("device", |e| e.device.is_none()),
    ("user_agent", |e| e.user_agent.is_none()),
    ("session", |e| e.session.is_none()),
    ("profile", |e| e.profile.is_none()),
    ("identity_hash", |e| e.identity_hash.is_none()),
    ("text", |e| e.text.is_none()),
    ("campaign_id", |e| e.campaign_id.is_none()),
    ("changed", |e| e.changed.is_empty()),
    ("attributes", |e| e.attributes.is_none()),
];

/// Every nested optional field and a probe that says it is absent (its parent being present).
const NESTED: &[(&str, Probe)] = &[
    ("device.id", |e| e.device.as_ref().unwrap().id.is_none()),
    ("device.fingerprint", |e| e.device.as_ref().unwrap().fingerprint.is_none()),
    ("device.model", |e| e.device.as_ref().unwrap().model.is_none()),
    ("device.os", |e| e.device.as_ref().unwrap().os.is_none()),
    ("device.emulator", |e| e.device.as_ref().unwrap().emulator.is_none()),
    ("device.rooted", |e| e.device.as_ref().unwrap().rooted.is_none()),
    ("device.hooked", |e| e.device.as_ref().unwrap().hooked.is_none()),
    ("device.sim_present", |e| e.device.as_ref().unwrap().sim_present.is_none()),
    ("device.sim_phone_match", |e| e.device.as_ref().unwrap().sim_phone_match.is_none()),
    ("session.form_fill_ms", |e| e.session.as_ref().unwrap().form_fill_ms.is_none()),
    ("session.sms_code_entry_ms", |e| e.session.as_ref().unwrap().sms_code_entry_ms.is_none()),
    ("session.captcha_solve_ms", |e| e.session.as_ref().unwrap().captcha_solve_ms.is_none()),
    ("session.paste_used", |e| e.session.as_ref().unwrap().paste_used.is_none()),
    ("profile.nickname", |e| e.profile.as_ref().unwrap().nickname.is_none()),
    ("profile.bio", |e| e.profile.as_ref().unwrap().bio.is_none()),
    ("profile.avatar_hash", |e| e.profile.as_ref().unwrap().avatar_hash.is_none()),
    ("profile.gender", |e| e.profile.as_ref().unwrap().gender.is_none()),
    ("profile.birth_year", |e| e.profile.as_ref().unwrap().birth_year.is_none()),
];

#[test]
fn the_probes_cover_every_field_of_the_full_event() {
    let full = parse_ok(full_event_json().to_string());
    for (name, absent) in TOP_LEVEL.iter().chain(NESTED) {
        assert!(!absent(&full), "{name} is present in the full event");
    }
    let n_fields = |v: &Value| v.as_object().unwrap().len();
    let full_json = full_event_json();
    assert_eq!(TOP_LEVEL.len() + 1, n_fields(&full_json), "every field but type");
    assert_eq!(
        NESTED.len(),
        n_fields(&full_json["device"]) + n_fields(&full_json["session"]) + n_fields(&full_json["profile"])
    );
}

#[test]
fn every_optional_field_absent_gives_none() {
    let ev = parse_ok(r#"{"type":"login"}"#);
    for (name, absent) in TOP_LEVEL {
        assert!(absent(&ev), "{name} absent");
    }
    assert_eq!(ev.label, None);

    // Remove one field at a time from the full event.
    let full = full_event_json();
    for (name, absent) in TOP_LEVEL {
        let mut v = full.clone();
        v.as_object_mut().unwrap().remove(*name);
        let ev = parse_ok(v.to_string());
        assert!(absent(&ev), "{name} removed from the full event");
    }
    for (path, absent) in NESTED {
        let (parent, child) = path.split_once('.').unwrap();
        let mut v = full.clone();
        v[parent].as_object_mut().unwrap().remove(child);
        let ev = parse_ok(v.to_string());
        assert!(absent(&ev), "{path} removed from the full event");
    }

    // Empty nested objects are present, with every field absent.
    let ev = parse_ok(login(json!({"device": {}, "session": {}, "profile": {}})));
    for (path, absent) in NESTED {
        assert!(absent(&ev), "{path} in an empty parent");
    }
    assert_eq!(ev.device, Some(Device::default()));
    assert_eq!(ev.session, Some(Session::default()));
    assert_eq!(ev.profile, Some(Profile::default()));
}

#[test]
fn every_optional_field_null_gives_none() {
    // One at a time, in a bare event and in the full event.
    let full = full_event_json();
    let mut failures = Vec::new();
    for (name, absent) in TOP_LEVEL {
        let mut v = full.clone();
        v[*name] = Value::Null;
        for input in [with(name, Value::Null), v.to_string()] {
            match parse_event(input.as_bytes()) {
                Ok(ev) if absent(&ev) => {}
                other => failures.push(format!("{name}: null → {other:?}")),
            }
        }
    }
    for (path, absent) in NESTED {
        let (parent, child) = path.split_once('.').unwrap();
        let mut v = full.clone();
        v[parent][child] = Value::Null;
        for input in [with(path, Value::Null), v.to_string()] {
            match parse_event(input.as_bytes()) {
                Ok(ev) if absent(&ev) => {}
                other => failures.push(format!("{path}: null → {other:?}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // All at once.
    let mut all = json!({"type": "login"});
    for (name, _) in TOP_LEVEL {
        all[*name] = Value::Null;
    }
    assert_eq!(parse_ok(all.to_string()), Event::new(EventType::Login));

    let mut nested = json!({"type": "login"});
    for (path, _) in NESTED {
        set_path(&mut nested, path, Value::Null);
    }
    let ev = parse_ok(nested.to_string());
    assert_eq!(ev.device, Some(Device::default()));
    assert_eq!(ev.session, Some(Session::default()));
    assert_eq!(ev.profile, Some(Profile::default()));
}

// ---------------------------------------------------------------------------------------------
// Unknown fields
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_fields_are_ignored() {
    let unknown_values = [
        json!(null),
        json!(true),
        json!(1),
        json!(-1.5e300),
        json!("x"),
        json!([]),
        json!([1, "two", {"three": [3]}]),
        json!({}),
        json!({"type": "not-a-type", "device": "not-an-object", "timestamp": "garbage"}),
    ];
    let baseline = full_event_expected();
    for v in &unknown_values {
        let mut input = full_event_json();
        input["extra_field"] = v.clone();
        input["Type"] = v.clone();
        input["TIMESTAMP"] = v.clone();
        input["device"]["imei"] = v.clone();
        input["device"]["Emulator"] = v.clone();
        input["session"]["typing_cadence"] = v.clone();
        input["profile"]["age"] = v.clone();
        assert_eq!(parse_ok(input.to_string()), baseline, "unknown fields = {v}");
    }
    // Unknown fields alone do not make an event.
    check(r#"{"kind":"login"}"#, err("missing_field", "type"));
    // Unknown fields before and after `type`.
    let ev = parse_ok(r#"{"a":1,"type":"content","z":[{"b":null}]}"#);
    assert_eq!(ev, Event::new(EventType::Content));
}

#[test]
fn deeply_nested_unknown_fields_are_rejected_or_ignored_without_crashing() {
    for depth in [10usize, 100, 1_000, 100_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let deep = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            for input in [
                format!(r#"{{"type":"login","x":{deep}}}"#),
                format!(r#"{{"type":"login","attributes":{{"x":{deep}}}}}"#),
            ] {
                match parse_event(input.as_bytes()) {
                    Ok(ev) => assert_eq!(ev.event_type, EventType::Login),
                    Err(e) => {
                        error_invariants(&e).unwrap();
                        assert_eq!(e.code, ErrorCode::InvalidJson, "depth {depth}: {e:?}");
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wrong JSON types
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_json_types_name_the_dotted_field() {
    let wt = |path: &str| err("wrong_type", path);
    let mut cases: Vec<(String, Expect)> = Vec::new();
    let mut add = |path: &str, values: Vec<Value>| {
        for v in values {
            cases.push((with(path, v), wt(path)));
        }
    };
    let string_fields = [
        "id",
        "account_id",
        "phone",
        "region",
        "email",
        "ip",
        "user_agent",
        "identity_hash",
        "text",
        "campaign_id",
        "device.id",
        "device.fingerprint",
        "device.model",
        "device.os",
        "profile.nickname",
        "profile.bio",
        "profile.avatar_hash",
        "profile.gender",
    ];
    for f in string_fields {
        add(f, vec![json!(1), json!(1.5), json!(true), json!([]), json!({}), json!(["x"])]);
    }
    for f in [
        "device.emulator",
        "device.rooted",
        "device.hooked",
        "device.sim_present",
        "device.sim_phone_match",
        "session.paste_used",
    ] {
        add(f, vec![json!("yes"), json!("true"), json!(1), json!(0), json!([]), json!({})]);
    }
    for f in ["session.form_fill_ms", "session.sms_code_entry_ms", "session.captcha_solve_ms"] {
        add(f, vec![json!("100"), json!(true), json!([100]), json!({})]);
    }
    add(
        "profile.birth_year",
        vec![json!("1990"), json!(1990.5), json!(1990.0), json!(true), json!([1990]), json!(u64::MAX)],
    );
    for f in ["device", "session", "profile", "attributes"] {
        add(f, vec![json!("x"), json!(1), json!(true), json!([]), json!([{}])]);
    }
    add("changed", vec![json!("password"), json!(1), json!(true), json!({})]);
    add("timestamp", vec![json!(true), json!([]), json!({})]);
    add("type", vec![json!(1), json!(true), json!([]), json!({})]);
    // Errors inside `changed` name the index.
    cases.push((with("changed", json!([1])), wt("changed[0]")));
    cases.push((with("changed", json!(["password", null])), wt("changed[1]")));
    cases.push((with("changed", json!(["password", "email", ["phone"]])), wt("changed[2]")));
    // The exact examples of the contract brief.
    cases.push((r#"{"type":"login","device":{"emulator":"yes"}}"#.into(), wt("device.emulator")));
    cases.push((r#"{"type":"login","session":{"paste_used":1}}"#.into(), wt("session.paste_used")));
    cases.push((r#"{"type":"login","changed":"password"}"#.into(), wt("changed")));
    cases.push((r#"{"type":"login","attributes":[1,2]}"#.into(), wt("attributes")));
    cases.push((r#"{"type":"login","profile":{"birth_year":"1990"}}"#.into(), wt("profile.birth_year")));
    cases.push((r#"{"type":"login","id":42}"#.into(), wt("id")));
    cases.push((r#"{"id":42,"type":"login"}"#.into(), wt("id")));
    // Phone numbers are strings, even though they are digits.
    cases.push((r#"{"type":"login","phone":8617012345678}"#.into(), wt("phone")));
    check_table("wrong JSON types", cases);
}

#[test]
fn wrong_type_messages_say_what_was_expected() {
    let e = parse_event(br#"{"type":"login","device":{"emulator":"yes"}}"#).unwrap_err();
    assert_eq!(e.code, ErrorCode::WrongType);
    assert!(e.message.contains("bool"), "{}", e.message);
    assert!(!e.message.contains(" at line "), "positions are not part of the message: {}", e.message);
}

// ---------------------------------------------------------------------------------------------
// Domain errors
// ---------------------------------------------------------------------------------------------

#[test]
fn type_errors() {
    check_table(
        "type errors",
        [
            (r#"{}"#.to_string(), err("missing_field", "type")),
            (r#"{"type":null}"#.into(), err("missing_field", "type")),
            (r#"{"id":"e1","phone":"+8617012345678"}"#.into(), err("missing_field", "type")),
            (r#"{"type":"signup"}"#.into(), err("unknown_type", "type")),
            (r#"{"type":""}"#.into(), err("unknown_type", "type")),
            (r#"{"type":"Login"}"#.into(), err("unknown_type", "type")),
            (r#"{"type":"LOGIN"}"#.into(), err("unknown_type", "type")),
            (r#"{"type":" login"}"#.into(), err("unknown_type", "type")),
            (r#"{"type":"login "}"#.into(), err("unknown_type", "type")),
            (r#"{"type":"sms-code-request"}"#.into(), err("unknown_type", "type")),
            (r#"{"type":"labels"}"#.into(), err("unknown_type", "type")),
        ],
    );
}

#[test]
fn unknown_type_message_lists_the_known_types() {
    for input in [
        r#"{"type":"signup"}"#.to_string(),
        json!({"type": "x".repeat(100_000)}).to_string(),
        json!({"type": "\u{0}\u{202e}"}).to_string(),
    ] {
        check(&input, err("unknown_type", "type"));
        let e = parse_event(input.as_bytes()).unwrap_err();
        for t in KNOWN_TYPES {
            assert!(e.message.contains(t), "{t} missing from {:?}", e.message);
        }
        assert!(e.message.len() < 1_000, "the message does not echo a huge type: {} bytes", e.message.len());
    }
    let e = parse_event(br#"{"type":"signup"}"#).unwrap_err();
    assert!(e.message.contains("signup"), "{}", e.message);
}

#[test]
fn phone_syntax() {
    let ip = |p: &str| (with("phone", json!(p)), err("invalid_phone", "phone"));
    let good = |p: &str| (with("phone", json!(p)), ok());
    check_table(
        "phone",
        [
            good("+8617012345678"),
            good("17012345678"),
            good("+86 170 1234 5678"),
            good("+1 (555) 123-4567"),
            good("555.123.4567"),
            good(" +8617012345678 "),
            good("123"),
            good("12345678901234567890"),
            ip("abc"),
            ip("+86170abc5678"),
            ip("1701234567x"),
            ip("phone: 17012345678"),
            ip("++8617012345678"),
            ip("86+17012345678"),
            ip("+86/17012345678"),
            ip("12"),
            ip("123456789012345678901"),
            ip(""),
            ip("   "),
            ip("+"),
            ip("٠١٢٣٤٥٦٧٨٩"),
            ip("１７０１２３４５６７８"),
            ip("tel:+8617012345678"),
        ],
    );
    // The phone is kept as sent.
    let ev = parse_ok(login(json!({"phone": "+86 170-1234-5678", "region": "CN"})));
    assert_eq!(ev.phone.as_deref(), Some("+86 170-1234-5678"));
    assert_eq!(ev.region.as_deref(), Some("CN"));
}

#[test]
fn ip_addresses() {
    let cases: Vec<(&str, Option<IpAddr>)> = vec![
        ("1.2.3.4", Some("1.2.3.4".parse().unwrap())),
        ("0.0.0.0", Some("0.0.0.0".parse().unwrap())),
        ("255.255.255.255", Some("255.255.255.255".parse().unwrap())),
        ("::1", Some("::1".parse().unwrap())),
        ("2001:db8::1", Some("2001:db8::1".parse().unwrap())),
        ("2001:DB8::1", Some("2001:db8::1".parse().unwrap())),
        ("::ffff:1.2.3.4", Some("::ffff:1.2.3.4".parse().unwrap())),
        (" 10.0.0.1 ", Some("10.0.0.1".parse().unwrap())),
        ("999.1.1.1", None),
        ("1.2.3", None),
        ("1.2.3.4.5", None),
        ("1.2.3.4:80", None),
        ("[::1]", None),
        ("[::1]:443", None),
        ("2001:db8:::1", None),
        ("fe80::1%eth0", None),
        ("localhost", None),
        ("example.com", None),
        ("", None),
        ("   ", None),
        ("1.2.3.4/24", None),
        ("１.２.３.４", None),
    ];
    let mut failures = Vec::new();
    for (s, expected) in cases {
        let input = with("ip", json!(s));
        match (parse_event(input.as_bytes()), expected) {
            (Ok(ev), Some(ip)) if ev.ip == Some(ip) => {}
            (Err(e), None) if e.code == ErrorCode::InvalidIp && e.field.as_deref() == Some("ip") => {
                error_invariants(&e).unwrap();
            }
            (got, want) => failures.push(format!("ip {s:?}: expected {want:?}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn regions() {
    let bad = |r: &str| (with("region", json!(r)), err("invalid_value", "region"));
    check_table(
        "regions",
        [
            (with("region", json!("CN")), ok()),
            (with("region", json!("cn")), ok()),
            (with("region", json!("Us")), ok()),
            bad(""),
            bad("C"),
            bad("CHN"),
            bad("C1"),
            bad("12"),
            bad(" CN"),
            bad("CN "),
            bad("C-"),
            bad("中国"),
            bad("ÇN"),
            bad("China"),
        ],
    );
    for (sent, kept) in [("cn", "CN"), ("Us", "US"), ("GB", "GB")] {
        let ev = parse_ok(with("region", json!(sent)));
        assert_eq!(ev.region.as_deref(), Some(kept));
    }
}

#[test]
fn emails() {
    check_table(
        "emails",
        [
            (with("email", json!("a@b.c")), ok()),
            (with("email", json!("Sheep.Dog+tag@example.co.uk")), ok()),
            (with("email", json!("no-at-sign")), err("invalid_value", "email")),
            (with("email", json!("")), err("invalid_value", "email")),
        ],
    );
}

#[test]
fn ids() {
    check_table(
        "ids",
        [
            (with("id", json!("e")), ok()),
            (with("id", json!("a".repeat(128))), ok()),
            (with("id", json!("a".repeat(129))), err("too_long", "id")),
            // Characters, not bytes: 128 CJK characters are 384 bytes.
            (with("id", json!("中".repeat(128))), ok()),
            (with("id", json!("中".repeat(129))), err("too_long", "id")),
            (with("id", json!("🐑".repeat(128))), ok()),
            (with("id", json!("🐑".repeat(129))), err("too_long", "id")),
            (with("id", json!("é".repeat(128))), ok()),
            (with("id", json!("x".repeat(100_000))), err("too_long", "id")),
            (with("id", json!("")), err("invalid_value", "id")),
        ],
    );
    assert_eq!(LIMITS.id_chars, 128);
    let ev = parse_ok(with("id", json!("中".repeat(128))));
    assert_eq!(ev.id.unwrap().chars().count(), 128);
}

/// `(dotted field, limit in bytes)`: the limits of the plain string fields.
fn string_limits() -> Vec<(&'static str, usize)> {
    vec![
        ("account_id", LIMITS.short),
        ("user_agent", LIMITS.user_agent),
        ("identity_hash", LIMITS.short),
        ("text", LIMITS.text),
        ("campaign_id", LIMITS.short),
        ("device.id", LIMITS.short),
        ("device.fingerprint", LIMITS.short),
        ("device.model", LIMITS.short),
        ("device.os", LIMITS.short),
        ("profile.nickname", LIMITS.short),
        ("profile.bio", LIMITS.bio),
        ("profile.avatar_hash", LIMITS.short),
        ("profile.gender", LIMITS.short),
    ]
}

#[test]
fn text_is_limited_to_64_kib() {
    assert_eq!(LIMITS.text, 64 * 1024);
    check_table(
        "text limit",
        [
            (with_type("content", "text", json!("")), ok()),
            (with_type("content", "text", json!("a".repeat(65_536))), ok()),
            (with_type("content", "text", json!("a".repeat(65_537))), err("too_long", "text")),
            // 64 KiB is bytes: 21 846 three-byte characters are 65 538 bytes.
            (with_type("content", "text", json!("中".repeat(21_845))), ok()),
            (with_type("content", "text", json!("中".repeat(21_846))), err("too_long", "text")),
            (with_type("content", "text", json!("a".repeat(1 << 20))), err("too_long", "text")),
        ],
    );
}

#[test]
fn string_fields_have_limits() {
    let mut cases = Vec::new();
    for (field, limit) in string_limits() {
        cases.push((with(field, json!("a".repeat(limit))), ok()));
        cases.push((with(field, json!("a".repeat(limit + 1))), err("too_long", field)));
    }
    // email: needs an @.
    let email = |n: usize| format!("{}@b", "a".repeat(n - 2));
    cases.push((with("email", json!(email(LIMITS.email))), ok()));
    cases.push((with("email", json!(email(LIMITS.email + 1))), err("too_long", "email")));
    // phone: digits padded with spaces.
    let phone = |n: usize| format!("+8617012345678{}", " ".repeat(n - 14));
    cases.push((with("phone", json!(phone(LIMITS.phone))), ok()));
    cases.push((with("phone", json!(phone(LIMITS.phone + 1))), err("too_long", "phone")));
    cases.push((with("region", json!("a".repeat(LIMITS.short + 1))), err("too_long", "region")));
    cases.push((with("ip", json!("1".repeat(LIMITS.short + 1))), err("too_long", "ip")));
    check_table("string limits", cases);
}

#[test]
fn birth_year_range() {
    check_table(
        "birth_year",
        [
            (with("profile.birth_year", json!(1900)), ok()),
            (with("profile.birth_year", json!(1990)), ok()),
            (with("profile.birth_year", json!(2100)), ok()),
            (with("profile.birth_year", json!(1899)), err("invalid_value", "profile.birth_year")),
            (with("profile.birth_year", json!(2101)), err("invalid_value", "profile.birth_year")),
            (with("profile.birth_year", json!(0)), err("invalid_value", "profile.birth_year")),
            (with("profile.birth_year", json!(-1990)), err("invalid_value", "profile.birth_year")),
            (with("profile.birth_year", json!(i64::MAX)), err("invalid_value", "profile.birth_year")),
        ],
    );
}

#[test]
fn changed_entries() {
    // Every attribute of the contract, in order.
    let ev = parse_ok(with_type("profile_update", "changed", json!(KNOWN_CHANGED)));
    assert_eq!(ev.changed, Changed::ALL);
    let names: Vec<&str> = ev.changed.iter().map(|c| c.as_str()).collect();
    assert_eq!(names, KNOWN_CHANGED);

    // Each one alone.
    for (name, c) in KNOWN_CHANGED.iter().zip(Changed::ALL) {
        let ev = parse_ok(with_type("profile_update", "changed", json!([name])));
        assert_eq!(ev.changed, vec![c]);
    }

    // Order is kept, duplicates are dropped, empty is empty.
    let ev = parse_ok(with("changed", json!(["phone", "password", "phone"])));
    assert_eq!(ev.changed, vec![Changed::Phone, Changed::Password]);
    let ev = parse_ok(with("changed", json!([])));
    assert!(ev.changed.is_empty());

    let iv = |i: usize| err("invalid_value", &format!("changed[{i}]"));
    check_table(
        "changed errors",
        [
            (with("changed", json!(["passwd"])), iv(0)),
            (with("changed", json!(["password", "phone", "username"])), iv(2)),
            (with("changed", json!(["password", "Phone"])), iv(1)),
            (with("changed", json!([""])), iv(0)),
            (with("changed", json!(["device-binding"])), iv(0)),
            (with("changed", json!([" email"])), iv(0)),
            (with("changed", json!(vec!["password"; 16])), ok()),
            (with("changed", json!(vec!["password"; 17])), err("too_long", "changed")),
        ],
    );
    let e = parse_event(with("changed", json!(["username"])).as_bytes()).unwrap_err();
    for name in KNOWN_CHANGED {
        assert!(e.message.contains(name), "{name} missing from {:?}", e.message);
    }
}

#[test]
fn attributes_keep_arbitrary_values() {
    let attrs = json!({
        "s": "x", "n": -3, "f": 1.25, "b": false, "z": null,
        "a": [1, [2, [3]]], "o": {"deep": {"deeper": "yes"}}, "": "empty key",
        "label": "fraud"
    });
    let ev = parse_ok(login(json!({ "attributes": attrs })));
    assert_eq!(Value::Object(ev.attributes.unwrap()), attrs);
    let ev = parse_ok(login(json!({"attributes": {}})));
    assert_eq!(ev.attributes, Some(Map::new()));
}

#[test]
fn the_first_error_in_document_order_is_not_required_but_one_field_is_named() {
    // Several faults at once: the parser reports one of them, with its field.
    let input = login(json!({
        "ip": "nope", "phone": "abc", "timestamp": "never", "region": "CHN"
    }));
    let e = parse_event(input.as_bytes()).unwrap_err();
    error_invariants(&e).unwrap();
    let allowed = [
        ("invalid_ip", "ip"),
        ("invalid_phone", "phone"),
        ("invalid_timestamp", "timestamp"),
        ("invalid_value", "region"),
    ];
    assert!(allowed.contains(&(e.code.as_str(), e.field.as_deref().unwrap_or(""))), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_json_is_invalid_json_without_a_field() {
    let ij = err_top("invalid_json");
    let mut cases: Vec<(Vec<u8>, Expect)> = [
        "",
        " ",
        "\n",
        "{",
        "}",
        "{\"type\":",
        "{\"type\":\"login\"",
        "{\"type\":\"login\",}",
        "{\"type\":\"login\",,\"id\":\"e\"}",
        "{type:\"login\"}",
        "{'type':'login'}",
        "{\"type\":'login'}",
        "{\"type\":\"login\" \"id\":\"e\"}",
        "{\"type\" \"login\"}",
        "{\"type\":\"log\nin\"}",
        "{\"type\":\"login\",\"id\":\"\\x41\"}",
        "{\"type\":\"login\",\"id\":\"\\ud800\"}",
        "{\"type\":\"login\",\"timestamp\":01}",
        "{\"type\":\"login\",\"timestamp\":NaN}",
        "{\"type\":\"login\",\"timestamp\":Infinity}",
        "{\"type\":\"login\",\"timestamp\":+1}",
        "{\"type\":\"login\",\"session\":{\"form_fill_ms\":1e999}}",
        "{\"type\":\"login\"} // comment",
        "/* c */ {\"type\":\"login\"}",
        "not json",
        "login",
        "nul",
        "[",
        "\u{feff}{\"type\":\"login\"}",
        // Trailing garbage after the object.
        "{\"type\":\"login\"} x",
        "{\"type\":\"login\"}}",
        "{\"type\":\"login\"}{}",
        "{\"type\":\"login\"},",
        "{\"type\":\"login\"}\n{\"type\":\"login\"}",
        "{\"type\":\"login\"}\u{0}",
        "{\"type\":\"login\"} 1",
        "{\"type\":\"unknown\"} garbage",
        "{} garbage",
    ]
    .into_iter()
    .map(|s| (s.as_bytes().to_vec(), ij.clone()))
    .collect();
    // Invalid UTF-8 inside a string the contract reads.
    cases.push((b"{\"type\":\"login\",\"id\":\"\xff\xfe\"}".to_vec(), ij.clone()));
    cases.push((b"{\"type\":\"log\xc3in\"}".to_vec(), ij.clone()));
    // Raw bytes.
    cases.push((vec![0xff, 0xfe, 0x00], ij.clone()));
    cases.push((vec![0; 16], ij.clone()));
    check_table("malformed JSON", cases);
}

#[test]
fn invalid_utf8_in_an_ignored_field_is_still_malformed_json() {
    // JSON text is UTF-8 (RFC 8259 §8.1); unknown fields are ignored, not exempt from syntax.
    check_table(
        "invalid UTF-8 in unknown fields",
        [
            (b"{\"type\":\"login\",\"x\":\"\xff\"}".to_vec(), err_top("invalid_json")),
            (b"{\"type\":\"login\",\"\xff\":1}".to_vec(), err_top("invalid_json")),
        ],
    );
}

#[test]
fn a_non_object_is_wrong_type_without_a_field() {
    let wt = err_top("wrong_type");
    check_table(
        "non-objects",
        [
            ("[]", wt.clone()),
            ("[{\"type\":\"login\"}]", wt.clone()),
            ("[1,2]", wt.clone()),
            ("1", wt.clone()),
            ("-1.5", wt.clone()),
            ("0", wt.clone()),
            ("\"login\"", wt.clone()),
            ("\"{\\\"type\\\":\\\"login\\\"}\"", wt.clone()),
            ("null", wt.clone()),
            ("true", wt.clone()),
            ("false", wt.clone()),
            ("  [ ]  ", wt.clone()),
            ("\n1\n", wt.clone()),
        ],
    );
}

#[test]
fn a_non_object_followed_by_garbage_or_truncated_is_an_error_without_a_field() {
    for input in ["[] x", "1 2", "\"a\" \"b\"", "null}", "[{\"type\":\"login\"}", "[1,", "{\"a\":1} ["] {
        let e = parse_event(input.as_bytes()).unwrap_err();
        error_invariants(&e).unwrap();
        assert!(matches!(e.code, ErrorCode::InvalidJson | ErrorCode::WrongType), "{input}: {e:?}");
        assert_eq!(e.field, None, "{input}");
    }
}

#[test]
fn every_strict_prefix_of_an_event_is_invalid_json() {
    let text = full_event_json().to_string();
    let bytes = text.as_bytes();
    let mut failures = Vec::new();
    for n in 0..bytes.len() {
        let prefix = &bytes[..n];
        match parse_event(prefix) {
            Err(e) if e.code == ErrorCode::InvalidJson && e.field.is_none() => {
                if let Err(m) = error_invariants(&e) {
                    failures.push(format!("prefix of {n} bytes: {m}"));
                }
            }
            other => failures.push(format!("prefix of {n} bytes: {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn objects_are_not_read_positionally_from_arrays() {
    // The contract's event, device, session and profile are JSON objects. An array with as many
    // elements as the struct has fields must not be read field by field.
    let event17 = format!(r#"[null,"login"{}]"#, ",null".repeat(15));
    check_table(
        "positional arrays",
        [
            (event17, err_top("wrong_type")),
            (
                with("device", json!(["d1", "fp", "model", "os", true, true, true, true, true])),
                err("wrong_type", "device"),
            ),
            (
                with("device", json!([null, null, null, null, null, null, null, null, null])),
                err("wrong_type", "device"),
            ),
            (with("session", json!([1000, 2000, 3000, true])), err("wrong_type", "session")),
            (with("profile", json!(["nick", "bio", "hash", "f", 1990])), err("wrong_type", "profile")),
        ],
    );
}

#[test]
fn duplicate_fields_are_an_error_naming_the_field() {
    // serde rejects a repeated field. The input is an object, so the error must not claim
    // otherwise, and it names the repeated field.
    for (input, field) in [
        (r#"{"type":"login","type":"login"}"#, "type"),
        (r#"{"type":"login","id":"a","id":"b"}"#, "id"),
        (r#"{"type":"login","device":{"id":"a","id":"b"}}"#, "device.id"),
    ] {
        let e = parse_event(input.as_bytes()).unwrap_err();
        error_invariants(&e).unwrap();
        assert!(matches!(e.code, ErrorCode::InvalidJson | ErrorCode::InvalidValue), "{input}: {e:?}");
        assert_eq!(e.field.as_deref(), Some(field), "{input}: {e:?}");
        assert!(!e.message.contains("must be a JSON object"), "{input}: misleading message {:?}", e.message);
    }
}

// ---------------------------------------------------------------------------------------------
// Error body
// ---------------------------------------------------------------------------------------------

#[test]
fn the_error_body_is_exactly_code_message_field() {
    let e = parse_event(br#"{"id":"e1"}"#).unwrap_err();
    assert_eq!(
        serde_json::to_string(&e).unwrap(),
        r#"{"error":{"code":"missing_field","message":"type is required","field":"type"}}"#
    );

    // A field-less error serializes `"field":null`.
    let e = parse_event(b"[]").unwrap_err();
    assert_eq!(e.field, None);
    let expected = format!(
        r#"{{"error":{{"code":"wrong_type","message":{},"field":null}}}}"#,
        serde_json::to_string(&e.message).unwrap()
    );
    assert_eq!(serde_json::to_string(&e).unwrap(), expected);

    // A nested field is dotted.
    let e = parse_event(br#"{"type":"login","device":{"emulator":"yes"}}"#).unwrap_err();
    let expected = format!(
        r#"{{"error":{{"code":"wrong_type","message":{},"field":"device.emulator"}}}}"#,
        serde_json::to_string(&e.message).unwrap()
    );
    assert_eq!(serde_json::to_string(&e).unwrap(), expected);

    // An indexed field.
    let e = parse_event(br#"{"type":"login","changed":["password","x"]}"#).unwrap_err();
    let body: Value = serde_json::to_value(&e).unwrap();
    assert_eq!(body["error"]["code"], "invalid_value");
    assert_eq!(body["error"]["field"], "changed[1]");
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert_eq!(body["error"].as_object().unwrap().len(), 3);

    // Hand-built errors serialize the same way.
    let e = EventError::new(ErrorCode::TooLarge, None, "body too large");
    assert_eq!(
        serde_json::to_string(&e).unwrap(),
        r#"{"error":{"code":"too_large","message":"body too large","field":null}}"#
    );
}

#[test]
fn wire_codes_match_serde() {
    for c in ErrorCode::ALL {
        assert_eq!(serde_json::to_value(c).unwrap(), json!(c.as_str()));
    }
}

// ---------------------------------------------------------------------------------------------
// Batch elements
// ---------------------------------------------------------------------------------------------

#[test]
fn parse_event_value_agrees_with_parse_event() {
    let batch = format!(
        r#"[{}, {{"type":"login"}}, {{"type":"nope"}}, [], 1, {{"type":"login","ip":"x"}},
            {{"type":"login","device":{{"rooted":"no"}}}}]"#,
        full_event_json()
    );
    let items: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(&batch).unwrap();
    assert_eq!(items.len(), 7);
    for item in &items {
        let a = parse_event_value(item);
        let b = parse_event(item.get().as_bytes());
        assert_eq!(a, b, "{}", item.get());
    }
    assert_eq!(parse_event_value(&items[0]).unwrap(), full_event_expected());
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const CONTRACT_KEYS: &[&str] = &[
    "id",
    "type",
    "timestamp",
    "account_id",
    "phone",
    "region",
    "email",
    "ip",
    "device",
    "user_agent",
    "session",
    "profile",
    "identity_hash",
    "text",
    "campaign_id",
    "changed",
    "attributes",
    "label",
    "emulator",
    "rooted",
    "hooked",
    "sim_present",
    "sim_phone_match",
    "fingerprint",
    "model",
    "os",
    "form_fill_ms",
    "sms_code_entry_ms",
    "captcha_solve_ms",
    "paste_used",
    "nickname",
    "bio",
    "avatar_hash",
    "gender",
    "birth_year",
];

const INTERESTING_STRINGS: &[&str] = &[
    "login",
    "label",
    "fraud",
    "legit",
    "registration",
    "content",
    "+8617012345678",
    "17012345678",
    "CN",
    "cn",
    "1.2.3.4",
    "::1",
    "2026-11-25T10:00:00Z",
    "2026-11-25T10:00:00+08:00",
    "9999-12-31T23:59:59.999Z",
    "10000-01-01T00:00:00Z",
    "a@b.c",
    "password",
    "device_binding",
    "",
    "中",
    "🐑",
    "\u{0}",
];

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(CONTRACT_KEYS).prop_map(str::to_string),
        1 => ".{0,8}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0i64..=MAX_MS + 10).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (-10.0f64..100_000_000.0).prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        prop::sample::select(INTERESTING_STRINGS).prop_map(|s| Value::String(s.into())),
        prop::collection::vec(prop::sample::select(&KNOWN_CHANGED[..]), 0..20).prop_map(|v| json!(v)),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Event-shaped objects: a (mostly) known type and random values under contract keys.
fn arb_event() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            4 => prop::sample::select(&KNOWN_TYPES[..]).prop_map(|t| json!(t)),
            1 => arb_json(),
        ],
        prop::collection::btree_map(arb_key(), arb_json(), 0..12),
    )
        .prop_map(|(ty, fields)| {
            let mut m: Map<String, Value> = fields.into_iter().collect();
            m.insert("type".into(), ty);
            Value::Object(m)
        })
}

/// The invariants of `parse_event` on any input.
fn assert_sound(input: &[u8]) -> Result<(), TestCaseError> {
    let parsed = parse_event(input);
    prop_assert_eq!(&parsed, &parse_event_general(input), "fast path and serde disagree");
    match parsed {
        Ok(ev) => {
            prop_assert!(EventType::ALL.contains(&ev.event_type));
            prop_assert_eq!(ev.label.is_some(), ev.event_type == EventType::Label);
            if let Some(id) = &ev.id {
                prop_assert!(!id.is_empty() && id.chars().count() <= LIMITS.id_chars);
            }
            if let Some(t) = &ev.text {
                prop_assert!(t.len() <= LIMITS.text);
            }
            if let Some(Timestamp(ms)) = ev.timestamp {
                prop_assert!((0..=MAX_MS).contains(&ms), "timestamp {}", ms);
            }
            prop_assert!(ev.changed.len() <= LIMITS.changed_entries);
            // Deterministic.
            prop_assert_eq!(parse_event(input), Ok(ev));
        }
        Err(e) => {
            prop_assert!(!e.message.trim().is_empty(), "empty message: {:?}", e);
            if let Err(m) = error_invariants(&e) {
                return Err(TestCaseError::fail(m));
            }
            if let Some(f) = &e.field {
                prop_assert!(!f.is_empty(), "empty field name: {:?}", e);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        assert_sound(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_after_an_object_prefix_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut input = br#"{"type":"login","#.to_vec();
        input.extend_from_slice(&tail);
        assert_sound(&input)?;
    }

    #[test]
    fn json_ish_strings_never_panic(
        s in r#"[{}\[\]":,0-9a-z_.+\-eE \\ntrufalsT:Z@]{0,256}"#,
    ) {
        assert_sound(s.as_bytes())?;
        let wrapped = format!(r#"{{"type":"login",{s}"#);
        assert_sound(wrapped.as_bytes())?;
    }

    #[test]
    fn arbitrary_json_values_never_panic(v in arb_json()) {
        assert_sound(v.to_string().as_bytes())?;
    }

    #[test]
    fn event_shaped_json_never_panics(v in arb_event()) {
        let text = v.to_string();
        assert_sound(text.as_bytes())?;
        // Wrong JSON types at a contract key are reported as wrong_type at that key or below.
        if let Err(e) = parse_event(text.as_bytes()) {
            if e.code == ErrorCode::WrongType {
                let field = e.field.clone().unwrap_or_default();
                let top = field.split(['.', '[']).next().unwrap_or("");
                prop_assert!(
                    v.get(top).is_some(),
                    "wrong_type names {:?}, which is not in the event", field
                );
            }
        }
    }

    #[test]
    fn mutated_full_events_never_panic(
        cut in any::<prop::sample::Index>(),
        insert in prop::collection::vec(any::<u8>(), 0..8),
        keep_tail in any::<bool>(),
    ) {
        let text = full_event_json().to_string().into_bytes();
        let at = cut.index(text.len() + 1);
        let mut input = text[..at].to_vec();
        input.extend_from_slice(&insert);
        if keep_tail {
            input.extend_from_slice(&text[at..]);
        }
        assert_sound(&input)?;
    }

    #[test]
    fn epoch_ms_in_range_round_trip(ms in 0i64..=MAX_MS) {
        let input = with("timestamp", json!(ms));
        let ev = parse_event(input.as_bytes()).unwrap();
        prop_assert_eq!(ev.timestamp, Some(Timestamp(ms)));
    }

    #[test]
    fn any_id_up_to_128_chars_is_kept(id in "\\PC{1,128}") {
        let input = with("id", json!(id));
        let ev = parse_event(input.as_bytes()).unwrap();
        prop_assert_eq!(ev.id.as_deref(), Some(id.as_str()));
    }

    #[test]
    fn session_ms_round_half_away_from_zero(x in 0.0f64..=86_400_000.0) {
        let input = with("session.form_fill_ms", json!(x));
        let ev = parse_event(input.as_bytes()).unwrap();
        prop_assert_eq!(ev.session.unwrap().form_fill_ms, Some(x.round() as u32));
    }
}

#[test]
fn strings_borrow_from_the_input_unless_escaped() {
    use std::borrow::Cow;
    let raw = br#"{"type":"login","account_id":"u1","phone":"+8613800138000","user_agent":"a\"b\u0041",
        "device":{"id":"d1","model":"M\\1"},"profile":{"nickname":"Ann"}}"#;
    let e = sheepdog_model::parse_event(raw).unwrap();
    assert!(matches!(e.account_id, Some(Cow::Borrowed("u1"))), "{:?}", e.account_id);
    assert!(matches!(e.phone, Some(Cow::Borrowed("+8613800138000"))), "{:?}", e.phone);
    assert!(matches!(e.device_id(), Some("d1")));
    assert!(matches!(e.device.as_ref().unwrap().id, Some(Cow::Borrowed(_))));
    assert!(matches!(e.profile.as_ref().unwrap().nickname, Some(Cow::Borrowed("Ann"))));
    // An escaped string is decoded into an owned copy.
    assert_eq!(e.user_agent.as_deref(), Some("a\"bA"));
    assert!(matches!(e.user_agent, Some(Cow::Owned(_))));
    assert_eq!(e.device.as_ref().unwrap().model.as_deref(), Some("M\\1"));
    // null and absent are both None; a wrong type names the field.
    let e = sheepdog_model::parse_event(br#"{"type":"login","account_id":null}"#).unwrap();
    assert_eq!(e.account_id, None);
    let err = sheepdog_model::parse_event(br#"{"type":"login","account_id":5}"#).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("account_id"), "{err:?}");
}
