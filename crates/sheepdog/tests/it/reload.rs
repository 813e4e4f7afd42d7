//! Hot reload of intelligence in a running server: SIGHUP and `POST /v1/intel:reload` swap the
//! set while requests flow; a broken file keeps the previous set serving.

use std::ffi::OsStr;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{bin, serve};

fn post(addr: &str, path: &str, body: &str) -> (u16, String) {
    crate::post(addr, path, body).expect("the server answers")
}

fn score_of(addr: &str) -> Value {
    let (status, body) = post(addr, "/v1/events", r#"{"type":"registration","phone":"+8613698765432"}"#);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn sighup_and_endpoint_reload_without_dropping_requests() {
    let dir = tempfile::tempdir().unwrap();
    let intel = dir.path().join("intel");
    assert!(Command::new(bin()).args(["intel", "export"]).arg(&intel).status().unwrap().success());
    let server = serve(&[OsStr::new("--intel"), intel.as_os_str()]);
    let addr = server.addr.clone();
    assert_eq!(score_of(&addr)["decision"], "allow");

    // Requests keep flowing on another thread through every reload.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flow = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, _) = post(&addr, "/v1/events", r#"{"type":"login","ip":"47.100.1.2"}"#);
                assert_eq!(status, 200);
                n += 1;
            }
            n
        })
    };

    // Deny the number, reload through the endpoint.
    std::fs::write(intel.join("sheepdog/operator-list.tsv"), "deny\tphone\t+8613698765432\n").unwrap();
    let (status, body) = post(&addr, "/v1/intel:reload", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(score_of(&addr)["decision"], "deny");

    // Break a file: the reload is refused, the previous set keeps serving.
    std::fs::write(intel.join("sheepdog/operator-list.tsv"), "deny\tplanet\tmars\n").unwrap();
    let (status, body) = post(&addr, "/v1/intel:reload", "");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("operator-list") && body.contains("line 1"), "{body}");
    assert_eq!(score_of(&addr)["decision"], "deny");

    // Lift the entry and reload with SIGHUP.
    std::fs::write(intel.join("sheepdog/operator-list.tsv"), "").unwrap();
    assert!(Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().unwrap().success());
    let started = Instant::now();
    while score_of(&addr)["decision"] != "allow" {
        assert!(started.elapsed() < Duration::from_secs(30), "SIGHUP reload did not take effect");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(flow.join().unwrap() > 0);
}

#[test]
fn sighup_reloads_the_policy_file_and_a_broken_one_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let policy = |label: &str| {
        format!("version = 1\nlabel = \"{label}\"\n[[rule]]\nid = \"{label}_rule\"\nwhen = 'event.type == \"login\"'\nscore = 1\n")
    };
    std::fs::write(&file, policy("first")).unwrap();
    let server = serve(&[OsStr::new("--policy"), file.as_os_str()]);
    let addr = server.addr.clone();
    let version = |addr: &str| {
        let (status, body) = post(addr, "/v1/events", r#"{"type":"login"}"#);
        assert_eq!(status, 200, "{body}");
        let d: Value = serde_json::from_str(&body).unwrap();
        d["policy_version"].as_str().unwrap().to_string()
    };
    assert!(version(&addr).starts_with("first-"));
    let hup =
        || assert!(Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().unwrap().success());
    std::fs::write(&file, policy("second")).unwrap();
    hup();
    let started = Instant::now();
    while !version(&addr).starts_with("second-") {
        assert!(started.elapsed() < Duration::from_secs(30), "SIGHUP did not reload the policy");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A broken file: refused, the second policy keeps deciding.
    std::fs::write(&file, "version = 1\n[[rule]]\nid = \"x\"\nwhen = 'nope'\nscore = 1\n").unwrap();
    hup();
    std::thread::sleep(Duration::from_millis(500));
    assert!(version(&addr).starts_with("second-"));
}
