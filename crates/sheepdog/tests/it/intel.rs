//! `sheepdog intel` as a user runs it, and live reload of a running server.

use std::process::Command;

use serde_json::Value;

use crate::bin;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_explains_a_data_only_card() {
    let (code, out, err) = run(&["intel", "check", "+8614512345678"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("data_only"), "{out}");
    assert!(out.contains("China Unicom"), "{out}");
    assert!(out.contains("phone.cn.city"), "{out}");
    assert!(out.contains("phone.data_only"), "{out}");
}

#[test]
fn check_names_the_datacenter_range_and_source() {
    let (code, out, _) = run(&["intel", "check", "47.100.1.2", "--json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ip"]["matches"][0]["range"], "47.96.0.0/12");
    assert_eq!(v["ip"]["matches"][0]["source"], "cn-cloud-ipv4");
    assert_eq!(v["reasons"][0]["code"], "ip.datacenter");
    let (_, out, _) = run(&["intel", "check", "a.b+x@gmail.com", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["email"]["normalized"], "ab@gmail.com");
    assert_eq!(v["reasons"].as_array().unwrap().len(), 0);
}

#[test]
fn stats_list_every_source_with_its_licence() {
    let (code, out, _) = run(&["intel", "stats", "--json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let sources = v["sources"].as_array().unwrap();
    assert!(sources.len() >= 20);
    assert!(sources.iter().all(|s| !s["licence"].as_str().unwrap().is_empty()));
    let sms = sources.iter().find(|s| s["name"] == "sms-receive-numbers").unwrap();
    assert_eq!(sms["entries"], 125_878);
}

#[test]
fn export_import_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let intel = dir.path().join("intel");
    let (code, _, err) = run(&["intel", "export", intel.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let list = dir.path().join("blocked.tsv");
    std::fs::write(&list, "deny\tphone\t+8613698765432\t-\tdealer\n").unwrap();
    let (code, _, err) =
        run(&["intel", "import", "operator_list", list.to_str().unwrap(), "--intel", intel.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&["intel", "check", "+8613698765432", "--intel", intel.to_str().unwrap(), "--json"]);
    assert!(out.contains("list.deny"), "{out}");
    // A broken file is refused and never reaches the manifest.
    std::fs::write(&list, "deny\tplanet\tmars\n").unwrap();
    let (code, _, err) = run(&[
        "intel",
        "import",
        "operator_list",
        list.to_str().unwrap(),
        "--intel",
        intel.to_str().unwrap(),
        "--name",
        "broken",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("line 1") && err.contains("planet"), "{err}");
    assert!(!std::fs::read_to_string(intel.join("manifest.toml")).unwrap().contains("broken"));
    let (code, _, err) =
        run(&["intel", "import", "no_such_kind", list.to_str().unwrap(), "--intel", intel.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown kind"));
}
