//! `sheepdog sim` and `sheepdog eval`: the report's shape on a tiny scenario, exact counts on a
//! handcrafted labelled file, and clear errors when events and truth do not line up.

use std::process::Command;

use serde_json::Value;

use crate::bin;

const TINY: &str = r#"
version = 1
start = "2025-11-10T00:00:00+08:00"
days = 3
[population]
users = 150
[promo]
start_hour = 30
[cat_pool]
enabled = true
hosts = 1
sims_per_host = 40
[reg_bot]
enabled = true
adaptive = true
registrations = 40
"#;

fn sheepdog(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sim_writes_events_and_truth_line_for_line_and_the_same_bytes_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("tiny.toml");
    std::fs::write(&scenario, TINY).unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let sc = scenario.to_str().unwrap();
    for (ev, tr) in [("a.ndjson", "at.ndjson"), ("b.ndjson", "bt.ndjson")] {
        let (code, _, err) =
            sheepdog(&["sim", "--scenario", sc, "--seed", "4", "--out", &path(ev), "--truth", &path(tr)]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("events/s"), "{err}");
    }
    let a = std::fs::read(path("a.ndjson")).unwrap();
    assert_eq!(a, std::fs::read(path("b.ndjson")).unwrap());
    let truth = std::fs::read_to_string(path("at.ndjson")).unwrap();
    let events = String::from_utf8(a).unwrap();
    assert_eq!(events.lines().count(), truth.lines().count());
    let campaigns: std::collections::BTreeSet<String> = truth
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).unwrap()["campaign"].as_str().map(String::from))
        .collect();
    assert_eq!(campaigns.into_iter().collect::<Vec<_>>(), ["cat_pool", "reg_bot"]);
    // The recorded pair evaluates like the scenario itself.
    let (code, out, err) = sheepdog(&["eval", "--events", &path("a.ndjson"), "--truth", &path("at.ndjson"), "--json"]);
    assert_eq!(code, 0, "{err}");
    let from_files: Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) = sheepdog(&["eval", "--scenario", sc, "--seed", "4", "--json"]);
    assert_eq!(code, 0, "{err}");
    let from_scenario: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(from_files["bad_total"], from_scenario["bad_total"]);
    assert_eq!(from_files["honest"]["total"], from_scenario["honest"]["total"]);
}

