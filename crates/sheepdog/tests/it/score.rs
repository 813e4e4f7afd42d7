//! `sheepdog score`: order, error lines, exit codes, state across runs.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::bin;

fn score(args: &[&str], stdin: &[u8]) -> (i32, Vec<Value>, String) {
    let all: Vec<&str> = ["score"].into_iter().chain(args.iter().copied()).collect();
    crate::run_ndjson(&all, stdin)
}

#[test]
fn one_answer_per_line_in_order_with_error_lines() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":\"l1\",\"type\":\"login\",\"timestamp\":1764000000000}\n");
    input.extend_from_slice(b"{\"id\":\"l2\",\"type\":\"unknown\"}\n");
    input.extend_from_slice(b"not json at all\n");
    input.extend_from_slice(b"{\"id\":\"l4\",\"type\":\"login\",\"text\":\"\xff\xfe\"}\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"{\"id\":\"l6\",\"type\":\"registration\",\"device\":{\"id\":\"d\",\"emulator\":true}}");
    let (code, lines, stderr) = score(&[], &input);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["event_id"], "l1");
    assert_eq!(lines[1]["error"]["code"], "unknown_type");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[2]["error"]["code"], "invalid_json");
    assert_eq!(lines[3]["error"]["code"], "invalid_json", "invalid UTF-8 is an error line, not a crash");
    assert_eq!(lines[4]["line"], 5);
    assert_eq!(lines[5]["event_id"], "l6");
    assert_eq!(lines[5]["reasons"][0]["code"], "device.emulator");
}

#[test]
fn an_overlong_line_is_an_error_line_and_processing_continues() {
    let mut input = b"{\"type\":\"content\",\"text\":\"".to_vec();
    input.extend(std::iter::repeat_n(b'a', (1 << 20) + 10));
    input.extend_from_slice(b"\"}\n{\"id\":\"after\",\"type\":\"login\"}\n");
    let (code, lines, _) = score(&[], &input);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["error"]["code"], "too_large");
    assert_eq!(lines[1]["event_id"], "after");
}

#[test]
fn unreadable_input_exits_2() {
    let out = Command::new(bin()).args(["score", "/no/such/file.ndjson"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/no/such/file.ndjson"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_policy_and_config_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "version = 1\n[thresholds]\nchallenge = 10\nreveiw = 20\ndeny = 30\n").unwrap();
    let out = Command::new(bin()).args(["score", "--policy"]).arg(&policy).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reveiw"));
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "version = 1\n[state]\nmax_memroy_mb = 5\n").unwrap();
    let out = Command::new(bin()).args(["score", "--config"]).arg(&config).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("state.max_memroy_mb"));
}

#[test]
fn a_policy_file_moves_the_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("strict.toml");
    std::fs::write(&policy, "version = 1\nlabel = \"strict\"\n[thresholds]\nchallenge = 10\nreview = 20\ndeny = 35\n")
        .unwrap();
    let ev = b"{\"type\":\"registration\",\"device\":{\"id\":\"d\",\"emulator\":true}}\n";
    let (_, default, _) = score(&[], ev);
    assert_eq!(default[0]["decision"], "challenge");
    let (_, strict, _) = score(&["--policy", policy.to_str().unwrap()], ev);
    assert_eq!(strict[0]["decision"], "deny");
    assert!(strict[0]["policy_version"].as_str().unwrap().starts_with("strict-"));
}

#[test]
fn state_carries_over_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let ev = |i: u32| {
        format!(
            "{{\"id\":\"s{i}\",\"type\":\"sms_code_request\",\"timestamp\":{},\"phone\":\"+8613300000000\"}}\n",
            1_764_000_000_000u64 + u64::from(i) * 1000
        )
    };
    let first: String = (0..3).map(ev).collect();
    let (code, lines, _) = score(&["--state", state.to_str().unwrap()], first.as_bytes());
    assert_eq!(code, 0);
    assert!(lines.iter().all(|l| l["reasons"].as_array().unwrap().is_empty()));
    let second: String = (3..5).map(ev).collect();
    let (_, lines, _) = score(&["--state", state.to_str().unwrap()], second.as_bytes());
    assert_eq!(lines[1]["reasons"][0]["code"], "phone.sms_burst", "three requests of the first run still count");
    // Without --state, nothing is remembered.
    let (_, lines, _) = score(&[], second.as_bytes());
    assert!(lines[1]["reasons"].as_array().unwrap().is_empty());
}

