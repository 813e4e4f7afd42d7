//! HTTP tests through `app(state).oneshot(..)`: status codes and bodies of every error, auth,
//! batch order, metrics.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sheepdog_engine::{Engine, EngineOptions};
use sheepdog_policy::BuiltinPolicy;
use sheepdog_server::{app, AppState, ServerOptions};
use sheepdog_state::MemoryStoreOptions;
use tower::ServiceExt;

fn state(keys: &[&str]) -> AppState {
    let engine =
        Engine::in_memory(Arc::new(BuiltinPolicy::default()), MemoryStoreOptions::default(), EngineOptions::default());
    AppState::new(
        Arc::new(engine),
        &ServerOptions { api_keys: keys.iter().map(|k| k.to_string()).collect(), ..Default::default() },
    )
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let resp = app(state.clone()).oneshot(req.body(body.into()).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn error_of(body: &str) -> (String, Value) {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let err = &v["error"];
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(v.as_object().unwrap().len(), 1, "only the error object: {body}");
    (err["code"].as_str().unwrap().to_string(), err["field"].clone())
}

#[tokio::test]
async fn a_registration_gets_a_full_decision() {
    let s = state(&[]);
    let ev = json!({"id":"r1","type":"registration","timestamp":"2026-11-25T10:00:00Z","phone":"+8617012345678",
                    "ip":"47.100.1.2","device":{"id":"d1","fingerprint":"fp1","emulator":true}});
    let (status, body) = call(&s, "POST", "/v1/events", None, ev.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["event_id"], "r1");
    assert_eq!(d["decision"], "challenge");
    assert_eq!(d["challenge"], "captcha");
    assert_eq!(d["score"], 40);
    assert_eq!(d["reasons"][0]["code"], "device.emulator");
    assert!(d["rules"].is_array());
    assert!(d["cluster"].is_null());
    assert!(d["policy_version"].as_str().unwrap().starts_with("builtin-"));
    assert!(d["latency_us"].is_u64());
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let s = state(&[]);
    let cases = [
        (r#"{"type":"bogus"}"#, "unknown_type", json!("type")),
        (r#"{"phone":"+8613800000000"}"#, "missing_field", json!("type")),
        (r#"{"type":"login","device":{"rooted":"no"}}"#, "wrong_type", json!("device.rooted")),
        (r#"{"type":"login","ip":"999.1.1.1"}"#, "invalid_ip", json!("ip")),
        (r#"{"type":"login","phone":"call me"}"#, "invalid_phone", json!("phone")),
        (r#"{"type":"login","timestamp":"yesterday"}"#, "invalid_timestamp", json!("timestamp")),
        (r#"{"type":"login""#, "invalid_json", Value::Null),
        (r#"[]"#, "wrong_type", Value::Null),
        ("", "invalid_json", Value::Null),
    ];
    for (body, code, field) in cases {
        let (status, resp) = call(&s, "POST", "/v1/events", None, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {resp}");
        assert_eq!(error_of(&resp), (code.to_string(), field), "{body}");
    }
    let long_id = "x".repeat(129);
    let (status, resp) = call(&s, "POST", "/v1/events", None, json!({"type":"login","id":long_id}).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&resp), ("too_long".into(), json!("id")));
    let (status, resp) = call(&s, "POST", "/v1/events?explain=maybe", None, r#"{"type":"login"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&resp).0, "invalid_value");
}

#[tokio::test]
async fn oversize_bodies_are_a_413() {
    let s = state(&[]);
    let big = format!(r#"{{"type":"content","text":"{}"}}"#, "a".repeat(1 << 20));
    let (status, resp) = call(&s, "POST", "/v1/events", None, big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_of(&resp).0, "too_large");
    let (status, _) = call(&s, "POST", "/v1/events:batch", None, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn api_keys_are_required_when_configured() {
    let s = state(&["k-one", "k-two"]);
    let ev = r#"{"type":"login"}"#;
    for auth in [None, Some("Bearer nope"), Some("k-one"), Some("Basic k-one"), Some("Bearer k-on")] {
        let (status, resp) = call(&s, "POST", "/v1/events", auth, ev).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(error_of(&resp), ("unauthorized".into(), Value::Null));
    }
    for auth in ["Bearer k-one", "Bearer k-two"] {
        let (status, _) = call(&s, "POST", "/v1/events", Some(auth), ev).await;
        assert_eq!(status, StatusCode::OK, "{auth}");
    }
    let (status, _) = call(&s, "POST", "/v1/events:batch", None, ev).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(&s, "GET", "/healthz", None, Body::empty()).await;
    assert_eq!(status, StatusCode::OK, "health checks need no key");
}

#[tokio::test]
async fn batches_answer_in_order_with_errors_in_place() {
    let s = state(&[]);
    let ndjson = "{\"id\":\"b1\",\"type\":\"login\"}\n{\"type\":\"nope\"}\n\n{\"id\":\"b3\",\"type\":\"sms_code_request\",\"phone\":\"+8613800000000\"}\n";
    let (status, body) = call(&s, "POST", "/v1/events:batch", None, ndjson).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["event_id"], "b1");
    assert_eq!(lines[1]["error"]["code"], "unknown_type");
    assert_eq!(lines[2]["event_id"], "b3");

    let array = json!([{"id":"a1","type":"login"},{"type":"login","ip":"x"},{"id":"a3","type":"content","text":"hi"}]);
    let (status, body) = call(&s, "POST", "/v1/events:batch", None, array.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let arr: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(arr[0]["event_id"], "a1");
    assert_eq!(arr[1]["error"]["field"], "ip");
    assert_eq!(arr[2]["event_id"], "a3");
    // A repeated id inside a later batch returns the first decision.
    let (_, body) = call(
        &s,
        "POST",
        "/v1/events:batch",
        None,
        json!([{"id":"a1","type":"login","device":{"emulator":true}}]).to_string(),
    )
    .await;
    let arr: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(arr[0]["score"], 0);

    let (status, body) = call(&s, "POST", "/v1/events:batch", None, "[{\"type\":").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body).0, "invalid_json");
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_error_body() {
    let s = state(&[]);
    let (status, body) = call(&s, "GET", "/v2/everything", None, Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&body).0, "not_found");
    let (status, body) = call(&s, "GET", "/v1/events", None, Body::empty()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_of(&body).0, "method_not_allowed");
}

#[tokio::test]
async fn metrics_count_decisions_errors_and_state() {
    let s = state(&[]);
    call(&s, "POST", "/v1/events", None, r#"{"type":"registration","device":{"id":"d","emulator":true}}"#).await;
    call(&s, "POST", "/v1/events", None, r#"{"type":"login"}"#).await;
    call(&s, "POST", "/v1/events", None, r#"{"type":"bogus"}"#).await;
    let (status, text) = call(&s, "GET", "/metrics", None, Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains(r#"sheepdog_decisions_total{type="registration",outcome="challenge"} 1"#), "{text}");
    assert!(text.contains(r#"sheepdog_decisions_total{type="login",outcome="allow"} 1"#));
    assert!(text.contains(r#"sheepdog_errors_total{code="unknown_type"} 1"#));
    assert!(text.contains("sheepdog_decision_latency_seconds_count 2"));
    assert!(text.contains("sheepdog_state_keys "));
    assert!(text.contains("sheepdog_state_evictions_total 0"));
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn metrics_count_live_and_shadow_rule_hits() {
    let policy = sheepdog_policy::load_policy(
        "version = 1\n[[rule]]\nid = \"rooted\"\nwhen = 'device.rooted'\nscore = 5\n[[rule]]\nid = \"try_hooked\"\nwhen = 'device.hooked'\nscore = 50\nmode = \"shadow\"\n",
    )
    .unwrap();
    let engine = Engine::in_memory(policy, MemoryStoreOptions::default(), EngineOptions::default());
    let s = AppState::new(Arc::new(engine), &ServerOptions::default());
    for _ in 0..2 {
        call(&s, "POST", "/v1/events", None, r#"{"type":"login","device":{"id":"d","rooted":true,"hooked":true}}"#)
            .await;
    }
    call(&s, "POST", "/v1/events", None, r#"{"type":"login","device":{"id":"e","hooked":true}}"#).await;
    let (_, text) = call(&s, "GET", "/metrics", None, Body::empty()).await;
    assert!(text.contains(r#"sheepdog_rule_hits_total{rule="rooted",mode="live"} 2"#), "{text}");
    assert!(text.contains(r#"sheepdog_rule_hits_total{rule="try_hooked",mode="shadow"} 3"#), "{text}");
}

#[tokio::test]
async fn intel_reload_without_a_directory_is_refused() {
    let s = state(&[]);
    let (status, body) = call(&s, "POST", "/v1/intel:reload", None, Body::empty()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_of(&body).0, "invalid_value");
}

#[tokio::test]
async fn intel_reload_takes_an_admin_key() {
    let engine =
        Engine::in_memory(Arc::new(BuiltinPolicy::default()), MemoryStoreOptions::default(), EngineOptions::default());
    let reloader: sheepdog_server::IntelReloader = Arc::new(|| Ok("v2".to_string()));
    let options = ServerOptions {
        api_keys: vec!["api".into()],
        admin_keys: vec!["admin".into()],
        intel_reloader: Some(reloader),
        ..Default::default()
    };
    let s = AppState::new(Arc::new(engine), &options);
    let (status, _) = call(&s, "POST", "/v1/intel:reload", Some("Bearer api"), Body::empty()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an API key is not an admin key");
    let (status, body) = call(&s, "POST", "/v1/intel:reload", Some("Bearer admin"), Body::empty()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"intel_version\":\"v2\""), "{body}");
    let failing: sheepdog_server::IntelReloader = Arc::new(|| Err("ops: line 3: unknown kind".to_string()));
    let s = AppState::new(
        Arc::new(Engine::in_memory(
            Arc::new(BuiltinPolicy::default()),
            MemoryStoreOptions::default(),
            EngineOptions::default(),
        )),
        &ServerOptions { intel_reloader: Some(failing), ..Default::default() },
    );
    let (status, body) = call(&s, "POST", "/v1/intel:reload", None, Body::empty()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("line 3"), "{body}");
}

fn labelled_policy(label: &str) -> String {
    format!(
        "version = 1\nlabel = \"{label}\"\n[[rule]]\nid = \"{label}_always\"\nwhen = 'event.type == \"login\"'\nscore = 1\n[[rule]]\nid = \"{label}_shadow\"\nwhen = 'true'\nscore = 1\nmode = \"shadow\"\n"
    )
}

#[tokio::test]
async fn a_broken_policy_is_refused_with_every_error_and_the_old_one_serves() {
    let s = state(&["k"]);
    let (status, body) = call(&s, "POST", "/v1/policy", Some("Bearer k"), labelled_policy("alpha")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("alpha-"));
    let broken = "version = 1\n[[rule]]\nid = \"x\"\nwhen = 'features.nope > 1 && device.rooted + 1'\nscore = 5\n";
    let (status, body) = call(&s, "POST", "/v1/policy", Some("Bearer k"), broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, _) = error_of(&body);
    assert_eq!(code, "invalid_value");
    assert!(body.contains("features.nope") && body.contains("1:36"), "{body}");
    let (_, d) = call(&s, "POST", "/v1/events", Some("Bearer k"), r#"{"type":"login"}"#).await;
    assert!(d.contains("alpha-") && d.contains("alpha_always"), "{d}");
    let (status, _) = call(&s, "POST", "/v1/policy", Some("Bearer nope"), labelled_policy("beta")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Policies swap while events flow: every decision is whole under one policy (its version,
/// its live rule and its shadow rule agree) and every event gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_swap_under_load_without_mixing_or_losing_decisions() {
    let s = state(&[]);
    call(&s, "POST", "/v1/policy", None, labelled_policy("p0")).await;
    // One task swaps for as long as the traffic lasts; the senders swap too, every 50 events,
    // so the traffic surely spans several versions.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (s, done) = (s.clone(), done.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) && i < 100_000 {
                i += 1;
                let (status, _) = call(&s, "POST", "/v1/policy", None, labelled_policy(&format!("p{}", i % 4))).await;
                assert_eq!(status, StatusCode::OK);
                tokio::task::yield_now().await;
            }
        })
    };
    let mut senders = Vec::new();
    for t in 0..4 {
        let s = s.clone();
        senders.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for i in 0..250 {
                if i % 50 == 25 {
                    call(&s, "POST", "/v1/policy", None, labelled_policy(&format!("p{}", (i / 50 + t) % 4))).await;
                }
                let ev = format!(r#"{{"id":"t{t}-{i}","type":"login","account_id":"a{i}"}}"#);
                let (status, body) = call(&s, "POST", "/v1/events", None, ev).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                seen.push(serde_json::from_str::<Value>(&body).unwrap());
            }
            seen
        }));
    }
    let mut results = Vec::new();
    for h in senders {
        results.push(h.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.await.unwrap();
    let mut total = 0;
    let mut versions = std::collections::BTreeSet::new();
    for seen in results {
        for d in seen {
            total += 1;
            let version = d["policy_version"].as_str().unwrap().to_string();
            let label = version.split('-').next().unwrap().to_string();
            assert_eq!(d["rules"], json!([format!("{label}_always")]), "{d}");
            assert_eq!(d["shadow_rules"], json!([format!("{label}_shadow")]), "{d}");
            versions.insert(label);
        }
    }
    assert_eq!(total, 1000, "every event answered");
    assert!(versions.len() >= 2, "the swaps happened during the traffic: {versions:?}");
}

#[tokio::test]
async fn earlier_policies_are_kept_and_can_be_made_current_again() {
    let s = state(&[]);
    let mut versions = Vec::new();
    for label in ["one", "two", "three"] {
        let (_, body) = call(&s, "POST", "/v1/policy", None, labelled_policy(label)).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        versions.push(v["policy_version"].as_str().unwrap().to_string());
    }
    let (status, body) = call(&s, "GET", "/v1/policy", None, Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["policy_version"], versions[2]);
    let history: Vec<&str> = v["history"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert_eq!(&history[..2], [versions[1].as_str(), versions[0].as_str()], "newest first");
    let (status, _) =
        call(&s, "POST", "/v1/policy:activate", None, json!({"policy_version": versions[0]}).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, d) = call(&s, "POST", "/v1/events", None, r#"{"type":"login"}"#).await;
    assert!(d.contains(&versions[0]) && d.contains("one_always"), "{d}");
    let (status, body) = call(&s, "POST", "/v1/policy:activate", None, r#"{"policy_version":"nope-1"}"#).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&body).0, "invalid_value");
}
