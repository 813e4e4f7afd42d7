//! Policy files with rules, data-driven: `tests/policies/errors/*.toml` must fail to load with
//! exactly the diagnostics of the `.expect` beside them; `tests/policies/decisions/*.toml` run the
//! events of the `.ndjson` beside them in order, each with the decision fields it expects.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sheepdog_engine::{Engine, EngineOptions};
use sheepdog_state::MemoryStoreOptions;

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies").join(kind)
}

fn cases(kind: &str) -> Vec<(PathBuf, String)> {
    let mut v: Vec<(PathBuf, String)> = std::fs::read_dir(dir(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no {kind} cases");
    v
}

#[test]
fn broken_policies_report_every_error_with_its_place() {
    for (path, text) in cases("errors") {
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap();
        let got = match sheepdog_policy::load_policy(&text) {
            Ok(_) => panic!("{} loaded", path.display()),
            Err(e) => e.message,
        };
        assert_eq!(got.trim(), expect.trim(), "{}", path.display());
    }
}

#[test]
fn policies_decide_as_expected() {
    for (path, text) in cases("decisions") {
        let policy = sheepdog_policy::load_policy(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let engine = Engine::in_memory(policy, MemoryStoreOptions::default(), EngineOptions::default());
        let intel = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../intel");
        let read = |f: &str| std::fs::read_to_string(intel.join(f)).map_err(|e| e.to_string());
        engine.set_intel(Arc::new(sheepdog_intel::load(&read("manifest.toml").unwrap(), &mut |f| read(f)).unwrap()));
        let lines = std::fs::read_to_string(path.with_extension("ndjson")).unwrap();
        for (n, line) in lines.lines().enumerate() {
            let case: Value = serde_json::from_str(line).unwrap();
            let raw = serde_json::to_vec(&case["event"]).unwrap();
            let out = engine.decide_json(&raw, 1_764_000_000_000).unwrap();
            let got: Value = serde_json::from_slice(&out.json).unwrap();
            for (k, want) in case["expect"].as_object().unwrap() {
                let have = got.get(k).cloned().unwrap_or(if k.ends_with("rules") {
                    Value::Array(vec![])
                } else {
                    Value::Null
                });
                assert_eq!(&have, want, "{} line {}: {k} in {got}", path.display(), n + 1);
            }
            assert!(got["policy_version"].as_str().unwrap().contains('-'));
        }
    }
}

#[test]
fn lints_name_rules_that_cannot_matter_and_unused_features() {
    let text = "version = 1\n[[feature]]\nname = \"unused\"\nkind = \"count\"\nkey = \"ip\"\nevents = [\"login\"]\nwindow = \"1h\"\n\
        [[rule]]\nid = \"never\"\nwhen = '1 > 2'\nscore = 5\n\
        [[rule]]\nid = \"everyone\"\nwhen = 'true'\naction = \"allow\"\n\
        [[rule]]\nid = \"late\"\nwhen = 'device.rooted'\nscore = 5\n";
    let p = sheepdog_policy::FilePolicy::from_toml(text).unwrap();
    assert_eq!(
        p.lints(),
        [
            "rule never can never fire (its condition is never true)",
            "rule everyone always fires (its condition reads nothing)",
            "rule late can never change an outcome: rule everyone always decides first",
            "feature unused is declared but no rule reads it",
        ]
    );
    let clean = "version = 1\n[[rule]]\nid = \"r\"\nwhen = 'device.rooted'\nscore = 5\n";
    assert!(sheepdog_policy::FilePolicy::from_toml(clean).unwrap().lints().is_empty());
}