#[test]
fn gen_load_feeds_score() {
    let gen = Command::new(bin()).args(["gen-load", "--count", "2000", "--seed", "3"]).output().unwrap();
    assert!(gen.status.success());
    let (code, lines, _) = score(&["--explain"], &gen.stdout);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2000);
    assert!(lines.iter().all(|l| l.get("decision").is_some()), "generated events are all valid");
    assert!(lines.iter().any(|l| l["features"].as_object().is_some_and(|f| !f.is_empty())));
}

#[test]
fn help_has_examples() {
    for args in [&["--help"][..], &["score", "--help"], &["serve", "--help"]] {
        let out = Command::new(bin()).args(args).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Examples:"), "{args:?}: {text}");
    }
}

#[test]
fn a_policy_file_with_rules_decides_and_policy_check_names_errors() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("rules.toml");
    std::fs::write(
        &policy,
        "version = 1\nlabel = \"rules\"\n[[rule]]\nid = \"no_pasted_passwords\"\nwhen = '\"password\" in changed && session.paste_used'\naction = \"challenge:sms_otp\"\n",
    )
    .unwrap();
    let ev = b"{\"type\":\"profile_update\",\"account_id\":\"a\",\"changed\":[\"password\"],\"session\":{\"paste_used\":true}}\n";
    let (_, out, _) = score(&["--policy", policy.to_str().unwrap()], ev);
    assert_eq!(out[0]["decision"], "challenge");
    assert_eq!(out[0]["challenge"], "sms_otp");
    assert_eq!(out[0]["rules"], serde_json::json!(["no_pasted_passwords"]));
    let ok = Command::new(bin()).args(["policy", "check"]).arg(&policy).output().unwrap();
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("rule no_pasted_passwords"));
    std::fs::write(
        &policy,
        "version = 1\n[[rule]]\nid = \"x\"\nwhen = 'device.rooted && features.nope > 1'\nscore = 5\n",
    )
    .unwrap();
    let bad = Command::new(bin()).args(["policy", "check"]).arg(&policy).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("rule[0].when 1:18: unknown identifier 'features.nope'"), "{err}");
}