#[test]
fn eval_on_a_tiny_scenario_has_the_expected_shape() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("tiny.toml");
    std::fs::write(&scenario, TINY).unwrap();
    let html = dir.path().join("report.html");
    let (code, out, err) =
        sheepdog(&["eval", "--scenario", scenario.to_str().unwrap(), "--json", "--html", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v["campaigns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cat_pool", "reg_bot (adaptive)"]);
    let cat = &v["campaigns"][0];
    assert_eq!(cat["by_type"]["registration"]["events"], 40);
    assert_eq!(cat["by_type"]["sms_code_request"]["events"], 40);
    assert!(cat["total"]["stopped_rate"].as_f64().unwrap() > 0.5, "IoT cards from one host are stopped: {cat}");
    let pops: Vec<&str> =
        v["honest"]["populations"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(pops[0], "ordinary");
    let total = v["events"].as_u64().unwrap();
    assert_eq!(total, v["honest"]["total"]["events"].as_u64().unwrap() + v["bad_total"]["events"].as_u64().unwrap());
    for scope in ["stopped", "blocked"] {
        for what in ["all", "registrations"] {
            let pr = &v["precision_recall"][scope][what];
            assert!(pr["precision"].is_f64() && pr["recall"].is_f64(), "{pr}");
        }
    }
    assert!(v["performance"]["events_per_second"].as_f64().unwrap() > 0.0);
    assert!(v["performance"]["latency_us_p99"].is_u64());
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("<svg") && html.contains("cat_pool"));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "self-contained");
    // The text report has the same sections.
    let (code, out, err) = sheepdog(&["eval", "--scenario", scenario.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for section in ["Black-market campaigns", "Honest traffic", "Precision / recall", "Top reasons", "events/s"] {
        assert!(out.contains(section), "{section} missing:\n{out}");
    }
    assert!(out.lines().any(|l| l.starts_with("cat_pool ") && l.contains(" all ")), "{out}");
}

const FIVE: &str = r#"{"id":"e1","type":"registration","timestamp":1762704000000,"account_id":"a1","device":{"id":"d1","emulator":true}}
{"id":"e2","type":"login","timestamp":1762704001000,"account_id":"a2"}
{"id":"e3","type":"registration","timestamp":1762704002000,"account_id":"a3","device":{"id":"d3","emulator":true}}
{"id":"e4","type":"registration","timestamp":1762704003000,"account_id":"a4"}
{"id":"e5","type":"content","timestamp":1762704004000,"account_id":"a5","text":"hello"}
"#;

const FIVE_TRUTH: &str = r#"{"id":"e1","bad":true,"campaign":"reg_bot"}
{"id":"e2","bad":false,"campaign":null,"population":"ordinary"}
{"id":"e3","bad":false,"campaign":null,"population":"family"}
{"id":"e4","bad":true,"campaign":"cat_pool"}
{"id":"e5","bad":false,"campaign":null}
"#;

#[test]
fn a_handcrafted_labelled_file_gives_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("ev.ndjson");
    let tr = dir.path().join("tr.ndjson");
    std::fs::write(&ev, FIVE).unwrap();
    std::fs::write(&tr, FIVE_TRUTH).unwrap();
    let (code, out, err) =
        sheepdog(&["eval", "--events", ev.to_str().unwrap(), "--truth", tr.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["events"], 5);
    // e1 (bad) and e3 (honest) are challenged for the emulator flag; e4 (bad) passes.
    let all = &v["precision_recall"]["stopped"]["all"];
    assert_eq!((all["tp"].as_u64(), all["fp"].as_u64(), all["fn"].as_u64()), (Some(1), Some(1), Some(1)));
    assert_eq!(all["precision"], 0.5);
    assert_eq!(all["recall"], 0.5);
    let reg = &v["precision_recall"]["stopped"]["registrations"];
    assert_eq!((reg["tp"].as_u64(), reg["fp"].as_u64(), reg["fn"].as_u64()), (Some(1), Some(1), Some(1)));
    assert_eq!(v["precision_recall"]["blocked"]["all"]["tp"], 0);
    let campaigns = v["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 2);
    let by_name = |n: &str| campaigns.iter().find(|c| c["name"] == n).unwrap();
    assert_eq!(by_name("reg_bot")["total"]["stopped"], 1);
    assert_eq!(by_name("reg_bot")["top_reasons"][0]["code"], "device.emulator");
    assert_eq!(by_name("cat_pool")["total"]["stopped"], 0);
    assert_eq!(v["honest"]["total"]["events"], 3);
    assert_eq!(v["honest"]["total"]["stopped"], 1);
    assert_eq!(v["honest"]["registrations"]["events"], 1);
    assert_eq!(v["honest"]["registrations"]["stopped_rate"], 1.0);
    let pops = v["honest"]["populations"].as_array().unwrap();
    let family = pops.iter().find(|p| p["name"] == "family").unwrap();
    assert_eq!(family["total"]["challenge"], 1);
    // A truth line without population is counted as "honest".
    assert!(pops.iter().any(|p| p["name"] == "honest"));
    assert_eq!(v["honest"]["top_friction_reasons"][0]["code"], "device.emulator");
}

#[test]
fn mismatched_truth_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("ev.ndjson");
    let tr = dir.path().join("tr.ndjson");
    std::fs::write(&ev, FIVE).unwrap();
    std::fs::write(&tr, FIVE_TRUTH.replace("\"e3\"", "\"e9\"")).unwrap();
    let (code, out, err) = sheepdog(&["eval", "--events", ev.to_str().unwrap(), "--truth", tr.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("line 3") && err.contains("e9") && err.contains("e3"), "{err}");
    // A truth file shorter than the events.
    let short: String = FIVE_TRUTH.lines().take(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(&tr, short).unwrap();
    let (code, _, err) = sheepdog(&["eval", "--events", ev.to_str().unwrap(), "--truth", tr.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("line 5"), "{err}");
    // --events without --truth is a usage error.
    let (code, _, err) = sheepdog(&["eval", "--events", ev.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("--truth"), "{err}");
}