#[test]
fn backtest_reports_changes_rule_hits_and_labelled_quality() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("ev.ndjson");
    let labels = dir.path().join("labels.ndjson");
    let policy = dir.path().join("new.toml");
    std::fs::write(
        &events,
        concat!(
            "{\"id\":\"e1\",\"type\":\"login\",\"timestamp\":1764000000000,\"device\":{\"id\":\"a\",\"rooted\":true}}\n",
            "{\"id\":\"e2\",\"type\":\"login\",\"timestamp\":1764000001000,\"device\":{\"id\":\"b\"}}\n",
            "{\"id\":\"e3\",\"type\":\"login\",\"timestamp\":1764000002000,\"device\":{\"id\":\"c\",\"rooted\":true}}\n",
        ),
    )
    .unwrap();
    std::fs::write(
        &labels,
        "{\"id\":\"e1\",\"bad\":true}\n{\"id\":\"e2\",\"bad\":false}\n{\"id\":\"e3\",\"bad\":false}\n",
    )
    .unwrap();
    std::fs::write(&policy, "version = 1\n[[rule]]\nid = \"rooted\"\nwhen = 'device.rooted'\naction = \"review\"\n")
        .unwrap();
    let out = backtest(&[
        "--json".as_ref(),
        "--policy".as_ref(),
        policy.as_ref(),
        "--events".as_ref(),
        events.as_ref(),
        "--labels".as_ref(),
        labels.as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["events"], 3);
    assert_eq!(v["changed"], 2);
    let t = v["transitions"].as_array().unwrap();
    assert!(t.iter().any(|x| x["from"] == "allow" && x["to"] == "review" && x["events"] == 2), "{v}");
    assert!(v["rule_hits"].as_array().unwrap().iter().any(|x| x["rule"] == "rooted" && x["old"] == 0 && x["new"] == 2));
    assert_eq!(v["labelled"]["old"]["recall"], 0.0);
    assert_eq!(v["labelled"]["new"]["recall"], 1.0);
    assert_eq!(v["labelled"]["new"]["precision"], 0.5);
    assert_eq!(v["labelled"]["new"]["honest_friction"], 0.5);
    // Labels that do not line up with the events are an error naming the line.
    std::fs::write(&labels, "{\"id\":\"e1\",\"bad\":true}\n{\"id\":\"zz\",\"bad\":false}\n").unwrap();
    let out = backtest(&[
        "--policy".as_ref(),
        policy.as_ref(),
        "--events".as_ref(),
        events.as_ref(),
        "--labels".as_ref(),
        labels.as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("labels line 2"));
}

#[test]
fn backtest_replays_a_data_directorys_decision_log() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "version = 1\n[state]\ndecision_log_segments = 10\n").unwrap();
    let evs = b"{\"id\":\"l1\",\"type\":\"login\",\"timestamp\":1764000000000,\"account_id\":\"u1\",\"ip\":\"1.2.3.4\",\"device\":{\"id\":\"a\",\"fingerprint\":\"f\",\"rooted\":true}}\n{\"id\":\"lab\",\"type\":\"label\",\"timestamp\":1764000000500,\"account_id\":\"u1\",\"attributes\":{\"label\":\"fraud\"}}\n{\"id\":\"l2\",\"type\":\"login\",\"timestamp\":1764000001000}\n";
    let (code, _, _) = score(&["--config", config.to_str().unwrap(), "--state", state.to_str().unwrap()], evs);
    assert_eq!(code, 0);
    // Every record of the decision log holds the event, its decision and the feature values
    // the decision read.
    let mut records = Vec::new();
    for f in std::fs::read_dir(&state).unwrap() {
        let p = f.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("log-") {
            let text = std::fs::read_to_string(&p).unwrap();
            records.extend(text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()));
        }
    }
    assert_eq!(records.len(), 3);
    let l1 = records.iter().find(|r| r["event"]["id"] == "l1").unwrap();
    assert_eq!(l1["decision"]["event_id"], "l1");
    let features = l1["features"].as_object().expect("features logged");
    assert_eq!(features["account_age_s"], 0, "{features:?}");
    assert_eq!(features["devices_per_ip_prefix_7d"], 1, "{features:?}");
    let l2 = records.iter().find(|r| r["event"]["id"] == "l2").unwrap();
    assert!(l2["features"].get("devices_per_ip_prefix_7d").is_none(), "a login without an IP has no IP features");
    let lab = records.iter().find(|r| r["event"]["id"] == "lab").unwrap();
    assert_eq!(lab["features"], serde_json::json!({}), "a label reads no features, nor the previous event's");
    assert!(features.values().all(Value::is_number), "{features:?}");
    let policy = dir.path().join("new.toml");
    std::fs::write(&policy, "version = 1\n[[rule]]\nid = \"rooted\"\nwhen = 'device.rooted'\naction = \"deny\"\n")
        .unwrap();
    let out = backtest(&["--json".as_ref(), "--policy".as_ref(), policy.as_ref(), "--log".as_ref(), state.as_ref()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["events"], 3);
    assert_eq!(v["old_policy"], "logged decisions");
    assert!(
        v["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["from"] == "allow" && x["to"] == "deny" && x["events"] == 1),
        "{v}"
    );
}

/// Runs `sheepdog backtest ARGS`.
fn backtest(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(bin()).arg("backtest").args(args).output().unwrap()
}
